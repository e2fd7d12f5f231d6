// Device Authentication Server role: enrollment, device tokens, users, 2FA request objects.
#include "dasservice.h"

namespace hotdesk::stubs {

DasService::DasService(StubsContext &context, QObject *parent)
    : HttpService(QStringLiteral("das"), parent)
    , m_context(context)
{
}

Status DasService::prepare()
{
    return {};
}

} // namespace hotdesk::stubs

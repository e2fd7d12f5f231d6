// push-2FA provider role: phone enrollment, challenges with number matching, signed responses.
#include "pushservice.h"

namespace hotdesk::stubs {

PushService::PushService(StubsContext &context, QObject *parent)
    : HttpService(QStringLiteral("push"), parent)
    , m_context(context)
{
}

Status PushService::prepare()
{
    return {};
}

} // namespace hotdesk::stubs

// enterprise server role: user provisioning relay to the IdP (SCIM), resource gateway, distribution site.
#include "enterpriseservice.h"

namespace hotdesk::stubs {

EnterpriseService::EnterpriseService(StubsContext &context, QObject *parent)
    : HttpService(QStringLiteral("enterprise"), parent)
    , m_context(context)
{
}

Status EnterpriseService::prepare()
{
    return {};
}

} // namespace hotdesk::stubs

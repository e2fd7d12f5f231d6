// The enterprise server role: user provisioning relay to the IdP (SCIM), resource gateway, distribution site.
#pragma once

#include "httpservice.h"
#include "stubsconfig.h"

namespace hotdesk::stubs {

class EnterpriseService : public HttpService {
    Q_OBJECT
public:
    explicit EnterpriseService(StubsContext &context, QObject *parent = nullptr);
    // Creates this role's tables; called once before listening.
    Status prepare();

private:
    StubsContext &m_context;
};

} // namespace hotdesk::stubs

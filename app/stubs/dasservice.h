// The Device Authentication Server role: enrollment, device tokens, users, 2FA request objects.
#pragma once

#include "httpservice.h"
#include "stubsconfig.h"

namespace hotdesk::stubs {

class DasService : public HttpService {
    Q_OBJECT
public:
    explicit DasService(StubsContext &context, QObject *parent = nullptr);
    // Creates this role's tables; called once before listening.
    Status prepare();

private:
    StubsContext &m_context;
};

} // namespace hotdesk::stubs

// The push-2FA provider role: phone enrollment, challenges with number matching, signed responses.
#pragma once

#include "httpservice.h"
#include "stubsconfig.h"

namespace hotdesk::stubs {

class PushService : public HttpService {
    Q_OBJECT
public:
    explicit PushService(StubsContext &context, QObject *parent = nullptr);
    // Creates this role's tables; called once before listening.
    Status prepare();

private:
    StubsContext &m_context;
};

} // namespace hotdesk::stubs

// The OpenID Provider role: discovery, JWKS with rotation (authorization and token endpoints follow).
#pragma once

#include "httpservice.h"
#include "keyring.h"
#include "stubsconfig.h"

namespace hotdesk::stubs {

class IdpService : public HttpService {
    Q_OBJECT
public:
    explicit IdpService(StubsContext &context, QObject *parent = nullptr);

    // Creates this role's tables; called once before listening.
    Status prepare();

    // The issuer identifier: the base URL, without a trailing slash.
    QString issuer() const;
    Keyring &keyring() { return m_keys; }

private:
    QHttpServerResponse discovery() const;
    QHttpServerResponse jwks();

    StubsContext &m_context;
    Keyring m_keys;
};

} // namespace hotdesk::stubs

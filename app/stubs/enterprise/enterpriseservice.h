// The enterprise server role: user provisioning relay to the IdP (SCIM), resource gateway, distribution site.
#pragma once

#include "../common/httpservice.h"
#include "../common/serviceclient.h"
#include "../common/stubsconfig.h"
#include "../common/userdirectory.h"

#include "core/jose/jwk.h"

#include <functional>
#include <memory>

namespace hotdesk::stubs::enterprise {

class EnterpriseService : public HttpService {
    Q_OBJECT
public:
    explicit EnterpriseService(StubsContext &context, QObject *parent = nullptr);
    ~EnterpriseService() override;

    // Creates DATADIR/enterprise-client-token and DATADIR/download/ (with a
    // README.txt) when missing; called once after every role listens, before any request is served.
    Status prepare() override;

    // The distribution site's directory, DATADIR/download.
    QString downloadDir() const;

private:
    void relayUser(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void gateway(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    QHttpServerResponse downloadIndex() const;
    QHttpServerResponse download(const QHttpServerRequest &request) const;
    // The 401 of the gateway: WWW-Authenticate, Link rel="install" and a page naming the distribution site.
    QHttpServerResponse denied(const QString &what, bool invalidToken) const;
    QString issuer() const;

    // The IdP's JWKS, fetched once, and again when a token names an unknown
    // kid (at most every 10 s); concurrent callers share one fetch.
    void idpKeys(const QString &kid, std::function<void(Result<jose::JwkSet>)> done);

    StubsContext &m_context;
    QByteArray m_clientTokenHash;
    std::unique_ptr<ServiceClient> m_client;
    std::unique_ptr<ScimDirectory> m_scim;
    jose::JwkSet m_idpKeys;
    qint64 m_idpKeysTriedAt = 0;
    bool m_idpKeysTried = false;
    QList<std::function<void(Result<jose::JwkSet>)>> m_keyWaiters;
};

} // namespace hotdesk::stubs::enterprise

// The OpenID Provider role: discovery, JWKS with rotation, JAR-only authorization
// with push approval, token endpoint, userinfo and SCIM user provisioning.
#pragma once

#include "../common/httpservice.h"
#include "../common/keyring.h"
#include "../common/serviceclient.h"
#include "../common/stubsconfig.h"

#include "core/jose/jwk.h"

#include <functional>
#include <memory>

namespace hotdesk::stubs::idp {

class IdpService : public HttpService {
    Q_OBJECT
public:
    explicit IdpService(StubsContext &context, QObject *parent = nullptr);
    ~IdpService() override;

    // Creates this role's tables, its signing key and the SCIM client token; called once
    // after every role listens, before any request is served.
    Status prepare() override;

    // The issuer identifier: the base URL, without a trailing slash.
    QString issuer() const;
    Keyring &keyring() { return m_keys; }

    // Redirect URIs the client may use: loopback http://127.0.0.1/callback on any
    // port (RFC 8252 §7.3), and the agent's private-use scheme (RFC 8252 §7.1).
    static bool isAllowedRedirect(const QString &redirectUri);

private:
    struct Transaction;

    QHttpServerResponse discovery() const;
    QHttpServerResponse jwks();
    void authorize(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    // GET /authorize once the client's keys are known: checks the request object, then asks the user's phone.
    void authorizeSigned(const std::shared_ptr<QHttpServerResponder> &responder, const QByteArray &requestObject,
        const QString &clientId, const jose::JwkSet &keys);
    // The verified claims of a request object this IdP accepts, or the error page that answers instead.
    tl::expected<QJsonObject, QHttpServerResponse> checkRequestObject(
        const QByteArray &requestObject, const QString &clientId, const jose::JwkSet &keys, qint64 now) const;
    // Records the request object's jti (single use) and finds the user it names: their name, empty when unknown.
    Result<QString> spendRequestObject(const QJsonObject &claims, const QString &sharedId, qint64 now);
    // Sends the challenge to the user's phone; the waiting page answers once the sign-in is recorded.
    void pushChallenge(const std::shared_ptr<QHttpServerResponder> &responder, Transaction tx);
    void waitPage(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void statusJson(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    QHttpServerResponse cancel(const QHttpServerRequest &request);
    QHttpServerResponse token(const QHttpServerRequest &request);
    // Spends an authorization code (once, whatever follows) and returns its sign-in, or the OAuth error.
    tl::expected<Transaction, QHttpServerResponse> redeemCode(const QString &code, qint64 now);
    // The ID and access tokens of a sign-in.
    QHttpServerResponse tokenResponse(const Transaction &tx, qint64 now);
    // --fault wrong-iss, wrong-aud, expired, wrong-nonce, no-nonce: ID tokens the agent must refuse (docs/faults.md).
    void addTokenFaults(QJsonObject &idClaims, qint64 now) const;
    // Applies the transport faults (slow, garbage, 500) to an endpoint's answer.
    void answer(QHttpServerResponse response, QHttpServerResponder &&responder);
    QHttpServerResponse userinfo(const QHttpServerRequest &request);
    QHttpServerResponse scimCreate(const QHttpServerRequest &request);
    QHttpServerResponse scimQuery(const QHttpServerRequest &request);
    QHttpServerResponse scimGet(const QString &id, const QHttpServerRequest &request);

    // The client's request-object keys (the DAS JWKS), fetched once and again
    // when a request names an unknown kid (at most every 10 s).
    void clientKeys(const QString &kid, std::function<void(Result<jose::JwkSet>)> done);
    // Asks the push provider for the transaction's challenge state and records it.
    void refresh(const QString &txId, std::function<void(Result<Transaction>)> done);
    Result<Transaction> loadTransaction(const QString &txId);
    QHttpServerResponse finish(const Transaction &tx);
    QHttpServerResponse waitingHtml(const Transaction &tx) const;
    bool scimAuthorized(const QHttpServerRequest &request) const;

    StubsContext &m_context;
    Keyring m_keys;
    std::unique_ptr<ServiceClient> m_client;
    jose::JwkSet m_clientKeys;
    qint64 m_clientKeysFetchedAt = 0;
    QByteArray m_scimTokenHash;
    QByteArray m_pushToken;
    JtiPurge m_jtiPurge; // of seen_jti, in the transaction that records a request object
};

} // namespace hotdesk::stubs::idp

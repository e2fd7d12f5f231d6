// The OpenID Provider role: discovery, JWKS with rotation, JAR-only authorization
// with push approval, token endpoint, userinfo and SCIM user provisioning.
#pragma once

#include "../common/httpservice.h"
#include "../common/keyring.h"
#include "../common/serviceclient.h"
#include "../common/stubsconfig.h"

#include "core/jose/jwk.h"

#include <QElapsedTimer>
#include <QHash>

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
    void authorizeSigned(const std::shared_ptr<LaterResponder> &responder, const QByteArray &requestObject,
        const QString &clientId, const jose::JwkSet &keys);
    // The verified claims of a request object this IdP accepts, or the error page that answers instead.
    tl::expected<QJsonObject, QHttpServerResponse> checkRequestObject(
        const QByteArray &requestObject, const QString &clientId, const jose::JwkSet &keys, qint64 now) const;
    // Records the request object's jti (single use) and finds the user it names: their name, empty when unknown.
    Result<QString> spendRequestObject(const QJsonObject &claims, const QString &sharedId, qint64 now);
    // Sends the challenge to the user's phone; the waiting page answers once the sign-in is recorded.
    void pushChallenge(const std::shared_ptr<LaterResponder> &responder, Transaction tx);
    void waitPage(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void statusJson(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    QHttpServerResponse cancel(const QHttpServerRequest &request);
    QHttpServerResponse token(const QHttpServerRequest &request);
    // Spends an authorization code (once, whatever follows) and returns its sign-in, or the OAuth error.
    tl::expected<Transaction, QHttpServerResponse> redeemCode(const QString &code, qint64 now);
    // The ID and access tokens of a sign-in; extraIdClaims go into the ID token.
    QHttpServerResponse tokenResponse(const Transaction &tx, qint64 now, const QJsonObject &extraIdClaims = {});
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
    // The push provider's client token and whether its URL is known (it may start after this process).
    QByteArray pushClientToken();
    bool pushEndpointKnown();

    // OpenID CIBA Core 1.0, poll mode (idpciba.cpp, docs/ciba.md).
    struct CibaRequest;
    struct CibaPolls {
        QElapsedTimer last; // the previous poll, on the monotonic clock
        qint64 intervalSeconds = 0; // raised by 5 at every slow_down
        bool faultServed = false; // --fault ciba-slow-down answered the first poll
    };
    static bool isCibaGrant(const QHttpServerRequest &request);
    // POST /backchannel: a signed request object only; answers auth_req_id, expires_in and interval.
    void backchannel(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void backchannelSigned(
        const std::shared_ptr<LaterResponder> &responder, const QByteArray &requestObject, const jose::JwkSet &keys);
    void cibaPush(const std::shared_ptr<LaterResponder> &responder, CibaRequest request);
    // POST /token with grant_type=urn:openid:params:grant-type:ciba.
    void cibaToken(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    // slow_down when this poll came sooner than the interval allows; nullopt when it may go on.
    std::optional<QHttpServerResponse> cibaPacing(const QString &idHash);
    void cibaOutcome(const std::shared_ptr<LaterResponder> &responder, const QString &authReqId, CibaRequest request);
    Result<std::optional<CibaRequest>> loadCibaRequest(const QString &idHash);
    QHttpServerResponse cibaFinish(const QString &authReqId, const CibaRequest &request, const QString &status);
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
    QHash<QString, CibaPolls> m_cibaPolls; // by the SHA-256 of auth_req_id, until the request ends
};

} // namespace hotdesk::stubs::idp

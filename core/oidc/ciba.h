// OpenID Connect Client-Initiated Backchannel Authentication (CIBA Core 1.0), poll mode:
// the signed request goes to the IdP, the token endpoint is polled, the ID token is validated.
#pragma once

#include "../clock.h"
#include "../net/httpclient.h"
#include "../result.h"
#include "discovery.h"
#include "idtokenvalidator.h"
#include "jwkscache.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QTimer>

#include <chrono>

namespace hotdesk::oidc {

// What one sign-in asks for. The request object comes signed from the DAS
// (POST /v1/ciba-requests, docs/ciba.md); the client does not read inside it.
struct CibaRequest {
    QByteArray requestObject;
    QString clientId;
    QString expectedSubject; // the request's login_hint: the ID token's "sub" must equal it
    QStringList acrValues; // when the policy asks for a method: "acr" must name one of them
};

struct CibaSettings {
    // The whole sign-in, from start(): whatever the IdP says, the client gives up then.
    std::chrono::milliseconds timeout {std::chrono::minutes(3)};
    // Clock skew allowed for the ID token's exp, nbf and iat.
    std::chrono::seconds leeway {60};
};

// One backchannel sign-in; start() once. Exactly one of succeeded() and
// failed() is emitted, after start() has returned; after that nothing more
// happens. The token endpoint is never polled sooner than the interval the
// IdP gave (5 s when it gave none), counted from the previous answer; every
// slow_down adds 5 s for the rest of the sign-in (CIBA Core §7.3, RFC 8628 §3.5).
//
// Errors: Unsupported (the IdP publishes no backchannel endpoint, or no poll
// mode); the transport's (Unreachable, Tls, Timeout, TooLarge); AccessDenied
// (access_denied: refused on the phone); Expired (expired_token, or the IdP's
// expires_in passed); Timeout (settings.timeout passed); Cancelled (cancel());
// UserUnknown (unknown_user_id); ServerError (any other OAuth error, with its
// code and description, or an answer the protocol does not explain);
// MalformedAnswer; StateMismatch (the ID token names another auth_req_id); and
// the ID token validator's (IssuerMismatch, AudienceMismatch, SubjectMismatch,
// TokenTooOld, BadSignature, …).
class CibaClient : public QObject {
    Q_OBJECT
public:
    static constexpr std::chrono::seconds kDefaultInterval {5};
    static constexpr std::chrono::seconds kSlowDownStep {5};

    CibaClient(net::HttpClient &http, ProviderMetadata provider, JwksCache &jwks, const Clock &clock, CibaSettings settings = {},
        QObject *parent = nullptr);
    ~CibaClient() override;

    void start(const CibaRequest &request);
    // Stops at once: the request in flight is aborted, no further poll, failed(Cancelled).
    void cancel();

    bool isRunning() const { return m_running; }
    const QString &authReqId() const { return m_authReqId; }
    // The wait between polls now: the IdP's interval plus 5 s per slow_down.
    std::chrono::seconds interval() const { return m_interval; }
    int slowDowns() const { return m_slowDowns; }

Q_SIGNALS:
    // The IdP took the request: the phone has it. expiresIn from the IdP, interval as the client will wait.
    void accepted(const QString &authReqId, qint64 expiresInSeconds, qint64 intervalSeconds);
    // A poll answered authorization_pending or slow_down: another one follows.
    void pending(const QString &answer);
    void succeeded(const hotdesk::oidc::IdToken &token);
    void failed(const hotdesk::Error &error);

private:
    void backchannelAnswer(Result<net::HttpResponse> response);
    void poll();
    void pollAnswer(Result<net::HttpResponse> response);
    void validate(const QByteArray &idToken);
    void checkToken(const QByteArray &idToken, const jose::JwkSet &keys);
    void finish(Result<IdToken> outcome);
    // The error of an OAuth error answer (RFC 6749 §5.2), or of any other non-2xx answer.
    static Error errorOf(const net::HttpResponse &response, const QString &step);

    net::HttpClient &m_http;
    ProviderMetadata m_provider;
    JwksCache &m_jwks;
    const Clock &m_clock;
    CibaSettings m_settings;
    CibaRequest m_request;
    QString m_authReqId;
    std::chrono::seconds m_interval {kDefaultInterval};
    int m_slowDowns = 0;
    qint64 m_startedAt = 0; // seconds since the epoch, for the ID token's iat
    QElapsedTimer m_expiry; // since the IdP accepted the request
    qint64 m_expiresInMs = 0;
    QTimer m_pollTimer;
    QTimer m_deadline;
    QPointer<net::HttpCall> m_call;
    bool m_running = false;
    bool m_started = false;
};

} // namespace hotdesk::oidc

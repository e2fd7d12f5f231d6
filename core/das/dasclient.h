// The agent's client of the Device Authentication Server (DESIGN flows 1, 2 and 4): device tokens, failover, typed errors.
#pragma once

#include "../clock.h"
#include "../jose/jwk.h"
#include "../net/httpclient.h"
#include "../random.h"
#include "../result.h"
#include "../store/eventqueue.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QUrl>

#include <functional>
#include <memory>
#include <optional>

namespace hotdesk::das {

// What the agent holds after flow 3: its id at the DAS and the private device key.
struct DeviceCredential {
    QString deviceId;
    jose::Jwk privateKey;
};

// POST /v1/users (flow 2).
struct UserRegistration {
    QString username;
    QString domain; // may be empty
    QString sid; // "S-1-…"; may be empty
};

struct RegisteredUser {
    QString username; // the DAS's canonical name (lower case, username@domain)
    QString sharedId; // the IdP's id for the user: the ID token's "sub" must equal it
    bool created = false; // 201: the DAS registered the user just now
};

// POST /v1/2fa-tokens (flow 1). The code_challenge_method is always S256.
struct TwoFactorParams {
    QString user; // canonical name
    QString state;
    QString nonce;
    QString codeChallenge;
    QString redirectUri;
    QJsonObject fingerprint; // das::Fingerprint::toJson()
    QStringList acrValues; // for the request object's acr_values; may be empty
};

struct TwoFactorRequest {
    QByteArray requestObject; // the signed request object (RFC 9101), for "request="
    QString clientId;
    QUrl authorizationEndpoint;
    qint64 expiresIn = 0;
    QUrl answeredBy; // the DAS URL that issued it
};

// POST /v1/ciba-requests (docs/ciba.md): an OpenID CIBA request the DAS signs for this device's user.
struct CibaParams {
    QString user; // canonical name
    QJsonObject fingerprint; // das::Fingerprint::toJson()
    QStringList acrValues; // for the request's acr_values; may be empty
    std::optional<qint64> requestedExpiry; // seconds the user may take; the DAS's default when absent
};

struct CibaRequestObject {
    QByteArray requestObject; // the signed backchannel authentication request
    QString clientId;
    QString issuer; // the OpenID Provider it is for ("aud")
    QString sharedId; // its login_hint: the ID token's "sub" must equal it
    QString bindingMessage; // the number to match, as the user sees it at the PC and types it on the phone
    qint64 requestedExpiry = 0;
    qint64 expiresIn = 0; // of the request object: post it within this many seconds
    QUrl answeredBy; // the DAS URL that issued it
};

// POST /v1/admin-sign-ins (hotdesk enroll without a token): an administrator
// signs in at the IdP themselves, from a PC that is not enrolled yet.
struct AdminSignInParams {
    QString user; // the administrator, as typed
    QString state;
    QString nonce;
    QString codeChallenge;
    QString redirectUri;
};

struct AdminSignIn {
    QString id;       // the sign-in, for POST /v1/activation with the ID token
    QString user;     // canonical name
    QString sharedId; // the ID token's "sub" must equal it
    TwoFactorRequest request;
};

// An administrator approval request (flow 4).
struct ApprovalStatus {
    enum class State { Pending, Approved, Denied, Expired };
    QString id;
    QString status; // "pending", "approved", "denied", "expired": as the DAS says it
    State state = State::Pending;
    qint64 expiresAt = 0;
};

// A one-time code the DAS sent to the user's registered address.
struct OobToken {
    int digits = 0;
    qint64 expiresAt = 0;
};

// One DAS deployment, reached at the policy's DAS URLs in failover order.
//
// Every request carries a fresh device token whose "aud" is the URL being
// called, without a trailing slash: in a split deployment two DAS processes
// share a database but each checks "aud" against its own URL.
//
// Failover: the URLs are tried in order, starting with the last one that
// answered. A transport failure (Unreachable, Timeout, Tls) or a 5xx answer
// moves on to the next URL; any other answer, a 4xx included, is the DAS's
// word and ends the call. When every URL failed, the error's code is that of
// the failure that got furthest (ServerError for a 5xx, then Tls, Timeout,
// Unreachable; the first URL's on a tie) and its message names every URL
// tried and what happened there.
//
// Errors from problem documents (docs/das-protocol.md slugs):
//   device-unrecognized             -> DeviceUnrecognized; see pendingApprovalFromLastError()
//   device-unknown, invalid-signature -> DeviceUnknown ("enroll this PC again")
//   user-unknown                    -> UserUnknown
//   not-an-administrator            -> AccessDenied
//   token-expired / token-not-yet-valid -> Expired / NotYetValid, about this PC's clock
//   audience-mismatch               -> AudienceMismatch (the policy's URL is not the DAS's own)
//   oob-token-invalid, -used, -burnt, -superseded -> AccessDenied; oob-token-expired -> Expired
//   rate-limited, too-many-approval-requests -> ServerError naming Retry-After
//   any other 4xx                   -> ServerError with net::describeAnswer
// A success whose body is not what the protocol says is MalformedAnswer.
//
// Each callback runs exactly once, with Cancelled after cancelAll(); deleting
// the client drops the callbacks of calls in flight without running them.
class DasClient : public QObject {
    Q_OBJECT
public:
    DasClient(net::HttpClient &http, QList<QUrl> dasUrls, DeviceCredential credential, const Clock &clock, RandomSource &random,
        QObject *parent = nullptr);
    ~DasClient() override;

    template <typename T> using Callback = std::function<void(Result<T>)>;
    using StatusCallback = std::function<void(Status)>;

    void registerUser(const UserRegistration &user, Callback<RegisteredUser> done);
    void requestTwoFactor(const TwoFactorParams &params, Callback<TwoFactorRequest> done);
    void requestCiba(const CibaParams &params, Callback<CibaRequestObject> done);
    // Without a device token: works with an empty credential.
    void requestAdminSignIn(const AdminSignInParams &params, Callback<AdminSignIn> done);
    void requestApproval(const QString &user, const QJsonObject &fingerprint, Callback<ApprovalStatus> done);
    void approvalStatus(const QString &requestId, Callback<ApprovalStatus> done);
    void requestOobToken(const QString &user, Callback<OobToken> done);
    // token as the user typed it; machineId = the fingerprint's "machine_id" of this PC.
    void verifyOobToken(const QString &user, const QString &token, const QString &machineId, StatusCallback done);
    // {"type", "user"?, "detail"?}: a failure or lockout for the administrator's feed.
    void postEvent(const QJsonObject &event, StatusCallback done);
    // postEvent for store::EventQueue (a store::Delivery): what the answer means for
    // the event. 201 acknowledged; no answer, 5xx, 408 and 429 (with its
    // Retry-After) retried; a device token refused for this PC's clock
    // (token-expired, token-not-yet-valid) or as a replay retried too, since
    // the event itself is fine; any other 4xx refused.
    void deliverEvent(const QJsonObject &event, std::function<void(const store::DeliveryResult &)> done);

    void cancelAll();

    // After a call failed with DeviceUnrecognized: the id of the approval
    // request already pending for this device and fingerprint, when the DAS
    // named one ("approval_request"); poll it with approvalStatus() instead of
    // asking again. Reset by every call that finishes.
    std::optional<QString> pendingApprovalFromLastError() const { return m_pendingApproval; }

    const QList<QUrl> &dasUrls() const { return m_urls; }
    const DeviceCredential &credential() const { return m_credential; }
    // The URL the next call tries first: the last one that answered.
    QUrl preferredUrl() const { return m_urls.value(m_preferred); }

    // A DAS URL as a device token's audience: the URL without a trailing slash.
    static QString audienceOf(const QUrl &dasUrl);

private:
    struct Answer {
        net::HttpResponse response;
        QUrl base;
    };
    using AnswerCallback = std::function<void(Result<Answer>)>;

    // method and body (POST: JSON object; GET: none) to path below each DAS URL.
    void call(const QByteArray &method, const QString &path, const QJsonObject &body, AnswerCallback done,
        bool withDeviceToken = true);
    static Result<TwoFactorRequest> twoFactorRequestOf(const QJsonObject &o, const QString &what, const QUrl &base);
    static Result<CibaRequestObject> cibaRequestOf(const QJsonObject &o, const QUrl &base);
    struct Attempt;
    void tryNext(std::shared_ptr<Attempt> attempt);
    // The JSON object of a 2xx answer, or the typed error of any other.
    Result<QJsonObject> objectOf(const Result<Answer> &answer, const QString &what);
    Error errorOf(const net::HttpResponse &response, const QUrl &base);

    net::HttpClient &m_http;
    QList<QUrl> m_urls;
    DeviceCredential m_credential;
    const Clock &m_clock;
    RandomSource &m_random;
    int m_preferred = 0;
    std::optional<QString> m_pendingApproval;
    QList<QPointer<net::HttpCall>> m_calls;
};

} // namespace hotdesk::das

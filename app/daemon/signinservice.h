// The sign-ins hotdeskd runs for its sessions: state, nonce, PKCE verifier, device key and tokens never leave this class.
#pragma once

#include "serveraccess.h"

#include "core/clock.h"
#include "core/flow/reauthflow.h"
#include "core/flow/relayfrontend.h"
#include "core/net/httpclient.h"
#include "core/net/proxy.h"
#include "core/policy/serverpolicy.h"
#include "core/random.h"
#include "core/result.h"

#include <QObject>
#include <QUrl>

#include <map>
#include <memory>
#include <optional>

namespace hotdesk::policy {
struct Policy;
}
namespace hotdesk::store {
class AgentState;
class FileSecretStore;
} // namespace hotdesk::store

namespace hotdesk::daemon {


// The settings of a policy for stateDir; errors: the policy's ca_bundle or proxy cannot be used.
Result<SignInSettings> signInSettings(const policy::Policy &policy, const QString &stateDir);

// What a validated sign-in proves, and nothing that could be used again: no
// ID token, no access token, no code.
struct SignInResult {
    QString sessionId;
    QString user; // canonical, as the DAS knows the user
    QString sharedId; // the ID token's sub: the shared id this PC knows for the user
    qint64 authTime = 0; // the ID token's auth_time, else its iat (seconds since 1970)
    QString acr; // the ID token's acr, empty when it has none
    qint64 validatedAt = 0;
};

// One sign-in per session at a time. For each, a flow::ReauthFlow with its own
// HTTP client (a finished flow cancels its client's calls, so sign-ins of two
// sessions must not share one), a DAS client with the device key read from
// the state directory's secrets when the sign-in starts, and a
// flow::RelayFrontend: the authorization URL goes out by
// authorizationUrlReady(), and only the authorization response comes back
// through deliverAuthorizationResponse(). succeeded() fires only after the
// flow exchanged the code with the PKCE verifier it created and validated the
// ID token (signature from the IdP's keys, issuer, audience, the nonce it
// created, sub equal to the user's shared id from this daemon's own users.json
// or from the DAS's registration). The flow's deadline ends a sign-in nobody
// completes (the policy's approval timeout plus its response timeout).
//
// Exactly one of succeeded() and failed() fires per sign-in id, never inside
// start(); after it, the id is unknown. Nothing here logs.
class SignInService : public QObject {
    Q_OBJECT
public:
    // fingerprint: this PC's fingerprint for the DAS; empty: device::baseFingerprint.
    SignInService(SignInSettings settings, flow::FingerprintSource fingerprint, const Clock &clock, RandomSource &random,
        QObject *parent = nullptr);
    ~SignInService() override;

    // Starts a sign-in of options.user for sessionId and returns its id (random,
    // 128 bits). redirectUri is where the presenting agent captures the
    // response (flow::RelayFrontend::checkRedirectUri). Errors: Unsupported (a
    // sign-in of that session is running: cancel it first; an administrator
    // sign-in; a redirect URI that cannot be relayed), UserUnknown (no user or
    // session), CryptoFailure (no random numbers).
    Result<QString> start(const QString &sessionId, const flow::FlowOptions &options,
        const QString &redirectUri = flow::RelayFrontend::privateUseRedirectUri());
    // The redirect the agent captured. Success means handed to the flow (which
    // then checks state, iss and the code and fails closed); errors: StateMismatch
    // (no such sign-in, or it is not waiting for a response), MalformedAnswer (not
    // the redirect URI: refused, the sign-in keeps waiting).
    Status deliverAuthorizationResponse(const QString &signInId, const QUrl &redirect);
    // The one-time code after oneTimeCodeNeeded(). Errors: StateMismatch (no such sign-in).
    Status provideOneTimeCode(const QString &signInId, const QString &code);
    // failed(Cancelled) follows at once. Errors: StateMismatch (no such sign-in).
    Status cancel(const QString &signInId);

    // The sign-in running for a session, if any.
    std::optional<QString> signInOf(const QString &sessionId) const;
    std::optional<QString> sessionOf(const QString &signInId) const;
    const SignInSettings &settings() const { return m_settings; }

Q_SIGNALS:
    void authorizationUrlReady(const QString &signInId, const QUrl &authorizationUrl);
    // message in English; messageId and messageArgs for a client to show it in its own language (flow/progresstext.h).
    void progress(const QString &signInId, hotdesk::flow::Step step, const QString &message, const QString &messageId,
        const QStringList &messageArgs);
    void approvalRequested(const QString &signInId, const QString &requestId);
    void oneTimeCodeNeeded(const QString &signInId, int digits, qint64 expiresAt, int attemptsLeft);
    void succeeded(const QString &signInId, const hotdesk::daemon::SignInResult &result);
    void failed(const QString &signInId, const hotdesk::Error &error);

private:
    class SignIn;
    SignIn *find(const QString &signInId) const;
    void begin(const QString &signInId, const flow::FlowOptions &options);
    void connectFlow(SignIn &signIn);
    void finish(const QString &signInId, Result<SignInResult> result);

    SignInSettings m_settings;
    const Clock &m_clock;
    RandomSource &m_random;
    ServerAccess m_access; // users, enrollments, device keys; discovery and the IdP's keys, shared by the sign-ins
    std::map<QString, SignIn *> m_signIns; // by id; each a child of this object
};

} // namespace hotdesk::daemon

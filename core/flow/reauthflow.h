// DESIGN.md flow 1 (with flow 2 for a new user and flow 4 when the DAS does not recognize the PC) as one cancellable operation.
#pragma once

#include "../clock.h"
#include "../das/fingerprint.h"
#include "../oidc/discovery.h"
#include "../oidc/idtokenvalidator.h"
#include "../oidc/jwkscache.h"
#include "../policy/reauthrules.h"
#include "../policy/serverpolicy.h"
#include "../random.h"
#include "../result.h"
#include "frontend.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <functional>
#include <memory>
#include <optional>

namespace hotdesk::net {
class HttpClient;
}
namespace hotdesk::das {
class DasClient;
struct AdminSignInParams;
struct TwoFactorRequest;
} // namespace hotdesk::das
namespace hotdesk::store {
class AgentState;
}

namespace hotdesk::flow {

// The IdP as the agent knows it between flows: its discovery document and a
// JWKS cache. A second flow in the same process skips discovery and, unless
// the IdP rotated its key, the JWKS download.
class ProviderSession : public QObject {
    Q_OBJECT
public:
    ProviderSession(net::HttpClient &http, QString issuer, const Clock &clock, QObject *parent = nullptr);

    void metadata(std::function<void(Result<oidc::ProviderMetadata>)> done);
    // Valid after metadata() succeeded once.
    oidc::JwksCache *jwks() const { return m_jwks; }
    const QString &issuer() const { return m_issuer; }

private:
    net::HttpClient &m_http;
    QString m_issuer;
    const Clock &m_clock;
    std::optional<oidc::ProviderMetadata> m_metadata;
    qint64 m_fetchedAt = 0;
    oidc::JwksCache *m_jwks = nullptr;
};

enum class Step {
    Discovery,      // reading the IdP's discovery document
    Registration,   // flow 2: the DAS registers a user new to this PC
    RequestObject,  // the DAS signs the authorization request
    DeviceApproval, // flow 4: waiting for an administrator to approve this PC
    WaitingForUser, // the IdP page is open; the phone has the challenge
    CodeExchange,   // the authorization code goes to the token endpoint
    Validation,     // the ID token is checked
};

// The step's stable name ("discovery", "registration", "request_object",
// "device_approval", "waiting_for_user", "code_exchange", "validation"), as
// hotdeskd's sign_in_progress event and the benchmark write it.
QString stepName(Step step);

// The device fingerprint as the caller can build it (screens need a display).
using FingerprintSource = std::function<Result<das::Fingerprint>()>;

struct FlowOptions {
    QString user;                   // as typed: "alice" or "alice@corp.example"
    policy::UnrecognizedDevice unrecognizedDevice = policy::UnrecognizedDevice::Approval;
    std::chrono::milliseconds approvalPollInterval {2000};
    int maxCodeAttempts = 3;        // wrong one-time codes before the flow gives up
    // acr_values for the identity provider (the policy's failure.alternate_methods
    // after a failed attempt); the ID token's "acr" must then be one of them.
    QStringList acrValues {};
    // hotdesk enroll without a token: the user is an administrator signing in
    // from a PC that is not enrolled yet. No device token, no registration, no
    // fingerprint; the DAS names the shared id and keeps the nonce.
    bool administratorSignIn = false;
};

struct FlowResult {
    QString user;     // canonical name, as the DAS knows it
    QString sharedId; // the IdP's id for the user: the ID token's sub
    oidc::IdToken idToken;
    QByteArray rawIdToken;
    QByteArray accessToken;
    QString adminSignIn; // with FlowOptions::administratorSignIn: the DAS's id of the sign-in
};

class ReauthFlow : public QObject {
    Q_OBJECT
public:
    ReauthFlow(const policy::ServerSettings &servers, net::HttpClient &http, das::DasClient &das,
        ProviderSession &provider, store::AgentState &state, AuthorizationFrontend &frontend,
        FingerprintSource fingerprint, const Clock &clock, RandomSource &random, QObject *parent = nullptr);
    ~ReauthFlow() override;

    // Runs once; succeeded() or failed() fires exactly once (Cancelled after cancel()).
    void start(const FlowOptions &options);
    void cancel();
    bool isRunning() const { return m_running; }
    // The code the user typed after oneTimeCodeNeeded(); cancel() if they will not.
    void provideOneTimeCode(const QString &code);

Q_SIGNALS:
    // message: in this process's language; messageId and messageArgs: the same for another process to translate
    // (progresstext.h, hotdeskd's sign_in_progress).
    void progress(hotdesk::flow::Step step, const QString &message, const QString &messageId, const QStringList &messageArgs);
    // An administrator must approve this PC; id is the DAS's approval request.
    void approvalRequested(const QString &requestId);
    // The DAS sent the user a one-time code of this many digits, valid until
    // expiresAt; answer with provideOneTimeCode(). attemptsLeft counts this one.
    void oneTimeCodeNeeded(int digits, qint64 expiresAt, int attemptsLeft);
    void succeeded(const hotdesk::flow::FlowResult &result);
    void failed(const hotdesk::Error &error);

private:
    void say(Step step, const QString &messageId, const QStringList &args = {});
    void discover();
    void registerUser();
    void requestObject();
    void requestAdminSignIn(const das::AdminSignInParams &params);
    // The DAS's answer, signed for our client: opens the IdP's page.
    void authorize(const das::TwoFactorRequest &grant);
    void startApproval(const std::optional<QString> &pending);
    void pollApproval(const QString &requestId);
    void requestCode();
    void askForCode();
    void openBrowser(const QUrl &authorizationUrl);
    void onRedirect(const QUrl &redirect);
    void exchange(const QString &code);
    void validate(const QByteArray &idToken, const QByteArray &accessToken);
    void finish(Result<FlowResult> result);
    void stopOnError(const Error &error) { finish(tl::unexpected(error)); }
    // An answer's callback that runs step only while this flow still exists and
    // runs: a cancelled or finished flow ignores the answers still in flight.
    template <typename F> auto whileRunning(F step);
    // The same for an answer that is a Result: an error stops the flow, a value goes to step.
    template <typename T, typename F> auto nextStep(F step);

    const policy::ServerSettings &m_servers;
    net::HttpClient &m_http;
    das::DasClient &m_das;
    ProviderSession &m_provider;
    store::AgentState &m_state;
    AuthorizationFrontend &m_frontend;
    FingerprintSource m_fingerprintSource;
    const Clock &m_clock;
    RandomSource &m_random;

    FlowOptions m_options;
    bool m_running = false;
    bool m_approvalTried = false;
    qint64 m_startedAt = 0;
    QString m_user;
    QString m_sharedId;
    QString m_adminSignIn;
    QString m_flowState; // the OAuth state of this flow
    QString m_nonce;
    QString m_verifier;
    QString m_redirectUri;
    das::Fingerprint m_fingerprint;
    bool m_waitingForCode = false;
    int m_codeAttemptsLeft = 0;
    int m_codeDigits = 0;
    qint64 m_codeExpiresAt = 0;
    std::optional<oidc::ProviderMetadata> m_metadata;
    QTimer m_deadline;  // the browser step and the approval wait
    QTimer m_pollTimer;
};

} // namespace hotdesk::flow

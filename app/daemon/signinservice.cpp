// The daemon's sign-ins: one ReauthFlow each, whose authorization URL and response are relayed by the session's agent.
#include "signinservice.h"

#include "core/das/dasclient.h"
#include "core/das/enroller.h"
#include "core/store/agentstate.h"
#include "core/store/filesecretstore.h"

#include <QPointer>

namespace hotdesk::daemon {

// One running sign-in: what it owns, destroyed flow first (it refers to the rest).
class SignInService::SignIn : public QObject {
public:
    SignIn(QString signInId, QString session, const SignInSettings &settings, QString redirectUri, QObject *parent)
        : QObject(parent)
        , id(std::move(signInId))
        , sessionId(std::move(session))
        , http(settings.trust, settings.timeouts())
        , frontend(std::move(redirectUri))
    {
        settings.configure(http);
    }

    const QString id;
    const QString sessionId;
    bool finished = false;
    net::HttpClient http;
    flow::RelayFrontend frontend;
    std::unique_ptr<das::DasClient> das;
    std::unique_ptr<flow::ReauthFlow> flow;
};

SignInService::SignInService(
    SignInSettings settings, flow::FingerprintSource fingerprint, const Clock &clock, RandomSource &random, QObject *parent)
    : QObject(parent)
    , m_settings(std::move(settings))
    , m_clock(clock)
    , m_random(random)
    , m_access(m_settings, std::move(fingerprint), clock, this)
{
}

SignInService::~SignInService()
{
    // The flows and the provider refer to the members below; they go first.
    const QObjectList owned = children();
    qDeleteAll(owned);
}

Result<QString> SignInService::start(const QString &sessionId, const flow::FlowOptions &options, const QString &redirectUri)
{
    if (sessionId.isEmpty() || options.user.trimmed().isEmpty())
        return fail(ErrorCode::UserUnknown, QStringLiteral("a sign-in needs a session and the user who signs in"));
    if (options.administratorSignIn)
        return fail(ErrorCode::Unsupported, QStringLiteral("hotdeskd signs in the users of sessions, not administrators"));
    if (signInOf(sessionId))
        return fail(ErrorCode::Unsupported,
            QStringLiteral("a sign-in for session %1 is already running; cancel it first").arg(sessionId));
    if (auto ok = flow::RelayFrontend::checkRedirectUri(redirectUri); !ok)
        return tl::unexpected(ok.error());
    auto random = randomUrlSafeString(m_random, 16);
    if (!random)
        return fail(ErrorCode::CryptoFailure, QStringLiteral("no random numbers for a sign-in id"));
    const QString signInId = QString::fromLatin1(*random);
    auto *signIn = new SignIn(signInId, sessionId, m_settings, redirectUri, this);
    m_signIns.emplace(signInId, signIn);
    connect(&signIn->frontend, &flow::RelayFrontend::authorizationUrlReady, this,
        [this, signInId](const QUrl &url) { Q_EMIT authorizationUrlReady(signInId, url); });
    begin(signInId, options);
    return signInId;
}

// The device key is read for each sign-in: an enrollment made since the last one counts at once.
void SignInService::begin(const QString &signInId, const flow::FlowOptions &options)
{
    QPointer<SignIn> signIn(find(signInId));
    das::loadCredential(
        m_access.secrets(), m_access.state(), m_settings.servers.dasUrls, [this, signIn, options](Result<das::LoadedCredential> loaded) {
            // Gone with the service, or cancelled while the key was read.
            if (!signIn || signIn->finished)
                return;
            if (!loaded) {
                finish(signIn->id, tl::unexpected(loaded.error()));
                return;
            }
            signIn->das = std::make_unique<das::DasClient>(
                signIn->http, m_settings.servers.dasUrls, loaded->credential, m_clock, m_random);
            signIn->flow = std::make_unique<flow::ReauthFlow>(m_settings.servers, signIn->http, *signIn->das, m_access.provider(),
                m_access.state(), signIn->frontend, m_access.fingerprint(), m_clock, m_random);
            connectFlow(*signIn);
            signIn->flow->start(options);
        });
}

void SignInService::connectFlow(SignIn &signIn)
{
    const QString id = signIn.id;
    const QString sessionId = signIn.sessionId;
    flow::ReauthFlow *flow = signIn.flow.get();
    connect(flow, &flow::ReauthFlow::progress, this,
        [this, id](flow::Step step, const QString &message, const QString &messageId, const QStringList &args) {
            Q_EMIT progress(id, step, message, messageId, args);
        });
    connect(flow, &flow::ReauthFlow::approvalRequested, this,
        [this, id](const QString &requestId) { Q_EMIT approvalRequested(id, requestId); });
    connect(flow, &flow::ReauthFlow::oneTimeCodeNeeded, this, [this, id](int digits, qint64 expiresAt, int attemptsLeft) {
        Q_EMIT oneTimeCodeNeeded(id, digits, expiresAt, attemptsLeft);
    });
    connect(flow, &flow::ReauthFlow::failed, this, [this, id](const Error &error) { finish(id, tl::unexpected(error)); });
    connect(flow, &flow::ReauthFlow::succeeded, this, [this, id, sessionId](const flow::FlowResult &validated) {
        // Only what the validation proved goes on; the tokens stay behind.
        SignInResult result;
        result.sessionId = sessionId;
        result.user = validated.user;
        result.sharedId = validated.sharedId;
        result.authTime = validated.idToken.authTime.value_or(validated.idToken.issuedAt);
        result.acr = validated.idToken.claims().value(QLatin1String("acr")).toString();
        result.validatedAt = m_clock.secondsSinceEpoch();
        finish(id, result);
    });
}

void SignInService::finish(const QString &signInId, Result<SignInResult> result)
{
    const auto it = m_signIns.find(signInId);
    if (it == m_signIns.end())
        return;
    SignIn *signIn = it->second;
    m_signIns.erase(it);
    signIn->finished = true;
    // Later: this may run inside one of the flow's own signals.
    signIn->deleteLater();
    if (result)
        Q_EMIT succeeded(signInId, *result);
    else
        Q_EMIT failed(signInId, result.error());
}

SignInService::SignIn *SignInService::find(const QString &signInId) const
{
    const auto it = m_signIns.find(signInId);
    return it == m_signIns.end() ? nullptr : it->second;
}

std::optional<QString> SignInService::signInOf(const QString &sessionId) const
{
    for (const auto &[id, signIn] : m_signIns) {
        if (signIn->sessionId == sessionId)
            return id;
    }
    return std::nullopt;
}

std::optional<QString> SignInService::sessionOf(const QString &signInId) const
{
    const SignIn *signIn = find(signInId);
    return signIn ? std::optional<QString>(signIn->sessionId) : std::nullopt;
}

namespace {
tl::unexpected<Error> unknownSignIn()
{
    return fail(ErrorCode::StateMismatch, QStringLiteral("no such sign-in is running; start a new one"));
}
} // namespace

Status SignInService::deliverAuthorizationResponse(const QString &signInId, const QUrl &redirect)
{
    SignIn *signIn = find(signInId);
    if (!signIn)
        return unknownSignIn();
    return signIn->frontend.deliver(redirect);
}

Status SignInService::provideOneTimeCode(const QString &signInId, const QString &code)
{
    SignIn *signIn = find(signInId);
    if (!signIn || !signIn->flow)
        return unknownSignIn();
    signIn->flow->provideOneTimeCode(code);
    return {};
}

Status SignInService::cancel(const QString &signInId)
{
    SignIn *signIn = find(signInId);
    if (!signIn)
        return unknownSignIn();
    if (signIn->flow)
        signIn->flow->cancel();
    // Still here when the flow had not started (the device key was being read).
    finish(signInId, fail(ErrorCode::Cancelled, QStringLiteral("Sign-in was cancelled.")));
    return {};
}

} // namespace hotdesk::daemon

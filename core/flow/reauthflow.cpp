// The re-authentication flow, step by step.
#include "reauthflow.h"
#include "progresstext.h"

#include "../das/dasclient.h"
#include "../jose/jws.h"
#include "../net/httpclient.h"
#include "../oidc/authorization.h"
#include "../oidc/pkce.h"
#include "../oidc/tokenexchange.h"
#include "../store/agentstate.h"

namespace hotdesk::flow {

QString stepName(Step step)
{
    switch (step) {
    case Step::Discovery:
        return QStringLiteral("discovery");
    case Step::Registration:
        return QStringLiteral("registration");
    case Step::RequestObject:
        return QStringLiteral("request_object");
    case Step::DeviceApproval:
        return QStringLiteral("device_approval");
    case Step::WaitingForUser:
        return QStringLiteral("waiting_for_user");
    case Step::CodeExchange:
        return QStringLiteral("code_exchange");
    case Step::Validation:
        return QStringLiteral("validation");
    }
    return QStringLiteral("unknown");
}

namespace {
// Discovery documents change rarely; an hour keeps a long-running agent current.
constexpr qint64 kMetadataLifetimeSeconds = 3600;
// Clock skew tolerated on the ID token's times.
constexpr std::chrono::seconds kLeeway {60};
} // namespace

ProviderSession::ProviderSession(net::HttpClient &http, QString issuer, const Clock &clock, QObject *parent)
    : QObject(parent)
    , m_http(http)
    , m_issuer(std::move(issuer))
    , m_clock(clock)
{
}

void ProviderSession::metadata(std::function<void(Result<oidc::ProviderMetadata>)> done)
{
    if (m_metadata && m_clock.secondsSinceEpoch() - m_fetchedAt < kMetadataLifetimeSeconds) {
        done(*m_metadata);
        return;
    }
    QPointer<ProviderSession> self(this);
    oidc::fetchProviderMetadata(m_http, m_issuer, [self, done = std::move(done)](Result<oidc::ProviderMetadata> r) {
        if (!self)
            return;
        if (r) {
            const bool sameKeys = self->m_metadata && self->m_metadata->jwksUri == r->jwksUri;
            self->m_metadata = *r;
            self->m_fetchedAt = self->m_clock.secondsSinceEpoch();
            if (!sameKeys) {
                delete self->m_jwks;
                self->m_jwks = new oidc::JwksCache(self->m_http, r->jwksUri, self->m_clock, self);
            }
        }
        done(std::move(r));
    });
}

ReauthFlow::ReauthFlow(const policy::ServerSettings &servers, net::HttpClient &http, das::DasClient &das,
    ProviderSession &provider, store::AgentState &state, AuthorizationFrontend &frontend, FingerprintSource fingerprint,
    const Clock &clock, RandomSource &random, QObject *parent)
    : QObject(parent)
    , m_servers(servers)
    , m_http(http)
    , m_das(das)
    , m_provider(provider)
    , m_state(state)
    , m_frontend(frontend)
    , m_fingerprintSource(std::move(fingerprint))
    , m_clock(clock)
    , m_random(random)
{
    m_deadline.setSingleShot(true);
    m_pollTimer.setSingleShot(true);
    connect(&m_frontend, &AuthorizationFrontend::redirected, this, &ReauthFlow::onRedirect);
    connect(&m_frontend, &AuthorizationFrontend::failed, this, [this](const Error &error) {
        if (m_running)
            stopOnError(error);
    });
}

ReauthFlow::~ReauthFlow() = default;

template <typename F> auto ReauthFlow::whileRunning(F step)
{
    return [self = QPointer<ReauthFlow>(this), step = std::move(step)](auto &&...answer) {
        if (self && self->m_running)
            step(std::forward<decltype(answer)>(answer)...);
    };
}

template <typename T, typename F> auto ReauthFlow::nextStep(F step)
{
    return whileRunning([this, step = std::move(step)](Result<T> answer) {
        if (!answer) {
            stopOnError(answer.error());
            return;
        }
        step(std::move(*answer));
    });
}

void ReauthFlow::say(Step step, const QString &messageId, const QStringList &args)
{
    Q_EMIT progress(step, progressText(messageId, args), messageId, args);
}

void ReauthFlow::start(const FlowOptions &options)
{
    if (m_running)
        return;
    m_running = true;
    m_options = options;
    m_approvalTried = false;
    m_startedAt = m_clock.secondsSinceEpoch();
    m_user = options.user.trimmed();
    if (m_user.isEmpty()) {
        finish(fail(ErrorCode::UserUnknown, tr("No user name was given.")));
        return;
    }
    m_adminSignIn.clear();
    if (options.administratorSignIn) {
        discover();
        return;
    }
    auto fingerprint = m_fingerprintSource ? m_fingerprintSource() : fail(ErrorCode::Io, tr("no device fingerprint"));
    if (!fingerprint) {
        stopOnError(fingerprint.error());
        return;
    }
    m_fingerprint = *fingerprint;
    discover();
}

void ReauthFlow::cancel()
{
    if (!m_running)
        return;
    finish(fail(ErrorCode::Cancelled, tr("Sign-in was cancelled.")));
}

void ReauthFlow::discover()
{
    say(Step::Discovery, QStringLiteral("discovery"));
    m_provider.metadata(nextStep<oidc::ProviderMetadata>([this](oidc::ProviderMetadata metadata) {
        m_metadata = std::move(metadata);
        registerUser();
    }));
}

void ReauthFlow::registerUser()
{
    // The DAS names the administrator's shared id with the sign-in.
    if (m_options.administratorSignIn) {
        requestObject();
        return;
    }
    auto known = m_state.knownUser(m_user);
    if (!known) {
        stopOnError(known.error());
        return;
    }
    if (*known) {
        m_sharedId = **known;
        requestObject();
        return;
    }
    say(Step::Registration, QStringLiteral("registration"), {m_user});
    das::UserRegistration request;
    const qsizetype at = m_user.indexOf(u'@');
    request.username = at > 0 ? m_user.left(at) : m_user;
    request.domain = at > 0 ? m_user.mid(at + 1) : QString();
    m_das.registerUser(request, nextStep<das::RegisteredUser>([this](const das::RegisteredUser &registration) {
        m_user = registration.username;
        m_sharedId = registration.sharedId;
        if (auto saved = m_state.rememberUser(m_user, m_sharedId); !saved) {
            stopOnError(saved.error());
            return;
        }
        requestObject();
    }));
}

void ReauthFlow::requestObject()
{
    say(Step::RequestObject, QStringLiteral("request_object"));
    auto state = randomUrlSafeString(m_random, 32);
    auto nonce = randomUrlSafeString(m_random, 32);
    auto pkce = oidc::generatePkce(m_random);
    if (!state || !nonce || !pkce) {
        stopOnError(Error{ErrorCode::CryptoFailure, tr("no random numbers for the sign-in request")});
        return;
    }
    m_flowState = QString::fromLatin1(*state);
    m_nonce = QString::fromLatin1(*nonce);
    m_verifier = QString::fromLatin1(pkce->verifier);
    auto redirectUri = m_frontend.prepare();
    if (!redirectUri) {
        stopOnError(redirectUri.error());
        return;
    }
    m_redirectUri = *redirectUri;

    if (m_options.administratorSignIn) {
        requestAdminSignIn(das::AdminSignInParams {
            m_user, m_flowState, m_nonce, QString::fromLatin1(pkce->challenge), m_redirectUri});
        return;
    }
    das::TwoFactorParams request;
    request.user = m_user;
    request.state = m_flowState;
    request.nonce = m_nonce;
    request.codeChallenge = QString::fromLatin1(pkce->challenge);
    request.acrValues = m_options.acrValues;
    request.redirectUri = m_redirectUri;
    request.fingerprint = m_fingerprint.toJson();
    m_das.requestTwoFactor(request, whileRunning([this](Result<das::TwoFactorRequest> grant) {
        if (!grant) {
            if (grant.error().code == ErrorCode::DeviceUnrecognized && !m_approvalTried) {
                switch (m_options.unrecognizedDevice) {
                case policy::UnrecognizedDevice::Approval:
                    startApproval(m_das.pendingApprovalFromLastError());
                    return;
                case policy::UnrecognizedDevice::Code:
                    requestCode();
                    return;
                case policy::UnrecognizedDevice::Deny:
                    break;
                }
            }
            stopOnError(grant.error());
            return;
        }
        authorize(*grant);
    }));
}

void ReauthFlow::requestAdminSignIn(const das::AdminSignInParams &params)
{
    m_das.requestAdminSignIn(params, nextStep<das::AdminSignIn>([this](const das::AdminSignIn &signIn) {
        m_user = signIn.user;
        m_sharedId = signIn.sharedId;
        m_adminSignIn = signIn.id;
        authorize(signIn.request);
    }));
}

void ReauthFlow::authorize(const das::TwoFactorRequest &grant)
{
    if (grant.clientId != m_servers.clientId) {
        stopOnError(Error{ErrorCode::MalformedAnswer,
            tr("The device authentication server signed a request for client \"%1\", but the policy names \"%2\".")
                .arg(grant.clientId, m_servers.clientId)});
        return;
    }
    // The endpoint comes from the IdP's own discovery document, not from the DAS.
    openBrowser(oidc::authorizationUrl(m_metadata->authorizationEndpoint, m_servers.clientId, grant.requestObject));
}

void ReauthFlow::startApproval(const std::optional<QString> &pending)
{
    m_approvalTried = true;
    say(Step::DeviceApproval, QStringLiteral("approval_asked"));
    auto waitFor = nextStep<das::ApprovalStatus>([this](const das::ApprovalStatus &status) {
        Q_EMIT approvalRequested(status.id);
        m_deadline.disconnect();
        connect(&m_deadline, &QTimer::timeout, this, [this] {
            stopOnError(Error {
                ErrorCode::Timeout, tr("No administrator approved this PC in time. Ask your administrator, then try again.")});
        });
        m_deadline.start(m_servers.approvalTimeout);
        pollApproval(status.id);
    });
    // A request for this PC and fingerprint is already waiting (an earlier attempt): poll it.
    if (pending) {
        das::ApprovalStatus status;
        status.id = *pending;
        status.status = QStringLiteral("pending");
        waitFor(status);
        return;
    }
    m_das.requestApproval(m_user, m_fingerprint.toJson(), waitFor);
}

void ReauthFlow::pollApproval(const QString &requestId)
{
    m_pollTimer.disconnect();
    connect(&m_pollTimer, &QTimer::timeout, this, [this, requestId] {
        m_das.approvalStatus(requestId, nextStep<das::ApprovalStatus>([this, requestId](const das::ApprovalStatus &status) {
            if (status.status == QLatin1String("approved")) {
                m_deadline.stop();
                requestObject();
            } else if (status.status == QLatin1String("pending")) {
                pollApproval(requestId);
            } else {
                stopOnError(Error {ErrorCode::AccessDenied,
                    tr("The approval request for this PC was %1. Ask your administrator.").arg(status.status)});
            }
        }));
    });
    m_pollTimer.start(m_options.approvalPollInterval);
}

void ReauthFlow::requestCode()
{
    m_approvalTried = true;
    m_codeAttemptsLeft = std::max(1, m_options.maxCodeAttempts);
    say(Step::DeviceApproval, QStringLiteral("code_sending"));
    m_das.requestOobToken(m_user, nextStep<das::OobToken>([this](const das::OobToken &sent) {
        m_codeDigits = sent.digits;
        m_codeExpiresAt = sent.expiresAt;
        m_deadline.disconnect();
        connect(&m_deadline, &QTimer::timeout, this, [this] {
            stopOnError(Error {ErrorCode::Timeout, tr("No one-time code was entered in time. Try again.")});
        });
        m_deadline.start(m_servers.approvalTimeout);
        askForCode();
    }));
}

void ReauthFlow::askForCode()
{
    m_waitingForCode = true;
    say(Step::DeviceApproval, QStringLiteral("code_sent"));
    Q_EMIT oneTimeCodeNeeded(m_codeDigits, m_codeExpiresAt, m_codeAttemptsLeft);
}

void ReauthFlow::provideOneTimeCode(const QString &code)
{
    if (!m_running || !m_waitingForCode)
        return;
    m_waitingForCode = false;
    --m_codeAttemptsLeft;
    m_das.verifyOobToken(m_user, code.trimmed(), m_fingerprint.machineId, whileRunning([this](Status verified) {
        if (verified) {
            m_deadline.stop();
            requestObject();
            return;
        }
        // A mistyped code may be typed again; anything else ends the flow.
        if (verified.error().code == ErrorCode::AccessDenied && m_codeAttemptsLeft > 0) {
            say(Step::DeviceApproval, QStringLiteral("code_wrong"));
            askForCode();
            return;
        }
        stopOnError(verified.error());
    }));
}

void ReauthFlow::openBrowser(const QUrl &authorizationUrl)
{
    say(Step::WaitingForUser, QStringLiteral("waiting_for_phone"));
    m_deadline.disconnect();
    connect(&m_deadline, &QTimer::timeout, this, [this] {
        stopOnError(Error{ErrorCode::Timeout,
            tr("The sign-in was not completed in time. Try again, and approve on your phone when asked.")});
    });
    // The IdP's own wait, plus the time for its answers to travel.
    m_deadline.start(m_servers.approvalTimeout + m_servers.responseTimeout);
    m_frontend.open(authorizationUrl);
}

void ReauthFlow::onRedirect(const QUrl &redirect)
{
    if (!m_running)
        return;
    m_deadline.stop();
    oidc::RedirectExpectations expect;
    expect.redirectUri = m_redirectUri;
    expect.state = m_flowState;
    expect.issuer = m_servers.idpIssuer;
    expect.issRequired = m_metadata && m_metadata->issParameterSupported;
    auto code = oidc::codeFromRedirect(redirect, expect);
    if (!code) {
        stopOnError(code.error());
        return;
    }
    exchange(*code);
}

void ReauthFlow::exchange(const QString &code)
{
    say(Step::CodeExchange, QStringLiteral("code_exchange"));
    oidc::CodeExchange request;
    request.code = code;
    request.codeVerifier = m_verifier;
    request.redirectUri = m_redirectUri;
    request.clientId = m_servers.clientId;
    oidc::exchangeCode(m_http, m_metadata->tokenEndpoint, request,
        nextStep<oidc::TokenResponse>(
            [this](const oidc::TokenResponse &tokens) { validate(tokens.idToken, tokens.accessToken); }));
}

void ReauthFlow::validate(const QByteArray &idToken, const QByteArray &accessToken)
{
    say(Step::Validation, QStringLiteral("validation"));
    // The kid only picks which keys to fetch; the validator trusts nothing before the signature.
    auto unverified = jose::decodeUnverified(idToken);
    if (!unverified) {
        stopOnError(unverified.error());
        return;
    }
    m_provider.jwks()->keysFor(
        unverified->header.kid, nextStep<jose::JwkSet>([this, idToken, accessToken](const jose::JwkSet &keys) {
            oidc::IdTokenRequirements rules;
            rules.issuer = m_servers.idpIssuer;
            rules.clientId = m_servers.clientId;
            rules.nonce = m_nonce;
            rules.subject = m_sharedId;
            rules.acrValues = m_options.acrValues;
            rules.leeway = kLeeway;
            // Issued during this flow: nothing older can answer this request.
            rules.maxTokenAge = std::chrono::seconds(m_clock.secondsSinceEpoch() - m_startedAt) + kLeeway;
            auto token = oidc::validateIdToken(idToken, keys, rules, m_clock);
            if (!token) {
                stopOnError(token.error());
                return;
            }
            FlowResult result;
            result.user = m_user;
            result.sharedId = m_sharedId;
            result.idToken = *token;
            result.rawIdToken = idToken;
            result.accessToken = accessToken;
            result.adminSignIn = m_adminSignIn;
            finish(std::move(result));
        }));
}

void ReauthFlow::finish(Result<FlowResult> result)
{
    if (!m_running)
        return;
    m_running = false;
    m_waitingForCode = false;
    m_deadline.stop();
    m_pollTimer.stop();
    m_frontend.close();
    // Whatever is still in flight belongs to this flow and must not come back.
    m_http.cancelAll();
    if (result)
        Q_EMIT succeeded(*result);
    else
        Q_EMIT failed(result.error());
}

} // namespace hotdesk::flow

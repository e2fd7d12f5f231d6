// OpenID CIBA poll-mode client.
#include "ciba.h"

#include "../jose/jws.h"
#include "../jose/strictjson.h"
#include "tokenexchange.h"

#include <QJsonArray>

namespace hotdesk::oidc {
namespace {

const QString kGrantType = QStringLiteral("urn:openid:params:grant-type:ciba");
const QLatin1String kAuthReqIdClaim("urn:openid:params:jwt:claim:auth_req_id");
// No IdP asks for more; a larger interval or lifetime is a broken answer, not a reason to wait for hours.
constexpr qint64 kMaxIntervalSeconds = 300;
constexpr qint64 kMaxExpiresInSeconds = 86400;

QString where(const net::HttpResponse &response)
{
    return response.url.toString(QUrl::RemoveQuery | QUrl::RemoveUserInfo);
}

// Text from the IdP goes to people (and later to a PAM conversation): printable, one line, short.
QString printable(const QString &text)
{
    QString out;
    for (const QChar c : text.left(300))
        out += c.isPrint() ? c : QLatin1Char(' ');
    return out.simplified();
}

// A positive whole number member up to max; 0 when absent, -1 when present but not that.
qint64 positiveMember(const QJsonObject &doc, const char *name, qint64 max)
{
    const QJsonValue value = doc.value(QLatin1String(name));
    if (value.isUndefined())
        return 0;
    const double d = value.toDouble(-1);
    if (!value.isDouble() || d < 1 || d > double(max) || d != double(qint64(d)))
        return -1;
    return qint64(d);
}

} // namespace

CibaClient::CibaClient(
    net::HttpClient &http, ProviderMetadata provider, JwksCache &jwks, const Clock &clock, CibaSettings settings, QObject *parent)
    : QObject(parent)
    , m_http(http)
    , m_provider(std::move(provider))
    , m_jwks(jwks)
    , m_clock(clock)
    , m_settings(settings)
{
    // A precise timer never fires early, so a poll never comes sooner than the interval.
    m_pollTimer.setSingleShot(true);
    m_pollTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_pollTimer, &QTimer::timeout, this, &CibaClient::poll);
    m_deadline.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, [this] {
        finish(fail(ErrorCode::Timeout,
            QStringLiteral("the sign-in was not approved within %1 seconds; try again")
                .arg(std::chrono::duration_cast<std::chrono::seconds>(m_settings.timeout).count())));
    });
}

CibaClient::~CibaClient()
{
    m_running = false;
    if (m_call)
        m_call->cancel();
}

void CibaClient::start(const CibaRequest &request)
{
    if (m_started) {
        qWarning("CibaClient::start: a CibaClient runs once");
        return;
    }
    m_started = true;
    m_running = true;
    m_request = request;
    m_startedAt = m_clock.secondsSinceEpoch();
    m_deadline.start(m_settings.timeout);
    const QJsonValue modes = m_provider.document.value(QLatin1String("backchannel_token_delivery_modes_supported"));
    std::optional<Error> refused;
    if (!m_provider.backchannelAuthenticationEndpoint.isValid())
        refused = Error {ErrorCode::Unsupported,
            QStringLiteral("the identity provider %1 offers no backchannel authentication (OpenID CIBA); tell your administrator")
                .arg(m_provider.issuer)};
    else if (!modes.isUndefined() && !modes.toArray().contains(QStringLiteral("poll")))
        refused = Error {ErrorCode::Unsupported,
            QStringLiteral("the identity provider %1 does not offer CIBA's poll mode; tell your administrator")
                .arg(m_provider.issuer)};
    else if (request.requestObject.isEmpty() || request.clientId.isEmpty() || request.expectedSubject.isEmpty())
        refused = Error {ErrorCode::Malformed,
            QStringLiteral("a CIBA sign-in needs a request object, the client id and the user's shared id")};
    if (refused) {
        // Never from inside start(): the caller connects its slots first.
        QMetaObject::invokeMethod(
            this, [this, error = *refused] { finish(tl::unexpected(error)); }, Qt::QueuedConnection);
        return;
    }
    const auto post = net::HttpRequest::postForm(m_provider.backchannelAuthenticationEndpoint,
        {{QStringLiteral("client_id"), request.clientId},
            {QStringLiteral("request"), QString::fromLatin1(request.requestObject)}});
    m_call = m_http.send(post, [this](Result<net::HttpResponse> response) { backchannelAnswer(std::move(response)); });
}

void CibaClient::cancel()
{
    finish(fail(ErrorCode::Cancelled, QStringLiteral("the sign-in was cancelled")));
}

void CibaClient::backchannelAnswer(Result<net::HttpResponse> response)
{
    if (!m_running)
        return;
    if (!response)
        return finish(tl::unexpected(response.error()));
    if (!response->isSuccess())
        return finish(tl::unexpected(errorOf(*response, QStringLiteral("the backchannel authentication request"))));
    auto doc = net::jsonObjectOf(*response, QStringLiteral("the backchannel authentication answer"));
    if (!doc)
        return finish(tl::unexpected(doc.error()));
    const QJsonValue id = doc->value(QLatin1String("auth_req_id"));
    const qint64 expiresIn = positiveMember(*doc, "expires_in", kMaxExpiresInSeconds);
    const qint64 interval = positiveMember(*doc, "interval", kMaxIntervalSeconds);
    if (!id.isString() || id.toString().isEmpty() || id.toString().size() > 1024 || expiresIn <= 0 || interval < 0)
        return finish(fail(ErrorCode::MalformedAnswer,
            QStringLiteral("the backchannel authentication answer of %1 needs auth_req_id, a positive expires_in and, when "
                           "given, a positive interval of at most %2 seconds")
                .arg(where(*response))
                .arg(kMaxIntervalSeconds)));
    m_authReqId = id.toString();
    m_interval = interval > 0 ? std::chrono::seconds(interval) : kDefaultInterval;
    m_expiresInMs = expiresIn * 1000;
    m_expiry.start();
    Q_EMIT accepted(m_authReqId, expiresIn, m_interval.count());
    if (m_running)
        m_pollTimer.start(m_interval);
}

void CibaClient::poll()
{
    if (!m_running)
        return;
    if (m_expiry.elapsed() >= m_expiresInMs)
        return finish(fail(ErrorCode::Expired, QStringLiteral("the sign-in request expired before it was approved; try again")));
    const auto post = net::HttpRequest::postForm(m_provider.tokenEndpoint,
        {{QStringLiteral("grant_type"), kGrantType}, {QStringLiteral("auth_req_id"), m_authReqId},
            {QStringLiteral("client_id"), m_request.clientId}});
    m_call = m_http.send(post, [this](Result<net::HttpResponse> response) { pollAnswer(std::move(response)); });
}

void CibaClient::pollAnswer(Result<net::HttpResponse> response)
{
    if (!m_running)
        return;
    if (!response)
        return finish(tl::unexpected(response.error()));
    if (response->isSuccess()) {
        auto tokens = parseTokenResponse(*response);
        if (!tokens)
            return finish(tl::unexpected(tokens.error()));
        return validate(tokens->idToken);
    }
    const auto doc = jose::parseStrictJsonObject(response->body);
    const QString error = doc && response->status == 400 ? doc->value(QLatin1String("error")).toString() : QString();
    if (error == QLatin1String("authorization_pending") || error == QLatin1String("slow_down")) {
        if (error == QLatin1String("slow_down")) {
            ++m_slowDowns;
            m_interval += kSlowDownStep;
        }
        Q_EMIT pending(error);
        if (m_running)
            m_pollTimer.start(m_interval);
        return;
    }
    finish(tl::unexpected(errorOf(*response, QStringLiteral("the token request"))));
}

Error CibaClient::errorOf(const net::HttpResponse &response, const QString &step)
{
    const auto doc = jose::parseStrictJsonObject(response.body);
    if (response.status < 400 || response.status >= 500 || !doc || !doc->value(QLatin1String("error")).isString())
        return Error {ErrorCode::ServerError,
            QStringLiteral("%1 failed: %2; try again later, and tell your administrator if this repeats")
                .arg(step, net::describeAnswer(response))};
    const QString error = printable(doc->value(QLatin1String("error")).toString());
    const QString description = printable(doc->value(QLatin1String("error_description")).toString());
    const QString said = description.isEmpty() ? error : QStringLiteral("%1 (%2)").arg(error, description);
    if (error == QLatin1String("access_denied"))
        return Error {ErrorCode::AccessDenied, QStringLiteral("the sign-in was refused: %1").arg(said)};
    if (error == QLatin1String("expired_token"))
        return Error {ErrorCode::Expired, QStringLiteral("the sign-in request expired before it was approved: %1").arg(said)};
    if (error == QLatin1String("unknown_user_id"))
        return Error {ErrorCode::UserUnknown, QStringLiteral("the identity provider does not know this user: %1").arg(said)};
    return Error {
        ErrorCode::ServerError, QStringLiteral("the identity provider refused %1 at %2: %3").arg(step, where(response), said)};
}

void CibaClient::validate(const QByteArray &idToken)
{
    // The kid only picks which keys to fetch; the validator trusts nothing before the signature.
    auto unverified = jose::decodeUnverified(idToken);
    if (!unverified)
        return finish(tl::unexpected(unverified.error()));
    QPointer<CibaClient> self(this);
    m_jwks.keysFor(unverified->header.kid, [self, idToken](Result<jose::JwkSet> keys) {
        if (!self || !self->m_running)
            return;
        if (!keys)
            return self->finish(tl::unexpected(keys.error()));
        self->checkToken(idToken, *keys);
    });
}

void CibaClient::checkToken(const QByteArray &idToken, const jose::JwkSet &keys)
{
    IdTokenRequirements rules;
    rules.issuer = m_provider.issuer;
    rules.clientId = m_request.clientId;
    rules.subject = m_request.expectedSubject;
    rules.acrValues = m_request.acrValues;
    rules.leeway = m_settings.leeway;
    // Issued during this sign-in: nothing older can answer this request.
    rules.maxTokenAge = std::chrono::seconds(m_clock.secondsSinceEpoch() - m_startedAt) + m_settings.leeway;
    auto token = validateIdToken(idToken, keys, rules, m_clock);
    if (!token)
        return finish(tl::unexpected(token.error()));
    // CIBA Core §10.1.1 puts the request's id in the ID token in ping and push
    // mode; an IdP that also does so in poll mode must name this request.
    const QJsonValue bound = token->claims().value(kAuthReqIdClaim);
    if (!bound.isUndefined() && bound.toString() != m_authReqId)
        return finish(fail(ErrorCode::StateMismatch,
            QStringLiteral("the ID token answers another backchannel request than this sign-in's; try again")));
    finish(std::move(*token));
}

void CibaClient::finish(Result<IdToken> outcome)
{
    if (!m_running)
        return;
    m_running = false;
    m_pollTimer.stop();
    m_deadline.stop();
    if (m_call)
        m_call->cancel();
    if (outcome)
        Q_EMIT succeeded(*outcome);
    else
        Q_EMIT failed(outcome.error());
}

} // namespace hotdesk::oidc

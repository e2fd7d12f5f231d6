// Device Authentication Server role: routes, start-up, keys, and who is calling (administrator or device).
// The endpoints live in dasenrollment.cpp, dasusers.cpp, dasapprovals.cpp and dasevents.cpp.
#include "dasservice.h"
#include "dasservice_p.h"

#include "core/das/devicetoken.h"

#include <QDir>
#include <QJsonDocument>
#include <QRegularExpression>

namespace hotdesk::stubs::das {
namespace {

using Method = QHttpServerRequest::Method;

constexpr std::chrono::seconds kDeviceTokenLeeway {30};
// seen_jti is shared with the IdP; this prefix keeps the DAS's device-token
// entries apart, and the device id in it keeps one device from burning another's jti.
constexpr char kJtiPrefix[] = "das-device:";

Problem deviceTokenProblem(const Error &error)
{
    const QString detail = QStringLiteral("%1: %2").arg(error.codeName(), error.message);
    switch (error.code) {
    case ErrorCode::Expired:
        return problem(HttpStatus::Unauthorized, "token-expired", "Device token expired", detail);
    case ErrorCode::IssuedInFuture:
    case ErrorCode::NotYetValid:
        return problem(HttpStatus::Unauthorized, "token-not-yet-valid", "Device token not yet valid", detail);
    case ErrorCode::AudienceMismatch:
        return problem(HttpStatus::Unauthorized, "audience-mismatch", "Device token for another server", detail);
    case ErrorCode::KeyNotFound:
    case ErrorCode::BadSignature:
    case ErrorCode::KeyRejected:
        return problem(HttpStatus::Unauthorized, "invalid-signature", "Device token signature invalid",
            detail
                + QStringLiteral(
                    "; the token must be signed by the key this device enrolled with (enroll again if it was replaced)"));
    case ErrorCode::InvalidClaim:
        return problem(HttpStatus::Unauthorized, "invalid-claims", "Device token claims invalid", detail);
    default:
        return problem(HttpStatus::Unauthorized, "invalid-device-token", "Invalid device token", detail);
    }
}

bool isAcceptableRedirect(const QString &uri)
{
    const QUrl url(uri, QUrl::StrictMode);
    if (!url.isValid() || url.isRelative() || url.hasFragment() || !url.userInfo().isEmpty())
        return false;
    const QString scheme = url.scheme();
    if (scheme == QLatin1String("https"))
        return !url.host().isEmpty();
    // RFC 8252: plain http only to a loopback IP literal, or a private-use scheme in reverse-domain form.
    if (scheme == QLatin1String("http"))
        return url.host() == QLatin1String("127.0.0.1") || url.host() == QLatin1String("::1");
    return scheme.contains(QLatin1Char('.'));
}

} // namespace

QString withoutTrailingSlash(QString url)
{
    while (url.endsWith(QLatin1Char('/')))
        url.chop(1);
    return url;
}

Checked<hotdesk::das::Fingerprint> fingerprintField(const QJsonObject &body)
{
    const QJsonValue value = body.value(QLatin1String("fingerprint"));
    if (!value.isObject())
        return tl::unexpected(problem(HttpStatus::BadRequest, "malformed-request", "Malformed request",
            QStringLiteral("\"fingerprint\" must be an object describing this device")));
    auto fingerprint = hotdesk::das::Fingerprint::fromJson(value.toObject());
    if (!fingerprint)
        return tl::unexpected(problem(HttpStatus::BadRequest, "invalid-fingerprint", "Invalid device fingerprint",
            fingerprint.error().message + QStringLiteral(" (docs/das-protocol.md, device fingerprints)")));
    return *fingerprint;
}

Checked<AuthorizationParams> authorizationParams(const QJsonObject &body)
{
    auto state = requireString(body, "state", 512);
    auto nonce = requireString(body, "nonce", 512);
    auto challenge = requireString(body, "code_challenge", 128);
    auto method = requireString(body, "code_challenge_method", 16);
    auto redirect = requireString(body, "redirect_uri", 2048);
    for (const auto *field : {&state, &nonce, &challenge, &method, &redirect}) {
        if (!*field)
            return tl::unexpected(problemFor(field->error()));
    }
    if (*method != QLatin1String("S256"))
        return tl::unexpected(problem(HttpStatus::BadRequest, "unsupported-challenge-method", "PKCE method not supported",
            QStringLiteral("code_challenge_method must be S256 (RFC 7636)")));
    static const QRegularExpression challengeShape(QStringLiteral("^[A-Za-z0-9_-]{43}$"));
    if (!challengeShape.match(*challenge).hasMatch())
        return tl::unexpected(problem(HttpStatus::BadRequest, "invalid-code-challenge", "Invalid PKCE challenge",
            QStringLiteral("code_challenge must be the 43-character base64url SHA-256 of the verifier")));
    if (!isAcceptableRedirect(*redirect))
        return tl::unexpected(problem(HttpStatus::BadRequest, "invalid-redirect-uri", "Invalid redirect URI",
            QStringLiteral("redirect_uri must be https, http to a loopback IP, or a private-use scheme (RFC 8252), without a "
                           "fragment")));
    auto acrValues = acrValuesField(body);
    if (!acrValues)
        return tl::unexpected(acrValues.error());
    return AuthorizationParams {*state, *nonce, *challenge, *redirect, *acrValues};
}

Checked<QString> acrValuesField(const QJsonObject &body)
{
    if (!body.contains(QLatin1String("acr_values")))
        return QString();
    auto acr = requireString(body, "acr_values", 2048);
    if (!acr)
        return tl::unexpected(problemFor(acr.error()));
    // Up to 8 values (as the policy allows), each a URI or name without spaces or control characters.
    static const QRegularExpression acrShape(QStringLiteral("^[\\x21-\\x7e]{1,255}( [\\x21-\\x7e]{1,255}){0,7}$"));
    if (!acrShape.match(*acr).hasMatch())
        return tl::unexpected(problem(HttpStatus::BadRequest, "invalid-acr-values", "Invalid acr_values",
            QStringLiteral("acr_values is 1 to 8 space-separated values of printable ASCII, each at most 255 characters")));
    return *acr;
}

DasService::DasService(StubsContext &context, QObject *parent)
    : HttpService(QStringLiteral("das"), parent)
    , m_context(context)
    , m_signingKeys(*context.store, QStringLiteral("das"), jose::Algorithm::ES256, *context.clock)
    , m_activationKeys(*context.store, QStringLiteral("das-activation"), jose::Algorithm::ES256, *context.clock)
    , m_recognition(*context.clock, m_random, QDir(context.dataDir).filePath(QStringLiteral("outbox")))
{
    if (context.smtp) {
        m_mailer = std::make_unique<SmtpMailer>(*context.smtp);
        // The agent's answer never depends on the mail: what became of it goes to the log.
        connect(m_mailer.get(), &SmtpMailer::finished, this, [](const QString &recipient, bool ok, const QString &detail) {
            if (ok)
                qInfo("das: mailed a one-time code to %s", qPrintable(recipient));
            else
                qWarning("das: could not mail the one-time code to %s (it is in the outbox): %s", qPrintable(recipient),
                    qPrintable(detail));
        });
    }
    server().route(QStringLiteral("/jwks"), Method::Get, [this] { return keySet(m_signingKeys); });
    server().route(QStringLiteral("/v1/activation-key"), Method::Get, [this] { return keySet(m_activationKeys); });
    server().route(QStringLiteral("/v1/activation"), Method::Post,
        [this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
            const Responder reply = std::make_shared<LaterResponder>(std::move(responder));
            // Without an administrator token, the activation is asked for with an administrator's sign-in.
            if (request.value("Authorization").isEmpty() && !request.body().isEmpty()) {
                if (auto body = jsonBody(request); body && body->contains(QLatin1String("sign_in")))
                    return activationBySignIn(*body, reply);
            }
            send(reply, activation(request));
        });
    server().route(QStringLiteral("/v1/admin-sign-ins"), Method::Post,
        [this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
            adminSignIn(request, std::move(responder));
        });
    server().route(QStringLiteral("/v1/devices/<arg>/spake2"), Method::Post,
        [this](const QString &uid, const QHttpServerRequest &request) { return spake2(uid, request); });
    server().route(QStringLiteral("/v1/devices/<arg>/spake2/confirm"), Method::Post,
        [this](const QString &uid, const QHttpServerRequest &request) { return confirm(uid, request); });
    server().route(
        QStringLiteral("/v1/users"), Method::Post, [this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
            registerUser(request, std::move(responder));
        });
    server().route(QStringLiteral("/v1/2fa-tokens"), Method::Post,
        [this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
            twoFactorToken(request, std::move(responder));
        });
    server().route(QStringLiteral("/v1/ciba-requests"), Method::Post,
        [this](const QHttpServerRequest &request) { return cibaRequest(request); });
    server().route(QStringLiteral("/v1/devices/<arg>/approval-requests"), Method::Post,
        [this](const QString &id, const QHttpServerRequest &request) { return requestApproval(id, request); });
    server().route(QStringLiteral("/v1/devices/<arg>/approval-requests/<arg>"), Method::Get,
        [this](const QString &id, const QString &rid, const QHttpServerRequest &request) {
            return approvalStatus(id, rid, request);
        });
    server().route(QStringLiteral("/v1/oob-tokens"), Method::Post,
        [this](const QHttpServerRequest &request) { return issueOobToken(request); });
    server().route(QStringLiteral("/v1/oob-tokens/verify"), Method::Post,
        [this](const QHttpServerRequest &request) { return verifyOobToken(request); });
    server().route(
        QStringLiteral("/v1/events"), Method::Post, [this](const QHttpServerRequest &request) { return reportEvent(request); });
    server().route(QStringLiteral("/v1/admin/events"), Method::Get,
        [this](const QHttpServerRequest &request) { return adminEvents(request); });
    server().route(QStringLiteral("/v1/admin/approval-requests"), Method::Get,
        [this](const QHttpServerRequest &request) { return adminApprovals(request); });
    server().route(QStringLiteral("/v1/admin/approval-requests/<arg>"), Method::Post,
        [this](const QString &rid, const QHttpServerRequest &request) { return adminDecision(rid, request); });
}

DasService::~DasService() = default;

Status DasService::prepare()
{
    if (auto ok = migrateDas(*m_context.store); !ok)
        return ok;
    // Make both keys now, not on the first request.
    for (Keyring *keys : {&m_signingKeys, &m_activationKeys}) {
        if (auto key = keys->currentKey(); !key)
            return tl::unexpected(key.error());
    }
    m_client = std::make_unique<ServiceClient>(m_context.ca->caFile(), 8000);
    if (!m_directory) {
        if (m_context.endpoints.enterprise.isValid())
            m_directory = std::make_unique<EnterpriseDirectory>(*m_client, m_context.endpoints.enterprise, m_context.dataDir);
        else if (m_context.issuer.isEmpty() && m_context.endpoints.idp.isValid())
            m_directory = std::make_unique<ScimDirectory>(*m_client, m_context.endpoints.idp, m_context.dataDir);
    }
    return {};
}

QString DasService::url() const
{
    if (!m_context.dasPublicUrl.isEmpty())
        return withoutTrailingSlash(m_context.dasPublicUrl);
    return withoutTrailingSlash(baseUrl().toString(QUrl::FullyEncoded));
}

QString DasService::issuer() const
{
    if (!m_context.issuer.isEmpty())
        return m_context.issuer;
    if (m_context.endpoints.idp.isValid())
        return withoutTrailingSlash(m_context.endpoints.idp.toString(QUrl::FullyEncoded));
    return {};
}

QHttpServerResponse DasService::keySet(Keyring &keys)
{
    auto set = keys.publishedKeys();
    if (!set)
        return problemResponse(problemFor(set.error()));
    QHttpServerResponse response("application/jwk-set+json", QJsonDocument(set->toPublicJson()).toJson(QJsonDocument::Compact));
    response.setHeader("Cache-Control", "public, max-age=60");
    return response;
}

Result<Checked<AdminIdentity>> DasService::authenticateAdmin(
    QSqlDatabase &db, const QHttpServerRequest &request, AdminRole needed)
{
    const QByteArray token = authorization(request, "Bearer");
    if (token.isEmpty())
        return refuse<AdminIdentity>(problem(HttpStatus::Unauthorized, "admin-token-required", "Administrator token required",
            QStringLiteral(
                "send \"Authorization: Bearer TOKEN\" with a token from 'hotdesk-stubs admin create-token --role admin'")));
    auto identity = findAdminToken(db, token);
    if (!identity)
        return tl::unexpected(identity.error());
    if (!*identity)
        return refuse<AdminIdentity>(problem(HttpStatus::Unauthorized, "invalid-admin-token", "Unknown administrator token",
            QStringLiteral("this DAS never issued that token; create one with 'hotdesk-stubs admin create-token --role admin'")));
    if (needed == AdminRole::Admin && (*identity)->role != AdminRole::Admin)
        return refuse<AdminIdentity>(problem(HttpStatus::Forbidden, "admin-role-required", "Administrator role required",
            QStringLiteral("the token of %1 has the %2 role; this needs a token with the admin role")
                .arg((*identity)->subject, adminRoleName((*identity)->role))));
    return Checked<AdminIdentity>(**identity);
}

Result<jose::Jwk> DasService::deviceKey(const QString &json)
{
    if (const auto it = m_deviceKeys.constFind(json); it != m_deviceKeys.cend())
        return *it;
    auto key = jose::Jwk::fromJson(json.toUtf8());
    if (!key)
        return fail(ErrorCode::Io, QStringLiteral("a stored device key is unreadable: %1").arg(key.error().message));
    // Bounded: parsing a key again costs little, an unbounded cache costs memory.
    if (m_deviceKeys.size() >= 10000)
        m_deviceKeys.clear();
    m_deviceKeys.insert(json, *key);
    return key;
}

Result<Checked<QString>> DasService::authenticateDevice(QSqlDatabase &db, const QHttpServerRequest &request)
{
    return authenticateDevice(db, authorization(request, hotdesk::das::kDeviceTokenScheme));
}

Result<Checked<QString>> DasService::authenticateDevice(
    QSqlDatabase &db, const QHttpServerRequest &request, const QString &pathDevice)
{
    auto device = authenticateDevice(db, request);
    if (!device || !*device || **device == pathDevice)
        return device;
    return refuse<QString>(problem(HttpStatus::Forbidden, "device-mismatch", "Another device",
        QStringLiteral("the device token is for \"%1\", the path names \"%2\"; a device asks only for itself")
            .arg(**device, pathDevice.left(128))));
}

Result<Checked<DasService::DeviceRequest>> DasService::deviceRequest(QSqlDatabase &db, const QHttpServerRequest &request)
{
    auto device = authenticateDevice(db, request);
    if (!device || !*device)
        return passOn<DeviceRequest>(device);
    auto body = jsonBody(request);
    if (!body)
        return refuse<DeviceRequest>(problemFor(body.error()));
    return Checked<DeviceRequest>(DeviceRequest {**device, *body});
}

Result<Checked<QString>> DasService::authenticateDevice(QSqlDatabase &db, const QByteArray &token)
{
    if (token.isEmpty())
        return refuse<QString>(problem(HttpStatus::Unauthorized, "device-token-required", "Device token required",
            QStringLiteral(
                "send \"Authorization: DeviceToken JWT\" signed by the device key; enroll this PC first (hotdesk enroll)")));
    auto claimed = hotdesk::das::claimedDeviceId(token);
    if (!claimed)
        return refuse<QString>(problem(HttpStatus::Unauthorized, "invalid-device-token", "Invalid device token",
            QStringLiteral("%1: %2").arg(claimed.error().codeName(), claimed.error().message)));
    auto q = exec(db, QStringLiteral("SELECT jwk FROM das_devices WHERE device_id = ?"), {*claimed});
    if (!q)
        return tl::unexpected(q.error());
    if (!q->next())
        return refuse<QString>(problem(HttpStatus::Unauthorized, "device-unknown", "Unknown device",
            QStringLiteral(
                "this DAS has no enrolled device \"%1\"; enroll the PC (again) with an activation from the administrator")
                .arg(claimed->left(128))));
    auto key = deviceKey(q->value(0).toString());
    if (!key)
        return tl::unexpected(key.error());
    const hotdesk::das::DeviceTokenRules rules {url(), kDeviceTokenLeeway};
    auto checked = hotdesk::das::checkDeviceToken(token, jose::JwkSet({*key}), rules, *m_context.clock);
    if (!checked)
        return refuse<QString>(deviceTokenProblem(checked.error()));

    const qint64 now = m_context.clock->secondsSinceEpoch();
    if (auto purged = m_jtiPurge.run(db, now); !purged)
        return tl::unexpected(purged.error());
    const QString jtiKey = QLatin1String(kJtiPrefix) + checked->deviceId + QLatin1Char(':') + checked->jti;
    auto inserted = exec(db, QStringLiteral("INSERT INTO seen_jti (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING"),
        {jtiKey, checked->expiresAt + kDeviceTokenLeeway.count()});
    if (!inserted)
        return tl::unexpected(inserted.error());
    if (inserted->numRowsAffected() != 1)
        return refuse<QString>(problem(HttpStatus::Unauthorized, "replayed-token", "Device token already used",
            QStringLiteral("this device token was presented before; make a new one for every request")));
    return Checked<QString>(checked->deviceId);
}

} // namespace hotdesk::stubs::das

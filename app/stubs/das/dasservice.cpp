// Device Authentication Server role: enrollment, device tokens, users, 2FA request objects, device recognition.
#include "dasservice.h"

#include "core/das/devicetoken.h"
#include "core/das/enrollment.h"
#include "core/jose/base64url.h"
#include "core/jose/jws.h"
#include "core/oidc/idtokenvalidator.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QUrlQuery>

#include <limits>

namespace hotdesk::stubs::das {
namespace {

using Method = QHttpServerRequest::Method;
using Responder = std::shared_ptr<QHttpServerResponder>;

constexpr std::chrono::seconds kActivationLifetime {600};
// How long a started key exchange waits for its confirmation.
constexpr std::chrono::seconds kExchangeLifetime {120};
constexpr std::chrono::seconds kRequestObjectLifetime {120};
constexpr std::chrono::seconds kDeviceTokenLeeway {30};
// An administrator's sign-in (hotdesk enroll without a token): long enough for
// the phone, and a few per user at most, since each one pushes to their phone.
constexpr std::chrono::seconds kSignInLifetime {600};
constexpr std::chrono::seconds kSignInRateWindow {600};
constexpr int kSignInsPerWindow = 5;
constexpr std::chrono::seconds kIdTokenLeeway {60};
// seen_jti is shared with the IdP; this prefix keeps the DAS's device-token
// entries apart, and the device id in it keeps one device from burning another's jti.
constexpr char kJtiPrefix[] = "das-device:";

Checked<QByteArray> bytesField(const QJsonObject &body, const char *name, qsizetype size)
{
    auto text = requireString(body, name, 512);
    if (!text)
        return tl::unexpected(problemFor(text.error()));
    auto bytes = jose::base64UrlDecode(text->toLatin1());
    if (!bytes || bytes->size() != size)
        return tl::unexpected(problem(HttpStatus::BadRequest, "malformed-request", "Malformed request",
            QStringLiteral("\"%1\" must be %2 bytes in base64url without padding").arg(QLatin1String(name)).arg(size)));
    return *bytes;
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

// The "user" of a body, in canonical form; 404 user-unknown unless this DAS knows them.
Result<Checked<QString>> knownUser(QSqlDatabase &db, const QJsonObject &body)
{
    auto user = requireString(body, "user", 512);
    if (!user)
        return refuse<QString>(problemFor(user.error()));
    auto name = canonicalUserName(*user);
    if (!name)
        return refuse<QString>(problemFor(name.error()));
    auto known = findUser(db, *name);
    if (!known)
        return tl::unexpected(known.error());
    if (!*known)
        return refuse<QString>(problem(HttpStatus::NotFound, "user-unknown", "Unknown user",
            QStringLiteral("this DAS knows no user \"%1\"; register the user first (POST /v1/users)").arg(*name)));
    return Checked<QString>(*name);
}

// Refused with 403 not-an-administrator (detail says why) unless name holds the admin role.
Result<Checked<void>> requireAdminRole(QSqlDatabase &db, const QString &name, const QString &detail)
{
    auto role = userRole(db, name);
    if (!role)
        return tl::unexpected(role.error());
    if (*role != AdminRole::Admin)
        return refuse<void>(problem(HttpStatus::Forbidden, "not-an-administrator", "Not an administrator", detail));
    return Checked<void>();
}

Problem signInSpent()
{
    return problem(HttpStatus::Gone, "sign-in-used", "Sign-in already used",
        QStringLiteral("this administrator sign-in has already made an activation; start again"));
}

Problem unknownActivation()
{
    return problem(HttpStatus::NotFound, "activation-unknown", "Unknown activation",
        QStringLiteral(
            "this DAS issued no activation with that service_uid; check the activation, or ask the administrator for a new one"));
}

Checked<void> usableActivation(const QString &status, qint64 expiresAt, qint64 now)
{
    if (status == QLatin1String("used"))
        return tl::unexpected(problem(HttpStatus::Gone, "activation-used", "Activation already used",
            QStringLiteral("this activation has already enrolled a device; ask the administrator for a new one")));
    if (status == QLatin1String("locked"))
        return tl::unexpected(problem(HttpStatus::Gone, "activation-locked", "Activation locked",
            QStringLiteral(
                "this activation failed its confirmation %1 times and can no longer be used; ask the administrator for a new one")
                .arg(hotdesk::das::kMaxConfirmationFailures)));
    if (now >= expiresAt)
        return tl::unexpected(problem(HttpStatus::Gone, "activation-expired", "Activation expired",
            QStringLiteral("this activation expired; ask the administrator for a new one")));
    return {};
}

// The activation was open when read, but another request (perhaps in another
// DAS process on the same database) spent or locked it before this one wrote.
Problem activationSpentMeanwhile()
{
    return problem(HttpStatus::Gone, "activation-used", "Activation already used",
        QStringLiteral("another request used or locked this activation at the same moment; ask the administrator for a new one"));
}

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

QJsonObject userBody(const MappedUser &user)
{
    // The agent needs the shared id: it is the "sub" the ID token must carry.
    return {{QStringLiteral("username"), user.username}, {QStringLiteral("shared_id"), user.sharedId},
        {QStringLiteral("registered"), true}};
}

QString withoutTrailingSlash(QString url)
{
    while (url.endsWith(QLatin1Char('/')))
        url.chop(1);
    return url;
}

// A device speaks only for itself: the id in the path must be the one its token names.
Problem otherDevice(const QString &pathId, const QString &tokenId)
{
    return problem(HttpStatus::Forbidden, "device-mismatch", "Another device",
        QStringLiteral("the device token is for \"%1\", the path names \"%2\"; a device asks only for itself")
            .arg(tokenId, pathId.left(128)));
}

QJsonObject approvalBody(const ApprovalRequest &request, qint64 now)
{
    QJsonObject body {{QStringLiteral("id"), request.id}, {QStringLiteral("status"), request.status},
        {QStringLiteral("device_id"), request.deviceId}, {QStringLiteral("user"), request.user},
        {QStringLiteral("created_at"), request.createdAt}, {QStringLiteral("expires_at"), request.expiresAt}};
    if (request.status == QLatin1String("pending"))
        body.insert(QStringLiteral("expires_in"), qMax<qint64>(0, request.expiresAt - now));
    return body;
}

// A non-negative integer query parameter, or fallback when absent.
Checked<qint64> queryNumber(const QUrlQuery &query, const QString &name, qint64 fallback, qint64 max)
{
    if (!query.hasQueryItem(name))
        return fallback;
    bool ok = false;
    const qint64 value = query.queryItemValue(name, QUrl::FullyDecoded).toLongLong(&ok);
    if (!ok || value < 0 || value > max)
        return tl::unexpected(problem(HttpStatus::BadRequest, "malformed-request", "Malformed request",
            QStringLiteral("the query parameter \"%1\" must be a whole number from 0 to %2").arg(name).arg(max)));
    return value;
}

// What an agent sends for any request object: its OAuth state, nonce, PKCE
// challenge and redirect URI, and the acr_values it wants (may be absent).
struct AuthorizationParams {
    QString state;
    QString nonce;
    QString codeChallenge;
    QString redirectUri;
    QString acrValues;
};

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
    QString acrValues;
    if (body.contains(QLatin1String("acr_values"))) {
        auto acr = requireString(body, "acr_values", 2048);
        if (!acr)
            return tl::unexpected(problemFor(acr.error()));
        // Up to 8 values (as the policy allows), each a URI or name without spaces or control characters.
        static const QRegularExpression acrShape(QStringLiteral("^[\\x21-\\x7e]{1,255}( [\\x21-\\x7e]{1,255}){0,7}$"));
        if (!acrShape.match(*acr).hasMatch())
            return tl::unexpected(problem(HttpStatus::BadRequest, "invalid-acr-values", "Invalid acr_values",
                QStringLiteral("acr_values is 1 to 8 space-separated values of printable ASCII, each at most 255 characters")));
        acrValues = *acr;
    }
    return AuthorizationParams {*state, *nonce, *challenge, *redirect, acrValues};
}

} // namespace

struct DasService::TwoFactorRequest {
    QString deviceId;
    QString user;
    QString sharedId;
    QString state;
    QString nonce;
    QString codeChallenge;
    QString redirectUri;
    QString acrValues; // space-separated, as OIDC Core 3.1.2.1 writes them; may be empty
};

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
            const Responder reply = std::make_shared<QHttpServerResponder>(std::move(responder));
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

QHttpServerResponse DasService::activation(const QHttpServerRequest &request)
{
    // Authenticate before the deliberately slow scrypt, so only administrators can make the DAS spend it.
    QSqlDatabase db = m_context.store->database();
    auto admin = authenticateAdmin(db, request, AdminRole::Admin);
    if (!admin)
        return answer(problemFor(admin.error()));
    if (!*admin)
        return answer(admin->error());
    // No member is needed yet; a body, when sent, must still be a proper JSON object.
    if (!request.body().isEmpty()) {
        if (auto body = jsonBody(request); !body)
            return answer(problemFor(body.error()));
    }
    return newActivation((*admin)->subject);
}

QHttpServerResponse DasService::newActivation(
    const QString &createdBy, const std::function<Result<Checked<void>>(QSqlDatabase &)> &spend)
{
    auto password = randomUrlSafeString(m_random, 32);
    auto uid = randomUrlSafeString(m_random, 16);
    auto jti = randomUrlSafeString(m_random, 16);
    for (const auto *value : {&password, &uid, &jti}) {
        if (!*value)
            return answer(problemFor(value->error()));
    }
    const QString serviceUid = QString::fromLatin1(*uid);
    auto w = hotdesk::das::activationPasswordScalar(*password, serviceUid);
    if (!w)
        return answer(problemFor(w.error()));
    auto key = m_activationKeys.currentKey();
    if (!key)
        return answer(problemFor(key.error()));

    const qint64 now = m_context.clock->secondsSinceEpoch();
    const qint64 expiresAt = now + kActivationLifetime.count();
    const QJsonObject claims {
        {QStringLiteral("iss"), url()},
        {QStringLiteral("aud"), QLatin1String(hotdesk::das::kActivationAudience)},
        {QStringLiteral("iat"), now},
        {QStringLiteral("exp"), expiresAt},
        {QStringLiteral("jti"), QString::fromLatin1(*jti)},
        {QStringLiteral("activation_password"), QString::fromLatin1(*password)},
        {QStringLiteral("service_uid"), serviceUid},
    };
    auto jwt = jose::signCompact(QJsonDocument(claims).toJson(QJsonDocument::Compact), *key, jose::Algorithm::ES256,
        {{QStringLiteral("typ"), QLatin1String(hotdesk::das::kActivationType)}});
    if (!jwt)
        return answer(problemFor(jwt.error()));
    // Only w is kept: the password itself leaves with the response and nowhere else.
    auto stored = inTransaction<bool>(*m_context.store, [&](QSqlDatabase &tx) -> Result<Checked<bool>> {
        if (spend) {
            auto spent = spend(tx);
            if (!spent)
                return tl::unexpected(spent.error());
            if (!*spent)
                return refuse<bool>(spent->error());
        }
        auto r = exec(tx,
            QStringLiteral(
                "INSERT INTO das_activations (service_uid, jti, password_scalar, created_by, created_at, expires_at, status)"
                " VALUES (?, ?, ?, ?, ?, ?, 'open')"),
            {serviceUid, QString::fromLatin1(*jti), *w, createdBy, now, expiresAt});
        if (!r)
            return tl::unexpected(r.error());
        return Checked<bool>(true);
    });
    if (!stored)
        return answer(stored.error());
    return jsonResponse({{QStringLiteral("activation"), QString::fromLatin1(*jwt)}}, HttpStatus::Created);
}

void DasService::adminSignIn(const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    const Responder reply = std::make_shared<QHttpServerResponder>(std::move(responder));
    auto body = jsonBody(request);
    if (!body)
        return send(reply, answer(problemFor(body.error())));
    auto user = requireString(*body, "user", 512);
    if (!user)
        return send(reply, answer(problemFor(user.error())));
    auto params = authorizationParams(*body);
    if (!params)
        return send(reply, answer(params.error()));
    auto name = canonicalUserName(*user);
    if (!name)
        return send(reply, answer(problemFor(name.error())));

    struct Eligible {
        std::optional<MappedUser> known;
    };
    auto eligible = inTransaction<Eligible>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<Eligible>> {
        // Checked before anything reaches a phone: nobody can make this DAS push
        // sign-ins to people who could not use them.
        auto admin = requireAdminRole(db, *name,
            QStringLiteral("%1 may not enroll PCs; an administrator of this DAS grants that with "
                           "'hotdesk-stubs admin grant %1 --role admin', or enroll with an administrator token")
                .arg(*name));
        if (!admin)
            return tl::unexpected(admin.error());
        if (!*admin)
            return refuse<Eligible>(admin->error());
        auto known = findUser(db, *name);
        if (!known)
            return tl::unexpected(known.error());
        return Checked<Eligible>(Eligible {*known});
    });
    if (!eligible)
        return send(reply, answer(eligible.error()));

    auto issue = [this, reply, params = *params](const MappedUser &admin) {
        auto id = randomUrlSafeString(m_random, 16);
        if (!id)
            return send(reply, answer(problemFor(id.error())));
        const QString signIn = QString::fromLatin1(*id);
        const qint64 now = m_context.clock->secondsSinceEpoch();
        // Counted and recorded in one transaction, so racing requests cannot both pass the limit.
        auto stored = inTransaction<bool>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<bool>> {
            if (auto ordered = serializeFor(db, QStringLiteral("admin-sign-ins:") + admin.username); !ordered)
                return tl::unexpected(ordered.error());
            auto recent = exec(db,
                QStringLiteral("SELECT COUNT(*), MIN(created_at) FROM das_admin_sign_ins WHERE username = ? AND created_at > ?"),
                {admin.username, now - kSignInRateWindow.count()});
            if (!recent)
                return tl::unexpected(recent.error());
            if (recent->next() && recent->value(0).toInt() >= kSignInsPerWindow) {
                const qint64 retryAfter = recent->value(1).toLongLong() + kSignInRateWindow.count() - now;
                Refusal refusal(problem(HttpStatus::TooManyRequests, "rate-limited", "Too many sign-ins",
                    QStringLiteral("%1 started %2 administrator sign-ins in the last %3 minutes; try again in %4 s")
                        .arg(admin.username)
                        .arg(kSignInsPerWindow)
                        .arg(kSignInRateWindow.count() / 60)
                        .arg(retryAfter)));
                refusal.retryAfter = retryAfter;
                return refuse<bool>(refusal);
            }
            auto r = exec(db,
                QStringLiteral("INSERT INTO das_admin_sign_ins (id, username, shared_id, nonce, status, created_at, expires_at)"
                               " VALUES (?, ?, ?, ?, 'open', ?, ?)"),
                {signIn, admin.username, admin.sharedId, params.nonce, now, now + kSignInLifetime.count()});
            if (!r)
                return tl::unexpected(r.error());
            return Checked<bool>(true);
        });
        if (!stored)
            return send(reply, answer(stored.error()));
        withAuthorizationServer([this, reply, signIn, admin, params](Checked<AuthorizationServer> server) {
            if (!server)
                return send(reply, answer(server.error()));
            const TwoFactorRequest wanted {QString(), admin.username, admin.sharedId, params.state, params.nonce,
                params.codeChallenge, params.redirectUri, params.acrValues};
            auto key = m_signingKeys.currentKey();
            if (!key)
                return send(reply, answer(problemFor(key.error())));
            auto jwt = signRequestObject(wanted, *server, *key);
            if (!jwt)
                return send(reply, answer(problemFor(jwt.error())));
            send(reply,
                jsonResponse(QJsonObject {{QStringLiteral("sign_in"), signIn}, {QStringLiteral("request"), QString::fromLatin1(*jwt)},
                                 {QStringLiteral("client_id"), m_context.clientId},
                                 {QStringLiteral("authorization_endpoint"), server->authorizationEndpoint},
                                 {QStringLiteral("expires_in"), qint64(kRequestObjectLifetime.count())},
                                 {QStringLiteral("username"), admin.username}, {QStringLiteral("shared_id"), admin.sharedId}},
                    HttpStatus::Created));
        });
    };
    if (eligible->known)
        return issue(*eligible->known);
    // An administrator new to this DAS is registered as any user is (flow 2).
    if (!m_directory)
        return send(reply,
            answer(problem(HttpStatus::ServiceUnavailable, "user-directory-unavailable", "No user directory",
                QStringLiteral("this DAS has no enterprise server or SCIM endpoint to register %1 with; map the user with "
                               "'hotdesk-stubs admin map-user %1 SHARED_ID'")
                    .arg(*name))));
    const qsizetype at = name->indexOf(u'@');
    const UserRegistration registration {*name, at > 0 ? name->left(at) : *name, at > 0 ? name->mid(at + 1) : QString(),
        QString(), QStringLiteral("AD")};
    provisionUser(registration, [reply, issue](Checked<MappedUser> stored) {
        if (!stored)
            return send(reply, answer(stored.error()));
        issue(*stored);
    });
}

void DasService::activationBySignIn(const QJsonObject &body, const Responder &reply)
{
    auto signIn = requireString(body, "sign_in", 64);
    auto idToken = requireString(body, "id_token", 16 * 1024);
    for (const auto *field : {&signIn, &idToken}) {
        if (!*field)
            return send(reply, answer(problemFor(field->error())));
    }
    struct SignIn {
        QString username;
        QString sharedId;
        QString nonce;
        qint64 createdAt = 0;
    };
    const qint64 now = m_context.clock->secondsSinceEpoch();
    auto open = inTransaction<SignIn>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<SignIn>> {
        auto q = exec(db,
            QStringLiteral("SELECT username, shared_id, nonce, status, created_at, expires_at FROM das_admin_sign_ins WHERE id = ?"),
            {*signIn});
        if (!q)
            return tl::unexpected(q.error());
        if (!q->next())
            return refuse<SignIn>(problem(HttpStatus::NotFound, "sign-in-unknown", "Unknown sign-in",
                QStringLiteral("this DAS started no administrator sign-in with that id; start again")));
        if (q->value(3).toString() != QLatin1String("open"))
            return refuse<SignIn>(signInSpent());
        if (now >= q->value(5).toLongLong())
            return refuse<SignIn>(problem(HttpStatus::Gone, "sign-in-expired", "Sign-in expired",
                QStringLiteral("the administrator sign-in is older than %1 s; start again").arg(kSignInLifetime.count())));
        return Checked<SignIn>(
            SignIn {q->value(0).toString(), q->value(1).toString(), q->value(2).toString(), q->value(4).toLongLong()});
    });
    if (!open)
        return send(reply, answer(open.error()));

    withProviderKeys([this, reply, signInId = *signIn, token = idToken->toLatin1(), pending = *open](
                         Checked<jose::JwkSet> keys) {
        if (!keys)
            return send(reply, answer(keys.error()));
        // The checks the agent makes on its own ID tokens (flow 1), for this DAS as the client.
        oidc::IdTokenRequirements rules;
        rules.issuer = issuer();
        rules.clientId = m_context.clientId;
        rules.nonce = pending.nonce;
        rules.subject = pending.sharedId;
        rules.maxTokenAge = std::chrono::seconds(m_context.clock->secondsSinceEpoch() - pending.createdAt) + kIdTokenLeeway;
        rules.leeway = kIdTokenLeeway;
        auto validated = oidc::validateIdToken(token, *keys, rules, *m_context.clock);
        if (!validated)
            return send(reply,
                answer(problem(HttpStatus::Unauthorized, "invalid-id-token", "ID token refused",
                    QStringLiteral("%1: %2; sign in again").arg(validated.error().codeName(), validated.error().message))));
        send(reply, newActivation(pending.username, [this, signInId, pending](QSqlDatabase &db) -> Result<Checked<void>> {
            // Spent only if still open: one sign-in makes one activation, however many DAS processes see it.
            auto spent = execClaim(db,
                QStringLiteral("UPDATE das_admin_sign_ins SET status = 'used', used_at = ? WHERE id = ? AND status = 'open'"),
                {m_context.clock->secondsSinceEpoch(), signInId});
            if (!spent)
                return tl::unexpected(spent.error());
            if (!*spent)
                return refuse<void>(signInSpent());
            // The role may have been revoked while the phone was in the pocket.
            auto admin = requireAdminRole(
                db, pending.username, QStringLiteral("%1 no longer holds the admin role").arg(pending.username));
            if (!admin || !*admin)
                return admin;
            auto recorded = recordEvent(db,
                DasEvent {0, m_context.clock->secondsSinceEpoch(), QStringLiteral("das"), QStringLiteral("admin_signed_in"),
                    QString(), pending.username, QStringLiteral("an activation for a new enrollment")});
            if (!recorded)
                return tl::unexpected(recorded.error());
            return Checked<void>();
        }));
    });
}

void DasService::withProviderKeys(std::function<void(Checked<jose::JwkSet>)> done)
{
    withAuthorizationServer([this, done = std::move(done)](Checked<AuthorizationServer> server) {
        if (!server)
            return done(tl::unexpected(server.error()));
        // Administrator sign-ins are rare; the keys are read afresh for each, so a rotation never gets in the way.
        m_client->getJson(QUrl(server->jwksUri), {}, [done, uri = server->jwksUri](Result<ServiceReply> reply) {
            auto failed = [&](const QString &why) {
                done(tl::unexpected(problem(HttpStatus::BadGateway, "issuer-keys-unavailable", "OpenID Provider keys unavailable",
                    QStringLiteral("%1; the ID token cannot be checked, try again later").arg(why))));
            };
            if (!reply)
                return failed(reply.error().message);
            if (reply->status != 200)
                return failed(QStringLiteral("%1 answered %2").arg(uri).arg(reply->status));
            auto keys = jose::JwkSet::fromJson(reply->raw);
            if (!keys)
                return failed(QStringLiteral("the key set at %1: %2").arg(uri, keys.error().message));
            done(*keys);
        });
    });
}

QHttpServerResponse DasService::spake2(const QString &uid, const QHttpServerRequest &request)
{
    if (!hotdesk::das::isValidServiceUid(uid))
        return answer(unknownActivation());
    auto body = jsonBody(request);
    if (!body)
        return answer(problemFor(body.error()));
    auto deviceId = requireString(*body, "device_id", 128);
    if (!deviceId)
        return answer(problemFor(deviceId.error()));
    if (!hotdesk::das::isValidDeviceId(*deviceId))
        return answer(problem(HttpStatus::BadRequest, "invalid-device-id", "Invalid device id",
            QStringLiteral("a device id is 1 to 128 of A-Z a-z 0-9 . _ : - and starts with a letter or digit")));
    auto pA = bytesField(*body, "pA", pake::kMessageSize);
    if (!pA)
        return answer(pA.error());

    const qint64 now = m_context.clock->secondsSinceEpoch();
    auto pB = inTransaction<QByteArray>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<QByteArray>> {
        auto q = exec(
            db, QStringLiteral("SELECT status, expires_at, password_scalar FROM das_activations WHERE service_uid = ?"), {uid});
        if (!q)
            return tl::unexpected(q.error());
        if (!q->next())
            return refuse<QByteArray>(unknownActivation());
        if (auto usable = usableActivation(q->value(0).toString(), q->value(1).toLongLong(), now); !usable)
            return refuse<QByteArray>(usable.error());
        const QByteArray w = q->value(2).toByteArray();
        // A new exchange replaces an unfinished one: without a confirmation it taught the peer nothing.
        auto exchange = hotdesk::das::answerEnrollment(w, *deviceId, url(), *pA, m_random);
        if (!exchange) {
            if (exchange.error().code == ErrorCode::Malformed)
                return refuse<QByteArray>(problem(HttpStatus::BadRequest, "invalid-spake2-message", "Invalid SPAKE2 message",
                    QStringLiteral("pA: %1").arg(exchange.error().message)));
            return tl::unexpected(exchange.error());
        }
        auto r = execClaim(db,
            QStringLiteral(
                "UPDATE das_activations SET device_id = ?, pb = ?, mac_a = ?, mac_b = ?, ke = ?, exchange_expires_at = ?"
                " WHERE service_uid = ? AND status = 'open'"),
            {*deviceId, exchange->pB, exchange->macA, exchange->macB, exchange->ke, now + kExchangeLifetime.count(), uid});
        if (!r)
            return tl::unexpected(r.error());
        if (!*r)
            return refuse<QByteArray>(activationSpentMeanwhile());
        return Checked<QByteArray>(exchange->pB);
    });
    if (!pB)
        return answer(pB.error());
    return jsonResponse({{QStringLiteral("pB"), QString::fromLatin1(jose::base64UrlEncode(*pB))}});
}

QHttpServerResponse DasService::confirm(const QString &uid, const QHttpServerRequest &request)
{
    if (!hotdesk::das::isValidServiceUid(uid))
        return answer(unknownActivation());
    auto body = jsonBody(request);
    if (!body)
        return answer(problemFor(body.error()));
    auto macA = bytesField(*body, "mac_a", pake::kMacSize);
    if (!macA)
        return answer(macA.error());
    auto keyMac = bytesField(*body, "key_mac", pake::kMacSize);
    if (!keyMac)
        return answer(keyMac.error());
    const QJsonValue keyJson = body->value(QLatin1String("device_key"));
    if (!keyJson.isObject())
        return answer(problem(HttpStatus::BadRequest, "malformed-request", "Malformed request",
            QStringLiteral("\"device_key\" must be a JWK object")));
    auto key = jose::Jwk::fromJson(keyJson.toObject());
    if (!key || key->type() != jose::Jwk::Type::Ec || !key->fits(jose::Algorithm::ES256))
        return answer(problem(HttpStatus::BadRequest, "invalid-device-key", "Invalid device key",
            key ? QStringLiteral("the device key must be a public EC P-256 key for ES256")
                : QStringLiteral("device_key: %1").arg(key.error().message)));
    // Stored with its thumbprint as kid, which device tokens may name (core/das/devicetoken.h).
    const QString thumbprint = QString::fromLatin1(key->thumbprint());
    jose::Jwk stored = *key;
    stored.setKid(thumbprint);
    const QString storedJson = QString::fromUtf8(QJsonDocument(stored.toPublicJson()).toJson(QJsonDocument::Compact));

    struct Confirmed {
        QByteArray macB;
        QString deviceId;
    };
    const qint64 now = m_context.clock->secondsSinceEpoch();
    auto confirmed = inTransaction<Confirmed>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<Confirmed>> {
        auto q = exec(db,
            QStringLiteral("SELECT status, expires_at, failures, device_id, mac_a, mac_b, ke, exchange_expires_at"
                           " FROM das_activations WHERE service_uid = ?"),
            {uid});
        if (!q)
            return tl::unexpected(q.error());
        if (!q->next())
            return refuse<Confirmed>(unknownActivation());
        if (auto usable = usableActivation(q->value(0).toString(), q->value(1).toLongLong(), now); !usable)
            return refuse<Confirmed>(usable.error());
        const int failures = q->value(2).toInt();
        const QString deviceId = q->value(3).toString();
        const QByteArray expectedMacA = q->value(4).toByteArray();
        const QByteArray macB = q->value(5).toByteArray();
        const QByteArray ke = q->value(6).toByteArray();
        const qint64 exchangeExpiresAt = q->value(7).toLongLong();
        const QString clearExchange
            = QStringLiteral("device_id = NULL, pb = NULL, mac_a = NULL, mac_b = NULL, ke = NULL, exchange_expires_at = NULL");
        if (expectedMacA.isEmpty())
            return refuse<Confirmed>(problem(HttpStatus::Conflict, "spake2-not-started", "No key exchange to confirm",
                QStringLiteral("send pA to /v1/devices/%1/spake2 first").arg(uid)));
        if (now >= exchangeExpiresAt) {
            if (auto r
                = exec(db, QStringLiteral("UPDATE das_activations SET %1 WHERE service_uid = ?").arg(clearExchange), {uid});
                !r)
                return tl::unexpected(r.error());
            return refuse<Confirmed>(problem(HttpStatus::Conflict, "spake2-expired", "Key exchange expired",
                QStringLiteral("the confirmation came more than %1 s after pA; start the key exchange again")
                    .arg(kExchangeLifetime.count())));
        }

        bool keyProven = false;
        const bool passwordProven = bool(hotdesk::das::compareMac(expectedMacA, *macA));
        if (passwordProven) {
            auto expectedKeyMac = hotdesk::das::deviceKeyMac(ke, *key);
            if (!expectedKeyMac)
                return tl::unexpected(expectedKeyMac.error());
            keyProven = bool(hotdesk::das::compareMac(*expectedKeyMac, *keyMac));
        }
        if (!passwordProven || !keyProven) {
            // Each failed confirmation is one online guess at the password: count it, end the exchange, burn the activation at
            // the limit.
            const int total = failures + 1;
            const bool locked = total >= hotdesk::das::kMaxConfirmationFailures;
            // Counted in the statement, so guesses sent at once to several DAS processes all count.
            auto r = exec(db,
                QStringLiteral("UPDATE das_activations SET failures = failures + 1,"
                               " status = CASE WHEN failures + 1 >= ? THEN 'locked' ELSE status END, %1"
                               " WHERE service_uid = ? AND status = 'open'")
                    .arg(clearExchange),
                {hotdesk::das::kMaxConfirmationFailures, uid});
            if (!r)
                return tl::unexpected(r.error());
            const QString consequence = locked
                ? QStringLiteral("the activation is now locked; ask the administrator for a new one")
                : QStringLiteral("%1 more failure(s) lock the activation; check the activation and start the key exchange again")
                      .arg(hotdesk::das::kMaxConfirmationFailures - total);
            if (!passwordProven)
                return refuse<Confirmed>(problem(HttpStatus::Forbidden, "confirmation-failed", "Key confirmation failed",
                    QStringLiteral("mac_a does not match: the activation password differs or the messages were altered; %1")
                        .arg(consequence)));
            return refuse<Confirmed>(problem(HttpStatus::Forbidden, "key-confirmation-failed", "Device key not confirmed",
                QStringLiteral("key_mac does not authenticate the device key with the exchanged key; %1").arg(consequence)));
        }

        // Spent only if still open: two confirmations racing in two DAS processes enroll one device.
        auto spent = execClaim(db,
            QStringLiteral(
                "UPDATE das_activations SET status = 'used', used_at = ?, %1 WHERE service_uid = ? AND status = 'open'")
                .arg(clearExchange),
            {now, uid});
        if (!spent)
            return tl::unexpected(spent.error());
        if (!*spent)
            return refuse<Confirmed>(activationSpentMeanwhile());
        // Re-enrolling a device id replaces its key; the fingerprint starts afresh with it.
        auto r = exec(db,
            QStringLiteral("INSERT INTO das_devices (device_id, jwk, thumbprint, enrolled_at, activation) VALUES (?, ?, ?, ?, ?)"
                           " ON CONFLICT (device_id) DO UPDATE SET jwk = excluded.jwk, thumbprint = excluded.thumbprint,"
                           " enrolled_at = excluded.enrolled_at, activation = excluded.activation, fingerprint = NULL, "
                           "fingerprint_at = NULL, candidate_fingerprint = NULL, candidate_at = NULL"),
            {deviceId, storedJson, thumbprint, now, uid});
        if (!r)
            return tl::unexpected(r.error());
        // What the device id had pending was asked for with the old key.
        if (auto forgotten = m_recognition.forgetPending(db, deviceId); !forgotten)
            return tl::unexpected(forgotten.error());
        return Checked<Confirmed>(Confirmed {macB, deviceId});
    });
    if (!confirmed)
        return answer(confirmed.error());
    return jsonResponse({{QStringLiteral("mac_b"), QString::fromLatin1(jose::base64UrlEncode(confirmed->macB))},
        {QStringLiteral("device_id"), confirmed->deviceId}});
}

void DasService::registerUser(const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    const Responder reply = std::make_shared<QHttpServerResponder>(std::move(responder));
    struct Parsed {
        UserRegistration user;
        std::optional<MappedUser> known;
    };
    auto parsed = inTransaction<Parsed>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<Parsed>> {
        auto device = authenticateDevice(db, request);
        if (!device)
            return tl::unexpected(device.error());
        if (!*device)
            return refuse<Parsed>(device->error());
        auto body = jsonBody(request);
        if (!body)
            return refuse<Parsed>(problemFor(body.error()));
        Parsed out;
        auto username = requireString(*body, "username", 256);
        auto domain = optionalString(*body, "domain", 253);
        auto sid = optionalString(*body, "sid", 184);
        auto type = requireString(*body, "type", 16);
        for (const auto *field : {&username, &domain, &sid, &type}) {
            if (!*field)
                return refuse<Parsed>(problemFor(field->error()));
        }
        if (*type != QLatin1String("AD"))
            return refuse<Parsed>(problem(HttpStatus::BadRequest, "unsupported-user-type", "Unsupported user type",
                QStringLiteral("\"type\" is \"%1\"; only \"AD\" accounts are registered").arg(type->left(16))));
        static const QRegularExpression sidShape(QStringLiteral("^S-1-[0-9]+(-[0-9]+)+$"));
        if (!sid->isEmpty() && !sidShape.match(*sid).hasMatch())
            return refuse<Parsed>(problem(HttpStatus::BadRequest, "malformed-request", "Malformed request",
                QStringLiteral("\"sid\" must be a Windows security identifier such as S-1-5-21-...")));
        auto name = canonicalUserName(*username, *domain);
        if (!name)
            return refuse<Parsed>(problemFor(name.error()));
        out.user = UserRegistration {*name, *username, *domain, *sid, *type};
        auto known = findUser(db, *name);
        if (!known)
            return tl::unexpected(known.error());
        if (*known && !(*known)->sid.isEmpty() && !sid->isEmpty() && (*known)->sid != *sid)
            return refuse<Parsed>(problem(HttpStatus::Conflict, "user-conflict", "Another account has this name",
                QStringLiteral("%1 is registered with another SID; ask the administrator to check the account").arg(*name)));
        out.known = *known;
        return Checked<Parsed>(std::move(out));
    });
    if (!parsed)
        return send(reply, answer(parsed.error()));
    if (parsed->known)
        return send(reply, jsonResponse(userBody(*parsed->known)));
    if (!m_directory)
        return send(reply,
            answer(problem(HttpStatus::ServiceUnavailable, "user-directory-unavailable", "No user directory",
                QStringLiteral("this DAS has no enterprise server or SCIM endpoint to register %1 with; map the user with "
                               "'hotdesk-stubs admin map-user %1 SHARED_ID'")
                    .arg(parsed->user.canonicalName))));
    provisionUser(parsed->user, [reply](Checked<MappedUser> stored) {
        if (!stored)
            return send(reply, answer(stored.error()));
        send(reply, jsonResponse(userBody(*stored), HttpStatus::Created));
    });
}

void DasService::provisionUser(const UserRegistration &user, std::function<void(Checked<MappedUser>)> done)
{
    const QString source = m_context.endpoints.enterprise.isValid() ? QStringLiteral("enterprise") : QStringLiteral("scim");
    m_directory->provision(user, [this, user, source, done = std::move(done)](Result<QString> sharedId) {
        if (!sharedId)
            return done(tl::unexpected(problem(HttpStatus::BadGateway, "user-directory-failed", "User registration failed",
                QStringLiteral("%1; try again later, or map the user with 'hotdesk-stubs admin map-user'")
                    .arg(sharedId.error().message))));
        const qint64 now = m_context.clock->secondsSinceEpoch();
        done(inTransaction<MappedUser>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<MappedUser>> {
            auto mapped
                = insertUser(db, MappedUser {user.canonicalName, *sharedId, user.sid}, user.domain, user.type, source, now);
            if (!mapped)
                return tl::unexpected(mapped.error());
            return Checked<MappedUser>(*mapped);
        }));
    });
}

Result<Checked<void>> DasService::recognizeDevice(
    QSqlDatabase &db, const QString &deviceId, const QString &user, const hotdesk::das::Fingerprint &fingerprint)
{
    return m_recognition.recognize(db, deviceId, user, fingerprint);
}

void DasService::twoFactorToken(const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    // Nothing touches the database here: the request joins the group that
    // commits once the event loop has read, for one more turn, every request that came in.
    m_pendingIssues.push_back(PendingIssue {authorization(request, hotdesk::das::kDeviceTokenScheme), jsonBody(request),
        std::make_shared<QHttpServerResponder>(std::move(responder))});
    if (m_pendingIssues.size() == 1)
        QMetaObject::invokeMethod(this, &DasService::issuePending, Qt::QueuedConnection);
}

Result<Checked<DasService::TwoFactorRequest>> DasService::checkTwoFactor(QSqlDatabase &db, const PendingIssue &issue)
{
    auto device = authenticateDevice(db, issue.token);
    if (!device)
        return tl::unexpected(device.error());
    if (!*device)
        return refuse<TwoFactorRequest>(device->error());
    const Result<QJsonObject> &body = issue.body;
    if (!body)
        return refuse<TwoFactorRequest>(problemFor(body.error()));
    auto user = requireString(*body, "user", 512);
    if (!user)
        return refuse<TwoFactorRequest>(problemFor(user.error()));
    auto params = authorizationParams(*body);
    if (!params)
        return refuse<TwoFactorRequest>(params.error());
    auto fingerprint = fingerprintField(*body);
    if (!fingerprint)
        return refuse<TwoFactorRequest>(fingerprint.error());
    auto name = canonicalUserName(*user);
    if (!name)
        return refuse<TwoFactorRequest>(problemFor(name.error()));
    auto known = findUser(db, *name);
    if (!known)
        return tl::unexpected(known.error());
    if (!*known)
        return refuse<TwoFactorRequest>(problem(HttpStatus::NotFound, "user-unknown", "Unknown user",
            QStringLiteral("this DAS knows no user \"%1\"; register the user first (POST /v1/users)").arg(*name)));
    auto recognized = recognizeDevice(db, **device, *name, *fingerprint);
    if (!recognized)
        return tl::unexpected(recognized.error());
    if (!*recognized)
        return refuse<TwoFactorRequest>(recognized->error());
    return Checked<TwoFactorRequest>(TwoFactorRequest {**device, *name, (*known)->sharedId, params->state, params->nonce,
        params->codeChallenge, params->redirectUri, params->acrValues});
}

void DasService::issuePending()
{
    // Group commit: the requests that came in together share a transaction, so under
    // load one fsync (synchronous=FULL) acknowledges many spent jtis instead
    // of one each. Each request still runs in a savepoint of its own: a
    // database error undoes only its writes, a refusal keeps them as a
    // transaction per request did (a spent jti, an event), and a jti seen
    // twice in one group is a replay like any other, since the second check
    // reads the first one's row. No answer leaves before the commit.
    //
    // The group starts one turn of the event loop after its first request:
    // that turn reads what the clients sent while the previous group committed
    // and answered, which then shares this commit instead of waiting for one
    // of its own (at 8 connections, 1.7 times the requests per second).
    if (!m_groupPolled) {
        m_groupPolled = true;
        QMetaObject::invokeMethod(this, &DasService::issuePending, Qt::QueuedConnection);
        return;
    }
    m_groupPolled = false;
    std::vector<PendingIssue> issues = std::exchange(m_pendingIssues, {});
    std::vector<std::optional<Checked<TwoFactorRequest>>> outcomes(issues.size());
    std::optional<jose::Jwk> signingKey;
    // The accepted requests' objects are signed on m_signer while COMMIT waits
    // for the disk: the group's signatures and its fsync overlap instead of
    // following each other. Nothing is sent before the commit all the same.
    // Only when the authorization endpoint is at hand; otherwise (discovery of
    // an external provider still to come) the answers are signed after it.
    const std::optional<AuthorizationServer> server = authorizationServerAtHand();
    std::vector<std::optional<Result<QByteArray>>> requestObjects(issues.size());
    auto committed = m_context.store->transaction([&](QSqlDatabase &db) -> Status {
        // The group signs with one key, looked up once in its transaction.
        auto key = m_signingKeys.currentKey(db);
        if (!key)
            return tl::unexpected(key.error());
        signingKey = std::move(*key);
        for (std::size_t i = 0; i < issues.size(); ++i) {
            if (auto r = exec(db, QStringLiteral("SAVEPOINT issue")); !r)
                return tl::unexpected(r.error());
            auto checked = checkTwoFactor(db, issues[i]);
            if (!checked) {
                if (auto r = exec(db, QStringLiteral("ROLLBACK TO issue")); !r)
                    return tl::unexpected(r.error());
                outcomes[i].emplace(tl::unexpect, problemFor(checked.error()));
            } else {
                outcomes[i].emplace(std::move(*checked));
            }
            if (auto r = exec(db, QStringLiteral("RELEASE issue")); !r)
                return tl::unexpected(r.error());
        }
        // The last step before COMMIT: the side thread reads outcomes, server
        // and the key, which stay untouched until wait() below.
        if (server) {
            m_signer.start([&] {
                for (std::size_t i = 0; i < issues.size(); ++i) {
                    if (*outcomes[i])
                        requestObjects[i] = signRequestObject(**outcomes[i], *server, *signingKey);
                }
            });
        }
        return {};
    });
    m_signer.wait(); // at once when nothing was started
    for (std::size_t i = 0; i < issues.size(); ++i) {
        const Responder &reply = issues[i].reply;
        if (!committed) {
            send(reply, answer(problemFor(committed.error())));
            continue;
        }
        if (!*outcomes[i]) {
            send(reply, answer(outcomes[i]->error()));
            continue;
        }
        if (requestObjects[i]) {
            sendRequestObject(reply, *server, *requestObjects[i]);
            continue;
        }
        withAuthorizationServer([this, reply, pending = **outcomes[i], key = *signingKey](Checked<AuthorizationServer> at) {
            if (!at)
                return send(reply, answer(at.error()));
            sendRequestObject(reply, *at, signRequestObject(pending, *at, key));
        });
    }
}

void DasService::sendRequestObject(
    const std::shared_ptr<QHttpServerResponder> &reply, const AuthorizationServer &server, const Result<QByteArray> &jwt)
{
    if (!jwt)
        return send(reply, answer(problemFor(jwt.error())));
    // The agent's failure tests switch on --fault here (docs/faults.md).
    answerWithFaults(m_context, this,
        jsonResponse(JsonWriter()
                         .add("request", QString::fromLatin1(*jwt))
                         .add("client_id", m_context.clientId)
                         .add("authorization_endpoint", server.authorizationEndpoint)
                         .add("expires_in", qint64(kRequestObjectLifetime.count()))
                         .finish(),
            HttpStatus::Created),
        reply);
}

std::optional<DasService::AuthorizationServer> DasService::authorizationServerAtHand() const
{
    const QString iss = issuer();
    if (iss.isEmpty())
        return std::nullopt;
    // The in-process IdP follows DESIGN.md, so its endpoint needs no discovery.
    if (m_context.issuer.isEmpty())
        return AuthorizationServer {iss, iss + QStringLiteral("/authorize"), iss + QStringLiteral("/jwks")};
    if (m_discovered && m_discovered->issuer == iss)
        return m_discovered;
    return std::nullopt;
}

void DasService::withAuthorizationServer(std::function<void(Checked<AuthorizationServer>)> done)
{
    const QString iss = issuer();
    if (iss.isEmpty())
        return done(tl::unexpected(problem(HttpStatus::ServiceUnavailable, "issuer-unknown", "No OpenID Provider",
            QStringLiteral("this DAS knows no OpenID Provider; start it with --issuer URL or together with the idp role"))));
    if (auto known = authorizationServerAtHand())
        return done(*known);
    // OpenID Connect Discovery §4: the path goes after the issuer without its trailing slash.
    const QUrl discovery(withoutTrailingSlash(iss) + QStringLiteral("/.well-known/openid-configuration"));
    m_client->getJson(discovery, {}, [this, iss, done = std::move(done)](Result<ServiceReply> reply) {
        auto failed = [&](const QString &why) {
            done(tl::unexpected(problem(HttpStatus::BadGateway, "issuer-discovery-failed", "OpenID Provider discovery failed",
                QStringLiteral("%1; check --issuer and that the provider is reachable").arg(why))));
        };
        if (!reply)
            return failed(reply.error().message);
        if (reply->status != 200)
            return failed(QStringLiteral("%1 answered %2").arg(iss).arg(reply->status));
        if (reply->body.value(QLatin1String("issuer")).toString() != iss)
            return failed(QStringLiteral("the discovery document of %1 names another issuer").arg(iss));
        const QUrl endpoint(reply->body.value(QLatin1String("authorization_endpoint")).toString(), QUrl::StrictMode);
        if (!endpoint.isValid() || endpoint.scheme() != QLatin1String("https") || endpoint.host().isEmpty())
            return failed(QStringLiteral("%1 publishes no https authorization_endpoint").arg(iss));
        const QUrl jwks(reply->body.value(QLatin1String("jwks_uri")).toString(), QUrl::StrictMode);
        if (!jwks.isValid() || jwks.scheme() != QLatin1String("https") || jwks.host().isEmpty())
            return failed(QStringLiteral("%1 publishes no https jwks_uri").arg(iss));
        m_discovered = AuthorizationServer {iss, endpoint.toString(QUrl::FullyEncoded), jwks.toString(QUrl::FullyEncoded)};
        done(*m_discovered);
    });
}

Result<QByteArray> DasService::signRequestObject(
    const TwoFactorRequest &request, const AuthorizationServer &server, const jose::Jwk &key)
{
    auto jti = randomUrlSafeString(m_random, 16);
    if (!jti)
        return tl::unexpected(jti.error());
    const qint64 now = m_context.clock->secondsSinceEpoch();
    const QByteArray subject = JsonWriter().add("value", request.sharedId).add("essential", true).finish();
    const QByteArray idToken = JsonWriter().addJson("sub", subject).finish();
    JsonWriter claims;
    claims.add("iss", m_context.clientId)
        .add("aud", server.issuer)
        .add("client_id", m_context.clientId)
        .add("response_type", QStringLiteral("code"))
        .add("redirect_uri", request.redirectUri)
        .add("scope", QStringLiteral("openid"))
        .add("state", request.state)
        .add("nonce", request.nonce)
        .add("code_challenge", request.codeChallenge)
        .add("code_challenge_method", QStringLiteral("S256"))
        .add("prompt", QStringLiteral("login"))
        .add("jti", QString::fromLatin1(*jti))
        .add("iat", now)
        .add("nbf", now)
        .add("exp", now + kRequestObjectLifetime.count())
        .addJson("claims", JsonWriter().addJson("id_token", idToken).finish());
    if (!request.acrValues.isEmpty())
        claims.add("acr_values", request.acrValues);
    // RFC 9101 §10.8: explicit typing keeps a request object from passing as any other JWT.
    return jose::signCompact(
        claims.finish(), key, jose::Algorithm::ES256, {{QStringLiteral("typ"), QStringLiteral("oauth-authz-req+jwt")}});
}

QHttpServerResponse DasService::requestApproval(const QString &deviceId, const QHttpServerRequest &request)
{
    bool created = false;
    auto done = inTransaction<ApprovalRequest>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<ApprovalRequest>> {
        auto device = authenticateDevice(db, request);
        if (!device)
            return tl::unexpected(device.error());
        if (!*device)
            return refuse<ApprovalRequest>(device->error());
        if (**device != deviceId)
            return refuse<ApprovalRequest>(otherDevice(deviceId, **device));
        auto body = jsonBody(request);
        if (!body)
            return refuse<ApprovalRequest>(problemFor(body.error()));
        auto fingerprint = fingerprintField(*body);
        if (!fingerprint)
            return refuse<ApprovalRequest>(fingerprint.error());
        auto user = knownUser(db, *body);
        if (!user)
            return tl::unexpected(user.error());
        if (!*user)
            return refuse<ApprovalRequest>(user->error());
        return m_recognition.requestApproval(db, deviceId, **user, *fingerprint, created);
    });
    if (!done)
        return answer(done.error());
    return jsonResponse(
        approvalBody(*done, m_context.clock->secondsSinceEpoch()), created ? HttpStatus::Created : HttpStatus::Ok);
}

QHttpServerResponse DasService::approvalStatus(const QString &deviceId, const QString &id, const QHttpServerRequest &request)
{
    auto done = inTransaction<ApprovalRequest>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<ApprovalRequest>> {
        auto device = authenticateDevice(db, request);
        if (!device)
            return tl::unexpected(device.error());
        if (!*device)
            return refuse<ApprovalRequest>(device->error());
        if (**device != deviceId)
            return refuse<ApprovalRequest>(otherDevice(deviceId, **device));
        return m_recognition.approvalRequest(db, deviceId, id);
    });
    if (!done)
        return answer(done.error());
    return jsonResponse(approvalBody(*done, m_context.clock->secondsSinceEpoch()));
}

void DasService::mailOobToken(const IssuedOobToken &issued)
{
    // The DAS keeps no mail address: a user named user@domain (the AD user
    // principal name, as the agent reports it) is mailed there, when the domain
    // looks like a mail domain; a bare "user" or "user@CORP" has only the outbox.
    const QString domain = issued.user.section(QLatin1Char('@'), 1);
    if (!issued.user.contains(QLatin1Char('@')) || !domain.contains(QLatin1Char('.'))) {
        qWarning("das: one-time code for %s not mailed: the user name is not a mail address (it is in the outbox)",
            qPrintable(issued.user));
        return;
    }
    m_mailer->send(issued.user, issued.message);
}

QHttpServerResponse DasService::issueOobToken(const QHttpServerRequest &request)
{
    auto done = inTransaction<IssuedOobToken>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<IssuedOobToken>> {
        auto device = authenticateDevice(db, request);
        if (!device)
            return tl::unexpected(device.error());
        if (!*device)
            return refuse<IssuedOobToken>(device->error());
        auto body = jsonBody(request);
        if (!body)
            return refuse<IssuedOobToken>(problemFor(body.error()));
        auto user = knownUser(db, *body);
        if (!user)
            return tl::unexpected(user.error());
        if (!*user)
            return refuse<IssuedOobToken>(user->error());
        return m_recognition.issueOobToken(db, **device, **user);
    });
    if (!done)
        return answer(done.error());
    // Mailed after the commit: a code that was rolled back must never reach anyone.
    if (m_mailer)
        mailOobToken(*done);
    // 202: the code is on its way to the user, through a channel the PC does not see.
    const qint64 now = m_context.clock->secondsSinceEpoch();
    return jsonResponse(
        {{QStringLiteral("user"), done->user}, {QStringLiteral("digits"), kOobTokenDigits},
            {QStringLiteral("expires_at"), done->expiresAt}, {QStringLiteral("expires_in"), done->expiresAt - now}},
        HttpStatus::Accepted);
}

QHttpServerResponse DasService::verifyOobToken(const QHttpServerRequest &request)
{
    struct Verified {
        QString deviceId;
        QString user;
    };
    auto done = inTransaction<Verified>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<Verified>> {
        auto device = authenticateDevice(db, request);
        if (!device)
            return tl::unexpected(device.error());
        if (!*device)
            return refuse<Verified>(device->error());
        auto body = jsonBody(request);
        if (!body)
            return refuse<Verified>(problemFor(body.error()));
        auto token = requireString(*body, "token", 32);
        auto machineId = requireString(*body, "machine_id", 256);
        for (const auto *field : {&token, &machineId}) {
            if (!*field)
                return refuse<Verified>(problemFor(field->error()));
        }
        // People type codes with spaces or dashes ("1234 5678").
        QString code = *token;
        code.remove(QLatin1Char(' ')).remove(QLatin1Char('-'));
        static const QRegularExpression codeShape(QStringLiteral("^[0-9]{6,8}$"));
        if (!codeShape.match(code).hasMatch())
            return refuse<Verified>(problem(HttpStatus::BadRequest, "malformed-request", "Malformed request",
                QStringLiteral("\"token\" is the code of 6 to 8 digits sent to the user")));
        if (!hotdesk::das::isValidMachineId(*machineId))
            return refuse<Verified>(problem(HttpStatus::BadRequest, "malformed-request", "Malformed request",
                QStringLiteral("\"machine_id\" is this PC's machine id as in its fingerprint")));
        auto user = knownUser(db, *body);
        if (!user)
            return tl::unexpected(user.error());
        if (!*user)
            return refuse<Verified>(user->error());
        auto verified = m_recognition.verifyOobToken(db, **device, **user, code, *machineId);
        if (!verified)
            return tl::unexpected(verified.error());
        if (!*verified)
            return refuse<Verified>(verified->error());
        return Checked<Verified>(Verified {**device, **user});
    });
    if (!done)
        return answer(done.error());
    return jsonResponse({{QStringLiteral("registered"), true}, {QStringLiteral("device_id"), done->deviceId},
        {QStringLiteral("user"), done->user}});
}

QHttpServerResponse DasService::reportEvent(const QHttpServerRequest &request)
{
    auto done = inTransaction<qint64>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<qint64>> {
        auto device = authenticateDevice(db, request);
        if (!device)
            return tl::unexpected(device.error());
        if (!*device)
            return refuse<qint64>(device->error());
        auto body = jsonBody(request);
        if (!body)
            return refuse<qint64>(problemFor(body.error()));
        auto type = requireString(*body, "type", 64);
        auto user = optionalString(*body, "user", 512);
        auto detail = optionalString(*body, "detail", 2048);
        for (const auto *field : {&type, &user, &detail}) {
            if (!*field)
                return refuse<qint64>(problemFor(field->error()));
        }
        // Open-ended, so that a newer agent reports new kinds; a slug, so that feeds can filter on it.
        static const QRegularExpression typeShape(QStringLiteral("^[a-z][a-z0-9_]{0,63}$"));
        if (!typeShape.match(*type).hasMatch())
            return refuse<qint64>(problem(HttpStatus::BadRequest, "malformed-request", "Malformed request",
                QStringLiteral("\"type\" is a lower-case slug such as \"auth_failed\" or \"lockout\"")));
        QString name;
        if (!user->isEmpty()) {
            // Users that failed to sign in may be unknown here: the name is checked, not looked up.
            auto canonical = canonicalUserName(*user);
            if (!canonical)
                return refuse<qint64>(problemFor(canonical.error()));
            name = *canonical;
        }
        return recordDeviceEvent(
            db, DasEvent {0, m_context.clock->secondsSinceEpoch(), QStringLiteral("device"), *type, **device, name, *detail});
    });
    if (!done)
        return answer(done.error());
    return jsonResponse({{QStringLiteral("id"), *done}}, HttpStatus::Created);
}

QHttpServerResponse DasService::adminEvents(const QHttpServerRequest &request)
{
    const QUrlQuery query = request.query();
    auto done = inTransaction<QList<DasEvent>>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<QList<DasEvent>>> {
        auto admin = authenticateAdmin(db, request, AdminRole::Approver);
        if (!admin)
            return tl::unexpected(admin.error());
        if (!*admin)
            return refuse<QList<DasEvent>>(admin->error());
        auto since = queryNumber(query, QStringLiteral("since"), 0, std::numeric_limits<qint64>::max());
        if (!since)
            return refuse<QList<DasEvent>>(since.error());
        auto limit = queryNumber(query, QStringLiteral("limit"), 100, 1000);
        if (!limit)
            return refuse<QList<DasEvent>>(limit.error());
        auto events = listEvents(db, *since, int(qMax<qint64>(1, *limit)));
        if (!events)
            return tl::unexpected(events.error());
        return Checked<QList<DasEvent>>(*events);
    });
    if (!done)
        return answer(done.error());
    QJsonArray events;
    for (const DasEvent &event : *done)
        events.append(event.toJson());
    QJsonObject body {{QStringLiteral("events"), events}};
    // Where the next poll starts: since=last_id.
    if (!done->isEmpty())
        body.insert(QStringLiteral("last_id"), done->constLast().id);
    return jsonResponse(body);
}

QHttpServerResponse DasService::adminApprovals(const QHttpServerRequest &request)
{
    auto done = inTransaction<QList<ApprovalRequest>>(
        *m_context.store, [&](QSqlDatabase &db) -> Result<Checked<QList<ApprovalRequest>>> {
            auto admin = authenticateAdmin(db, request, AdminRole::Approver);
            if (!admin)
                return tl::unexpected(admin.error());
            if (!*admin)
                return refuse<QList<ApprovalRequest>>(admin->error());
            auto pending = m_recognition.pendingApprovals(db);
            if (!pending)
                return tl::unexpected(pending.error());
            return Checked<QList<ApprovalRequest>>(*pending);
        });
    if (!done)
        return answer(done.error());
    const qint64 now = m_context.clock->secondsSinceEpoch();
    QJsonArray list;
    for (const ApprovalRequest &pending : *done) {
        QJsonObject entry = approvalBody(pending, now);
        QJsonArray changed;
        for (hotdesk::das::FingerprintComponent c : pending.changed)
            changed.append(hotdesk::das::fingerprintComponentName(c));
        entry.insert(QStringLiteral("fingerprint"), pending.fingerprint.toJson());
        entry.insert(QStringLiteral("changed"), changed);
        list.append(entry);
    }
    return jsonResponse({{QStringLiteral("approval_requests"), list}});
}

QHttpServerResponse DasService::adminDecision(const QString &id, const QHttpServerRequest &request)
{
    auto done = inTransaction<ApprovalRequest>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<ApprovalRequest>> {
        auto admin = authenticateAdmin(db, request, AdminRole::Approver);
        if (!admin)
            return tl::unexpected(admin.error());
        if (!*admin)
            return refuse<ApprovalRequest>(admin->error());
        auto body = jsonBody(request);
        if (!body)
            return refuse<ApprovalRequest>(problemFor(body.error()));
        auto decision = requireString(*body, "decision", 16);
        if (!decision || (*decision != QLatin1String("approve") && *decision != QLatin1String("deny")))
            return refuse<ApprovalRequest>(problem(HttpStatus::BadRequest, "malformed-request", "Malformed request",
                QStringLiteral("\"decision\" must be \"approve\" or \"deny\"")));
        return m_recognition.decide(db, id, **admin, *decision == QLatin1String("approve"));
    });
    if (!done)
        return answer(done.error());
    QJsonObject body = approvalBody(*done, m_context.clock->secondsSinceEpoch());
    body.insert(QStringLiteral("decided_by"), done->decidedBy);
    return jsonResponse(body);
}

} // namespace hotdesk::stubs::das

// OpenID Provider role.
#include "idpservice.h"
#include "idpshared_p.h"

#include "../common/clienttokens.h"

#include "core/jose/base64url.h"
#include "core/jose/jws.h"
#include "core/jose/strictjson.h"
#include "core/oidc/pkce.h"
#include "core/random.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSaveFile>
#include <QTimer>
#include <QUrlQuery>

#include <openssl/crypto.h>

namespace hotdesk::stubs::idp {

namespace {


const QList<const char *> kIdpMigrations = {
    "CREATE TABLE idp_users (shared_id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, external_id TEXT,"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE idp_transactions (id TEXT PRIMARY KEY, shared_id TEXT NOT NULL, username TEXT NOT NULL,"
    " redirect_uri TEXT NOT NULL, state TEXT NOT NULL, nonce TEXT NOT NULL, code_challenge TEXT NOT NULL,"
    " challenge_id TEXT NOT NULL, number INTEGER NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL, auth_time INTEGER, code_hash TEXT UNIQUE, code_expires_at INTEGER,"
    " code_used INTEGER NOT NULL DEFAULT 0)",
    kIdpCibaMigration,
};

constexpr qint64 kRequestObjectMaxLifetime = 120;
constexpr qint64 kCodeLifetime = 60;
constexpr qint64 kClientKeysRefetchSeconds = 10;
const char kPrivateUseRedirect[] = "com.hotdesk.agent:/callback";


QHttpServerResponse redirect(const QString &target)
{
    QHttpServerResponse response(HttpStatus::Found);
    response.setHeader("Location", target.toUtf8());
    response.setHeader("Cache-Control", "no-store");
    return response;
}

// The authorization response at the client's redirect URI: params, then state
// (when the request had one) and iss (RFC 6749 §4.1.2, RFC 9207).
QHttpServerResponse toClient(const QString &redirectUri, const QList<std::pair<QString, QString>> &params, const QString &state,
                             const QString &issuer)
{
    QUrl target(redirectUri);
    QUrlQuery q;
    for (const auto &[name, value] : params)
        q.addQueryItem(name, value);
    if (!state.isEmpty())
        q.addQueryItem(QStringLiteral("state"), state);
    q.addQueryItem(QStringLiteral("iss"), issuer);
    target.setQuery(q);
    return redirect(target.toString(QUrl::FullyEncoded));
}

QList<std::pair<QString, QString>> errorParams(const QString &error, const QString &description)
{
    return {{QStringLiteral("error"), error}, {QStringLiteral("error_description"), description}};
}

QHttpServerResponse htmlPage(const QString &title, const QString &body, HttpStatus status = HttpStatus::Ok, const QString &head = {})
{
    const QString page = QStringLiteral(
                             "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">%1"
                             "<title>%2</title><style>"
                             "body{font-family:sans-serif;max-width:34em;margin:3em auto;padding:0 1em;line-height:1.5}"
                             ".number{font-size:4em;font-weight:bold;letter-spacing:.1em;margin:.2em 0}"
                             "progress{width:100%%;height:1.2em}a:focus,button:focus{outline:3px solid #1a73e8}"
                             "</style></head><body><main>%3</main></body></html>\n")
                             .arg(head, title.toHtmlEscaped(), body);
    QHttpServerResponse response("text/html; charset=utf-8", page.toUtf8(), status);
    response.setHeader("Cache-Control", "no-store");
    response.setHeader("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'");
    response.setHeader("Referrer-Policy", "no-referrer");
    return response;
}

QHttpServerResponse errorPage(const QString &what, const QString &todo, HttpStatus status = HttpStatus::BadRequest)
{
    return htmlPage(QStringLiteral("Sign-in failed"),
                    QStringLiteral("<h1>Sign-in failed</h1><p role=\"alert\">%1</p><p>%2</p>").arg(what.toHtmlEscaped(), todo.toHtmlEscaped()),
                    status);
}


// The loopback and private-use redirect URIs are matched ignoring only the port of a loopback IP (RFC 8252 §7.3).
bool sameRedirect(const QString &registered, const QString &presented)
{
    return registered == presented;
}

// An OAuth error for the client's redirect URI (RFC 6749 §4.1.2.1).
struct OAuthError {
    QString error;
    QString description;
};

QString claimString(const QJsonObject &claims, const char *name)
{
    return claims.value(QLatin1String(name)).toString();
}

// Why a request object's claims are refused (RFC 9101 §6.3), or an empty string.
QString requestObjectProblem(const QJsonObject &claims, const QString &clientId, const QString &issuer, qint64 now)
{
    const QJsonValue aud = claims.value(QLatin1String("aud"));
    const bool audOk = aud.toString() == issuer || (aud.isArray() && aud.toArray().contains(issuer));
    const qint64 exp = qint64(claims.value(QLatin1String("exp")).toDouble());
    const qint64 iat = qint64(claims.value(QLatin1String("iat")).toDouble(-1));
    const qint64 nbf = qint64(claims.value(QLatin1String("nbf")).toDouble(0));
    if (claimString(claims, "iss") != clientId || claimString(claims, "client_id") != clientId)
        return QStringLiteral("it names another client");
    if (!audOk)
        return QStringLiteral("it is meant for another identity provider");
    if (!claims.value(QLatin1String("exp")).isDouble() || now >= exp)
        return QStringLiteral("it has expired");
    if (iat < 0 || exp - iat > kRequestObjectMaxLifetime)
        return QStringLiteral("it is valid for longer than %1 seconds").arg(kRequestObjectMaxLifetime);
    if (nbf > now + 60)
        return QStringLiteral("it is not valid yet");
    if (claimString(claims, "jti").isEmpty())
        return QStringLiteral("it has no unique identifier (jti)");
    return {};
}

// The user a request object names: claims.id_token.sub.value (OIDC Core §5.5.1).
QString requestedSubject(const QJsonObject &claims)
{
    return claims.value(QLatin1String("claims"))
        .toObject()
        .value(QLatin1String("id_token"))
        .toObject()
        .value(QLatin1String("sub"))
        .toObject()
        .value(QLatin1String("value"))
        .toString();
}

// What the authorization request asks for that this IdP does not do; nullopt when it may go to the phone.
std::optional<OAuthError> unsupportedRequest(const QJsonObject &claims)
{
    static const QRegularExpression challengeShape(QStringLiteral("^[A-Za-z0-9_-]{43}$"));
    if (claimString(claims, "response_type") != QLatin1String("code"))
        return OAuthError {
            QStringLiteral("unsupported_response_type"), QStringLiteral("only the authorization code flow is supported")};
    if (!claimString(claims, "scope").split(QLatin1Char(' ')).contains(QStringLiteral("openid")))
        return OAuthError {QStringLiteral("invalid_scope"), QStringLiteral("the openid scope is required")};
    if (claimString(claims, "code_challenge_method") != QLatin1String("S256")
        || !challengeShape.match(claimString(claims, "code_challenge")).hasMatch())
        return OAuthError {QStringLiteral("invalid_request"), QStringLiteral("PKCE with S256 is required")};
    if (claimString(claims, "state").isEmpty() || claimString(claims, "nonce").isEmpty())
        return OAuthError {QStringLiteral("invalid_request"), QStringLiteral("state and nonce are required")};
    if (requestedSubject(claims).isEmpty())
        return OAuthError {
            QStringLiteral("invalid_request"), QStringLiteral("the request does not name the user (claims.id_token.sub.value)")};
    // Asked only for methods this IdP does not have: say so now rather than
    // push to the phone and answer with a token the client will refuse.
    const QString acrValues = claimString(claims, "acr_values");
    if (!acrValues.isEmpty() && !acrValues.split(QLatin1Char(' '), Qt::SkipEmptyParts).contains(kAcrPush))
        return OAuthError {QStringLiteral("unmet_authentication_requirements"),
            QStringLiteral("this identity provider offers only %1, not %2").arg(kAcrPush, acrValues)};
    return std::nullopt;
}

} // namespace

IdpService::IdpService(StubsContext &context, QObject *parent)
    : HttpService(QStringLiteral("idp"), parent)
    , m_context(context)
    , m_keys(*context.store, QStringLiteral("idp"), jose::Algorithm::ES256, *context.clock)
{
    using Method = QHttpServerRequest::Method;
    server().route(QStringLiteral("/.well-known/openid-configuration"), Method::Get,
                   [this](const QHttpServerRequest &, QHttpServerResponder &&responder) { answer(discovery(), std::move(responder)); });
    server().route(QStringLiteral("/jwks"), Method::Get, [this] { return jwks(); });
    server().route(QStringLiteral("/authorize"), Method::Get,
                   [this](const QHttpServerRequest &request, QHttpServerResponder &&responder) { authorize(request, std::move(responder)); });
    server().route(QStringLiteral("/authorize/wait"), Method::Get,
                   [this](const QHttpServerRequest &request, QHttpServerResponder &&responder) { waitPage(request, std::move(responder)); });
    server().route(QStringLiteral("/authorize/status"), Method::Get,
                   [this](const QHttpServerRequest &request, QHttpServerResponder &&responder) { statusJson(request, std::move(responder)); });
    server().route(QStringLiteral("/authorize/cancel"), Method::Get, [this](const QHttpServerRequest &request) { return cancel(request); });
    server().route(QStringLiteral("/token"), Method::Post, [this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
        if (isCibaGrant(request))
            return cibaToken(request, std::move(responder));
        answer(token(request), std::move(responder));
    });
    server().route(QStringLiteral("/backchannel"), Method::Post,
        [this](const QHttpServerRequest &request, QHttpServerResponder &&responder) { backchannel(request, std::move(responder)); });
    server().route(QStringLiteral("/userinfo"), Method::Get, [this](const QHttpServerRequest &request) { return userinfo(request); });
    server().route(QStringLiteral("/scim/v2/Users"), Method::Post, [this](const QHttpServerRequest &request) { return scimCreate(request); });
    server().route(QStringLiteral("/scim/v2/Users"), Method::Get, [this](const QHttpServerRequest &request) { return scimQuery(request); });
    server().route(QStringLiteral("/scim/v2/Users/<arg>"), Method::Get,
                   [this](const QString &id, const QHttpServerRequest &request) { return scimGet(id, request); });
}

IdpService::~IdpService() = default;

void IdpService::answer(QHttpServerResponse response, QHttpServerResponder &&responder)
{
    answerWithFaults(m_context, this, std::move(response), std::make_shared<LaterResponder>(std::move(responder)));
}

Status IdpService::prepare()
{
    if (auto ok = m_context.store->migrate(QStringLiteral("idp"), kIdpMigrations); !ok)
        return ok;
    // Make the signing key now, not on the first request.
    if (auto key = m_keys.currentKey(); !key)
        return tl::unexpected(key.error());
    const QString tokenFile = scimClientTokenPath(m_context.dataDir);
    if (!QFile::exists(tokenFile)) {
        QSaveFile file(tokenFile);
        if (!file.open(QIODevice::WriteOnly))
            return fail(ErrorCode::Io, QStringLiteral("cannot write %1: %2").arg(tokenFile, file.errorString()));
        file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        file.write(randomToken().toLatin1());
        if (!file.commit())
            return fail(ErrorCode::Io, QStringLiteral("cannot write %1: %2").arg(tokenFile, file.errorString()));
    }
    auto token = readScimClientToken(m_context.dataDir);
    if (!token)
        return tl::unexpected(token.error());
    m_scimTokenHash = QCryptographicHash::hash(*token, QCryptographicHash::Sha256);
    m_client = std::make_unique<ServiceClient>(m_context.ca->caFile(), 10000);
    return {};
}

QString IdpService::issuer() const
{
    QString url = baseUrl().toString(QUrl::FullyEncoded);
    while (url.endsWith(QLatin1Char('/')))
        url.chop(1);
    return url;
}

bool IdpService::isAllowedRedirect(const QString &redirectUri)
{
    if (redirectUri == QLatin1String(kPrivateUseRedirect))
        return true;
    const QUrl url(redirectUri, QUrl::StrictMode);
    if (!url.isValid() || url.scheme() != QLatin1String("http") || url.path() != QLatin1String("/callback") || url.hasQuery()
        || url.hasFragment() || !url.userInfo().isEmpty())
        return false;
    // Loopback IP literals only: "localhost" may resolve elsewhere (RFC 8252 §8.3).
    return url.host() == QLatin1String("127.0.0.1") || url.host() == QLatin1String("::1");
}

QHttpServerResponse IdpService::discovery() const
{
    const QString base = issuer();
    auto at = [&base](const char *path) { return QString(base + QLatin1String(path)); };
    const QJsonObject doc{
        {QStringLiteral("issuer"), base},
        {QStringLiteral("authorization_endpoint"), at("/authorize")},
        {QStringLiteral("token_endpoint"), at("/token")},
        {QStringLiteral("userinfo_endpoint"), at("/userinfo")},
        {QStringLiteral("jwks_uri"), at("/jwks")},
        {QStringLiteral("response_types_supported"), QJsonArray{QStringLiteral("code")}},
        {QStringLiteral("grant_types_supported"), QJsonArray{QStringLiteral("authorization_code"), QLatin1String(kCibaGrantType)}},
        {QStringLiteral("backchannel_authentication_endpoint"), at("/backchannel")},
        {QStringLiteral("backchannel_token_delivery_modes_supported"), QJsonArray{QStringLiteral("poll")}},
        {QStringLiteral("backchannel_authentication_request_signing_alg_values_supported"), QJsonArray{QStringLiteral("ES256")}},
        {QStringLiteral("backchannel_user_code_parameter_supported"), false},
        {QStringLiteral("subject_types_supported"), QJsonArray{QStringLiteral("public")}},
        {QStringLiteral("id_token_signing_alg_values_supported"), QJsonArray{jose::algorithmName(m_keys.algorithm())}},
        {QStringLiteral("request_object_signing_alg_values_supported"), QJsonArray{QStringLiteral("ES256")}},
        {QStringLiteral("request_parameter_supported"), true},
        {QStringLiteral("request_uri_parameter_supported"), false},
        {QStringLiteral("require_signed_request_object"), true},
        {QStringLiteral("code_challenge_methods_supported"), QJsonArray{QStringLiteral("S256")}},
        {QStringLiteral("authorization_response_iss_parameter_supported"), true},
        {QStringLiteral("token_endpoint_auth_methods_supported"), QJsonArray{QStringLiteral("none")}},
        {QStringLiteral("claims_parameter_supported"), true},
        {QStringLiteral("acr_values_supported"), QJsonArray{kAcrPush}},
        {QStringLiteral("scopes_supported"), QJsonArray{QStringLiteral("openid")}},
        {QStringLiteral("claims_supported"), QJsonArray{QStringLiteral("sub"), QStringLiteral("iss"), QStringLiteral("aud"), QStringLiteral("exp"),
                                                        QStringLiteral("iat"), QStringLiteral("auth_time"), QStringLiteral("nonce"), QStringLiteral("amr"), QStringLiteral("acr"),
                                                        QStringLiteral("preferred_username")}},
    };
    return jsonResponse(doc);
}

QHttpServerResponse IdpService::jwks()
{
    auto keys = m_keys.publishedKeys();
    if (!keys)
        return problemResponse(problemFor(keys.error()));
    QHttpServerResponse response("application/jwk-set+json", QJsonDocument(keys->toPublicJson()).toJson(QJsonDocument::Compact));
    // Short caching, so a rotation reaches verifiers within a minute.
    response.setHeader("Cache-Control", "public, max-age=60");
    return response;
}

void IdpService::clientKeys(const QString &kid, std::function<void(Result<jose::JwkSet>)> done)
{
    const qint64 now = m_context.clock->secondsSinceEpoch();
    bool known = false;
    for (const jose::Jwk &k : m_clientKeys.keys())
        known = known || k.kid() == kid;
    if (!m_clientKeys.isEmpty() && (known || now - m_clientKeysFetchedAt < kClientKeysRefetchSeconds)) {
        done(m_clientKeys);
        return;
    }
    if (!m_context.endpoints.das.isValid()) {
        // Split deployment: the DAS may have started after this process.
        if (auto others = readEndpoints(m_context.dataDir); others && others->das.isValid())
            m_context.endpoints.das = others->das;
    }
    if (!m_context.endpoints.das.isValid()) {
        done(fail(ErrorCode::KeyNotFound, QStringLiteral("the client's key set (the DAS /jwks) is not configured")));
        return;
    }
    m_client->getJson(m_context.endpoints.das.resolved(QUrl(QStringLiteral("/jwks"))), {}, [this, done = std::move(done)](Result<ServiceReply> reply) {
        if (!reply) {
            done(tl::unexpected(reply.error()));
            return;
        }
        auto set = reply->status == 200 ? jose::JwkSet::fromJson(reply->raw) : Result<jose::JwkSet>(fail(ErrorCode::Io, QStringLiteral("the DAS answered HTTP %1 for its keys").arg(reply->status)));
        if (!set) {
            done(tl::unexpected(set.error()));
            return;
        }
        m_clientKeys = *set;
        m_clientKeysFetchedAt = m_context.clock->secondsSinceEpoch();
        done(m_clientKeys);
    });
}

void IdpService::authorize(const QHttpServerRequest &request, QHttpServerResponder &&responderIn)
{
    auto responder = std::make_shared<LaterResponder>(std::move(responderIn));
    const QUrlQuery query = request.query();
    const QString clientId = query.queryItemValue(QStringLiteral("client_id"), QUrl::FullyDecoded);
    const QByteArray requestObject = query.queryItemValue(QStringLiteral("request"), QUrl::FullyDecoded).toLatin1();
    if (clientId != m_context.clientId) {
        responder->write(errorPage(QStringLiteral("This sign-in request comes from an application the identity provider does not know (client_id \"%1\").").arg(clientId),
                  QStringLiteral("Start the sign-in again from Hotdesk; if this repeats, tell your administrator.")));
        return;
    }
    if (requestObject.isEmpty() || query.hasQueryItem(QStringLiteral("request_uri"))) {
        responder->write(errorPage(QStringLiteral("This identity provider accepts only signed request objects (the \"request\" parameter)."),
                  QStringLiteral("Start the sign-in again from Hotdesk.")));
        return;
    }
    auto unverified = jose::decodeUnverified(requestObject);
    if (!unverified) {
        responder->write(errorPage(QStringLiteral("The sign-in request is damaged: %1").arg(unverified.error().message), QStringLiteral("Start the sign-in again from Hotdesk.")));
        return;
    }
    clientKeys(unverified->header.kid, [this, responder, requestObject, clientId](Result<jose::JwkSet> keys) {
        if (!keys) {
            responder->write(errorPage(QStringLiteral("The identity provider cannot check the sign-in request: %1").arg(keys.error().message),
                      QStringLiteral("Try again in a minute; if this repeats, tell your administrator."), HttpStatus::ServiceUnavailable));
            return;
        }
        authorizeSigned(responder, requestObject, clientId, *keys);
    });
}

tl::expected<QJsonObject, QHttpServerResponse> IdpService::checkRequestObject(
    const QByteArray &requestObject, const QString &clientId, const jose::JwkSet &keys, qint64 now) const
{
    jose::JwsVerifyOptions options;
    options.allowed = jose::AlgorithmSet {
        jose::Algorithm::ES256, jose::Algorithm::ES384, jose::Algorithm::EdDSA, jose::Algorithm::PS256, jose::Algorithm::RS256};
    auto verified = jose::verifyCompact(requestObject, keys, options);
    if (!verified)
        return tl::unexpected(
            errorPage(QStringLiteral("The sign-in request is not signed by the Device Authentication Server (%1).")
                          .arg(verified.error().codeName()),
                QStringLiteral("Start the sign-in again from Hotdesk; if this repeats, tell your administrator.")));
    auto parsed = jose::parseStrictJsonObject(verified->payload);
    if (!parsed)
        return tl::unexpected(errorPage(QStringLiteral("The sign-in request is damaged: %1").arg(parsed.error().message),
            QStringLiteral("Start the sign-in again from Hotdesk.")));
    if (const QString problem = requestObjectProblem(*parsed, clientId, issuer(), now); !problem.isEmpty())
        return tl::unexpected(errorPage(QStringLiteral("The sign-in request was refused: %1.").arg(problem),
            QStringLiteral("Start the sign-in again from Hotdesk.")));
    if (!isAllowedRedirect(claimString(*parsed, "redirect_uri")))
        return tl::unexpected(
            errorPage(QStringLiteral("The sign-in request asks to return to an address that is not registered."),
                QStringLiteral("Start the sign-in again from Hotdesk; if this repeats, tell your administrator.")));
    return *parsed;
}

void IdpService::authorizeSigned(const std::shared_ptr<LaterResponder> &responder, const QByteArray &requestObject,
    const QString &clientId, const jose::JwkSet &keys)
{
    const qint64 now = m_context.clock->secondsSinceEpoch();
    auto claims = checkRequestObject(requestObject, clientId, keys, now);
    if (!claims) {
        responder->write(std::move(claims.error()));
        return;
    }
    // From here on errors go back to the client through its redirect URI.
    Transaction tx;
    tx.redirectUri = claimString(*claims, "redirect_uri");
    tx.state = claimString(*claims, "state");
    auto back = [&](const OAuthError &refusal) {
        responder->write(toClient(tx.redirectUri, errorParams(refusal.error, refusal.description), tx.state, issuer()));
    };
    if (auto unsupported = unsupportedRequest(*claims))
        return back(*unsupported);
    tx.sharedId = requestedSubject(*claims);
    auto username = spendRequestObject(*claims, tx.sharedId, now);
    if (!username) {
        if (username.error().message == QLatin1String("replayed"))
            return back(
                OAuthError {QStringLiteral("invalid_request_object"), QStringLiteral("this request object was already used")});
        return back(OAuthError {QStringLiteral("server_error"), username.error().message});
    }
    if (username->isEmpty())
        return back(
            OAuthError {QStringLiteral("access_denied"), QStringLiteral("the user is not known to this identity provider")});
    tx.id = randomToken();
    tx.username = *username;
    tx.nonce = claimString(*claims, "nonce");
    tx.codeChallenge = claimString(*claims, "code_challenge");
    tx.createdAt = now;
    pushChallenge(responder, std::move(tx));
}

Result<QString> IdpService::spendRequestObject(const QJsonObject &claims, const QString &sharedId, qint64 now)
{
    // Single use of the request object: its jti is remembered until it expires.
    QString username;
    const QString jtiKey = QStringLiteral("idp-jar:") + claimString(claims, "jti");
    const qint64 exp = qint64(claims.value(QLatin1String("exp")).toDouble());
    auto recorded = m_context.store->transaction([&](QSqlDatabase &db) -> hotdesk::Status {
        if (auto purged = m_jtiPurge.run(db, now); !purged)
            return purged;
        // One statement decides, so the same request object at two IdP processes on one database passes once.
        auto fresh = execClaim(db,
            QStringLiteral("INSERT INTO seen_jti (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING"), {jtiKey, exp});
        if (!fresh)
            return tl::unexpected(fresh.error());
        if (!*fresh)
            return fail(ErrorCode::Malformed, QStringLiteral("replayed"));
        auto user = exec(db, QStringLiteral("SELECT username FROM idp_users WHERE shared_id = ?"), {sharedId});
        if (!user)
            return tl::unexpected(user.error());
        if (user->next())
            username = user->value(0).toString();
        return {};
    });
    if (!recorded)
        return tl::unexpected(recorded.error());
    return username;
}

void IdpService::pushChallenge(const std::shared_ptr<LaterResponder> &responder, Transaction tx)
{
    auto back
        = [this, responder, redirectUri = tx.redirectUri, state = tx.state](const QString &error, const QString &description) {
              responder->write(toClient(redirectUri, errorParams(error, description), state, issuer()));
          };
    const QByteArray pushToken = pushClientToken();
    if (!pushEndpointKnown())
        return back(QStringLiteral("temporarily_unavailable"), QStringLiteral("no push provider is configured"));
    const QJsonObject challenge {{QStringLiteral("user"), tx.username},
        {QStringLiteral("context"),
            QJsonObject {{QStringLiteral("pc"), QStringLiteral("Hotdesk PC")}, {QStringLiteral("time"), double(tx.createdAt)}}},
        {QStringLiteral("ttl"), 60}};
    m_client->postJson(m_context.endpoints.push.resolved(QUrl(QStringLiteral("/v1/challenges"))), challenge, pushToken,
        [this, responder, tx, back](Result<ServiceReply> reply) mutable {
            if (!reply)
                return back(QStringLiteral("temporarily_unavailable"), QStringLiteral("the push provider cannot be reached"));
            if (reply->status == 404)
                return back(QStringLiteral("access_denied"), QStringLiteral("no phone is enrolled for this user"));
            if (reply->status != 201)
                return back(QStringLiteral("temporarily_unavailable"),
                    QStringLiteral("the push provider answered HTTP %1").arg(reply->status));
            tx.challengeId = reply->body.value(QLatin1String("id")).toString();
            tx.number = reply->body.value(QLatin1String("number")).toInt();
            tx.expiresAt = qint64(reply->body.value(QLatin1String("expires_at")).toDouble());
            tx.status = QStringLiteral("pending");
            auto saved = m_context.store->transaction([&](QSqlDatabase &db) -> hotdesk::Status {
                auto r = exec(db,
                    QStringLiteral(
                        "INSERT INTO idp_transactions (id, shared_id, username, redirect_uri, state, nonce, code_challenge,"
                        " challenge_id, number, status, created_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"),
                    {tx.id, tx.sharedId, tx.username, tx.redirectUri, tx.state, tx.nonce, tx.codeChallenge, tx.challengeId,
                        tx.number, tx.status, tx.createdAt, tx.expiresAt});
                if (!r)
                    return tl::unexpected(r.error());
                return {};
            });
            if (!saved || tx.challengeId.isEmpty())
                return back(QStringLiteral("server_error"), QStringLiteral("the sign-in could not be recorded"));
            responder->write(waitingHtml(tx));
        });
}

QByteArray IdpService::pushClientToken()
{
    if (m_pushToken.isEmpty()) {
        QFile f(QDir(m_context.dataDir).filePath(QStringLiteral("push-client-token")));
        if (f.open(QIODevice::ReadOnly))
            m_pushToken = f.readAll().trimmed();
    }
    return m_pushToken;
}

bool IdpService::pushEndpointKnown()
{
    if (!m_context.endpoints.push.isValid()) {
        if (auto others = readEndpoints(m_context.dataDir); others && others->push.isValid())
            m_context.endpoints.push = others->push;
    }
    return m_context.endpoints.push.isValid();
}

Result<IdpService::Transaction> IdpService::loadTransaction(const QString &txId)
{
    QSqlDatabase db = m_context.store->database();
    auto q = exec(db, QStringLiteral("SELECT id, shared_id, username, redirect_uri, state, nonce, code_challenge, challenge_id, number, status,"
                                     " created_at, expires_at, auth_time FROM idp_transactions WHERE id = ?"),
                  {txId});
    if (!q)
        return tl::unexpected(q.error());
    if (!q->next())
        return fail(ErrorCode::KeyNotFound, QStringLiteral("unknown sign-in"));
    Transaction tx;
    tx.id = q->value(0).toString();
    tx.sharedId = q->value(1).toString();
    tx.username = q->value(2).toString();
    tx.redirectUri = q->value(3).toString();
    tx.state = q->value(4).toString();
    tx.nonce = q->value(5).toString();
    tx.codeChallenge = q->value(6).toString();
    tx.challengeId = q->value(7).toString();
    tx.number = q->value(8).toInt();
    tx.status = q->value(9).toString();
    tx.createdAt = q->value(10).toLongLong();
    tx.expiresAt = q->value(11).toLongLong();
    tx.authTime = q->value(12).toLongLong();
    return tx;
}

void IdpService::refresh(const QString &txId, std::function<void(Result<Transaction>)> done)
{
    auto tx = loadTransaction(txId);
    if (!tx || tx->status != QLatin1String("pending")) {
        done(tx);
        return;
    }
    if (m_context.clock->secondsSinceEpoch() >= tx->expiresAt) {
        tx->status = QStringLiteral("expired");
        m_context.store->transaction([&](QSqlDatabase &db) -> hotdesk::Status {
            auto r = exec(db, QStringLiteral("UPDATE idp_transactions SET status = 'expired' WHERE id = ? AND status = 'pending'"), {tx->id});
            return r ? hotdesk::Status() : hotdesk::Status(tl::unexpected(r.error()));
        });
        done(tx);
        return;
    }
    m_client->getJson(m_context.endpoints.push.resolved(QUrl(QString(QStringLiteral("/v1/challenges/") + tx->challengeId))), m_pushToken,
                      [this, tx = *tx, done = std::move(done)](Result<ServiceReply> reply) mutable {
        if (!reply || reply->status != 200) {
            done(tx); // still pending as far as we know; the page keeps waiting until expiry
            return;
        }
        const QString status = reply->body.value(QLatin1String("status")).toString();
        if (status == QLatin1String("approved") || status == QLatin1String("denied") || status == QLatin1String("expired")) {
            tx.status = status;
            tx.authTime = m_context.clock->secondsSinceEpoch();
            m_context.store->transaction([&](QSqlDatabase &db) -> hotdesk::Status {
                auto r = exec(db, QStringLiteral("UPDATE idp_transactions SET status = ?, auth_time = ? WHERE id = ? AND status = 'pending'"),
                              {tx.status, tx.authTime, tx.id});
                return r ? hotdesk::Status() : hotdesk::Status(tl::unexpected(r.error()));
            });
            // Another request may have moved it on first: read back what was stored.
            if (auto stored = loadTransaction(tx.id))
                tx = *stored;
        }
        done(tx);
    });
}

QHttpServerResponse IdpService::finish(const Transaction &tx)
{
    QList<std::pair<QString, QString>> params;
    if (tx.status == QLatin1String("approved")) {
        const QString code = randomToken();
        const qint64 now = m_context.clock->secondsSinceEpoch();
        auto stored = m_context.store->transaction([&](QSqlDatabase &db) -> hotdesk::Status {
            auto r = exec(db, QStringLiteral("UPDATE idp_transactions SET status = 'done', code_hash = ?, code_expires_at = ? WHERE id = ? AND status = 'approved'"),
                          {QString::fromLatin1(sha256Hex(code.toLatin1())), now + kCodeLifetime, tx.id});
            if (!r)
                return tl::unexpected(r.error());
            if (r->numRowsAffected() != 1)
                return fail(ErrorCode::Malformed, QStringLiteral("already finished"));
            return {};
        });
        if (!stored)
            return errorPage(QStringLiteral("This sign-in has already been completed."), QStringLiteral("Return to Hotdesk."));
        params = {{QStringLiteral("code"), code}};
    } else if (tx.status == QLatin1String("denied")) {
        params = errorParams(QStringLiteral("access_denied"), QStringLiteral("the sign-in was denied on the phone"));
    } else if (tx.status == QLatin1String("expired")) {
        params = errorParams(QStringLiteral("login_required"), QStringLiteral("the phone did not answer in time"));
    } else if (tx.status == QLatin1String("cancelled")) {
        params = errorParams(QStringLiteral("access_denied"), QStringLiteral("the sign-in was cancelled"));
    } else {
        return errorPage(QStringLiteral("This sign-in has already been completed."), QStringLiteral("Return to Hotdesk."));
    }
    return toClient(tx.redirectUri, params, tx.state, issuer());
}

QHttpServerResponse IdpService::waitingHtml(const Transaction &tx) const
{
    const qint64 now = m_context.clock->secondsSinceEpoch();
    const qint64 total = std::max<qint64>(1, tx.expiresAt - tx.createdAt);
    const qint64 left = std::clamp<qint64>(tx.expiresAt - now, 0, total);
    const QString waitUrl = QStringLiteral("/authorize/wait?tx=") + tx.id;
    // Without JavaScript the page reloads itself every 2 s; with it, it polls the status quietly:
    // first after 200 ms (a phone that answers at once, or a user quicker than the page, is not
    // kept waiting a whole second), then twice as long each time up to once a second.
    const QString head = QStringLiteral("<noscript><meta http-equiv=\"refresh\" content=\"2;url=%1\"></noscript>").arg(waitUrl.toHtmlEscaped());
    const QString body = QStringLiteral(
        "<h1>Approve on your phone</h1>"
        "<p>We sent a sign-in request to the phone of <strong>%1</strong>. Open it and enter this number:</p>"
        "<p class=\"number\" aria-label=\"Number to enter on your phone: %2\">%2</p>"
        "<p id=\"status\" role=\"status\" aria-live=\"polite\">Waiting for your phone&hellip; <span id=\"left\">%3</span> seconds left.</p>"
        "<progress id=\"progress\" max=\"%4\" value=\"%5\" aria-label=\"Time left to approve\">%3 seconds left</progress>"
        "<p><a id=\"refresh\" href=\"%6\">I have approved &mdash; continue</a> &middot; <a id=\"cancel\" href=\"%7\">Cancel sign-in</a></p>"
        "<script>(function(){var left=%3;var tx=%8;var wait=200;"
        "function tick(){left=Math.max(0,left-1);document.getElementById('left').textContent=left;"
        "document.getElementById('progress').value=%4-left;}"
        "function poll(){fetch('/authorize/status?tx='+encodeURIComponent(tx),{cache:'no-store'}).then(function(r){return r.json();})"
        ".then(function(s){if(s.status!=='pending'){location.replace('/authorize/wait?tx='+encodeURIComponent(tx));}"
        "else{wait=Math.min(1000,wait*2);setTimeout(poll,wait);}}).catch(function(){setTimeout(poll,2000);});}"
        "setInterval(tick,1000);setTimeout(poll,wait);})();</script>")
        .arg(tx.username.toHtmlEscaped())
        .arg(tx.number)
        .arg(left)
        .arg(total)
        .arg(total - left)
        .arg(waitUrl.toHtmlEscaped(), QString(QStringLiteral("/authorize/cancel?tx=") + tx.id).toHtmlEscaped(),
             QString::fromUtf8(QJsonDocument(QJsonArray{tx.id}).toJson(QJsonDocument::Compact)).mid(1).chopped(1));
    return htmlPage(QStringLiteral("Approve on your phone"), body, HttpStatus::Ok, head);
}

void IdpService::waitPage(const QHttpServerRequest &request, QHttpServerResponder &&responderIn)
{
    auto responder = std::make_shared<LaterResponder>(std::move(responderIn));
    const QString txId = request.query().queryItemValue(QStringLiteral("tx"), QUrl::FullyDecoded);
    refresh(txId, [this, responder](Result<Transaction> tx) {
        if (!tx) {
            responder->write(errorPage(QStringLiteral("This sign-in is unknown or has ended."), QStringLiteral("Start the sign-in again from Hotdesk."), HttpStatus::NotFound));
            return;
        }
        if (tx->status == QLatin1String("pending"))
            responder->write(waitingHtml(*tx));
        else
            responder->write(finish(*tx));
    });
}

void IdpService::statusJson(const QHttpServerRequest &request, QHttpServerResponder &&responderIn)
{
    auto responder = std::make_shared<LaterResponder>(std::move(responderIn));
    const QString txId = request.query().queryItemValue(QStringLiteral("tx"), QUrl::FullyDecoded);
    refresh(txId, [this, responder](Result<Transaction> tx) {
        if (!tx) {
            responder->write(problemResponse({HttpStatus::NotFound, QStringLiteral("unknown-transaction"), QStringLiteral("Unknown sign-in"), {}}));
            return;
        }
        const qint64 left = std::max<qint64>(0, tx->expiresAt - m_context.clock->secondsSinceEpoch());
        responder->write(jsonResponse(QJsonObject{{QStringLiteral("status"), tx->status}, {QStringLiteral("seconds_left"), double(left)}}));
    });
}

QHttpServerResponse IdpService::cancel(const QHttpServerRequest &request)
{
    const QString txId = request.query().queryItemValue(QStringLiteral("tx"), QUrl::FullyDecoded);
    auto tx = loadTransaction(txId);
    if (!tx)
        return errorPage(QStringLiteral("This sign-in is unknown or has ended."), QStringLiteral("Start the sign-in again from Hotdesk."), HttpStatus::NotFound);
    m_context.store->transaction([&](QSqlDatabase &db) -> hotdesk::Status {
        auto r = exec(db, QStringLiteral("UPDATE idp_transactions SET status = 'cancelled' WHERE id = ? AND status = 'pending'"), {tx->id});
        return r ? hotdesk::Status() : hotdesk::Status(tl::unexpected(r.error()));
    });
    auto updated = loadTransaction(txId);
    return finish(updated ? *updated : *tx);
}

QHttpServerResponse IdpService::token(const QHttpServerRequest &request)
{
    auto form = formBody(request);
    if (!form)
        return oauthError(QStringLiteral("invalid_request"), form.error().message, form.error().code == ErrorCode::TooLarge ? HttpStatus::PayloadTooLarge : HttpStatus::BadRequest);
    QHash<QString, QString> p;
    for (const auto &[name, value] : std::as_const(*form))
        p.insert(name, value);
    if (p.value(QStringLiteral("grant_type")) != QLatin1String("authorization_code"))
        return oauthError(QStringLiteral("unsupported_grant_type"),
            QStringLiteral("only authorization_code and %1 are supported").arg(QLatin1String(kCibaGrantType)));
    for (const char *name : {"code", "code_verifier", "redirect_uri", "client_id"}) {
        if (p.value(QLatin1String(name)).isEmpty())
            return oauthError(QStringLiteral("invalid_request"), QStringLiteral("\"%1\" is required").arg(QLatin1String(name)));
    }
    if (p.value(QStringLiteral("client_id")) != m_context.clientId)
        return oauthError(QStringLiteral("invalid_client"), QStringLiteral("unknown client"), HttpStatus::Unauthorized);
    auto challenge = oidc::pkceChallengeS256(p.value(QStringLiteral("code_verifier")).toLatin1());
    if (!challenge)
        return oauthError(QStringLiteral("invalid_grant"), challenge.error().message);

    const qint64 now = m_context.clock->secondsSinceEpoch();
    auto tx = redeemCode(p.value(QStringLiteral("code")), now);
    if (!tx)
        return std::move(tx.error());
    if (!sameRedirect(tx->redirectUri, p.value(QStringLiteral("redirect_uri"))))
        return oauthError(QStringLiteral("invalid_grant"), QStringLiteral("redirect_uri differs from the authorization request"));
    if (QString::fromLatin1(*challenge) != tx->codeChallenge)
        return oauthError(QStringLiteral("invalid_grant"), QStringLiteral("the code_verifier does not match the code_challenge"));
    return tokenResponse(*tx, now);
}

tl::expected<IdpService::Transaction, QHttpServerResponse> IdpService::redeemCode(const QString &code, qint64 now)
{
    Transaction tx;
    QString grantError;
    auto consumed = m_context.store->transaction([&](QSqlDatabase &db) -> hotdesk::Status {
        auto q = exec(db, QStringLiteral("SELECT id, code_used, code_expires_at FROM idp_transactions WHERE code_hash = ?"),
            {QString::fromLatin1(sha256Hex(code.toLatin1()))});
        if (!q)
            return tl::unexpected(q.error());
        if (!q->next()) {
            grantError = QStringLiteral("the authorization code is not valid");
            return {};
        }
        const QString id = q->value(0).toString();
        if (q->value(1).toInt() != 0) {
            grantError = QStringLiteral("the authorization code was already used");
            return {};
        }
        // The code is spent whatever happens next: a wrong verifier must not get a second try.
        auto spent
            = execClaim(db, QStringLiteral("UPDATE idp_transactions SET code_used = 1 WHERE id = ? AND code_used = 0"), {id});
        if (!spent)
            return tl::unexpected(spent.error());
        if (!*spent) {
            grantError = QStringLiteral("the authorization code was already used");
            return {};
        }
        if (now >= q->value(2).toLongLong()) {
            grantError = QStringLiteral("the authorization code has expired");
            return {};
        }
        q->finish();
        auto loaded = [&]() -> Result<Transaction> {
            auto row = exec(db, QStringLiteral("SELECT shared_id, username, redirect_uri, nonce, code_challenge, auth_time FROM idp_transactions WHERE id = ?"), {id});
            if (!row)
                return tl::unexpected(row.error());
            row->next();
            Transaction t;
            t.id = id;
            t.sharedId = row->value(0).toString();
            t.username = row->value(1).toString();
            t.redirectUri = row->value(2).toString();
            t.nonce = row->value(3).toString();
            t.codeChallenge = row->value(4).toString();
            t.authTime = row->value(5).toLongLong();
            return t;
        }();
        if (!loaded)
            return tl::unexpected(loaded.error());
        tx = *loaded;
        return {};
    });
    if (!consumed)
        return tl::unexpected(
            oauthError(QStringLiteral("server_error"), consumed.error().message, HttpStatus::InternalServerError));
    if (!grantError.isEmpty())
        return tl::unexpected(oauthError(QStringLiteral("invalid_grant"), grantError));
    return tx;
}

QHttpServerResponse IdpService::tokenResponse(const Transaction &tx, qint64 now, const QJsonObject &extraIdClaims)
{
    auto key = m_keys.currentKey();
    if (m_context.hasFault(QStringLiteral("wrong-key"))) {
        // A key of the right type that is published nowhere, with the kid of the real one.
        const QString kid = key ? key->kid() : QString();
        key = jose::Jwk::generate(m_keys.algorithm(), kid);
    }
    if (!key)
        return oauthError(QStringLiteral("server_error"), key.error().message, HttpStatus::InternalServerError);
    const qint64 lifetime = m_context.tokenLifetime.count();
    QJsonObject idClaims{
        {QStringLiteral("iss"), issuer()},
        {QStringLiteral("sub"), tx.sharedId},
        {QStringLiteral("aud"), m_context.clientId},
        {QStringLiteral("exp"), double(now + lifetime)},
        {QStringLiteral("iat"), double(now)},
        {QStringLiteral("auth_time"), double(tx.authTime ? tx.authTime : now)},
        {QStringLiteral("nonce"), tx.nonce},
        {QStringLiteral("amr"), QJsonArray{QStringLiteral("mfa"), QStringLiteral("swk")}},
        {QStringLiteral("acr"), kAcrPush},
        {QStringLiteral("preferred_username"), tx.username},
    };
    if (tx.nonce.isEmpty())
        idClaims.remove(QStringLiteral("nonce")); // CIBA has no nonce
    for (auto it = extraIdClaims.begin(); it != extraIdClaims.end(); ++it)
        idClaims.insert(it.key(), it.value());
    const QJsonObject accessClaims{
        {QStringLiteral("iss"), issuer()},
        {QStringLiteral("sub"), tx.sharedId},
        {QStringLiteral("aud"), QStringLiteral("hotdesk-gateway")},
        {QStringLiteral("client_id"), m_context.clientId},
        {QStringLiteral("scope"), QStringLiteral("openid")},
        {QStringLiteral("exp"), double(now + lifetime)},
        {QStringLiteral("iat"), double(now)},
        {QStringLiteral("jti"), randomToken(16)},
    };
    addTokenFaults(idClaims, now);
    auto idToken = jose::signCompact(QJsonDocument(idClaims).toJson(QJsonDocument::Compact), *key, m_keys.algorithm(),
        {{QStringLiteral("typ"), QStringLiteral("JWT")}});
    auto accessToken = jose::signCompact(QJsonDocument(accessClaims).toJson(QJsonDocument::Compact), *key, m_keys.algorithm(),
        {{QStringLiteral("typ"), QStringLiteral("at+jwt")}});
    if (!idToken || !accessToken)
        return oauthError(QStringLiteral("server_error"), QStringLiteral("signing failed"), HttpStatus::InternalServerError);
    return jsonResponse(QJsonObject {{QStringLiteral("access_token"), QString::fromLatin1(*accessToken)},
        {QStringLiteral("token_type"), QStringLiteral("Bearer")}, {QStringLiteral("expires_in"), double(lifetime)},
        {QStringLiteral("scope"), QStringLiteral("openid")}, {QStringLiteral("id_token"), QString::fromLatin1(*idToken)}});
}

void IdpService::addTokenFaults(QJsonObject &idClaims, qint64 now) const
{
    const qint64 lifetime = m_context.tokenLifetime.count();
    if (m_context.hasFault(QStringLiteral("wrong-iss")))
        idClaims.insert(QStringLiteral("iss"), QString(issuer() + QStringLiteral("/other")));
    if (m_context.hasFault(QStringLiteral("wrong-aud")))
        idClaims.insert(QStringLiteral("aud"), QStringLiteral("some-other-client"));
    if (m_context.hasFault(QStringLiteral("expired"))) {
        idClaims.insert(QStringLiteral("iat"), double(now - 3 * lifetime));
        idClaims.insert(QStringLiteral("exp"), double(now - 2 * lifetime));
    }
    if (m_context.hasFault(QStringLiteral("wrong-nonce")))
        idClaims.insert(QStringLiteral("nonce"), randomToken(16));
    if (m_context.hasFault(QStringLiteral("no-nonce")))
        idClaims.remove(QStringLiteral("nonce"));
}

QHttpServerResponse IdpService::userinfo(const QHttpServerRequest &request)
{
    const QByteArray bearer = authorization(request, "Bearer");
    auto keys = m_keys.publishedKeys();
    if (bearer.isEmpty() || !keys)
        return problemResponse({HttpStatus::Unauthorized, QStringLiteral("invalid-token"), QStringLiteral("Invalid token"), QStringLiteral("send the access token as a Bearer token")});
    auto verified = jose::verifyCompact(bearer, *keys);
    auto claims = verified ? jose::parseStrictJsonObject(verified->payload) : Result<QJsonObject>(tl::unexpected(verified.error()));
    const qint64 now = m_context.clock->secondsSinceEpoch();
    if (!claims || verified->header.typ != QLatin1String("at+jwt") || claims->value(QLatin1String("iss")).toString() != issuer()
        || claims->value(QLatin1String("exp")).toDouble() <= double(now))
        return problemResponse({HttpStatus::Unauthorized, QStringLiteral("invalid-token"), QStringLiteral("Invalid token"), QStringLiteral("the access token is not valid")});
    QSqlDatabase db = m_context.store->database();
    auto q = exec(db, QStringLiteral("SELECT username FROM idp_users WHERE shared_id = ?"), {claims->value(QLatin1String("sub")).toString()});
    const QString username = q && q->next() ? q->value(0).toString() : QString();
    return jsonResponse(QJsonObject{{QStringLiteral("sub"), claims->value(QLatin1String("sub")).toString()}, {QStringLiteral("preferred_username"), username}});
}

bool IdpService::scimAuthorized(const QHttpServerRequest &request) const
{
    const QByteArray presented = QCryptographicHash::hash(authorization(request, "Bearer"), QCryptographicHash::Sha256);
    return !m_scimTokenHash.isEmpty() && CRYPTO_memcmp(presented.constData(), m_scimTokenHash.constData(), size_t(presented.size())) == 0;
}

namespace {

QJsonObject scimUser(const QString &id, const QString &userName, const QString &externalId)
{
    QJsonObject user{{QStringLiteral("schemas"), QJsonArray{QStringLiteral("urn:ietf:params:scim:schemas:core:2.0:User")}},
                     {QStringLiteral("id"), id},
                     {QStringLiteral("userName"), userName},
                     {QStringLiteral("active"), true}};
    if (!externalId.isEmpty())
        user.insert(QStringLiteral("externalId"), externalId);
    return user;
}

QHttpServerResponse scimUnauthorized()
{
    return problemResponse({HttpStatus::Unauthorized, QStringLiteral("unauthorized"), QStringLiteral("Unauthorized"), QStringLiteral("SCIM needs the provisioning bearer token")});
}

} // namespace

QHttpServerResponse IdpService::scimCreate(const QHttpServerRequest &request)
{
    if (!scimAuthorized(request))
        return scimUnauthorized();
    auto body = jsonBody(request);
    if (!body)
        return problemResponse(problemFor(body.error()));
    auto userName = requireString(*body, "userName", 256);
    auto externalId = optionalString(*body, "externalId", 256);
    if (!userName)
        return problemResponse(problemFor(userName.error()));
    if (!externalId)
        return problemResponse(problemFor(externalId.error()));
    // SCIM compares userName case-insensitively (RFC 7643 §4.1.1); store it lowercased.
    const QString name = userName->toLower();
    OpenSslRandom random;
    auto bytes = random.bytes(16); // 128-bit shared identifier
    if (!bytes)
        return problemResponse(problemFor(bytes.error()));
    const QString id = QString::fromLatin1(bytes->toHex());
    bool exists = false;
    auto stored = m_context.store->transaction([&](QSqlDatabase &db) -> hotdesk::Status {
        auto q = exec(db, QStringLiteral("SELECT 1 FROM idp_users WHERE username = ?"), {name});
        if (!q)
            return tl::unexpected(q.error());
        if (q->next()) {
            exists = true;
            return {};
        }
        auto r = exec(db, QStringLiteral("INSERT INTO idp_users (shared_id, username, external_id, created_at) VALUES (?, ?, ?, ?)"),
                      {id, name, *externalId, m_context.clock->secondsSinceEpoch()});
        return r ? hotdesk::Status() : hotdesk::Status(tl::unexpected(r.error()));
    });
    if (!stored)
        return problemResponse(problemFor(stored.error()));
    if (exists)
        return problemResponse({HttpStatus::Conflict, QStringLiteral("uniqueness"), QStringLiteral("User exists"), QStringLiteral("a user named \"%1\" exists").arg(name)});
    QHttpServerResponse response("application/scim+json", QJsonDocument(scimUser(id, name, *externalId)).toJson(QJsonDocument::Compact), HttpStatus::Created);
    response.setHeader("Location", (issuer() + QStringLiteral("/scim/v2/Users/") + id).toUtf8());
    return response;
}

QHttpServerResponse IdpService::scimQuery(const QHttpServerRequest &request)
{
    if (!scimAuthorized(request))
        return scimUnauthorized();
    const QString filter = request.query().queryItemValue(QStringLiteral("filter"), QUrl::FullyDecoded);
    static const QRegularExpression byName(QStringLiteral("^\\s*userName\\s+eq\\s+\"([^\"\\\\]{1,256})\"\\s*$"), QRegularExpression::CaseInsensitiveOption);
    const auto match = byName.match(filter);
    if (!match.hasMatch())
        return problemResponse({HttpStatus::BadRequest, QStringLiteral("invalid-filter"), QStringLiteral("Invalid filter"), QStringLiteral("only filter=userName eq \"NAME\" is supported")});
    QSqlDatabase db = m_context.store->database();
    auto q = exec(db, QStringLiteral("SELECT shared_id, username, external_id FROM idp_users WHERE username = ?"), {match.captured(1).toLower()});
    if (!q)
        return problemResponse(problemFor(q.error()));
    QJsonArray resources;
    while (q->next())
        resources.append(scimUser(q->value(0).toString(), q->value(1).toString(), q->value(2).toString()));
    const QJsonObject list{{QStringLiteral("schemas"), QJsonArray{QStringLiteral("urn:ietf:params:scim:api:messages:2.0:ListResponse")}},
                           {QStringLiteral("totalResults"), resources.size()},
                           {QStringLiteral("Resources"), resources}};
    return QHttpServerResponse("application/scim+json", QJsonDocument(list).toJson(QJsonDocument::Compact));
}

QHttpServerResponse IdpService::scimGet(const QString &id, const QHttpServerRequest &request)
{
    if (!scimAuthorized(request))
        return scimUnauthorized();
    QSqlDatabase db = m_context.store->database();
    auto q = exec(db, QStringLiteral("SELECT shared_id, username, external_id FROM idp_users WHERE shared_id = ?"), {id});
    if (!q)
        return problemResponse(problemFor(q.error()));
    if (!q->next())
        return problemResponse({HttpStatus::NotFound, QStringLiteral("not-found"), QStringLiteral("Not found"), QStringLiteral("no such user")});
    return QHttpServerResponse("application/scim+json",
                               QJsonDocument(scimUser(q->value(0).toString(), q->value(1).toString(), q->value(2).toString())).toJson(QJsonDocument::Compact));
}

} // namespace hotdesk::stubs::idp

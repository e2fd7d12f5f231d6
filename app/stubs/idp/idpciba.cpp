// OpenID CIBA Core 1.0, poll mode: the backchannel authentication endpoint and the CIBA grant of the token endpoint.
#include "idpservice.h"
#include "idpshared_p.h"

#include "../push/pushprotocol.h"

#include "core/jose/jws.h"
#include "core/jose/strictjson.h"

#include <QJsonArray>
#include <QRegularExpression>

namespace hotdesk::stubs::idp {
namespace {

constexpr qint64 kCibaMaxRequestLifetime = 120; // exp - iat of a request object, as for flow 1
constexpr qint64 kCibaLeeway = 60; // for iat and nbf of a request object
constexpr qint64 kCibaSlowDownStep = 5; // CIBA Core §11, as RFC 8628 §3.5
const QString kAuthReqIdClaim = QStringLiteral("urn:openid:params:jwt:claim:auth_req_id");

struct CibaRefusal {
    QString error;
    QString description;
};

QString claimText(const QJsonObject &claims, const char *name)
{
    return claims.value(QLatin1String(name)).toString();
}

// Whether the claim is a whole JSON number (seconds since the epoch).
bool isWholeNumber(const QJsonValue &value)
{
    return value.isDouble() && value.toDouble() == double(qint64(value.toDouble()));
}

// The request object's envelope (CIBA Core §7.1.1): iss, aud, exp, iat, nbf, jti.
std::optional<CibaRefusal> envelopeProblem(const QJsonObject &claims, const QString &clientId, const QString &issuer, qint64 now)
{
    auto refuse = [](const QString &why) { return CibaRefusal {QStringLiteral("invalid_request"), why}; };
    const QJsonValue aud = claims.value(QLatin1String("aud"));
    if (claimText(claims, "iss") != clientId)
        return refuse(QStringLiteral("the request object's iss is not the client_id"));
    if (claims.contains(QLatin1String("client_id")) && claimText(claims, "client_id") != clientId)
        return refuse(QStringLiteral("the request object names another client_id"));
    if (aud.toString() != issuer && !(aud.isArray() && aud.toArray().contains(issuer)))
        return refuse(QStringLiteral("the request object's aud is not this identity provider's issuer"));
    for (const char *name : {"exp", "iat", "nbf"}) {
        if (!isWholeNumber(claims.value(QLatin1String(name))))
            return refuse(
                QStringLiteral("the request object needs \"%1\" as a whole number of seconds").arg(QLatin1String(name)));
    }
    const auto seconds = [&claims](const char *name) { return qint64(claims.value(QLatin1String(name)).toDouble()); };
    if (now >= seconds("exp"))
        return refuse(QStringLiteral("the request object has expired"));
    if (seconds("iat") > now + kCibaLeeway || seconds("nbf") > now + kCibaLeeway)
        return refuse(QStringLiteral("the request object is not valid yet"));
    if (seconds("exp") - seconds("iat") > kCibaMaxRequestLifetime)
        return refuse(QStringLiteral("the request object is valid for longer than %1 seconds").arg(kCibaMaxRequestLifetime));
    const QString jti = claimText(claims, "jti");
    if (jti.isEmpty() || jti.size() > 256)
        return refuse(QStringLiteral("the request object needs a jti of 1 to 256 characters"));
    return std::nullopt;
}

// requested_expiry (CIBA Core §7.1): a positive whole number of seconds, as a JSON number or a decimal string.
std::optional<qint64> requestedExpiry(const QJsonValue &value)
{
    static const QRegularExpression digits(QStringLiteral("^[1-9][0-9]{0,5}$"));
    if (isWholeNumber(value) && value.toDouble() >= 1 && value.toDouble() <= 999999)
        return qint64(value.toDouble());
    if (value.isString() && digits.match(value.toString()).hasMatch())
        return value.toString().toLongLong();
    return std::nullopt;
}

} // namespace

struct IdpService::CibaRequest {
    QString sharedId;
    QString username;
    int number = 0;
    QString acrValues;
    QString challengeId;
    QString status; // pending, approved, denied, expired, done
    qint64 createdAt = 0;
    qint64 expiresAt = 0;
    qint64 authTime = 0;
};

namespace {

// The authentication request inside the envelope; the refusal, or nothing when this IdP can serve it.
std::optional<CibaRefusal> parametersProblem(const QJsonObject &claims)
{
    static const QRegularExpression bindingShape(QStringLiteral("^[1-9][0-9]$"));
    auto refuse = [](const QString &why) { return CibaRefusal {QStringLiteral("invalid_request"), why}; };
    for (const char *name : {"request", "request_uri", "login_hint_token", "id_token_hint", "user_code"}) {
        if (claims.contains(QLatin1String(name)))
            return refuse(QStringLiteral("\"%1\" is not supported here; name the user with login_hint").arg(QLatin1String(name)));
    }
    if (claims.contains(QLatin1String("client_notification_token")))
        return refuse(QStringLiteral("this identity provider delivers tokens in poll mode only"));
    if (!claimText(claims, "scope").split(QLatin1Char(' ')).contains(QStringLiteral("openid")))
        return CibaRefusal {QStringLiteral("invalid_scope"), QStringLiteral("the openid scope is required")};
    const QString hint = claimText(claims, "login_hint");
    if (hint.isEmpty() || hint.size() > 256)
        return refuse(QStringLiteral("login_hint (the user's shared identifier, 1 to 256 characters) is required"));
    if (!bindingShape.match(claimText(claims, "binding_message")).hasMatch())
        return CibaRefusal {QStringLiteral("invalid_binding_message"),
            QStringLiteral("binding_message must be the number to match, 10 to 99, as decimal digits")};
    if (claims.contains(QLatin1String("requested_expiry")) && !requestedExpiry(claims.value(QLatin1String("requested_expiry"))))
        return refuse(QStringLiteral("requested_expiry must be a positive whole number of seconds"));
    const QJsonValue acr = claims.value(QLatin1String("acr_values"));
    if (!acr.isUndefined() && !acr.isString())
        return refuse(QStringLiteral("acr_values must be a string"));
    if (!acr.toString().isEmpty() && !acr.toString().split(QLatin1Char(' '), Qt::SkipEmptyParts).contains(kAcrPush))
        return CibaRefusal {QStringLiteral("unmet_authentication_requirements"),
            QStringLiteral("this identity provider offers only %1").arg(kAcrPush)};
    return std::nullopt;
}

// A form's fields by name; a field given twice or not in allowed is refused.
tl::expected<QHash<QString, QString>, QHttpServerResponse> formFields(
    const QHttpServerRequest &request, const QStringList &allowed)
{
    auto form = formBody(request);
    if (!form)
        return tl::unexpected(oauthError(QStringLiteral("invalid_request"), form.error().message,
            form.error().code == ErrorCode::TooLarge ? HttpStatus::PayloadTooLarge : HttpStatus::BadRequest));
    QHash<QString, QString> fields;
    for (const auto &[name, value] : std::as_const(*form)) {
        if (fields.contains(name))
            return tl::unexpected(
                oauthError(QStringLiteral("invalid_request"), QStringLiteral("\"%1\" is given twice").arg(name.left(64))));
        if (!allowed.contains(name))
            return tl::unexpected(oauthError(QStringLiteral("invalid_request"),
                QStringLiteral(
                    "\"%1\" is not a parameter of this request (with a signed request, every parameter goes inside it)")
                    .arg(name.left(64))));
        fields.insert(name, value);
    }
    return fields;
}

void reply(const std::shared_ptr<LaterResponder> &responder, QHttpServerResponse response)
{
    response.setHeader("Cache-Control", "no-store");
    responder->write(response);
}

} // namespace

bool IdpService::isCibaGrant(const QHttpServerRequest &request)
{
    auto form = formBody(request);
    if (!form)
        return false;
    for (const auto &[name, value] : std::as_const(*form)) {
        if (name == QLatin1String("grant_type"))
            return value == QLatin1String(kCibaGrantType);
    }
    return false;
}

void IdpService::backchannel(const QHttpServerRequest &request, QHttpServerResponder &&responderIn)
{
    auto responder = std::make_shared<LaterResponder>(std::move(responderIn));
    auto fields = formFields(request, {QStringLiteral("client_id"), QStringLiteral("request")});
    if (!fields)
        return reply(responder, std::move(fields.error()));
    if (fields->value(QStringLiteral("client_id")) != m_context.clientId)
        return reply(responder,
            oauthError(QStringLiteral("invalid_client"), QStringLiteral("unknown client_id"), HttpStatus::Unauthorized));
    const QByteArray requestObject = fields->value(QStringLiteral("request")).toLatin1();
    if (requestObject.isEmpty())
        return reply(responder,
            oauthError(QStringLiteral("invalid_request"),
                QStringLiteral("this identity provider accepts only signed backchannel authentication requests (\"request\")")));
    auto unverified = jose::decodeUnverified(requestObject);
    if (!unverified)
        return reply(responder,
            oauthError(QStringLiteral("invalid_request"),
                QStringLiteral("the request object is damaged: %1").arg(unverified.error().message)));
    clientKeys(unverified->header.kid, [this, responder, requestObject](Result<jose::JwkSet> keys) {
        if (!keys)
            return reply(responder,
                oauthError(QStringLiteral("temporarily_unavailable"),
                    QStringLiteral("the client's keys cannot be read: %1").arg(keys.error().message),
                    HttpStatus::ServiceUnavailable));
        backchannelSigned(responder, requestObject, *keys);
    });
}

void IdpService::backchannelSigned(
    const std::shared_ptr<LaterResponder> &responder, const QByteArray &requestObject, const jose::JwkSet &keys)
{
    const qint64 now = m_context.clock->secondsSinceEpoch();
    jose::JwsVerifyOptions options;
    options.allowed = jose::AlgorithmSet {jose::Algorithm::ES256};
    auto verified = jose::verifyCompact(requestObject, keys, options);
    if (!verified)
        return reply(responder,
            oauthError(QStringLiteral("invalid_request"),
                QStringLiteral("the request object is not signed with ES256 by the client's key (%1)")
                    .arg(verified.error().codeName())));
    auto claims = jose::parseStrictJsonObject(verified->payload);
    if (!claims)
        return reply(responder,
            oauthError(QStringLiteral("invalid_request"),
                QStringLiteral("the request object is damaged: %1").arg(claims.error().message)));
    auto problem = envelopeProblem(*claims, m_context.clientId, issuer(), now);
    if (!problem)
        problem = parametersProblem(*claims);
    if (problem)
        return reply(responder, oauthError(problem->error, problem->description));
    CibaRequest ciba;
    ciba.sharedId = claimText(*claims, "login_hint");
    auto username = spendRequestObject(*claims, ciba.sharedId, now);
    if (!username && username.error().message == QLatin1String("replayed"))
        return reply(
            responder, oauthError(QStringLiteral("invalid_request"), QStringLiteral("this request object was already used")));
    if (!username)
        return reply(
            responder, oauthError(QStringLiteral("server_error"), username.error().message, HttpStatus::InternalServerError));
    if (username->isEmpty())
        return reply(responder,
            oauthError(QStringLiteral("unknown_user_id"), QStringLiteral("login_hint names no user of this identity provider")));
    ciba.username = *username;
    ciba.number = claimText(*claims, "binding_message").toInt();
    ciba.acrValues = claimText(*claims, "acr_values");
    ciba.createdAt = now;
    // The push provider's challenges live at most kPushMaxTtlSeconds: so does the request.
    const qint64 asked = requestedExpiry(claims->value(QLatin1String("requested_expiry"))).value_or(push::kPushMaxTtlSeconds);
    ciba.expiresAt = now + std::min<qint64>(asked, push::kPushMaxTtlSeconds);
    cibaPush(responder, std::move(ciba));
}

void IdpService::cibaPush(const std::shared_ptr<LaterResponder> &responder, CibaRequest ciba)
{
    const QByteArray pushToken = pushClientToken();
    if (!pushEndpointKnown())
        return reply(responder,
            oauthError(QStringLiteral("temporarily_unavailable"), QStringLiteral("no push provider is configured"),
                HttpStatus::ServiceUnavailable));
    // The number to match goes as the challenge's number: the phone asks for it, so approving needs a look at the PC.
    const QJsonObject challenge {{QStringLiteral("user"), ciba.username},
        {QStringLiteral("context"),
            QJsonObject {{QStringLiteral("pc"), QStringLiteral("Hotdesk PC")}, {QStringLiteral("time"), double(ciba.createdAt)}}},
        {QStringLiteral("ttl"), double(ciba.expiresAt - ciba.createdAt)}, {QStringLiteral("number"), ciba.number}};
    m_client->postJson(m_context.endpoints.push.resolved(QUrl(QStringLiteral("/v1/challenges"))), challenge, pushToken,
        [this, responder, ciba](Result<ServiceReply> answer) mutable {
            if (!answer || (answer->status != 201 && answer->status != 404))
                return reply(responder,
                    oauthError(QStringLiteral("temporarily_unavailable"), QStringLiteral("the push provider cannot be reached"),
                        HttpStatus::ServiceUnavailable));
            if (answer->status == 404)
                return reply(
                    responder, oauthError(QStringLiteral("access_denied"), QStringLiteral("no phone is enrolled for this user")));
            ciba.challengeId = answer->body.value(QLatin1String("id")).toString();
            ciba.status = QStringLiteral("pending");
            const QString authReqId = randomToken();
            auto saved = m_context.store->transaction([&](QSqlDatabase &db) -> hotdesk::Status {
                auto r = exec(db,
                    QStringLiteral("INSERT INTO idp_ciba (id_hash, shared_id, username, challenge_id, number, acr_values, status,"
                                   " created_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?)"),
                    {QString::fromLatin1(sha256Hex(authReqId.toLatin1())), ciba.sharedId, ciba.username, ciba.challengeId,
                        ciba.number, ciba.acrValues.isNull() ? QString(QLatin1String("")) : ciba.acrValues, ciba.status,
                        ciba.createdAt, ciba.expiresAt});
                return r ? hotdesk::Status() : hotdesk::Status(tl::unexpected(r.error()));
            });
            if (!saved || ciba.challengeId.isEmpty() || authReqId.isEmpty())
                return reply(responder,
                    oauthError(QStringLiteral("server_error"), QStringLiteral("the request could not be recorded"),
                        HttpStatus::InternalServerError));
            reply(responder,
                jsonResponse(QJsonObject {{QStringLiteral("auth_req_id"), authReqId},
                    {QStringLiteral("expires_in"), double(ciba.expiresAt - ciba.createdAt)},
                    {QStringLiteral("interval"), double(m_context.cibaInterval.count())}}));
        });
}

Result<std::optional<IdpService::CibaRequest>> IdpService::loadCibaRequest(const QString &idHash)
{
    QSqlDatabase db = m_context.store->database();
    auto q = exec(db,
        QStringLiteral("SELECT shared_id, username, challenge_id, number, acr_values, status, created_at, expires_at, auth_time"
                       " FROM idp_ciba WHERE id_hash = ?"),
        {idHash});
    if (!q)
        return tl::unexpected(q.error());
    if (!q->next())
        return std::nullopt;
    CibaRequest ciba;
    ciba.sharedId = q->value(0).toString();
    ciba.username = q->value(1).toString();
    ciba.challengeId = q->value(2).toString();
    ciba.number = q->value(3).toInt();
    ciba.acrValues = q->value(4).toString();
    ciba.status = q->value(5).toString();
    ciba.createdAt = q->value(6).toLongLong();
    ciba.expiresAt = q->value(7).toLongLong();
    ciba.authTime = q->value(8).toLongLong();
    return ciba;
}

std::optional<QHttpServerResponse> IdpService::cibaPacing(const QString &idHash)
{
    CibaPolls &polls = m_cibaPolls[idHash];
    if (polls.intervalSeconds == 0)
        polls.intervalSeconds = m_context.cibaInterval.count();
    const bool tooSoon = polls.last.isValid() && polls.last.elapsed() < polls.intervalSeconds * 1000;
    const bool fault = !polls.faultServed && m_context.hasFault(QStringLiteral("ciba-slow-down"));
    polls.last.start();
    if (!tooSoon && !fault)
        return std::nullopt;
    polls.faultServed = true;
    polls.intervalSeconds += kCibaSlowDownStep;
    return oauthError(QStringLiteral("slow_down"),
        QStringLiteral("polled sooner than the interval; wait at least %1 seconds between polls").arg(polls.intervalSeconds));
}

void IdpService::cibaToken(const QHttpServerRequest &request, QHttpServerResponder &&responderIn)
{
    auto responder = std::make_shared<LaterResponder>(std::move(responderIn));
    auto fields = formFields(request, {QStringLiteral("grant_type"), QStringLiteral("auth_req_id"), QStringLiteral("client_id")});
    if (!fields)
        return reply(responder, std::move(fields.error()));
    if (fields->value(QStringLiteral("client_id")) != m_context.clientId)
        return reply(responder,
            oauthError(QStringLiteral("invalid_client"), QStringLiteral("unknown client_id"), HttpStatus::Unauthorized));
    const QString authReqId = fields->value(QStringLiteral("auth_req_id"));
    if (authReqId.isEmpty() || authReqId.size() > 256)
        return reply(responder, oauthError(QStringLiteral("invalid_request"), QStringLiteral("auth_req_id is required")));
    const QString idHash = QString::fromLatin1(sha256Hex(authReqId.toLatin1()));
    auto ciba = loadCibaRequest(idHash);
    if (!ciba)
        return reply(
            responder, oauthError(QStringLiteral("server_error"), ciba.error().message, HttpStatus::InternalServerError));
    if (!*ciba)
        return reply(responder, oauthError(QStringLiteral("invalid_grant"), QStringLiteral("auth_req_id is not valid")));
    if (auto slowDown = cibaPacing(idHash))
        return reply(responder, std::move(*slowDown));
    cibaOutcome(responder, authReqId, std::move(**ciba));
}

void IdpService::cibaOutcome(const std::shared_ptr<LaterResponder> &responder, const QString &authReqId, CibaRequest ciba)
{
    const qint64 now = m_context.clock->secondsSinceEpoch();
    if (ciba.status != QLatin1String("pending"))
        return reply(responder, cibaFinish(authReqId, ciba, ciba.status));
    if (now >= ciba.expiresAt)
        return reply(responder, cibaFinish(authReqId, ciba, QStringLiteral("expired")));
    const QUrl status = m_context.endpoints.push.resolved(QUrl(QStringLiteral("/v1/challenges/") + ciba.challengeId));
    m_client->getJson(status, pushClientToken(), [this, responder, authReqId, ciba](Result<ServiceReply> answer) {
        const QString decided
            = answer && answer->status == 200 ? answer->body.value(QLatin1String("status")).toString() : QString();
        if (decided == QLatin1String("approved") || decided == QLatin1String("denied") || decided == QLatin1String("expired"))
            return reply(responder, cibaFinish(authReqId, ciba, decided));
        // Still pending, or the push provider did not say: the client polls again.
        reply(responder,
            oauthError(QStringLiteral("authorization_pending"), QStringLiteral("the user has not answered on the phone yet")));
    });
}

QHttpServerResponse IdpService::cibaFinish(const QString &authReqId, const CibaRequest &ciba, const QString &status)
{
    const QString idHash = QString::fromLatin1(sha256Hex(authReqId.toLatin1()));
    const qint64 now = m_context.clock->secondsSinceEpoch();
    // An approval is spent by the one poll that moves it to "done"; every other outcome stays as it is.
    const QString next = status == QLatin1String("approved") ? QStringLiteral("done") : status;
    bool moved = false;
    auto stored = m_context.store->transaction([&](QSqlDatabase &db) -> hotdesk::Status {
        auto r = execClaim(db,
            QStringLiteral("UPDATE idp_ciba SET status = ?, auth_time = COALESCE(auth_time, ?) WHERE id_hash = ? AND status IN "
                           "('pending', ?)"),
            {next, now, idHash, status == QLatin1String("approved") ? QStringLiteral("pending") : status});
        if (!r)
            return tl::unexpected(r.error());
        moved = *r;
        return {};
    });
    if (!stored)
        return oauthError(QStringLiteral("server_error"), stored.error().message, HttpStatus::InternalServerError);
    m_cibaPolls.remove(idHash); // the request has ended: no more pacing to keep
    if (status == QLatin1String("denied"))
        return oauthError(QStringLiteral("access_denied"), QStringLiteral("the user denied the sign-in on the phone"));
    if (status == QLatin1String("expired"))
        return oauthError(QStringLiteral("expired_token"), QStringLiteral("the request expired before the user answered"));
    if (status == QLatin1String("done") || !moved)
        return oauthError(QStringLiteral("invalid_grant"), QStringLiteral("the tokens of this auth_req_id were already issued"));
    Transaction tx;
    tx.sharedId = ciba.sharedId;
    tx.username = ciba.username;
    tx.authTime = now;
    return tokenResponse(tx, now, QJsonObject {{kAuthReqIdClaim, authReqId}});
}

} // namespace hotdesk::stubs::idp

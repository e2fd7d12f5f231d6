// The DAS's enrollment: activations (by an administrator's token or sign-in) and the SPAKE2 exchange.
#include "dasservice.h"
#include "dasservice_p.h"

#include "core/das/enrollment.h"
#include "core/jose/base64url.h"
#include "core/jose/jws.h"
#include "core/oidc/idtokenvalidator.h"

#include <QJsonDocument>

namespace hotdesk::stubs::das {
namespace {

constexpr std::chrono::seconds kActivationLifetime {600};
// How long a started key exchange waits for its confirmation.
constexpr std::chrono::seconds kExchangeLifetime {120};
// An administrator's sign-in (hotdesk enroll without a token): long enough for
// the phone, and a few per user at most, since each one pushes to their phone.
constexpr std::chrono::seconds kSignInLifetime {600};
constexpr std::chrono::seconds kSignInRateWindow {600};
constexpr int kSignInsPerWindow = 5;
constexpr std::chrono::seconds kIdTokenLeeway {60};

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

// What a confirmation clears of the key exchange, whatever its outcome.
const QString kClearExchange
    = QStringLiteral("device_id = NULL, pb = NULL, mac_a = NULL, mac_b = NULL, ke = NULL, exchange_expires_at = NULL");

// The "device_key" of a confirmation: a public EC P-256 key for ES256.
Checked<jose::Jwk> deviceKeyField(const QJsonObject &body)
{
    const QJsonValue keyJson = body.value(QLatin1String("device_key"));
    if (!keyJson.isObject())
        return tl::unexpected(problem(HttpStatus::BadRequest, "malformed-request", "Malformed request",
            QStringLiteral("\"device_key\" must be a JWK object")));
    auto key = jose::Jwk::fromJson(keyJson.toObject());
    if (!key || key->type() != jose::Jwk::Type::Ec || !key->fits(jose::Algorithm::ES256))
        return tl::unexpected(problem(HttpStatus::BadRequest, "invalid-device-key", "Invalid device key",
            key ? QStringLiteral("the device key must be a public EC P-256 key for ES256")
                : QStringLiteral("device_key: %1").arg(key.error().message)));
    return *key;
}

// Each failed confirmation is one online guess at the password: counts it, ends
// the exchange, burns the activation at the limit; the refusal that answers it.
Result<Refusal> failedConfirmation(QSqlDatabase &db, const QString &uid, int failures, bool passwordProven)
{
    const int total = failures + 1;
    const bool locked = total >= hotdesk::das::kMaxConfirmationFailures;
    // Counted in the statement, so guesses sent at once to several DAS processes all count.
    auto r = exec(db,
        QStringLiteral("UPDATE das_activations SET failures = failures + 1,"
                       " status = CASE WHEN failures + 1 >= ? THEN 'locked' ELSE status END, %1"
                       " WHERE service_uid = ? AND status = 'open'")
            .arg(kClearExchange),
        {hotdesk::das::kMaxConfirmationFailures, uid});
    if (!r)
        return tl::unexpected(r.error());
    const QString consequence = locked
        ? QStringLiteral("the activation is now locked; ask the administrator for a new one")
        : QStringLiteral("%1 more failure(s) lock the activation; check the activation and start the key exchange again")
              .arg(hotdesk::das::kMaxConfirmationFailures - total);
    if (!passwordProven)
        return Refusal(problem(HttpStatus::Forbidden, "confirmation-failed", "Key confirmation failed",
            QStringLiteral("mac_a does not match: the activation password differs or the messages were altered; %1")
                .arg(consequence)));
    return Refusal(problem(HttpStatus::Forbidden, "key-confirmation-failed", "Device key not confirmed",
        QStringLiteral("key_mac does not authenticate the device key with the exchanged key; %1").arg(consequence)));
}

} // namespace

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
    const Responder reply = std::make_shared<LaterResponder>(std::move(responder));
    auto body = jsonBody(request);
    if (!body)
        return send(reply, answer(problemFor(body.error())));
    auto user = requireString(*body, "user", 512);
    if (!user)
        return send(reply, answer(problemFor(user.error())));
    auto params = authorizationParams(*body);
    if (!params)
        return send(reply, answer(params.error()));
    auto name = checkedUserName(*user);
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

    if (eligible->known)
        return issueAdminSignIn(reply, *params, *eligible->known);
    // An administrator new to this DAS is registered as any user is (flow 2).
    if (!m_directory)
        return send(reply,
            answer(problem(HttpStatus::ServiceUnavailable, "user-directory-unavailable", "No user directory",
                QStringLiteral("this DAS has no enterprise server or SCIM endpoint to register %1 with; map the user with "
                               "'hotdesk-stubs admin map-user %1 SHARED_ID'")
                    .arg(*name))));
    const qsizetype at = name->indexOf(u'@');
    const UserRegistration registration {
        *name, at > 0 ? name->left(at) : *name, at > 0 ? name->mid(at + 1) : QString(), QString(), QStringLiteral("AD")};
    provisionUser(registration, [this, reply, params = *params](Checked<MappedUser> stored) {
        if (!stored)
            return send(reply, answer(stored.error()));
        issueAdminSignIn(reply, params, *stored);
    });
}

void DasService::issueAdminSignIn(const Responder &reply, const AuthorizationParams &params, const MappedUser &admin)
{
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
            QStringLiteral(
                "SELECT username, shared_id, nonce, status, created_at, expires_at FROM das_admin_sign_ins WHERE id = ?"),
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

    withProviderKeys([this, reply, signInId = *signIn, token = idToken->toLatin1(), pending = *open](Checked<jose::JwkSet> keys) {
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
    auto key = deviceKeyField(*body);
    if (!key)
        return answer(key.error());

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
        if (expectedMacA.isEmpty())
            return refuse<Confirmed>(problem(HttpStatus::Conflict, "spake2-not-started", "No key exchange to confirm",
                QStringLiteral("send pA to /v1/devices/%1/spake2 first").arg(uid)));
        if (now >= exchangeExpiresAt) {
            if (auto r
                = exec(db, QStringLiteral("UPDATE das_activations SET %1 WHERE service_uid = ?").arg(kClearExchange), {uid});
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
            auto refusal = failedConfirmation(db, uid, failures, passwordProven);
            if (!refusal)
                return tl::unexpected(refusal.error());
            return refuse<Confirmed>(std::move(*refusal));
        }
        auto enrolled = enrollDevice(db, uid, deviceId, *key, now);
        if (!enrolled)
            return tl::unexpected(enrolled.error());
        if (!*enrolled)
            return refuse<Confirmed>(enrolled->error());
        return Checked<Confirmed>(Confirmed {macB, deviceId});
    });
    if (!confirmed)
        return answer(confirmed.error());
    return jsonResponse({{QStringLiteral("mac_b"), QString::fromLatin1(jose::base64UrlEncode(confirmed->macB))},
        {QStringLiteral("device_id"), confirmed->deviceId}});
}

Result<Checked<void>> DasService::enrollDevice(
    QSqlDatabase &db, const QString &uid, const QString &deviceId, const jose::Jwk &key, qint64 now)
{
    // Stored with its thumbprint as kid, which device tokens may name (core/das/devicetoken.h).
    const QString thumbprint = QString::fromLatin1(key.thumbprint());
    jose::Jwk stored = key;
    stored.setKid(thumbprint);
    const QString storedJson = QString::fromUtf8(QJsonDocument(stored.toPublicJson()).toJson(QJsonDocument::Compact));
    // Spent only if still open: two confirmations racing in two DAS processes enroll one device.
    auto spent = execClaim(db,
        QStringLiteral("UPDATE das_activations SET status = 'used', used_at = ?, %1 WHERE service_uid = ? AND status = 'open'")
            .arg(kClearExchange),
        {now, uid});
    if (!spent)
        return tl::unexpected(spent.error());
    if (!*spent)
        return refuse<void>(activationSpentMeanwhile());
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
    return Checked<void>();
}

} // namespace hotdesk::stubs::das

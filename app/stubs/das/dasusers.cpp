// The DAS's users and 2FA: user registration (flow 2) and the request objects of POST /v1/2fa-tokens.
#include "dasservice.h"
#include "dasservice_p.h"

#include "core/das/devicetoken.h"
#include "core/jose/jws.h"

#include <QRegularExpression>

namespace hotdesk::stubs::das {
namespace {

QJsonObject userBody(const MappedUser &user)
{
    // The agent needs the shared id: it is the "sub" the ID token must carry.
    return {{QStringLiteral("username"), user.username}, {QStringLiteral("shared_id"), user.sharedId},
        {QStringLiteral("registered"), true}};
}

} // namespace

void DasService::registerUser(const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    const Responder reply = std::make_shared<LaterResponder>(std::move(responder));
    struct Parsed {
        UserRegistration user;
        std::optional<MappedUser> known;
    };
    auto parsed = inTransaction<Parsed>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<Parsed>> {
        auto checked = deviceRequest(db, request);
        if (!checked || !*checked)
            return passOn<Parsed>(checked);
        const DeviceRequest &sent = **checked;
        Parsed out;
        auto username = requireString(sent.body, "username", 256);
        auto domain = optionalString(sent.body, "domain", 253);
        auto sid = optionalString(sent.body, "sid", 184);
        auto type = requireString(sent.body, "type", 16);
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
        auto name = checkedUserName(*username, *domain);
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
        std::make_shared<LaterResponder>(std::move(responder))});
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
    auto name = checkedUserName(*user);
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
    const std::shared_ptr<LaterResponder> &reply, const AuthorizationServer &server, const Result<QByteArray> &jwt)
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

} // namespace hotdesk::stubs::das

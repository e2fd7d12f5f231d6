// push-2FA provider role: phone enrollment, challenges with number matching, signed responses.
#include "pushservice.h"

#include "core/jose/base64url.h"
#include "core/jose/jws.h"
#include "pushprotocol.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>
#include <QSqlQuery>
#include <QTimer>
#include <QUrl>

#include <climits>
#include <cmath>

namespace hotdesk::stubs::push {
namespace {

// Entry i moves the push tables from schema i to i + 1; never edit a shipped entry.
const QList<const char *> kMigrations = {
    "CREATE TABLE push_client (token_hash TEXT PRIMARY KEY, created_at INTEGER NOT NULL);"
    "CREATE TABLE push_phones (user_name TEXT PRIMARY KEY, phone_id TEXT NOT NULL, public_jwk TEXT NOT NULL,"
    " enrolled_at INTEGER NOT NULL);"
    "CREATE TABLE push_challenges (id TEXT PRIMARY KEY, user_name TEXT NOT NULL, number INTEGER NOT NULL,"
    " nonce TEXT NOT NULL, context TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
    " status TEXT NOT NULL, decided_at INTEGER, reason TEXT);"
    "CREATE INDEX push_challenges_by_user ON push_challenges (user_name, status, created_at);",
    // The order of challenges made in the same second: SQLite's rowid served,
    // but PostgreSQL has none. Challenges from before this migration have no
    // sequence number and sort after the numbered ones of their second.
    "ALTER TABLE push_challenges ADD COLUMN seq INTEGER;",
};

constexpr qsizetype kMaxIdLength = 128;
constexpr qsizetype kClientTokenBytes = 32;
constexpr int kClientTokenFileLimit = 1024;

const QString kPending = QStringLiteral("pending");
const QString kApproved = QStringLiteral("approved");
const QString kDenied = QStringLiteral("denied");
const QString kExpired = QStringLiteral("expired");

QHttpServerResponse problem(HttpStatus status, const char *slug, const char *title, const QString &detail)
{
    return problemResponse({status, QLatin1String(slug), QLatin1String(title), detail});
}

QHttpServerResponse badRequest(const QString &detail)
{
    return problem(HttpStatus::BadRequest, "malformed-request", "Malformed request", detail);
}

QHttpServerResponse noPhone(const QString &user)
{
    return problem(HttpStatus::NotFound, "no-phone", "No phone enrolled",
                   QStringLiteral("%1 has no phone enrolled with this push provider; enroll one first").arg(user));
}

QHttpServerResponse unknownChallenge()
{
    return problem(HttpStatus::NotFound, "unknown-challenge", "Unknown challenge",
                   QStringLiteral("no challenge has this id; start the sign-in again"));
}

QHttpServerResponse internalError(const Error &error)
{
    // Database and crypto failures: the client cannot fix them, the log can.
    qWarning("push: %s", qPrintable(error.message));
    return problem(HttpStatus::InternalServerError, "internal", "Internal error",
                   QStringLiteral("the push provider could not complete the request; see its log"));
}

// RFC 6750 §3: a refused bearer request says which scheme would be accepted.
QHttpServerResponse clientRefused(const Problem &refusal)
{
    QHttpServerResponse response = problemResponse(refusal);
    if (refusal.status == HttpStatus::Unauthorized)
        response.setHeader("WWW-Authenticate", "Bearer realm=\"hotdesk-push\"");
    return response;
}

QByteArray sha256Hex(QByteArrayView data)
{
    return QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex();
}

// The "user" member of a request body: present, and a name the push provider accepts.
Result<QString> userField(const QJsonObject &body)
{
    auto user = requireString(body, "user", kPushMaxUserLength);
    if (!user)
        return user;
    if (auto ok = checkPushUser(*user); !ok)
        return tl::unexpected(ok.error());
    return user;
}

// A whole JSON number in [min, max]; nullopt when the member is absent.
Result<std::optional<int>> optionalInteger(const QJsonObject &object, const char *name, int min, int max)
{
    const QJsonValue v = object.value(QLatin1String(name));
    if (v.isUndefined() || v.isNull())
        return std::nullopt;
    const double d = v.toDouble(std::nan(""));
    if (!v.isDouble() || std::floor(d) != d || d < min || d > max)
        return fail(ErrorCode::Malformed,
                    QStringLiteral("\"%1\" must be a whole number from %2 to %3").arg(QLatin1String(name)).arg(min).arg(max));
    return int(d);
}

QString effectiveStatus(const QString &stored, qint64 expiresAt, qint64 now)
{
    return stored == kPending && now >= expiresAt ? kExpired : stored;
}

QString encodedUser(const QString &user)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(user));
}

QString isoTime(qint64 secondsSinceEpoch)
{
    return QDateTime::fromSecsSinceEpoch(secondsSinceEpoch, Qt::UTC).toString(Qt::ISODate);
}

QString escaped(const QString &text)
{
    return text.toHtmlEscaped();
}

// A complete page of the phone simulator. The policy allows no script at all
// and posting only back to this origin: the page works without JavaScript.
QHttpServerResponse htmlPage(const QString &title, const QString &body, HttpStatus status = HttpStatus::Ok)
{
    QString html = QStringLiteral("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    html += escaped(title);
    html += QStringLiteral(
        "</title>\n<style>\n"
        "body{font-family:system-ui,sans-serif;max-width:32rem;margin:1rem auto;padding:0 1rem;line-height:1.5}\n"
        "section{border:1px solid #666;border-radius:.5rem;padding:0 1rem 1rem;margin:1rem 0}\n"
        "input{font-size:1.5rem;width:4ch;padding:.25rem}\n"
        "button{font-size:1rem;padding:.5rem 1rem;margin:.5rem .5rem 0 0}\n"
        ":focus-visible{outline:3px solid #1a5fb4;outline-offset:2px}\n"
        "</style>\n</head>\n<body>\n<main>\n");
    html += body;
    html += QStringLiteral("</main>\n</body>\n</html>\n");
    QHttpServerResponse response("text/html; charset=utf-8", html.toUtf8(), status);
    response.setHeader("Cache-Control", "no-store");
    response.setHeader(
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    return response;
}

QString backLink(const QString &user)
{
    return QStringLiteral("<p><a href=\"/phone/%1\">Back to the phone of %2</a></p>\n")
        .arg(escaped(encodedUser(user)), escaped(user));
}

// The id of the phone enrolled for user, or nothing when there is none. A
// name the push protocol does not allow is Malformed (lookupFailed: 400).
Result<std::optional<QString>> enrolledPhone(QSqlDatabase &db, const QString &user)
{
    if (auto ok = checkPushUser(user); !ok)
        return tl::unexpected(ok.error());
    auto q = exec(db, QStringLiteral("SELECT phone_id FROM push_phones WHERE user_name = ?"), {user});
    if (!q)
        return tl::unexpected(q.error());
    if (!q->next())
        return std::optional<QString>();
    return std::optional<QString>(q->value(0).toString());
}

// The answer to a failed enrolledPhone: the client's mistake or the server's.
QHttpServerResponse lookupFailed(const Error &error)
{
    return error.code == ErrorCode::Malformed ? badRequest(error.message) : internalError(error);
}

// The user's challenges still waiting for an answer, newest first: id, nonce, context, expires_at.
Result<Query> pendingChallengesOf(QSqlDatabase &db, const QString &user, qint64 now)
{
    return exec(db,
        QStringLiteral("SELECT id, nonce, context, expires_at FROM push_challenges WHERE user_name = ? AND status = ?"
                       " AND expires_at > ? ORDER BY created_at DESC, seq DESC NULLS LAST"),
        {user, kPending, now});
}

} // namespace

PushService::PushService(StubsContext &context, QObject *parent)
    : HttpService(QStringLiteral("push"), parent)
    , m_context(context)
{
    using Method = QHttpServerRequest::Method;
    server().route(QStringLiteral("/v1/enroll"), Method::Post,
                   [this](const QHttpServerRequest &request) { return enroll(request); });
    server().route(QStringLiteral("/v1/challenges"), Method::Post,
                   [this](const QHttpServerRequest &request) { return createChallenge(request); });
    server().route(QStringLiteral("/v1/challenges/<arg>"), Method::Get,
                   [this](const QString &id, const QHttpServerRequest &request) { return challengeStatus(id, request); });
    server().route(QStringLiteral("/v1/challenges/<arg>/response"), Method::Post,
                   [this](const QString &id, const QHttpServerRequest &request) { return response(id, request); });
    server().route(QStringLiteral("/v1/phones/<arg>/challenges"), Method::Get,
                   [this](const QString &user) { return pendingChallenges(user); });
    server().route(QStringLiteral("/phone/<arg>"), Method::Get, [this](const QString &user) { return phonePage(user); });
    server().route(QStringLiteral("/phone/<arg>/answer"), Method::Post,
                   [this](const QString &user, const QHttpServerRequest &request) { return phoneAnswer(user, request); });
}

QString PushService::clientTokenPath(const QString &dataDir)
{
    return QDir(dataDir).filePath(QStringLiteral("push-client-token"));
}

Result<QByteArray> PushService::readClientToken(const QString &dataDir)
{
    const QString path = clientTokenPath(dataDir);
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(
            ErrorCode::Io,
            QStringLiteral(
                "cannot read the push client token %1 (%2); start the push provider on this data directory once to create it")
                .arg(path, file.errorString()));
    const QByteArray token = file.read(kClientTokenFileLimit).trimmed();
    auto raw = jose::base64UrlDecode(token);
    if (!raw || raw->size() != kClientTokenBytes)
        return fail(ErrorCode::Malformed,
                    QStringLiteral("%1 does not hold a push client token; delete it and restart the push provider").arg(path));
    return token;
}

Status PushService::prepare()
{
    if (auto ok = m_context.store->migrate(QStringLiteral("push"), kMigrations); !ok)
        return ok;
    const QString path = clientTokenPath(m_context.dataDir);
    if (!QFile::exists(path)) {
        auto token = randomUrlSafeString(m_random, kClientTokenBytes);
        if (!token)
            return tl::unexpected(token.error());
        QSaveFile file(path);
        if (!file.open(QIODevice::WriteOnly))
            return fail(ErrorCode::Io, QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
        // Owner-only before the secret is written into the file.
        file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        file.write(*token);
        if (!file.commit())
            return fail(ErrorCode::Io, QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    }
    // The database keeps only the hash; the file is what the IdP reads. An
    // administrator who replaces the file gets the new token accepted on restart.
    auto token = readClientToken(m_context.dataDir);
    if (!token)
        return tl::unexpected(token.error());
    return m_context.store->transaction([&](QSqlDatabase &db) -> Status {
        if (auto r = exec(db, QStringLiteral("DELETE FROM push_client")); !r)
            return tl::unexpected(r.error());
        if (auto r = exec(db, QStringLiteral("INSERT INTO push_client (token_hash, created_at) VALUES (?, ?)"),
                          {QString::fromLatin1(sha256Hex(*token)), now()});
            !r)
            return tl::unexpected(r.error());
        return {};
    });
}

std::optional<Problem> PushService::checkClient(const QHttpServerRequest &request)
{
    const QByteArray token = authorization(request, "Bearer");
    const QString hint
        = QStringLiteral("send \"Authorization: Bearer\" with the token in %1").arg(clientTokenPath(m_context.dataDir));
    if (token.isEmpty())
        return Problem{HttpStatus::Unauthorized, QStringLiteral("unauthorized"), QStringLiteral("Client authentication required"),
                       hint};
    QSqlDatabase db = m_context.store->database();
    auto q = exec(db, QStringLiteral("SELECT 1 FROM push_client WHERE token_hash = ?"), {QString::fromLatin1(sha256Hex(token))});
    if (!q)
        return problemFor(q.error());
    if (!q->next())
        return Problem{HttpStatus::Unauthorized, QStringLiteral("unauthorized"), QStringLiteral("Unknown client"),
                       QStringLiteral("the bearer token is not this push provider's client token; ") + hint};
    return std::nullopt;
}

QHttpServerResponse PushService::enroll(const QHttpServerRequest &request)
{
    auto body = jsonBody(request);
    if (!body)
        return problemResponse(problemFor(body.error()));
    auto user = userField(*body);
    if (!user)
        return badRequest(user.error().message);
    const QJsonValue jwk = body->value(QLatin1String("public_key"));
    if (!jwk.isObject())
        return badRequest(QStringLiteral("\"public_key\" must be the phone's public key as a JWK object"));
    // Public members only: a phone never hands its private key to anyone.
    auto key = jose::Jwk::fromJson(jwk.toObject());
    if (!key)
        return problem(HttpStatus::BadRequest, "invalid-key", "Unusable phone key", key.error().message);
    if (key->type() != jose::Jwk::Type::Ec || key->curve() != QLatin1String("P-256") || !key->fits(jose::Algorithm::ES256))
        return problem(HttpStatus::BadRequest, "invalid-key", "Unusable phone key",
                       QStringLiteral("the phone key must be an EC P-256 key for ES256"));
    const QString phoneId = QString::fromLatin1(key->thumbprint());
    const QString publicJwk = QString::fromUtf8(QJsonDocument(key->toPublicJson()).toJson(QJsonDocument::Compact));
    auto done = m_context.store->transaction([&](QSqlDatabase &db) -> Status {
        // Enrolling again replaces the key: a reinstalled or new phone.
        auto r = exec(db,
                      QStringLiteral("INSERT INTO push_phones (user_name, phone_id, public_jwk, enrolled_at) VALUES (?, ?, ?, ?)"
                                     " ON CONFLICT (user_name) DO UPDATE SET phone_id = excluded.phone_id,"
                                     " public_jwk = excluded.public_jwk, enrolled_at = excluded.enrolled_at"),
                      {*user, phoneId, publicJwk, now()});
        if (!r)
            return tl::unexpected(r.error());
        return {};
    });
    if (!done)
        return internalError(done.error());
    return jsonResponse({{QStringLiteral("user"), *user}, {QStringLiteral("phone_id"), phoneId}}, HttpStatus::Created);
}

QHttpServerResponse PushService::createChallenge(const QHttpServerRequest &request)
{
    if (auto refused = checkClient(request))
        return clientRefused(*refused);
    auto body = jsonBody(request);
    if (!body)
        return problemResponse(problemFor(body.error()));
    auto user = userField(*body);
    if (!user)
        return badRequest(user.error().message);
    const QJsonValue contextValue = body->value(QLatin1String("context"));
    const QString contextRule = QStringLiteral("\"context\" must be an object with \"pc\" (a string) and \"time\" (a number)");
    if (!contextValue.isObject())
        return badRequest(contextRule);
    const QJsonObject context = contextValue.toObject();
    auto pc = requireString(context, "pc", 256);
    if (!pc || !context.value(QLatin1String("time")).isDouble())
        return badRequest(contextRule);
    auto ttl = optionalInteger(*body, "ttl", 1, kPushMaxTtlSeconds);
    if (!ttl)
        return badRequest(ttl.error().message);

    auto id = randomUrlSafeString(m_random, 16);
    auto nonce = randomUrlSafeString(m_random, 32);
    // A requester that already showed a number at the PC (an OpenID CIBA
    // binding_message, docs/ciba.md) names it; otherwise a fresh one is drawn.
    auto requested = optionalInteger(*body, "number", 10, 99);
    if (!requested)
        return badRequest(requested.error().message);
    auto number = *requested ? Result<int>(**requested) : randomTwoDigitNumber(m_random);
    if (!id || !nonce || !number)
        return internalError(!id ? id.error() : !nonce ? nonce.error() : number.error());
    const qint64 createdAt = now();
    const qint64 expiresAt = createdAt + ttl->value_or(kPushMaxTtlSeconds);

    bool phoneMissing = false;
    QString phoneId;
    auto done = m_context.store->transaction([&](QSqlDatabase &db) -> Status {
        auto enrolled = enrolledPhone(db, *user);
        if (!enrolled)
            return tl::unexpected(enrolled.error());
        if (*enrolled) {
            phoneId = **enrolled;
        } else if (m_context.autoApprove) {
            // Demos and tests need no enrollment step: the simulated phone appears on first use.
            auto key = loadOrCreatePhoneKey(m_context.dataDir, *user);
            if (!key)
                return tl::unexpected(key.error());
            phoneId = QString::fromLatin1(key->thumbprint());
            auto r = exec(
                db, QStringLiteral("INSERT INTO push_phones (user_name, phone_id, public_jwk, enrolled_at) VALUES (?, ?, ?, ?)"),
                {*user, phoneId, QString::fromUtf8(QJsonDocument(key->toPublicJson()).toJson(QJsonDocument::Compact)),
                 createdAt});
            if (!r)
                return tl::unexpected(r.error());
        } else {
            phoneMissing = true;
            return {};
        }
        auto r = exec(db,
            QStringLiteral(
                "INSERT INTO push_challenges (id, user_name, number, nonce, context, created_at, expires_at, status, seq)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM push_challenges))"),
            {QString::fromLatin1(*id), *user, *number, QString::fromLatin1(*nonce),
                QString::fromUtf8(QJsonDocument(context).toJson(QJsonDocument::Compact)), createdAt, expiresAt, kPending});
        if (!r)
            return tl::unexpected(r.error());
        return {};
    });
    if (!done)
        return internalError(done.error());
    if (phoneMissing)
        return noPhone(*user);

    // Only a phone whose private key this process holds can be played; a real
    // phone enrolled for the same user keeps deciding for itself.
    if (m_context.autoApprove && hasSimulatedPhone(*user, phoneId)) {
        const QString challengeId = QString::fromLatin1(*id);
        QTimer::singleShot(*m_context.autoApprove, this, [this, challengeId] { autoApprove(challengeId); });
    }
    return jsonResponse({{QStringLiteral("id"), QString::fromLatin1(*id)},
                         {QStringLiteral("number"), *number},
                         {QStringLiteral("nonce"), QString::fromLatin1(*nonce)},
                         {QStringLiteral("expires_at"), expiresAt}},
                        HttpStatus::Created);
}

QHttpServerResponse PushService::challengeStatus(const QString &id, const QHttpServerRequest &request)
{
    if (auto refused = checkClient(request))
        return clientRefused(*refused);
    if (id.size() > kMaxIdLength)
        return unknownChallenge();
    QSqlDatabase db = m_context.store->database();
    auto q = exec(db, QStringLiteral("SELECT user_name, status, expires_at, decided_at FROM push_challenges WHERE id = ?"), {id});
    if (!q)
        return internalError(q.error());
    if (!q->next())
        return unknownChallenge();
    const qint64 expiresAt = q->value(2).toLongLong();
    QJsonObject out{{QStringLiteral("id"), id},
                    {QStringLiteral("user"), q->value(0).toString()},
                    {QStringLiteral("status"), effectiveStatus(q->value(1).toString(), expiresAt, now())},
                    {QStringLiteral("expires_at"), expiresAt}};
    if (!q->value(3).isNull())
        out.insert(QStringLiteral("decided_at"), q->value(3).toLongLong());
    return jsonResponse(out);
}

QHttpServerResponse PushService::pendingChallenges(const QString &user)
{
    QSqlDatabase db = m_context.store->database();
    auto phone = enrolledPhone(db, user);
    if (!phone)
        return lookupFailed(phone.error());
    if (!*phone)
        return noPhone(user);
    // Never the number: the user reads it off the PC screen and types it.
    auto q = pendingChallengesOf(db, user, now());
    if (!q)
        return internalError(q.error());
    QJsonArray challenges;
    while (q->next()) {
        challenges.append(QJsonObject{{QStringLiteral("id"), q->value(0).toString()},
                                      {QStringLiteral("nonce"), q->value(1).toString()},
                                      {QStringLiteral("context"), QJsonDocument::fromJson(q->value(2).toByteArray()).object()},
                                      {QStringLiteral("expires_at"), q->value(3).toLongLong()}});
    }
    return jsonResponse({{QStringLiteral("challenges"), challenges}});
}

QHttpServerResponse PushService::response(const QString &id, const QHttpServerRequest &request)
{
    auto body = jsonBody(request);
    if (!body)
        return problemResponse(problemFor(body.error()));
    auto decision = requireString(*body, "decision", 16);
    if (!decision)
        return badRequest(decision.error().message);
    const bool approve = *decision == QLatin1String(kDecisionApprove);
    if (!approve && *decision != QLatin1String(kDecisionDeny))
        return badRequest(QStringLiteral("\"decision\" must be \"approve\" or \"deny\""));
    auto number = optionalInteger(*body, "number", 0, INT_MAX);
    if (!number)
        return badRequest(number.error().message);
    if (approve && !*number)
        return badRequest(QStringLiteral("an approval must carry the \"number\" shown on the PC"));
    auto signature = requireString(*body, "signature", 512);
    if (!signature)
        return badRequest(signature.error().message);
    auto rawSignature = jose::base64UrlDecode(signature->toLatin1());
    if (!rawSignature)
        return badRequest(QStringLiteral("\"signature\" is not base64url: ") + rawSignature.error().message);
    if (id.size() > kMaxIdLength)
        return unknownChallenge();

    auto verdict = decide(id, {*decision, *number, *rawSignature});
    if (!verdict)
        return internalError(verdict.error());
    switch (*verdict) {
    case Verdict::Approved:
        return jsonResponse({{QStringLiteral("status"), kApproved}});
    case Verdict::Denied:
        return jsonResponse({{QStringLiteral("status"), kDenied}});
    case Verdict::NumberMismatch:
        return problem(
            HttpStatus::Forbidden, "number-mismatch", "Wrong number",
            QStringLiteral("the number is not the one shown on the PC, so the challenge is now denied; start the sign-in again"));
    case Verdict::BadSignature:
        return problem(
            HttpStatus::Forbidden, "bad-signature", "Bad signature",
            QStringLiteral(
                "the signature does not verify with the phone key enrolled for this user; the challenge stays pending"));
    case Verdict::AlreadyDecided:
        return problem(HttpStatus::Conflict, "already-decided", "Already decided",
                       QStringLiteral("this challenge was already answered"));
    case Verdict::Expired:
        return problem(HttpStatus::Gone, "expired", "Challenge expired",
                       QStringLiteral("the challenge expired before the answer arrived; start the sign-in again"));
    case Verdict::Unknown:
        break;
    }
    return unknownChallenge();
}

Result<PushService::Verdict> PushService::decide(const QString &id, const PhoneResponse &answer)
{
    Verdict verdict = Verdict::Unknown;
    const qint64 at = now();
    auto done = m_context.store->transaction([&](QSqlDatabase &db) -> Status {
        auto q = exec(db,
                      QStringLiteral("SELECT c.nonce, c.number, c.expires_at, c.status, p.public_jwk FROM push_challenges c"
                                     " LEFT JOIN push_phones p ON p.user_name = c.user_name WHERE c.id = ?"),
                      {id});
        if (!q)
            return tl::unexpected(q.error());
        if (!q->next())
            return {};
        const QString nonce = q->value(0).toString();
        const int number = q->value(1).toInt();
        if (q->value(3).toString() != kPending) {
            verdict = Verdict::AlreadyDecided;
            return {};
        }
        if (at >= q->value(2).toLongLong()) {
            verdict = Verdict::Expired;
            return {};
        }
        // The signature comes first: only the enrolled phone may spend the
        // challenge, so nobody else can deny it by guessing a wrong number.
        auto key = jose::Jwk::fromJson(q->value(4).toByteArray());
        if (!key || !key->fits(jose::Algorithm::ES256)
            || !jose::verifySignature(*key, jose::Algorithm::ES256, pushSigningInput(id, nonce, answer.decision, answer.number),
                                      answer.signature)) {
            verdict = Verdict::BadSignature;
            return {};
        }
        QString status = kDenied;
        QString reason = kDenied;
        verdict = Verdict::Denied;
        if (answer.decision == QLatin1String(kDecisionApprove)) {
            // One guess only: a wrong number is taken as a denial.
            if (answer.number == number) {
                status = reason = kApproved;
                verdict = Verdict::Approved;
            } else {
                reason = QStringLiteral("number-mismatch");
                verdict = Verdict::NumberMismatch;
            }
        }
        auto r = exec(
            db, QStringLiteral("UPDATE push_challenges SET status = ?, decided_at = ?, reason = ? WHERE id = ? AND status = ?"),
            {status, at, reason, id, kPending});
        if (!r)
            return tl::unexpected(r.error());
        // Another process sharing the database answered first.
        if (r->numRowsAffected() != 1)
            verdict = Verdict::AlreadyDecided;
        return {};
    });
    if (!done)
        return tl::unexpected(done.error());
    return verdict;
}

bool PushService::hasSimulatedPhone(const QString &user, const QString &phoneId) const
{
    auto key = loadPhoneKey(m_context.dataDir, user);
    return key && QString::fromLatin1(key->thumbprint()) == phoneId;
}

Result<PushService::PhoneResponse> PushService::simulatedAnswer(const QString &user, const QString &id, const QString &decision,
                                                                std::optional<int> number)
{
    auto key = loadPhoneKey(m_context.dataDir, user);
    if (!key)
        return tl::unexpected(key.error());
    QSqlDatabase db = m_context.store->database();
    auto q = exec(db, QStringLiteral("SELECT nonce FROM push_challenges WHERE id = ?"), {id});
    if (!q)
        return tl::unexpected(q.error());
    if (!q->next())
        return fail(ErrorCode::Malformed, QStringLiteral("no challenge has the id %1").arg(id));
    auto signature
        = jose::createSignature(*key, jose::Algorithm::ES256, pushSigningInput(id, q->value(0).toString(), decision, number));
    if (!signature)
        return tl::unexpected(signature.error());
    return PhoneResponse{decision, number, *signature};
}

void PushService::autoApprove(const QString &id)
{
    QSqlDatabase db = m_context.store->database();
    auto q = exec(db, QStringLiteral("SELECT user_name, number FROM push_challenges WHERE id = ?"), {id});
    if (!q || !q->next()) {
        qWarning("push: auto-approve: challenge %s is gone", qPrintable(id));
        return;
    }
    const QString user = q->value(0).toString();
    const int number = q->value(1).toInt();
    q->finish();
    // The simulated user reads the number correctly and the phone signs, so
    // this goes through exactly the checks a real phone's answer meets.
    auto answer = simulatedAnswer(user, id, QLatin1String(kDecisionApprove), number);
    if (!answer) {
        qWarning("push: auto-approve of %s for %s: %s", qPrintable(id), qPrintable(user), qPrintable(answer.error().message));
        return;
    }
    auto verdict = decide(id, *answer);
    if (!verdict)
        qWarning("push: auto-approve of %s: %s", qPrintable(id), qPrintable(verdict.error().message));
    else if (*verdict != Verdict::Approved)
        qWarning("push: auto-approve of %s was not accepted (answered or expired already)", qPrintable(id));
}

QHttpServerResponse PushService::phonePage(const QString &user)
{
    QSqlDatabase db = m_context.store->database();
    auto phone = enrolledPhone(db, user);
    if (!phone)
        return lookupFailed(phone.error());
    const QString title = QStringLiteral("Phone of %1").arg(user);
    if (!*phone) {
        return htmlPage(
            title,
            QStringLiteral("<h1>No phone for %1</h1>\n<p>%1 has no phone enrolled with this push provider. "
                           "Enroll a simulated one with <code>hotdesk-stubs phone enroll %1</code>, then reload this page.</p>\n")
                .arg(escaped(user)),
            HttpStatus::NotFound);
    }
    const bool simulated = hasSimulatedPhone(user, **phone);
    auto q = pendingChallengesOf(db, user, now());
    if (!q)
        return internalError(q.error());

    QString body = QStringLiteral("<h1>Phone of %1</h1>\n").arg(escaped(user));
    if (!simulated) {
        body += QStringLiteral(
                    "<p role=\"alert\">The phone enrolled for %1 is not a simulated phone of this data directory, so this page "
                    "cannot answer for it. Run <code>hotdesk-stubs phone enroll %1</code> to replace it with one.</p>\n")
                    .arg(escaped(user));
    }
    const QString action = QStringLiteral("/phone/%1/answer").arg(encodedUser(user));
    int count = 0;
    while (q->next()) {
        ++count;
        const QString id = q->value(0).toString();
        const QJsonObject context = QJsonDocument::fromJson(q->value(2).toByteArray()).object();
        const QString pc = context.value(QLatin1String("pc")).toString();
        const QJsonValue time = context.value(QLatin1String("time"));
        const QString heading = QStringLiteral("h-") + id;
        const QString input = QStringLiteral("n-") + id;
        const QString hint = QStringLiteral("d-") + id;
        body += QStringLiteral("<section aria-labelledby=\"%1\">\n<h2 id=\"%1\">Sign-in on %2</h2>\n<dl>\n")
                    .arg(escaped(heading), escaped(pc));
        // Within ±3000 years of 1970, so the conversion to an integer is defined.
        if (time.isDouble() && std::abs(time.toDouble()) < 1e11)
            body += QStringLiteral("<dt>Requested</dt><dd>%1</dd>\n").arg(isoTime(qint64(time.toDouble())));
        // Anything else the IdP put in the context, as text.
        for (auto it = context.constBegin(); it != context.constEnd(); ++it) {
            if (it.key() == QLatin1String("pc") || it.key() == QLatin1String("time"))
                continue;
            // Non-strings as compact JSON; QJsonDocument writes only containers, hence the one-element array.
            const QString value = it->isString()
                ? it->toString()
                : QString::fromUtf8(QJsonDocument(QJsonArray{*it}).toJson(QJsonDocument::Compact).chopped(1).mid(1));
            body += QStringLiteral("<dt>%1</dt><dd>%2</dd>\n").arg(escaped(it.key()), escaped(value));
        }
        body += QStringLiteral("<dt>Expires</dt><dd>%1</dd>\n</dl>\n").arg(isoTime(q->value(3).toLongLong()));
        body += QStringLiteral("<form method=\"post\" action=\"%1\">\n<input type=\"hidden\" name=\"id\" value=\"%2\">\n"
                               "<p><label for=\"%3\">Number shown on the PC</label><br>\n"
                               "<input id=\"%3\" name=\"number\" inputmode=\"numeric\" pattern=\"[0-9]{2}\" maxlength=\"2\" "
                               "autocomplete=\"off\" required aria-describedby=\"%4\"></p>\n"
                               "<p id=\"%4\">Approve only if you started this sign-in and the number matches.</p>\n"
                               "<button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>\n"
                               "<button type=\"submit\" name=\"decision\" value=\"deny\" formnovalidate>Deny</button>\n"
                               "</form>\n</section>\n")
                    .arg(escaped(action), escaped(id), escaped(input), escaped(hint));
    }
    if (count == 0) {
        body += QStringLiteral("<p role=\"status\">No sign-in is waiting for approval. When the PC shows a number, "
                               "<a href=\"/phone/%1\">reload this page</a>.</p>\n")
                    .arg(escaped(encodedUser(user)));
    }
    body += QStringLiteral("<p><small>Simulated phone of the Hotdesk companion servers: it signs with the key in the server's "
                           "data directory. Never use it for a real account.</small></p>\n");
    return htmlPage(title, body);
}

QHttpServerResponse PushService::phoneAnswer(const QString &user, const QHttpServerRequest &request)
{
    if (auto ok = checkPushUser(user); !ok)
        return badRequest(ok.error().message);
    auto form = formBody(request);
    if (!form)
        return problemResponse(problemFor(form.error()));
    QString id, decision, numberText;
    for (const auto &[name, value] : std::as_const(*form)) {
        if (name == QLatin1String("id"))
            id = value;
        else if (name == QLatin1String("decision"))
            decision = value;
        else if (name == QLatin1String("number"))
            numberText = value.trimmed();
    }
    const bool approve = decision == QLatin1String(kDecisionApprove);
    if (id.isEmpty() || id.size() > kMaxIdLength || (!approve && decision != QLatin1String(kDecisionDeny)))
        return badRequest(QStringLiteral("the form needs \"id\" and \"decision\" (approve or deny)"));
    const QString title = QStringLiteral("Phone of %1").arg(user);
    auto page = [&](const QString &heading, const QString &text, HttpStatus status) {
        return htmlPage(title,
                        QStringLiteral("<h1>%1</h1>\n<p role=\"status\">%2</p>\n").arg(escaped(heading), escaped(text))
                            + backLink(user),
                        status);
    };

    std::optional<int> number;
    if (approve) {
        bool ok = false;
        const int n = numberText.toInt(&ok);
        if (!ok || numberText.size() > 2 || n < 0) {
            return page(QStringLiteral("Number needed"),
                        QStringLiteral("Type the two-digit number shown on the PC, then choose Approve."),
                        HttpStatus::BadRequest);
        }
        number = n;
    }
    // The form may only answer this user's own challenges.
    QSqlDatabase db = m_context.store->database();
    auto owner = exec(db, QStringLiteral("SELECT user_name FROM push_challenges WHERE id = ?"), {id});
    if (!owner)
        return internalError(owner.error());
    if (!owner->next() || owner->value(0).toString() != user)
        return page(QStringLiteral("No such sign-in"),
                    QStringLiteral("This sign-in request does not exist for this user. Start the sign-in again on the PC."),
                    HttpStatus::NotFound);
    owner->finish();
    auto answer = simulatedAnswer(user, id, decision, number);
    if (!answer)
        return page(QStringLiteral("Not a simulated phone"), answer.error().message, HttpStatus::Conflict);
    auto verdict = decide(id, *answer);
    if (!verdict)
        return internalError(verdict.error());
    switch (*verdict) {
    case Verdict::Approved:
        return page(QStringLiteral("Approved"), QStringLiteral("The sign-in is approved; the PC continues."), HttpStatus::Ok);
    case Verdict::Denied:
        return page(QStringLiteral("Denied"), QStringLiteral("The sign-in is denied; the PC shows that it was refused."),
                    HttpStatus::Ok);
    case Verdict::NumberMismatch:
        return page(
            QStringLiteral("Wrong number"),
            QStringLiteral("The number is not the one on the PC, so this sign-in was denied. Start the sign-in again on the PC."),
            HttpStatus::Forbidden);
    case Verdict::BadSignature:
        return page(
            QStringLiteral("Key mismatch"),
            QStringLiteral("The simulated phone's key is not the one enrolled for this user. Run 'hotdesk-stubs phone enroll' "
                           "for the user again."),
            HttpStatus::Forbidden);
    case Verdict::AlreadyDecided:
        return page(QStringLiteral("Already answered"), QStringLiteral("This sign-in request was already answered."),
                    HttpStatus::Conflict);
    case Verdict::Expired:
        return page(QStringLiteral("Expired"), QStringLiteral("This sign-in request expired. Start the sign-in again on the PC."),
                    HttpStatus::Gone);
    case Verdict::Unknown:
        break;
    }
    return page(QStringLiteral("No such sign-in"),
                QStringLiteral("This sign-in request does not exist. Start the sign-in again on the PC."), HttpStatus::NotFound);
}

} // namespace hotdesk::stubs::push

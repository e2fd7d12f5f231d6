// The push-2FA provider and the phone simulator: enrollment, number matching, signed single-use answers, expiry, bad input.
#include "app/stubs/push/pushprotocol.h"
#include "app/stubs/push/pushservice.h"
#include "core/jose/base64url.h"
#include "core/jose/jws.h"
#include "fakeclock.h"
#include "httpsclient.h"
#include "rolehost.h"

#include <QDir>
#include <QEventLoop>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <memory>
#include <optional>

using namespace hotdesk;
using namespace hotdesk::test;
using namespace std::chrono_literals;

namespace {

constexpr qint64 kNow = 1'767'225'600;

QJsonObject json(const QByteArray &body)
{
    return QJsonDocument::fromJson(body).object();
}

QString problemType(const HttpResult &r)
{
    return json(r.body).value(QLatin1String("type")).toString();
}

QString urnFor(const char *slug)
{
    return QStringLiteral("urn:hotdesk:problem:") + QLatin1String(slug);
}

// Written out here rather than taken from pushprotocol.h, so that a change of
// the wire format breaks this test instead of silently following it.
QByteArray signingInput(const QString &id, const QString &nonce, const QString &decision, std::optional<int> number)
{
    QByteArray input = "hotdesk-push-v1\n" + id.toUtf8() + "\n" + nonce.toUtf8() + "\n" + decision.toUtf8() + "\n";
    if (number)
        input += QByteArray::number(*number);
    return input;
}

QString sign(const jose::Jwk &key, const QString &id, const QString &nonce, const QString &decision, std::optional<int> number)
{
    auto sig = jose::createSignature(key, jose::Algorithm::ES256, signingInput(id, nonce, decision, number));
    if (!sig)
        qFatal("signing failed: %s", qPrintable(sig.error().message));
    return QString::fromLatin1(jose::base64UrlEncode(*sig));
}

jose::Jwk newPhoneKey()
{
    auto key = jose::Jwk::generate(jose::Algorithm::ES256);
    if (!key)
        qFatal("key generation failed: %s", qPrintable(key.error().message));
    return *key;
}

QString pathUser(const QString &user)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(user));
}

struct Challenge {
    QString id;
    int number = 0;
    QString nonce;
    qint64 expiresAt = 0;
};

// One push provider on loopback with a fake clock, and a client for it.
class Fixture {
    // First, so that it outlives the server that keeps its database open.
    QTemporaryDir m_dir;

public:
    explicit Fixture(std::optional<std::chrono::milliseconds> autoApprove = std::nullopt)
    {
        stubs::HostOptions options;
        options.dataDir = m_dir.path();
        options.clock = &clock;
        options.autoApprove = autoApprove;
        auto started = startRoles<stubs::push::PushService>(options);
        if (!started) {
            error = started.error().message;
            return;
        }
        server = std::move(*started);
        client = std::make_unique<HttpsClient>(server->caFile());
        auto read = stubs::push::PushService::readClientToken(m_dir.path());
        if (!read)
            error = read.error().message;
        else
            token = *read;
    }

    bool ok() const { return server && error.isEmpty(); }
    QString dataDir() const { return m_dir.path(); }
    QUrl url(const QString &path) const
    {
        QUrl u = server->endpoints().push;
        u.setPath(path, QUrl::StrictMode);
        return u;
    }

    HttpResult get(const QString &path, const QByteArray &bearer = {})
    {
        return client->send(url(path), "GET", {}, {}, bearerHeader(bearer));
    }
    HttpResult post(const QString &path, const QByteArray &body, const QByteArray &contentType = "application/json",
                    const QByteArray &bearer = {})
    {
        return client->send(url(path), "POST", body, contentType, bearerHeader(bearer));
    }
    HttpResult postJson(const QString &path, const QJsonObject &body, const QByteArray &bearer = {})
    {
        return post(path, QJsonDocument(body).toJson(QJsonDocument::Compact), "application/json", bearer);
    }

    HttpResult enroll(const QString &user, const jose::Jwk &key)
    {
        return postJson(QStringLiteral("/v1/enroll"),
                        {{QStringLiteral("user"), user}, {QStringLiteral("public_key"), key.toPublicJson()}});
    }

    HttpResult requestChallenge(const QString &user, std::optional<int> ttl = std::nullopt,
                                const QString &pc = QStringLiteral("desk-7"))
    {
        QJsonObject body{{QStringLiteral("user"), user},
                         {QStringLiteral("context"), QJsonObject{{QStringLiteral("pc"), pc}, {QStringLiteral("time"), kNow}}}};
        if (ttl)
            body.insert(QStringLiteral("ttl"), *ttl);
        return postJson(QStringLiteral("/v1/challenges"), body, token);
    }

    // A new challenge for user; id is empty when the provider refused it.
    Challenge challenge(const QString &user, std::optional<int> ttl = std::nullopt)
    {
        const HttpResult r = requestChallenge(user, ttl);
        if (r.status != 201)
            return {};
        const QJsonObject o = json(r.body);
        return {o.value(QLatin1String("id")).toString(), o.value(QLatin1String("number")).toInt(),
                o.value(QLatin1String("nonce")).toString(), qint64(o.value(QLatin1String("expires_at")).toDouble())};
    }

    HttpResult respond(const QString &id, const QString &decision, std::optional<int> number, const QString &signature)
    {
        QJsonObject body{{QStringLiteral("decision"), decision}, {QStringLiteral("signature"), signature}};
        if (number)
            body.insert(QStringLiteral("number"), *number);
        return postJson(QStringLiteral("/v1/challenges/%1/response").arg(id), body);
    }

    HttpResult answer(const jose::Jwk &key, const Challenge &c, const QString &decision, std::optional<int> number)
    {
        return respond(c.id, decision, number, sign(key, c.id, c.nonce, decision, number));
    }

    QJsonObject statusOf(const QString &id) { return json(get(QStringLiteral("/v1/challenges/") + id, token).body); }
    QString status(const QString &id) { return statusOf(id).value(QLatin1String("status")).toString(); }

    FakeClock clock{kNow};
    std::unique_ptr<stubs::ServiceHost> server;
    std::unique_ptr<HttpsClient> client;
    QByteArray token;
    QString error;

private:
    static QList<std::pair<QByteArray, QByteArray>> bearerHeader(const QByteArray &bearer)
    {
        if (bearer.isEmpty())
            return {};
        return {{QByteArrayLiteral("Authorization"), "Bearer " + bearer}};
    }
};

struct Run {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

// Runs "hotdesk-stubs phone ..." while this process keeps serving: the
// in-process server needs the event loop, so no blocking waitForFinished.
Run runPhone(const QStringList &args)
{
    QProcess process;
    QEventLoop loop;
    QObject::connect(&process, &QProcess::finished, &loop, &QEventLoop::quit);
    QObject::connect(&process, &QProcess::errorOccurred, &loop, &QEventLoop::quit);
    QTimer::singleShot(60000, &loop, &QEventLoop::quit);
    process.start(QStringLiteral(HOTDESK_STUBS_BINARY), QStringList{QStringLiteral("phone")} + args);
    loop.exec();
    Run run;
    if (process.state() != QProcess::NotRunning) {
        process.kill();
        process.waitForFinished(5000);
        return run;
    }
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.out = process.readAllStandardOutput();
    run.err = process.readAllStandardError();
    return run;
}

} // namespace

class TestPush : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void clientTokenFile()
    {
        QTemporaryDir dir;
        {
            Fixture f;
            QVERIFY2(f.ok(), qPrintable(f.error));
            const QString path = stubs::push::PushService::clientTokenPath(f.dataDir());
            QCOMPARE(QFileInfo(path).permissions()
                         & (QFileDevice::ReadGroup | QFileDevice::ReadOther | QFileDevice::WriteGroup | QFileDevice::WriteOther),
                     QFileDevice::Permissions());
            QCOMPARE(f.token.size(), 43); // 32 bytes, base64url
            QVERIFY(jose::base64UrlDecode(f.token).has_value());
            // Only the hash is in the database.
            QSqlDatabase db = f.server->context().store->database();
            QSqlQuery q(db);
            QVERIFY(q.exec(QStringLiteral("SELECT token_hash FROM push_client")));
            QVERIFY(q.next());
            QVERIFY(q.value(0).toString() != QString::fromLatin1(f.token));
            QVERIFY(!q.value(0).toString().contains(QString::fromLatin1(f.token)));
        }
        QVERIFY(!stubs::push::PushService::readClientToken(dir.path()).has_value());
    }

    void tokenSurvivesRestart()
    {
        QTemporaryDir dir;
        QByteArray token;
        for (int i = 0; i < 2; ++i) {
            stubs::HostOptions options;
            options.dataDir = dir.path();
            auto server = startRoles<stubs::push::PushService>(options);
            QVERIFY(server.has_value());
            auto read = stubs::push::PushService::readClientToken(dir.path());
            QVERIFY(read.has_value());
            if (i == 0)
                token = *read;
            QCOMPARE(*read, token);
            HttpsClient client((*server)->caFile());
            const HttpResult r = client.send((*server)->endpoints().push.resolved(QUrl(QStringLiteral("/v1/challenges/none"))),
                                             "GET", {}, {}, {{"Authorization", "Bearer " + token}});
            QCOMPARE(r.status, 404); // authenticated, then unknown
            QCOMPARE(problemType(r), urnFor("unknown-challenge"));
        }
    }

    void enrollChallengeApprove()
    {
        Fixture f;
        QVERIFY2(f.ok(), qPrintable(f.error));
        const jose::Jwk key = newPhoneKey();
        HttpResult r = f.enroll(QStringLiteral("alice"), key);
        QCOMPARE(r.status, 201);
        QCOMPARE(json(r.body).value(QLatin1String("user")).toString(), QStringLiteral("alice"));
        QCOMPARE(json(r.body).value(QLatin1String("phone_id")).toString(), QString::fromLatin1(key.thumbprint()));

        r = f.requestChallenge(QStringLiteral("alice"));
        QCOMPARE(r.status, 201);
        const QJsonObject created = json(r.body);
        const Challenge c{created.value(QLatin1String("id")).toString(), created.value(QLatin1String("number")).toInt(),
                          created.value(QLatin1String("nonce")).toString(),
                          qint64(created.value(QLatin1String("expires_at")).toDouble())};
        QVERIFY(!c.id.isEmpty());
        QVERIFY(c.number >= 10 && c.number <= 99);
        QVERIFY(created.value(QLatin1String("number")).isDouble());
        QVERIFY(jose::base64UrlDecode(c.nonce.toLatin1()).has_value());
        QCOMPARE(c.expiresAt, kNow + 60); // the default and maximum lifetime

        // The phone sees the challenge and its context, never the number.
        r = f.get(QStringLiteral("/v1/phones/alice/challenges"));
        QCOMPARE(r.status, 200);
        const QJsonArray listed = json(r.body).value(QLatin1String("challenges")).toArray();
        QCOMPARE(listed.size(), 1);
        const QJsonObject entry = listed.first().toObject();
        QCOMPARE(entry.value(QLatin1String("id")).toString(), c.id);
        QCOMPARE(entry.value(QLatin1String("nonce")).toString(), c.nonce);
        QCOMPARE(entry.value(QLatin1String("context")).toObject().value(QLatin1String("pc")).toString(),
                 QStringLiteral("desk-7"));
        QCOMPARE(qint64(entry.value(QLatin1String("expires_at")).toDouble()), c.expiresAt);
        QVERIFY(!entry.contains(QLatin1String("number")));
        QVERIFY(!r.body.contains("number"));

        QJsonObject status = f.statusOf(c.id);
        QCOMPARE(status.value(QLatin1String("status")).toString(), QStringLiteral("pending"));
        QCOMPARE(status.value(QLatin1String("user")).toString(), QStringLiteral("alice"));
        QVERIFY(!status.contains(QLatin1String("decided_at")));

        f.clock.advance(5s);
        r = f.answer(key, c, QStringLiteral("approve"), c.number);
        QCOMPARE(r.status, 200);
        QCOMPARE(json(r.body).value(QLatin1String("status")).toString(), QStringLiteral("approved"));
        status = f.statusOf(c.id);
        QCOMPARE(status.value(QLatin1String("status")).toString(), QStringLiteral("approved"));
        QCOMPARE(qint64(status.value(QLatin1String("decided_at")).toDouble()), kNow + 5);
        // Decided challenges leave the phone's list.
        QVERIFY(json(f.get(QStringLiteral("/v1/phones/alice/challenges")).body)
                    .value(QLatin1String("challenges"))
                    .toArray()
                    .isEmpty());
    }

    void numbersAreTwoDigits()
    {
        Fixture f;
        QVERIFY2(f.ok(), qPrintable(f.error));
        QCOMPARE(f.enroll(QStringLiteral("alice"), newPhoneKey()).status, 201);
        QSet<QString> ids;
        for (int i = 0; i < 25; ++i) {
            const Challenge c = f.challenge(QStringLiteral("alice"));
            QVERIFY(!c.id.isEmpty());
            QVERIFY2(c.number >= 10 && c.number <= 99, qPrintable(QString::number(c.number)));
            ids.insert(c.id);
        }
        QCOMPARE(ids.size(), 25);
    }

    void deny()
    {
        Fixture f;
        QVERIFY2(f.ok(), qPrintable(f.error));
        const jose::Jwk key = newPhoneKey();
        QCOMPARE(f.enroll(QStringLiteral("bob"), key).status, 201);
        const Challenge c = f.challenge(QStringLiteral("bob"));
        const HttpResult r = f.answer(key, c, QStringLiteral("deny"), std::nullopt);
        QCOMPARE(r.status, 200);
        QCOMPARE(json(r.body).value(QLatin1String("status")).toString(), QStringLiteral("denied"));
        QCOMPARE(f.status(c.id), QStringLiteral("denied"));
    }

    void wrongNumberDenies()
    {
        Fixture f;
        QVERIFY2(f.ok(), qPrintable(f.error));
        const jose::Jwk key = newPhoneKey();
        QCOMPARE(f.enroll(QStringLiteral("alice"), key).status, 201);
        const Challenge c = f.challenge(QStringLiteral("alice"));
        const int wrong = c.number == 99 ? 10 : c.number + 1;
        HttpResult r = f.answer(key, c, QStringLiteral("approve"), wrong);
        QCOMPARE(r.status, 403);
        QCOMPARE(r.contentType, QByteArray("application/problem+json"));
        QCOMPARE(problemType(r), urnFor("number-mismatch"));
        QCOMPARE(f.status(c.id), QStringLiteral("denied"));
        // No second guess.
        r = f.answer(key, c, QStringLiteral("approve"), c.number);
        QCOMPARE(r.status, 409);
        QCOMPARE(problemType(r), urnFor("already-decided"));
        QCOMPARE(f.status(c.id), QStringLiteral("denied"));
    }

    void badSignatureStaysPending_data()
    {
        QTest::addColumn<QString>("how");
        QTest::newRow("another key") << QStringLiteral("another key");
        QTest::newRow("signed deny, sent approve") << QStringLiteral("decision");
        QTest::newRow("signed another number") << QStringLiteral("number");
        QTest::newRow("signed another nonce") << QStringLiteral("nonce");
        QTest::newRow("64 zero bytes") << QStringLiteral("zeros");
        QTest::newRow("short") << QStringLiteral("short");
    }

    void badSignatureStaysPending()
    {
        QFETCH(QString, how);
        Fixture f;
        QVERIFY2(f.ok(), qPrintable(f.error));
        const jose::Jwk key = newPhoneKey();
        QCOMPARE(f.enroll(QStringLiteral("alice"), key).status, 201);
        const Challenge c = f.challenge(QStringLiteral("alice"));
        const QString approve = QStringLiteral("approve");
        QString signature;
        if (how == QLatin1String("another key"))
            signature = sign(newPhoneKey(), c.id, c.nonce, approve, c.number);
        else if (how == QLatin1String("decision"))
            signature = sign(key, c.id, c.nonce, QStringLiteral("deny"), c.number);
        else if (how == QLatin1String("number"))
            signature = sign(key, c.id, c.nonce, approve, c.number == 99 ? 10 : c.number + 1);
        else if (how == QLatin1String("nonce"))
            signature = sign(key, c.id, QStringLiteral("AAAA"), approve, c.number);
        else if (how == QLatin1String("zeros"))
            signature = QString::fromLatin1(jose::base64UrlEncode(QByteArray(64, '\0')));
        else
            signature = QString::fromLatin1(jose::base64UrlEncode(QByteArray(16, 'x')));
        HttpResult r = f.respond(c.id, approve, c.number, signature);
        QCOMPARE(r.status, 403);
        QCOMPARE(problemType(r), urnFor("bad-signature"));
        QCOMPARE(f.status(c.id), QStringLiteral("pending"));
        // The real phone can still answer.
        r = f.answer(key, c, approve, c.number);
        QCOMPARE(r.status, 200);
        QCOMPARE(f.status(c.id), QStringLiteral("approved"));
    }

    void secondResponseConflicts_data()
    {
        QTest::addColumn<QString>("first");
        QTest::addColumn<QString>("second");
        QTest::newRow("approve, approve") << QStringLiteral("approve") << QStringLiteral("approve");
        QTest::newRow("approve, deny") << QStringLiteral("approve") << QStringLiteral("deny");
        QTest::newRow("deny, approve") << QStringLiteral("deny") << QStringLiteral("approve");
    }

    void secondResponseConflicts()
    {
        QFETCH(QString, first);
        QFETCH(QString, second);
        Fixture f;
        QVERIFY2(f.ok(), qPrintable(f.error));
        const jose::Jwk key = newPhoneKey();
        QCOMPARE(f.enroll(QStringLiteral("alice"), key).status, 201);
        const Challenge c = f.challenge(QStringLiteral("alice"));
        auto numberFor = [&c](const QString &decision) {
            return decision == QLatin1String("approve") ? std::optional<int>(c.number) : std::nullopt;
        };
        QCOMPARE(f.answer(key, c, first, numberFor(first)).status, 200);
        const HttpResult r = f.answer(key, c, second, numberFor(second));
        QCOMPARE(r.status, 409);
        QCOMPARE(problemType(r), urnFor("already-decided"));
        QCOMPARE(f.status(c.id), first == QLatin1String("approve") ? QStringLiteral("approved") : QStringLiteral("denied"));
    }

    void expiry()
    {
        Fixture f;
        QVERIFY2(f.ok(), qPrintable(f.error));
        const jose::Jwk key = newPhoneKey();
        QCOMPARE(f.enroll(QStringLiteral("alice"), key).status, 201);
        const Challenge c = f.challenge(QStringLiteral("alice"), 10);
        QCOMPARE(c.expiresAt, kNow + 10);
        f.clock.advance(9s);
        QCOMPARE(f.status(c.id), QStringLiteral("pending"));
        f.clock.advance(1s);
        QCOMPARE(f.status(c.id), QStringLiteral("expired"));
        QVERIFY(json(f.get(QStringLiteral("/v1/phones/alice/challenges")).body)
                    .value(QLatin1String("challenges"))
                    .toArray()
                    .isEmpty());
        const HttpResult r = f.answer(key, c, QStringLiteral("approve"), c.number);
        QCOMPARE(r.status, 410);
        QCOMPARE(problemType(r), urnFor("expired"));
        QCOMPARE(f.status(c.id), QStringLiteral("expired"));
        QVERIFY(!f.statusOf(c.id).contains(QLatin1String("decided_at")));
    }

    void reenrollReplacesKey()
    {
        Fixture f;
        QVERIFY2(f.ok(), qPrintable(f.error));
        const jose::Jwk oldKey = newPhoneKey();
        const jose::Jwk newKey = newPhoneKey();
        QCOMPARE(f.enroll(QStringLiteral("alice"), oldKey).status, 201);
        const HttpResult again = f.enroll(QStringLiteral("alice"), newKey);
        QCOMPARE(again.status, 201);
        QCOMPARE(json(again.body).value(QLatin1String("phone_id")).toString(), QString::fromLatin1(newKey.thumbprint()));
        const Challenge c = f.challenge(QStringLiteral("alice"));
        QCOMPARE(problemType(f.answer(oldKey, c, QStringLiteral("approve"), c.number)), urnFor("bad-signature"));
        QCOMPARE(f.answer(newKey, c, QStringLiteral("approve"), c.number).status, 200);
    }

    void unknownUserHasNoPhone()
    {
        Fixture f;
        QVERIFY2(f.ok(), qPrintable(f.error));
        HttpResult r = f.requestChallenge(QStringLiteral("nobody"));
        QCOMPARE(r.status, 404);
        QCOMPARE(r.contentType, QByteArray("application/problem+json"));
        QCOMPARE(problemType(r), urnFor("no-phone"));
        r = f.get(QStringLiteral("/v1/phones/nobody/challenges"));
        QCOMPARE(r.status, 404);
        QCOMPARE(problemType(r), urnFor("no-phone"));
        // Without auto-approve nothing is enrolled on the fly.
        QVERIFY(!QFile::exists(stubs::push::phoneKeyPath(f.dataDir(), QStringLiteral("nobody"))));
    }

    void clientAuthentication_data()
    {
        QTest::addColumn<QByteArray>("authorization");
        QTest::addColumn<bool>("accepted");
        QTest::newRow("missing") << QByteArray() << false;
        QTest::newRow("wrong token") << QByteArray("Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") << false;
        QTest::newRow("empty bearer") << QByteArray("Bearer ") << false;
        QTest::newRow("basic scheme") << QByteArray("Basic TOKEN") << false;
        QTest::newRow("token with suffix") << QByteArray("Bearer TOKENx") << false;
        QTest::newRow("right token") << QByteArray("Bearer TOKEN") << true;
        QTest::newRow("scheme in lower case") << QByteArray("bearer TOKEN") << true;
    }

    void clientAuthentication()
    {
        QFETCH(QByteArray, authorization);
        QFETCH(bool, accepted);
        Fixture f;
        QVERIFY2(f.ok(), qPrintable(f.error));
        QCOMPARE(f.enroll(QStringLiteral("alice"), newPhoneKey()).status, 201);
        const Challenge existing = f.challenge(QStringLiteral("alice"));
        QVERIFY(!existing.id.isEmpty());
        authorization.replace("TOKEN", f.token);
        QList<std::pair<QByteArray, QByteArray>> headers;
        if (!authorization.isEmpty())
            headers.append({"Authorization", authorization});
        const QByteArray body = R"({"user":"alice","context":{"pc":"desk-7","time":1767225600}})";

        HttpResult r = f.client->send(f.url(QStringLiteral("/v1/challenges")), "POST", body, "application/json", headers);
        QCOMPARE(r.status, accepted ? 201 : 401);
        r = f.client->send(f.url(QStringLiteral("/v1/challenges/") + existing.id), "GET", {}, {}, headers);
        QCOMPARE(r.status, accepted ? 200 : 401);
        if (!accepted) {
            QCOMPARE(r.contentType, QByteArray("application/problem+json"));
            QCOMPARE(problemType(r), urnFor("unauthorized"));
            bool challenged = false;
            for (const auto &[name, value] : r.headers)
                challenged
                    = challenged || (name.compare("WWW-Authenticate", Qt::CaseInsensitive) == 0 && value.startsWith("Bearer"));
            QVERIFY(challenged);
        }
    }

    void badInput_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("type");

        const QString enroll = QStringLiteral("/v1/enroll");
        const QString challenges = QStringLiteral("/v1/challenges");
        const QString response = QStringLiteral("/v1/challenges/ID/response");
        const QByteArray js = "application/json";
        const QByteArray ec
            = R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0")";
        const QJsonObject bigContext{{QStringLiteral("pc"), QString(70 * 1024, QLatin1Char('x'))}, {QStringLiteral("time"), 1}};
        const QByteArray big = QJsonDocument(QJsonObject{{QStringLiteral("user"), QStringLiteral("alice")},
                                                         {QStringLiteral("context"), bigContext}})
                                   .toJson(QJsonDocument::Compact);

        QTest::newRow("enroll: not JSON") << enroll << js << QByteArray("{\"user\":") << 400 << urnFor("malformed-request");
        QTest::newRow("enroll: text/plain") << enroll << QByteArray("text/plain") << QByteArray("{}") << 415
                                            << urnFor("unsupported-media-type");
        QTest::newRow("enroll: too large") << enroll << js << big << 413 << urnFor("body-too-large");
        QTest::newRow("enroll: array") << enroll << js << QByteArray("[]") << 400 << urnFor("malformed-request");
        QTest::newRow("enroll: duplicate member")
            << enroll << js << QByteArray(R"({"user":"a","user":"b"})") << 400 << urnFor("malformed-request");
        QTest::newRow("enroll: user a number")
            << enroll << js << QByteArray(R"({"user":7,"public_key":)" + ec + "}}") << 400 << urnFor("malformed-request");
        QTest::newRow("enroll: no user") << enroll << js << QByteArray(R"({"public_key":)" + ec + "}}") << 400
                                         << urnFor("malformed-request");
        QTest::newRow("enroll: user with newline")
            << enroll << js << QByteArray(R"({"user":"a\nb","public_key":)" + ec + "}}") << 400 << urnFor("malformed-request");
        QTest::newRow("enroll: user with slash")
            << enroll << js << QByteArray(R"({"user":"a/b","public_key":)" + ec + "}}") << 400 << urnFor("malformed-request");
        QTest::newRow("enroll: key a string")
            << enroll << js << QByteArray(R"({"user":"a","public_key":"abc"})") << 400 << urnFor("malformed-request");
        QTest::newRow("enroll: private key")
            << enroll << js
            << QByteArray(R"({"user":"a","public_key":)" + ec + R"(,"d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}})") << 400
            << urnFor("invalid-key");
        QTest::newRow("enroll: point off the curve")
            << enroll << js
            << QByteArray(
                   R"({"user":"a","public_key":{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5b0"}})")
            << 400 << urnFor("invalid-key");
        QTest::newRow("enroll: Ed25519")
            << enroll << js
            << QByteArray(
                   R"({"user":"a","public_key":{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}})")
            << 400 << urnFor("invalid-key");
        QTest::newRow("enroll: symmetric") << enroll << js << QByteArray(R"({"user":"a","public_key":{"kty":"oct","k":"AAAA"}})")
                                           << 400 << urnFor("invalid-key");

        QTest::newRow("challenge: not JSON") << challenges << js << QByteArray("nope") << 400 << urnFor("malformed-request");
        QTest::newRow("challenge: form body") << challenges << QByteArray("application/x-www-form-urlencoded")
                                              << QByteArray("user=alice") << 415 << urnFor("unsupported-media-type");
        QTest::newRow("challenge: too large") << challenges << js << big << 413 << urnFor("body-too-large");
        QTest::newRow("challenge: no context")
            << challenges << js << QByteArray(R"({"user":"alice"})") << 400 << urnFor("malformed-request");
        QTest::newRow("challenge: context a string")
            << challenges << js << QByteArray(R"({"user":"alice","context":"desk"})") << 400 << urnFor("malformed-request");
        QTest::newRow("challenge: no pc") << challenges << js << QByteArray(R"({"user":"alice","context":{"time":1}})") << 400
                                          << urnFor("malformed-request");
        QTest::newRow("challenge: time a string")
            << challenges << js << QByteArray(R"({"user":"alice","context":{"pc":"d","time":"now"}})") << 400
            << urnFor("malformed-request");
        QTest::newRow("challenge: ttl 61") << challenges << js
                                           << QByteArray(R"({"user":"alice","context":{"pc":"d","time":1},"ttl":61})") << 400
                                           << urnFor("malformed-request");
        QTest::newRow("challenge: ttl 0") << challenges << js
                                          << QByteArray(R"({"user":"alice","context":{"pc":"d","time":1},"ttl":0})") << 400
                                          << urnFor("malformed-request");
        QTest::newRow("challenge: ttl 1.5") << challenges << js
                                            << QByteArray(R"({"user":"alice","context":{"pc":"d","time":1},"ttl":1.5})") << 400
                                            << urnFor("malformed-request");
        QTest::newRow("challenge: ttl a string")
            << challenges << js << QByteArray(R"({"user":"alice","context":{"pc":"d","time":1},"ttl":"30"})") << 400
            << urnFor("malformed-request");
        QTest::newRow("challenge: user null") << challenges << js << QByteArray(R"({"user":null,"context":{"pc":"d","time":1}})")
                                              << 400 << urnFor("malformed-request");

        QTest::newRow("response: not JSON") << response << js << QByteArray("{") << 400 << urnFor("malformed-request");
        QTest::newRow("response: too large") << response << js << big << 413 << urnFor("body-too-large");
        QTest::newRow("response: no content type")
            << response << QByteArray() << QByteArray(R"({"decision":"deny","signature":"AAAA"})") << 415
            << urnFor("unsupported-media-type");
        QTest::newRow("response: unknown decision")
            << response << js << QByteArray(R"({"decision":"maybe","signature":"AAAA"})") << 400 << urnFor("malformed-request");
        QTest::newRow("response: approve without number")
            << response << js << QByteArray(R"({"decision":"approve","signature":"AAAA"})") << 400 << urnFor("malformed-request");
        QTest::newRow("response: number a string")
            << response << js << QByteArray(R"({"decision":"approve","number":"42","signature":"AAAA"})") << 400
            << urnFor("malformed-request");
        QTest::newRow("response: number a fraction")
            << response << js << QByteArray(R"({"decision":"approve","number":42.5,"signature":"AAAA"})") << 400
            << urnFor("malformed-request");
        QTest::newRow("response: no signature")
            << response << js << QByteArray(R"({"decision":"deny"})") << 400 << urnFor("malformed-request");
        QTest::newRow("response: signature not base64url")
            << response << js << QByteArray(R"({"decision":"deny","signature":"AA+/=="})") << 400 << urnFor("malformed-request");
        QTest::newRow("response: signature an object")
            << response << js << QByteArray(R"({"decision":"deny","signature":{}})") << 400 << urnFor("malformed-request");
        QTest::newRow("response: unknown id")
            << QStringLiteral("/v1/challenges/nosuchid/response") << js << QByteArray(R"({"decision":"deny","signature":"AAAA"})")
            << 404 << urnFor("unknown-challenge");
        QTest::newRow("response: deep nesting")
            << response << js << QByteArray(R"({"decision":)" + QByteArray(40, '[') + QByteArray(40, ']') + "}") << 400
            << urnFor("malformed-request");

        QTest::newRow("phone form: JSON") << QStringLiteral("/phone/alice/answer") << js << QByteArray(R"({"id":"ID"})") << 415
                                          << urnFor("unsupported-media-type");
        QTest::newRow("phone form: no decision")
            << QStringLiteral("/phone/alice/answer") << QByteArray("application/x-www-form-urlencoded")
            << QByteArray("id=ID&number=12") << 400 << urnFor("malformed-request");
        QTest::newRow("phone form: id twice")
            << QStringLiteral("/phone/alice/answer") << QByteArray("application/x-www-form-urlencoded")
            << QByteArray("id=ID&id=ID&decision=deny") << 400 << urnFor("malformed-request");
        QTest::newRow("unknown path") << QStringLiteral("/v1/nothing") << js << QByteArray("{}") << 404 << urnFor("not-found");
    }

    void badInput()
    {
        QFETCH(QString, path);
        QFETCH(QByteArray, contentType);
        QFETCH(QByteArray, body);
        QFETCH(int, status);
        QFETCH(QString, type);
        Fixture f;
        QVERIFY2(f.ok(), qPrintable(f.error));
        const jose::Jwk key = newPhoneKey();
        QCOMPARE(f.enroll(QStringLiteral("alice"), key).status, 201);
        const Challenge c = f.challenge(QStringLiteral("alice"));
        QVERIFY(!c.id.isEmpty());
        path.replace(QLatin1String("ID"), c.id);
        body.replace("ID", c.id.toLatin1());

        const HttpResult r = f.post(path, body, contentType, f.token);
        QCOMPARE(r.status, status);
        QCOMPARE(r.contentType, QByteArray("application/problem+json"));
        QCOMPARE(problemType(r), type);
        QCOMPARE(json(r.body).value(QLatin1String("status")).toInt(), status);

        // Nothing was half-written: alice's key and challenge are as they were.
        QCOMPARE(f.status(c.id), QStringLiteral("pending"));
        const QJsonArray pending
            = json(f.get(QStringLiteral("/v1/phones/alice/challenges")).body).value(QLatin1String("challenges")).toArray();
        QCOMPARE(pending.size(), 1);
        QCOMPARE(f.answer(key, c, QStringLiteral("approve"), c.number).status, 200);
    }

    void unknownChallengeStatus()
    {
        Fixture f;
        QVERIFY2(f.ok(), qPrintable(f.error));
        for (const QString &id : {QStringLiteral("nosuchid"), QString(200, QLatin1Char('a'))}) {
            const HttpResult r = f.get(QStringLiteral("/v1/challenges/") + id, f.token);
            QCOMPARE(r.status, 404);
            QCOMPARE(problemType(r), urnFor("unknown-challenge"));
        }
    }

    void autoApprove()
    {
        Fixture f(0ms);
        QVERIFY2(f.ok(), qPrintable(f.error));
        // A user with a real phone (its key is not in the data directory) decides for themselves.
        const jose::Jwk realPhone = newPhoneKey();
        QCOMPARE(f.enroll(QStringLiteral("dave"), realPhone).status, 201);
        const Challenge daves = f.challenge(QStringLiteral("dave"));
        QVERIFY(!daves.id.isEmpty());

        // An unknown user gets a simulated phone on the fly, which approves.
        const Challenge c = f.challenge(QStringLiteral("carol"));
        QVERIFY(!c.id.isEmpty());
        const QString keyFile = stubs::push::phoneKeyPath(f.dataDir(), QStringLiteral("carol"));
        QVERIFY(QFile::exists(keyFile));
        QCOMPARE(QFileInfo(keyFile).permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther),
                 QFileDevice::Permissions());
        QTRY_COMPARE_WITH_TIMEOUT(f.status(c.id), QStringLiteral("approved"), 20000);

        // Timers fire in order, so dave's challenge would have been answered by now.
        QCOMPARE(f.status(daves.id), QStringLiteral("pending"));
        QCOMPARE(f.answer(realPhone, daves, QStringLiteral("approve"), daves.number).status, 200);

        // The simulated phone stays enrolled and keeps approving.
        const Challenge again = f.challenge(QStringLiteral("carol"));
        QTRY_COMPARE_WITH_TIMEOUT(f.status(again.id), QStringLiteral("approved"), 20000);
    }

    void phonePage()
    {
        Fixture f;
        QVERIFY2(f.ok(), qPrintable(f.error));
        const QString user = QStringLiteral("<eve&\"x'>");
        auto key = stubs::push::loadOrCreatePhoneKey(f.dataDir(), user);
        QVERIFY(key.has_value());
        QVERIFY(QFileInfo(stubs::push::phoneKeyPath(f.dataDir(), user)).absolutePath()
            == QDir(f.dataDir()).filePath(QStringLiteral("phones")));
        QCOMPARE(f.enroll(user, *key).status, 201);

        HttpResult r = f.get(QStringLiteral("/phone/") + pathUser(user));
        QCOMPARE(r.status, 200);
        QVERIFY(r.contentType.startsWith("text/html"));
        QVERIFY(r.body.contains("No sign-in is waiting"));

        QJsonObject body{{QStringLiteral("user"), user},
                         {QStringLiteral("context"),
                          QJsonObject{{QStringLiteral("pc"), QStringLiteral("<script>alert(1)</script>")},
                                      {QStringLiteral("time"), kNow},
                                      {QStringLiteral("<b>note</b>"), QStringLiteral("\"quoted\" & <tagged>")}}}};
        r = f.postJson(QStringLiteral("/v1/challenges"), body, f.token);
        QCOMPARE(r.status, 201);
        const QString id = json(r.body).value(QLatin1String("id")).toString();
        const int number = json(r.body).value(QLatin1String("number")).toInt();

        r = f.get(QStringLiteral("/phone/") + pathUser(user));
        QCOMPARE(r.status, 200);
        const QString page = QString::fromUtf8(r.body);
        // Every user-controlled string is escaped; the page has no script of its own.
        QVERIFY(!page.contains(QLatin1String("<script")));
        QVERIFY(!page.contains(QLatin1String("<eve")));
        QVERIFY(!page.contains(QLatin1String("<b>note")));
        QVERIFY(!page.contains(QLatin1String("<tagged>")));
        QVERIFY(page.contains(QLatin1String("&lt;script&gt;alert(1)&lt;/script&gt;")));
        QVERIFY(page.contains(QLatin1String("&lt;eve&amp;&quot;x'&gt;")));
        // The never-shown number is not on the phone either.
        QVERIFY(!page.contains(QStringLiteral("value=\"%1\"").arg(number)));
        // A labelled number field and two real buttons in a plain form.
        const QRegularExpression label(QStringLiteral("<label for=\"([^\"]+)\">"));
        const auto labelMatch = label.match(page);
        QVERIFY(labelMatch.hasMatch());
        QVERIFY(page.contains(QStringLiteral("<input id=\"%1\" name=\"number\"").arg(labelMatch.captured(1))));
        QVERIFY(page.contains(QLatin1String("<button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>")));
        QVERIFY(page.contains(
            QLatin1String("<button type=\"submit\" name=\"decision\" value=\"deny\" formnovalidate>Deny</button>")));
        const auto action = QRegularExpression(QStringLiteral("<form method=\"post\" action=\"([^\"]+)\">")).match(page);
        QVERIFY(action.hasMatch());
        const auto hidden
            = QRegularExpression(QStringLiteral("<input type=\"hidden\" name=\"id\" value=\"([^\"]+)\">")).match(page);
        QVERIFY(hidden.hasMatch());
        QCOMPARE(hidden.captured(1), id);
        bool csp = false;
        for (const auto &[name, value] : r.headers)
            csp = csp
                || (name.compare("Content-Security-Policy", Qt::CaseInsensitive) == 0 && value.contains("default-src 'none'"));
        QVERIFY(csp);

        // The form, as a browser without JavaScript submits it.
        const QString formAction = action.captured(1).replace(QLatin1String("&amp;"), QLatin1String("&"));
        const QByteArray form
            = "id=" + QUrl::toPercentEncoding(id) + "&number=" + QByteArray::number(number) + "&decision=approve";
        r = f.post(formAction, form, "application/x-www-form-urlencoded");
        QCOMPARE(r.status, 200);
        QVERIFY(r.contentType.startsWith("text/html"));
        QVERIFY(r.body.contains("Approved"));
        QCOMPARE(f.status(id), QStringLiteral("approved"));

        // A wrong number on the page denies, as on the API.
        const Challenge c = f.challenge(user);
        const QByteArray wrong
            = "id=" + c.id.toLatin1() + "&number=" + QByteArray::number(c.number == 99 ? 10 : c.number + 1) + "&decision=approve";
        r = f.post(formAction, wrong, "application/x-www-form-urlencoded");
        QCOMPARE(r.status, 403);
        QCOMPARE(f.status(c.id), QStringLiteral("denied"));

        // Deny needs no number; another user's page cannot answer this user's challenge.
        const Challenge d = f.challenge(user);
        auto other = stubs::push::loadOrCreatePhoneKey(f.dataDir(), QStringLiteral("mallory"));
        QVERIFY(other.has_value());
        QCOMPARE(f.enroll(QStringLiteral("mallory"), *other).status, 201);
        r = f.post(QStringLiteral("/phone/mallory/answer"), "id=" + d.id.toLatin1() + "&decision=deny",
                   "application/x-www-form-urlencoded");
        QCOMPARE(r.status, 404);
        QCOMPARE(f.status(d.id), QStringLiteral("pending"));
        r = f.post(formAction, "id=" + d.id.toLatin1() + "&decision=deny", "application/x-www-form-urlencoded");
        QCOMPARE(r.status, 200);
        QCOMPARE(f.status(d.id), QStringLiteral("denied"));

        // Approve without a number asks for it and leaves the challenge alone.
        const Challenge e = f.challenge(user);
        r = f.post(formAction, "id=" + e.id.toLatin1() + "&number=&decision=approve", "application/x-www-form-urlencoded");
        QCOMPARE(r.status, 400);
        QCOMPARE(f.status(e.id), QStringLiteral("pending"));

        r = f.get(QStringLiteral("/phone/nobody"));
        QCOMPARE(r.status, 404);
        QVERIFY(r.contentType.startsWith("text/html"));
    }

    void commandLine()
    {
        Fixture f;
        QVERIFY2(f.ok(), qPrintable(f.error));
        const QString dir = f.dataDir();
        const QString user = QStringLiteral("frank@example.org");

        Run run = runPhone({QStringLiteral("enroll"), user, QStringLiteral("--data"), dir});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QString keyFile = stubs::push::phoneKeyPath(dir, user);
        QVERIFY(QFile::exists(keyFile));
        QCOMPARE(QFileInfo(keyFile).permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther),
                 QFileDevice::Permissions());

        run = runPhone({QStringLiteral("approve"), user, QStringLiteral("--data"), dir});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains("no pending challenge"), run.err.constData());

        // Without --number the simulated user reads the number correctly.
        const Challenge first = f.challenge(user);
        QVERIFY(!first.id.isEmpty());
        run = runPhone({QStringLiteral("approve"), user, QStringLiteral("--data"), dir});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QCOMPARE(f.status(first.id), QStringLiteral("approved"));

        // The newest pending challenge is the one answered.
        const Challenge older = f.challenge(user);
        f.clock.advance(1s);
        const Challenge newer = f.challenge(user);
        run = runPhone({QStringLiteral("approve"), user, QStringLiteral("--number"), QString::number(newer.number),
                        QStringLiteral("--data"), dir});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QCOMPARE(f.status(newer.id), QStringLiteral("approved"));
        QCOMPARE(f.status(older.id), QStringLiteral("pending"));

        run = runPhone({QStringLiteral("approve"), user, QStringLiteral("--number"),
                        QString::number(older.number == 99 ? 10 : older.number + 1), QStringLiteral("--data"), dir});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains("wrong number"), run.err.constData());
        QCOMPARE(f.status(older.id), QStringLiteral("denied"));

        const Challenge denied = f.challenge(user);
        run = runPhone({QStringLiteral("deny"), user, QStringLiteral("--data"), dir});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QCOMPARE(f.status(denied.id), QStringLiteral("denied"));

        run = runPhone({QStringLiteral("deny"), QStringLiteral("nobody"), QStringLiteral("--data"), dir});
        QCOMPARE(run.exitCode, 1);
        QVERIFY(!run.err.isEmpty());

        // Usage errors.
        QCOMPARE(runPhone({}).exitCode, 2);
        QCOMPARE(runPhone({QStringLiteral("approve"), QStringLiteral("--data"), dir}).exitCode, 2);
        QCOMPARE(runPhone({QStringLiteral("ring"), user, QStringLiteral("--data"), dir}).exitCode, 2);
        QCOMPARE(runPhone({QStringLiteral("deny"), user, QStringLiteral("--number"), QStringLiteral("12"),
                           QStringLiteral("--data"), dir})
                     .exitCode,
                 2);
        QCOMPARE(runPhone({QStringLiteral("approve"), user, QStringLiteral("--number"), QStringLiteral("x"),
                           QStringLiteral("--data"), dir})
                     .exitCode,
                 2);
        QCOMPARE(runPhone({QStringLiteral("--help")}).exitCode, 0);

        // A data directory where no server runs is a clear failure, not a hang.
        QTemporaryDir empty;
        run = runPhone({QStringLiteral("enroll"), user, QStringLiteral("--data"), empty.path()});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains("endpoints.json"), run.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestPush)
#include "tst_push.moc"

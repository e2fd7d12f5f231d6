// The companion servers on PostgreSQL (--db): URL parsing, a throwaway cluster, the DAS protocol over TLS, and two DAS processes
// sharing one database.
#include "app/stubs/common/store.h"
#include "dasfixture.h"

#include <QDateTime>
#include <QDirIterator>
#include <QJsonArray>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QSqlError>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QVersionNumber>

#include <algorithm>

#include <unistd.h>

using namespace hotdesk;
using namespace hotdesk::test;

namespace {

const QString kPassword = QStringLiteral("pg-s3cret/x");
const QString kPasswordInUrl = QStringLiteral("pg-s3cret%2Fx");

// Debian's server binaries (package postgresql), newest major version first; "" when none is installed.
QString postgresBinDir()
{
    const QString fromEnv = qEnvironmentVariable("HOTDESK_PG_BINDIR");
    if (!fromEnv.isEmpty())
        return fromEnv;
    QString best;
    QVersionNumber bestVersion;
    for (const QFileInfo &dir : QDir(QStringLiteral("/usr/lib/postgresql")).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        const QVersionNumber version = QVersionNumber::fromString(dir.fileName());
        if (QFile::exists(dir.filePath() + QStringLiteral("/bin/initdb")) && version > bestVersion) {
            best = dir.filePath() + QStringLiteral("/bin");
            bestVersion = version;
        }
    }
    return best;
}

QJsonObject twoFactorBody(const QString &user)
{
    return {{QStringLiteral("user"), user}, {QStringLiteral("state"), QStringLiteral("st-5e1d")},
        {QStringLiteral("nonce"), QStringLiteral("n-77c3")},
        {QStringLiteral("code_challenge"), QStringLiteral("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")},
        {QStringLiteral("code_challenge_method"), QStringLiteral("S256")},
        {QStringLiteral("redirect_uri"), QStringLiteral("http://127.0.0.1:49152/callback")},
        {QStringLiteral("fingerprint"),
            QJsonObject {{QStringLiteral("machine_id"), QStringLiteral("m-pg")},
                {QStringLiteral("screens"), QJsonArray {QStringLiteral("1920x1080@1")}}}}};
}

} // namespace

class TestStubsPg : public QObject {
    Q_OBJECT

    QString m_bin;
    std::unique_ptr<QTemporaryDir> m_cluster;
    bool m_running = false;
    QString m_skipReason;

    QString clusterPath(const QString &name) const { return m_cluster->filePath(name); }

    // initdb refuses to run as root, so as root (CI) the cluster belongs to
    // "nobody" and its tools run as that user; otherwise as ourselves.
    bool runTool(const QString &tool, const QStringList &args, QByteArray *output = nullptr)
    {
        QString program = m_bin + QLatin1Char('/') + tool;
        QStringList arguments = args;
        if (geteuid() == 0) {
            arguments = QStringList {QStringLiteral("-u"), QStringLiteral("nobody"), QStringLiteral("--"), program} + args;
            program = QStringLiteral("runuser");
        }
        QProcess p;
        p.setWorkingDirectory(m_cluster->path());
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(program, arguments);
        const bool ok = p.waitForFinished(120000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
        const QByteArray out = p.readAll();
        if (output)
            *output = out;
        if (!ok)
            qWarning("%s failed: %s", qPrintable(tool), out.constData());
        return ok;
    }

    QString url(const QString &database) const
    {
        return QStringLiteral("postgres://hotdesk:%1@/%2?host=%3")
            .arg(kPasswordInUrl, database, clusterPath(QStringLiteral("sock")));
    }

    // The companion servers' output must never carry the database password.
    static void verifyNoPassword(const QByteArray &output)
    {
        QVERIFY2(!output.contains(kPassword.toUtf8()) && !output.contains(kPasswordInUrl.toUtf8()),
            "the database password was printed");
    }

    // The summary lines ("das https://…", …, "ca FILE") say every role listens.
    static void waitForSummary(QProcess &process, QByteArray &out)
    {
        QTRY_VERIFY_WITH_TIMEOUT((out += process.readAllStandardOutput()).contains("\nca ") || out.startsWith("ca ")
                || process.state() == QProcess::NotRunning,
            30000);
        QVERIFY2(process.state() == QProcess::Running, process.readAllStandardError().constData());
    }

    static QUrl summaryUrl(const QByteArray &summary, const QByteArray &role)
    {
        for (const QByteArray &line : summary.split('\n')) {
            if (line.startsWith(QByteArray(role + ' ')))
                return QUrl(QString::fromLatin1(line.mid(role.size() + 1)));
        }
        return {};
    }

    bool requireCluster()
    {
        if (!m_running)
            QTest::qSkip(qPrintable(m_skipReason), __FILE__, __LINE__);
        return m_running;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        m_bin = postgresBinDir();
        if (m_bin.isEmpty()) {
            m_skipReason = QStringLiteral("PostgreSQL is not installed (Debian package postgresql; ./dev installs it): "
                                          "the tests that need a cluster are skipped");
            return;
        }
        // The server is there, so the rest must work: a missing Qt driver is a failure, not a skip.
        QVERIFY2(QSqlDatabase::isDriverAvailable(QStringLiteral("QPSQL")),
            "Qt's PostgreSQL driver is missing: apt-get install libqt6sql6-psql");
        // A short path: the Unix socket's name must fit in sun_path.
        m_cluster = std::make_unique<QTemporaryDir>(QStringLiteral("/tmp/hotdesk-pg-XXXXXX"));
        QVERIFY(m_cluster->isValid());
        QVERIFY(QDir(m_cluster->path()).mkpath(QStringLiteral("sock")));
        QFile pw(clusterPath(QStringLiteral("pw")));
        QVERIFY(pw.open(QIODevice::WriteOnly));
        pw.write(kPassword.toUtf8() + '\n');
        pw.close();
        if (geteuid() == 0) {
            QProcess chown;
            chown.start(QStringLiteral("chown"), {QStringLiteral("-R"), QStringLiteral("nobody"), m_cluster->path()});
            QVERIFY(chown.waitForFinished(10000) && chown.exitCode() == 0);
        }
        QVERIFY(runTool(QStringLiteral("initdb"),
            {QStringLiteral("-D"), clusterPath(QStringLiteral("data")), QStringLiteral("-U"), QStringLiteral("hotdesk"),
                QStringLiteral("--pwfile=") + clusterPath(QStringLiteral("pw")), QStringLiteral("--auth=scram-sha-256"),
                QStringLiteral("--encoding=UTF8"), QStringLiteral("--no-locale"), QStringLiteral("--no-sync")}));
        // Unix socket only, in the temporary directory: nothing listens on the network.
        QVERIFY(runTool(QStringLiteral("pg_ctl"),
            {QStringLiteral("-D"), clusterPath(QStringLiteral("data")), QStringLiteral("-l"), clusterPath(QStringLiteral("log")),
                QStringLiteral("-w"), QStringLiteral("-t"), QStringLiteral("60"), QStringLiteral("-o"),
                QStringLiteral("-k %1 -c listen_addresses='' -c fsync=off").arg(clusterPath(QStringLiteral("sock"))),
                QStringLiteral("start")}));
        m_running = true;

        auto maintenance = stubs::parsePostgresUrl(url(QStringLiteral("postgres")));
        QVERIFY(maintenance.has_value());
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), QStringLiteral("maintenance"));
            db.setDatabaseName(maintenance->database);
            db.setUserName(maintenance->user);
            db.setPassword(maintenance->password);
            db.setHostName(maintenance->host);
            QVERIFY2(db.open(), qPrintable(db.lastError().text()));
            for (const char *name : {"hotdesk_shared", "hotdesk_all"}) {
                QSqlQuery q(db);
                QVERIFY2(q.exec(QStringLiteral("CREATE DATABASE %1").arg(QLatin1String(name))), qPrintable(q.lastError().text()));
            }
            db.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("maintenance"));
    }

    void cleanupTestCase()
    {
        if (m_running)
            runTool(QStringLiteral("pg_ctl"),
                {QStringLiteral("-D"), clusterPath(QStringLiteral("data")), QStringLiteral("-m"), QStringLiteral("immediate"),
                    QStringLiteral("-w"), QStringLiteral("stop")});
        m_running = false;
    }

    void parsesDatabaseUrls_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<QString>("user");
        QTest::addColumn<QString>("password");
        QTest::addColumn<QString>("host");
        QTest::addColumn<int>("port");
        QTest::addColumn<QString>("database");
        QTest::newRow("full") << "postgres://das:pw@db.example:5433/hotdesk" << true << "das"
                              << "pw"
                              << "db.example" << 5433 << "hotdesk";
        QTest::newRow("postgresql scheme") << "postgresql://das@db/hotdesk" << true << "das"
                                           << ""
                                           << "db" << -1 << "hotdesk";
        QTest::newRow("socket") << "postgres://das:p%40ss@/hotdesk?host=/run/postgresql" << true << "das"
                                << "p@ss"
                                << "/run/postgresql" << -1 << "hotdesk";
        QTest::newRow("ipv6") << "postgres://das@[::1]:6000/db" << true << "das"
                              << ""
                              << "::1" << 6000 << "db";
        QTest::newRow("no user") << "postgres://localhost/db?sslmode=require" << true << ""
                                 << ""
                                 << "localhost" << -1 << "db";
        QTest::newRow("colon in password") << "postgres://das:a:b@h/db" << true << "das"
                                           << "a:b"
                                           << "h" << -1 << "db";
        QTest::newRow("sqlite path") << "/var/lib/stubs.db" << false << ""
                                     << ""
                                     << "" << 0 << "";
        QTest::newRow("mysql") << "mysql://das:pw@h/db" << false << ""
                               << ""
                               << "" << 0 << "";
        QTest::newRow("no database") << "postgres://das:pw@h:5432" << false << ""
                                     << ""
                                     << "" << 0 << "";
        QTest::newRow("empty database") << "postgres://das:pw@h/" << false << ""
                                        << ""
                                        << "" << 0 << "";
        QTest::newRow("bad port") << "postgres://das:pw@h:99999/db" << false << ""
                                  << ""
                                  << "" << 0 << "";
        QTest::newRow("port not a number") << "postgres://das:pw@h:pg/db" << false << ""
                                           << ""
                                           << "" << 0 << "";
        QTest::newRow("unknown parameter") << "postgres://das:pw@h/db?options=-c%20x" << false << ""
                                           << ""
                                           << "" << 0 << "";
        QTest::newRow("bad sslmode") << "postgres://das:pw@h/db?sslmode=sometimes" << false << ""
                                     << ""
                                     << "" << 0 << "";
        QTest::newRow("password without user") << "postgres://:pw@h/db" << false << ""
                                               << ""
                                               << "" << 0 << "";
    }

    void parsesDatabaseUrls()
    {
        QFETCH(QString, url);
        QFETCH(bool, valid);
        auto parsed = stubs::parsePostgresUrl(url);
        QCOMPARE(parsed.has_value(), valid);
        if (!valid) {
            QVERIFY(!parsed.error().message.contains(QLatin1String("pw")));
            return;
        }
        QTEST(parsed->user, "user");
        QTEST(parsed->password, "password");
        QTEST(parsed->host, "host");
        QTEST(parsed->port, "port");
        QTEST(parsed->database, "database");
        if (!parsed->password.isEmpty())
            QVERIFY(!parsed->redacted().contains(parsed->password));
    }

    // A mistyped --db is a usage error that does not echo the password.
    void badUrlIsUsageError()
    {
        QTemporaryDir dir;
        QProcess stubs;
        stubs.start(QStringLiteral(HOTDESK_STUBS_BINARY),
            {QStringLiteral("all"), QStringLiteral("--data"), dir.path(), QStringLiteral("--db"),
                QStringLiteral("postgres://das:topsecret@db.example:5432")});
        QVERIFY(stubs.waitForFinished(30000));
        QCOMPARE(stubs.exitCode(), 2);
        const QByteArray err = stubs.readAllStandardError();
        QVERIFY2(err.contains("--db"), err.constData());
        QVERIFY(!err.contains("topsecret"));
        QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("stubs.db"))));
    }

    // The DAS and the IdP in-process on PostgreSQL, then a second DAS process on
    // the same database behind the same public URL: a device token spent at one
    // is refused at the other.
    void dasProtocolAndReplayAcrossProcesses()
    {
        if (!requireCluster())
            return;
        DasFixture das;
        das.clock.setSeconds(QDateTime::currentSecsSinceEpoch()); // the second DAS runs on the real clock
        das.database = url(QStringLiteral("hotdesk_shared"));
        das.start();
        if (QTest::currentTestFailed())
            return;
        QVERIFY(!QFile::exists(das.dir->filePath(QStringLiteral("stubs.db"))));
        QCOMPARE(
            das.count(QStringLiteral("SELECT COUNT(*) FROM schema_versions WHERE component IN ('common', 'das', 'idp')")), 3);

        EnrolledDevice device;
        das.enroll(QStringLiteral("pc-pg-1"), device);
        if (QTest::currentTestFailed())
            return;
        // Registration: DAS -> IdP SCIM -> shared id stored in PostgreSQL.
        const QJsonObject alice {{QStringLiteral("username"), QStringLiteral("alice")},
            {QStringLiteral("domain"), QStringLiteral("corp.example")},
            {QStringLiteral("sid"), QStringLiteral("S-1-5-21-1004336348-1177238915-682003330-1001")},
            {QStringLiteral("type"), QStringLiteral("AD")}};
        HttpResult r = das.postJson(QStringLiteral("/v1/users"), alice, das.deviceAuth(device));
        QCOMPARE(r.status, 201);
        const QString user = jsonOf(r).value(QLatin1String("username")).toString();
        const QString sharedId = jsonOf(r).value(QLatin1String("shared_id")).toString();
        QVERIFY(sharedId.size() >= 16);
        QCOMPARE(das.scalar(QStringLiteral("SELECT shared_id FROM das_users WHERE username = ?"), {user}).toString(), sharedId);

        // A request object for that subject, signed with the key the DAS publishes.
        const QByteArray token = das.deviceToken(device);
        const Headers auth {{"Authorization", "DeviceToken " + token}};
        r = das.postJson(QStringLiteral("/v1/2fa-tokens"), twoFactorBody(user), auth);
        QCOMPARE(r.status, 201);
        const HttpResult keys = das.get(QStringLiteral("/jwks"));
        auto set = jose::JwkSet::fromJson(keys.body);
        QVERIFY(set.has_value());
        jose::JwsVerifyOptions options;
        options.allowed = {jose::Algorithm::ES256};
        auto jws = jose::verifyCompact(jsonOf(r).value(QLatin1String("request")).toString().toLatin1(), *set, options);
        QVERIFY(jws.has_value());
        const QJsonObject claims = QJsonDocument::fromJson(jws->payload).object();
        QCOMPARE(
            claims[QLatin1String("claims")][QLatin1String("id_token")][QLatin1String("sub")][QLatin1String("value")].toString(),
            sharedId);
        // The same device token again at the same DAS: refused.
        r = das.postJson(QStringLiteral("/v1/2fa-tokens"), twoFactorBody(user), auth);
        QCOMPARE(r.status, 401);
        QCOMPARE(problemSlug(r), QStringLiteral("replayed-token"));

        // A second DAS process on the same data directory and database, as if behind one load balancer.
        QProcess second;
        second.setProcessChannelMode(QProcess::SeparateChannels);
        second.start(QStringLiteral(HOTDESK_STUBS_BINARY),
            {QStringLiteral("das"), QStringLiteral("--data"), das.dir->path(), QStringLiteral("--db"), das.database,
                QStringLiteral("--public-url"), das.dasUrl()});
        QVERIFY(second.waitForStarted(10000));
        QByteArray summary;
        waitForSummary(second, summary);
        if (QTest::currentTestFailed())
            return;
        const QUrl secondDas = summaryUrl(summary, "das");
        QVERIFY2(secondDas.isValid() && secondDas.port() != das.at(QStringLiteral("/")).port(), summary.constData());
        HttpsClient client(das.server->caFile());
        auto postSecond = [&](const QByteArray &deviceToken) {
            return client.send(secondDas.resolved(QUrl(QStringLiteral("/v1/2fa-tokens"))), "POST",
                QJsonDocument(twoFactorBody(user)).toJson(QJsonDocument::Compact), "application/json",
                {{"Authorization", "DeviceToken " + deviceToken}});
        };
        // A token the first DAS has spent is spent for the second one too...
        const QByteArray spentThere = das.deviceToken(device);
        QCOMPARE(das.postJson(QStringLiteral("/v1/2fa-tokens"), twoFactorBody(user), das.deviceAuth(device)).status, 201);
        r = das.postJson(QStringLiteral("/v1/2fa-tokens"), twoFactorBody(user), {{"Authorization", "DeviceToken " + spentThere}});
        QCOMPARE(r.status, 201);
        r = postSecond(spentThere);
        QCOMPARE(r.status, 401);
        QCOMPARE(problemSlug(r), QStringLiteral("replayed-token"));
        // ... and the other way round; a fresh one works at either, signed with the shared key.
        const QByteArray spentHere = das.deviceToken(device);
        r = postSecond(spentHere);
        QVERIFY2(r.status == 201, r.body.constData());
        auto fromSecond = jose::verifyCompact(jsonOf(r).value(QLatin1String("request")).toString().toLatin1(), *set, options);
        QVERIFY(fromSecond.has_value());
        r = das.postJson(QStringLiteral("/v1/2fa-tokens"), twoFactorBody(user), {{"Authorization", "DeviceToken " + spentHere}});
        QCOMPARE(r.status, 401);
        QCOMPARE(problemSlug(r), QStringLiteral("replayed-token"));

        // One-time codes asked for at both DAS processes at the same moment:
        // the limit (3 per user in 10 minutes) holds across them.
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.addCaCertificates(das.server->caFile());
        QNetworkAccessManager manager;
        QList<QNetworkReply *> replies;
        const QByteArray codeBody = QJsonDocument(QJsonObject {{QStringLiteral("user"), user}}).toJson(QJsonDocument::Compact);
        for (int i = 0; i < 10; ++i) {
            const QUrl base = i % 2 ? secondDas : das.at(QStringLiteral("/"));
            QNetworkRequest request(base.resolved(QUrl(QStringLiteral("/v1/oob-tokens"))));
            request.setSslConfiguration(tls);
            request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
            request.setRawHeader("Authorization", "DeviceToken " + das.deviceToken(device));
            replies << manager.post(request, codeBody);
        }
        QTRY_VERIFY_WITH_TIMEOUT(std::all_of(replies.cbegin(), replies.cend(), [](QNetworkReply *answer) { return answer->isFinished(); }),
            30000);
        int issued = 0;
        int limited = 0;
        for (QNetworkReply *reply : std::as_const(replies)) {
            const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            issued += status == 202 ? 1 : 0;
            limited += status == 429 ? 1 : 0;
            reply->deleteLater();
        }
        QCOMPARE(issued, 3);
        QCOMPARE(limited, 7);
        QCOMPARE(das.scalar(QStringLiteral("SELECT COUNT(*) FROM das_oob_tokens WHERE username = ?"), {user}).toInt(), 3);

        // What orders them: a request waits for the user's advisory lock. Held
        // here, the second process's request waits for it, and answers once it goes.
        const QString key = QStringLiteral("oob-tokens:") + user;
        das.scalar(QStringLiteral("SELECT pg_advisory_lock(4711, hashtext(?))"), {key});
        QNetworkRequest held(secondDas.resolved(QUrl(QStringLiteral("/v1/oob-tokens"))));
        held.setSslConfiguration(tls);
        held.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        held.setRawHeader("Authorization", "DeviceToken " + das.deviceToken(device));
        QNetworkReply *waiting = manager.post(held, codeBody);
        QTRY_COMPARE_WITH_TIMEOUT(
            das.count(QStringLiteral("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")), qint64(1), 20000);
        QVERIFY(!waiting->isFinished());
        das.scalar(QStringLiteral("SELECT pg_advisory_unlock(4711, hashtext(?))"), {key});
        QTRY_VERIFY_WITH_TIMEOUT(waiting->isFinished(), 20000);
        QCOMPARE(waiting->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 429);
        waiting->deleteLater();

        second.terminate();
        QVERIFY(second.waitForFinished(10000));
        verifyNoPassword(summary + second.readAll() + second.readAllStandardError());
    }

    // "hotdesk-stubs all --db": every role starts on PostgreSQL, and the
    // administration commands find the same tables with the same --db.
    // Prepared statements kept per connection (store.h, Query) on PostgreSQL:
    // one prepared in a transaction that rolled back, and one that failed in a
    // savepoint rolled back to, both leave the next transaction working, and
    // READ COMMITTED still sees another connection's commit.
    void keptStatementsAcrossRollbacks()
    {
        if (!requireCluster())
            return;
        auto parsed = stubs::parsePostgresUrl(url(QStringLiteral("hotdesk_shared")));
        QVERIFY(parsed.has_value());
        auto store = stubs::Store::openPostgres(*parsed, QStringLiteral("kept-statements"));
        QVERIFY2(store.has_value(), store ? "" : qPrintable(store.error().message));
        const QList<const char *> migrations = {"CREATE TABLE kept_things (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"};
        QVERIFY2(store->migrate(QStringLiteral("kept-statements-test"), migrations), "migration failed");
        const QString insert = QStringLiteral("INSERT INTO kept_things (name, value) VALUES (?, ?)");
        const QString select = QStringLiteral("SELECT value FROM kept_things WHERE name = ?");
        auto statusOf = [](const auto &r) { return r ? Status() : Status(tl::unexpected(r.error())); };

        // First use of the INSERT in a transaction that is then rolled back.
        const Status rolledBack = store->transaction([&](QSqlDatabase &db) -> Status {
            if (auto r = stubs::exec(db, insert, {QStringLiteral("a"), 1}); !r)
                return statusOf(r);
            return fail(ErrorCode::Io, QStringLiteral("rolled back on purpose"));
        });
        QVERIFY(!rolledBack);
        // A savepoint as the DAS's 2FA group has: the kept INSERT fails on the key, the group goes on.
        const Status group = store->transaction([&](QSqlDatabase &db) -> Status {
            if (auto r = stubs::exec(db, insert, {QStringLiteral("b"), 2}); !r)
                return statusOf(r);
            if (auto r = stubs::exec(db, QStringLiteral("SAVEPOINT issue")); !r)
                return statusOf(r);
            if (auto r = stubs::exec(db, insert, {QStringLiteral("b"), 3}); r)
                return fail(ErrorCode::Io, QStringLiteral("a duplicate name was inserted"));
            if (auto r = stubs::exec(db, QStringLiteral("ROLLBACK TO issue")); !r)
                return statusOf(r);
            if (auto r = stubs::exec(db, QStringLiteral("RELEASE issue")); !r)
                return statusOf(r);
            return statusOf(stubs::exec(db, insert, {QStringLiteral("c"), 4}));
        });
        QVERIFY2(group, group ? "" : qPrintable(group.error().message));
        QVERIFY2(store->transaction([&](QSqlDatabase &db) {
            return statusOf(stubs::exec(db, insert, {QStringLiteral("d"), 5}));
        }),
            "the kept INSERT after the failures");

        auto valueOf = [&](const QString &name) -> qint64 {
            QSqlDatabase db = store->database();
            auto q = stubs::exec(db, select, {name});
            if (!q)
                qFatal("select failed: %s", qPrintable(q.error().message));
            return q->next() ? q->value(0).toLongLong() : -1;
        };
        QCOMPARE(valueOf(QStringLiteral("a")), -1);
        QCOMPARE(valueOf(QStringLiteral("b")), 2);
        QCOMPARE(valueOf(QStringLiteral("c")), 4);
        QCOMPARE(valueOf(QStringLiteral("d")), 5);
        {
            auto other = stubs::Store::openPostgres(*parsed, QStringLiteral("kept-statements-other"));
            QVERIFY(other.has_value());
            QVERIFY(other->transaction([&](QSqlDatabase &db) {
                return statusOf(
                    stubs::exec(db, QStringLiteral("UPDATE kept_things SET value = ? WHERE name = ?"), {7, QStringLiteral("d")}));
            }));
        }
        QCOMPARE(valueOf(QStringLiteral("d")), 7);

        // A statement that failed is freed once its transaction ended: none is left on the server.
        auto preparedOnServer = [&]() -> qint64 {
            QSqlDatabase db = store->database();
            auto q = stubs::exec(db, QStringLiteral("SELECT count(*) FROM pg_prepared_statements"));
            return q && q->next() ? q->value(0).toLongLong() : -1;
        };
        const qint64 before = preparedOnServer();
        QVERIFY(before > 0);
        const Status failedAgain = store->transaction([&](QSqlDatabase &db) -> Status {
            if (auto r = stubs::exec(db, insert, {QStringLiteral("c"), 8}); r)
                return fail(ErrorCode::Io, QStringLiteral("a duplicate name was inserted"));
            return fail(ErrorCode::Io, QStringLiteral("failed as expected"));
        });
        QVERIFY(!failedAgain);
        QVERIFY(store->transaction([&](QSqlDatabase &db) {
            return statusOf(stubs::exec(db, insert, {QStringLiteral("e"), 9}));
        }));
        QCOMPARE(preparedOnServer(), before);
    }

    void allRolesAndAdminCommands()
    {
        if (!requireCluster())
            return;
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString database = url(QStringLiteral("hotdesk_all"));
        QProcess all;
        all.start(QStringLiteral(HOTDESK_STUBS_BINARY),
            {QStringLiteral("all"), QStringLiteral("--data"), dir.path(), QStringLiteral("--db"), database,
                QStringLiteral("--auto-approve=0")});
        QVERIFY(all.waitForStarted(10000));
        QByteArray summary;
        waitForSummary(all, summary);
        if (QTest::currentTestFailed())
            return;
        for (const QByteArray role : {"das", "idp", "push", "enterprise"})
            QVERIFY2(summaryUrl(summary, role).isValid(), summary.constData());
        QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("stubs.db"))));

        QProcess admin;
        admin.start(QStringLiteral(HOTDESK_STUBS_BINARY),
            {QStringLiteral("admin"), QStringLiteral("create-token"), QStringLiteral("--role"), QStringLiteral("admin"),
                QStringLiteral("--data"), dir.path(), QStringLiteral("--db"), database});
        QVERIFY(admin.waitForFinished(30000));
        QCOMPARE(admin.exitCode(), 0);
        const QByteArray adminOut = admin.readAllStandardOutput();
        const QByteArray token = adminOut.trimmed().split('\n').constLast();
        HttpsClient client(dir.filePath(QStringLiteral("ca.pem")));
        const QUrl dasUrl = summaryUrl(summary, "das");
        HttpResult r = client.send(
            dasUrl.resolved(QUrl(QStringLiteral("/v1/activation"))), "POST", {}, {}, {{"Authorization", "Bearer " + token}});
        QVERIFY2(r.status == 201, r.body.constData());
        // The IdP's discovery and keys come from the same database.
        r = client.get(summaryUrl(summary, "idp").resolved(QUrl(QStringLiteral("/jwks"))));
        QCOMPARE(r.status, 200);

        all.terminate();
        QVERIFY(all.waitForFinished(10000));
        verifyNoPassword(summary + all.readAll() + all.readAllStandardError() + adminOut + admin.readAllStandardError());
    }
};

QTEST_GUILESS_MAIN(TestStubsPg)
#include "tst_stubspg.moc"

// The companion servers' foundation: TLS with the local CA, discovery, JWKS and rotation, problems.
#include "app/stubs/cli/stubsserver.h"
#include "app/stubs/common/httpservice.h"
#include "app/stubs/common/sidethread.h"
#include "core/jose/jwk.h"
#include "core/policy/policy.h"
#include "core/policy/policyvalidator.h"
#include "fakeclock.h"
#include "httpsclient.h"

#include <QJsonDocument>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <atomic>
#include <thread>

using namespace hotdesk;
using namespace hotdesk::test;

namespace {

stubs::cli::StubsOptions options(const QString &dir, const QStringList &roles, const Clock *clock)
{
    stubs::cli::StubsOptions o;
    o.dataDir = dir;
    o.roles = roles;
    o.clock = clock;
    return o;
}

} // namespace

class TestStubs : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void startsEveryRoleOverTls()
    {
        QTemporaryDir dir;
        auto server = stubs::cli::StubsServer::start(options(dir.path(),
            {QStringLiteral("das"), QStringLiteral("idp"), QStringLiteral("push"), QStringLiteral("enterprise")}, nullptr));
        QVERIFY2(server.has_value(), qPrintable(server ? QString() : server.error().message));
        const QStringList lines = (*server)->summaryLines();
        QCOMPARE(lines.size(), 5);
        QVERIFY(lines[0].startsWith(QLatin1String("das https://127.0.0.1:")));
        QVERIFY(lines[1].startsWith(QLatin1String("idp https://127.0.0.1:")));
        QVERIFY(lines[2].startsWith(QLatin1String("push https://127.0.0.1:")));
        QVERIFY(lines[3].startsWith(QLatin1String("enterprise https://127.0.0.1:")));
        QCOMPARE(lines[4], QStringLiteral("ca ") + dir.filePath(QStringLiteral("ca.pem")));
        QVERIFY(QFile::exists((*server)->agentPolicyFile()));

        // Without the local CA the TLS handshake fails: no certificate error is ever ignored.
        QNetworkAccessManager plain;
        QNetworkReply *reply = plain.get(QNetworkRequest((*server)->endpoints().idp.resolved(QUrl(QStringLiteral("/jwks")))));
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 20000);
        QCOMPARE(reply->error(), QNetworkReply::SslHandshakeFailedError);
        delete reply;
    }

    void agentPolicyIsValid()
    {
        // The policy the companion servers write for the agent (docs/stubs.md) passes the agent's own validator.
        QTemporaryDir dir;
        auto server = stubs::cli::StubsServer::start(options(dir.path(), {QStringLiteral("das"), QStringLiteral("idp")}, nullptr));
        QVERIFY2(server.has_value(), qPrintable(server ? QString() : server.error().message));
        const QString file = (*server)->agentPolicyFile();
        QFile policyFile(file);
        QVERIFY(policyFile.open(QIODevice::ReadOnly));
        const QList<policy::PolicyProblem> problems = policy::validatePolicy(policyFile.readAll());
        QVERIFY2(problems.isEmpty(), qPrintable(policy::formatProblems(file, problems)));
        auto agentPolicy = policy::loadPolicy(file);
        QVERIFY2(agentPolicy.has_value(), agentPolicy ? "" : qPrintable(agentPolicy.error().message));
        QVERIFY(!agentPolicy->servers.activationKeys.isEmpty());
        QVERIFY(agentPolicy->triggers.onUnlock);
    }

    void discoveryAndJwks()
    {
        QTemporaryDir dir;
        auto server = stubs::cli::StubsServer::start(options(dir.path(), {QStringLiteral("idp")}, nullptr));
        QVERIFY(server.has_value());
        HttpsClient client((*server)->caFile());
        const QUrl idp = (*server)->endpoints().idp;
        HttpResult r = client.get(idp.resolved(QUrl(QStringLiteral("/.well-known/openid-configuration"))));
        QCOMPARE(r.status, 200);
        const QJsonObject doc = QJsonDocument::fromJson(r.body).object();
        QCOMPARE(doc.value(QLatin1String("issuer")).toString(), (*server)->idp()->issuer());
        QVERIFY(doc.value(QLatin1String("code_challenge_methods_supported")).toArray().contains(QStringLiteral("S256")));
        QCOMPARE(doc.value(QLatin1String("jwks_uri")).toString(), (*server)->idp()->issuer() + QStringLiteral("/jwks"));

        r = client.get(QUrl(doc.value(QLatin1String("jwks_uri")).toString()));
        QCOMPARE(r.status, 200);
        auto set = jose::JwkSet::fromJson(r.body);
        QVERIFY(set.has_value());
        QCOMPARE(set->keys().size(), 1);
        QVERIFY(set->skipped().isEmpty());
        QVERIFY(!r.body.contains("\"d\""));
    }

    void rotationKeepsTheOldKeyPublished()
    {
        QTemporaryDir dir;
        FakeClock clock(1'767'225'600);
        auto server = stubs::cli::StubsServer::start(options(dir.path(), {QStringLiteral("idp")}, &clock));
        QVERIFY(server.has_value());
        stubs::Keyring &keys = (*server)->idp()->keyring();
        auto before = keys.currentKey();
        QVERIFY(before.has_value());
        auto after = keys.rotate(std::chrono::seconds(600));
        QVERIFY(after.has_value());
        QVERIFY(after->kid() != before->kid());
        QCOMPARE(keys.currentKey()->kid(), after->kid());
        auto published = keys.publishedKeys();
        QCOMPARE(published->keys().size(), 2);
        clock.advance(std::chrono::seconds(601));
        published = keys.publishedKeys();
        QCOMPARE(published->keys().size(), 1);
        QCOMPARE(published->keys().constFirst().kid(), after->kid());
    }

    void restartKeepsCaAndKeys()
    {
        QTemporaryDir dir;
        QString kid;
        QByteArray ca;
        {
            auto server = stubs::cli::StubsServer::start(options(dir.path(), {QStringLiteral("idp")}, nullptr));
            QVERIFY(server.has_value());
            kid = (*server)->idp()->keyring().currentKey()->kid();
            QFile f((*server)->caFile());
            QVERIFY(f.open(QIODevice::ReadOnly));
            ca = f.readAll();
        }
        auto server = stubs::cli::StubsServer::start(options(dir.path(), {QStringLiteral("idp")}, nullptr));
        QVERIFY(server.has_value());
        QCOMPARE((*server)->idp()->keyring().currentKey()->kid(), kid);
        QFile f((*server)->caFile());
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), ca);
        QCOMPARE(QFile(dir.filePath(QStringLiteral("ca-key.pem"))).permissions() & (QFileDevice::ReadOther | QFileDevice::ReadGroup), QFileDevice::Permissions());
    }

    void unknownPathIsAProblem()
    {
        QTemporaryDir dir;
        auto server = stubs::cli::StubsServer::start(options(dir.path(), {QStringLiteral("idp")}, nullptr));
        QVERIFY(server.has_value());
        HttpsClient client((*server)->caFile());
        const HttpResult r = client.get((*server)->endpoints().idp.resolved(QUrl(QStringLiteral("/no/such/thing"))));
        QCOMPARE(r.status, 404);
        QCOMPARE(r.contentType, QByteArray("application/problem+json"));
        const QJsonObject problem = QJsonDocument::fromJson(r.body).object();
        QCOMPARE(problem.value(QLatin1String("type")).toString(), QStringLiteral("urn:hotdesk:problem:not-found"));
        QCOMPARE(problem.value(QLatin1String("status")).toInt(), 404);
    }

    void splitDeploymentFindsTheOtherRoles()
    {
        QTemporaryDir dir;
        auto das = stubs::cli::StubsServer::start(options(dir.path(), {QStringLiteral("das")}, nullptr));
        QVERIFY(das.has_value());
        auto idp = stubs::cli::StubsServer::start(options(dir.path(), {QStringLiteral("idp"), QStringLiteral("push")}, nullptr));
        QVERIFY(idp.has_value());
        // The second process learnt the first one's address, and the file names all three roles.
        QCOMPARE((*idp)->context().endpoints.das, (*das)->endpoints().das);
        auto file = stubs::readEndpoints(dir.path());
        QVERIFY(file.has_value());
        QCOMPARE(file->das, (*das)->endpoints().das);
        QCOMPARE(file->idp, (*idp)->endpoints().idp);
        QCOMPARE(file->push, (*idp)->endpoints().push);
        QVERIFY(!file->enterprise.isValid());
    }

    void commandLine()
    {
        QTemporaryDir dir;
        QProcess process;
        process.start(QStringLiteral(HOTDESK_STUBS_BINARY), {QStringLiteral("all"), QStringLiteral("--data"), dir.path(),
                                                             QStringLiteral("--env"), dir.filePath(QStringLiteral("stubs.env"))});
        QTRY_VERIFY_WITH_TIMEOUT(process.readAllStandardOutput().contains("ca ") || process.state() == QProcess::NotRunning
                                     || QFile::exists(dir.filePath(QStringLiteral("stubs.env"))), 20000);
        QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(dir.filePath(QStringLiteral("stubs.env"))), 20000);
        QFile env(dir.filePath(QStringLiteral("stubs.env")));
        QVERIFY(env.open(QIODevice::ReadOnly));
        const QByteArray text = env.readAll();
        for (const char *key : {"DAS_URL=https://127.0.0.1:", "IDP_URL=https://127.0.0.1:", "PUSH_URL=", "ENTERPRISE_URL=", "CA_FILE=", "AGENT_POLICY="})
            QVERIFY2(text.contains(key), key);
        QProcess rotate;
        rotate.start(QStringLiteral(HOTDESK_STUBS_BINARY), {QStringLiteral("idp"), QStringLiteral("rotate-key"), QStringLiteral("--data"), dir.path()});
        QVERIFY(rotate.waitForFinished(20000));
        QCOMPARE(rotate.exitCode(), 0);
        process.terminate();
        QVERIFY(process.waitForFinished(10000));

        QProcess bad;
        bad.start(QStringLiteral(HOTDESK_STUBS_BINARY), {QStringLiteral("frobnicate")});
        QVERIFY(bad.waitForFinished(10000));
        QCOMPARE(bad.exitCode(), 2);
    }
    // The DAS's side thread: each job runs away from the caller's thread, and
    // wait() returns only once the job started last is done.
    void sideThreadRunsEachJobOnceBesideTheCaller()
    {
        std::vector<std::thread::id> ranOn;
        std::atomic<int> runs {0};
        {
            stubs::SideThread side;
            side.wait(); // nothing started: returns at once
            for (int i = 0; i < 20; ++i) {
                std::atomic<bool> mayFinish {false};
                side.start([&] {
                    while (!mayFinish.load())
                        std::this_thread::yield();
                    ranOn.push_back(std::this_thread::get_id());
                    ++runs;
                });
                // The job waits for the caller, so it cannot be done before this line.
                QCOMPARE(runs.load(), i);
                mayFinish = true;
                side.wait();
                QCOMPARE(runs.load(), i + 1);
            }
            // A job still running when the side thread goes is finished first.
            side.start([&] {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                ++runs;
            });
        }
        QCOMPARE(runs.load(), 21);
        QCOMPARE(int(ranOn.size()), 20);
        for (const std::thread::id &id : ranOn) {
            QVERIFY(id != std::this_thread::get_id());
            QVERIFY(id == ranOn.front()); // one thread, kept between jobs
        }
    }

    void jsonWriterEscapes_data()
    {
        QTest::addColumn<QString>("value");
        QTest::newRow("plain") << QStringLiteral("https://das.example/cb?x=1&y=2");
        QTest::newRow("empty") << QString();
        QTest::newRow("quote and backslash") << QStringLiteral("say \"hi\" \\ bye");
        QTest::newRow("control characters") << QStringLiteral("a\nb\rc\td") + QChar(0x01) + QChar(0x1f) + QChar(0x7f);
        QTest::newRow("not ASCII") << QStringLiteral("Jos\u00e9 \u2028 \U0001F511");
        QTest::newRow("slash and html") << QStringLiteral("</script><!--");
    }

    // What JsonWriter writes reads back as the same values, in the order written.
    void jsonWriterEscapes()
    {
        QFETCH(QString, value);
        const QByteArray inner = stubs::JsonWriter().add("n", qint64(-42)).add("t", true).add("f", false).finish();
        const QByteArray json = stubs::JsonWriter().add("z", value).add("a", value).addJson("inner", inner).finish();
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
        QVERIFY2(error.error == QJsonParseError::NoError,
            qPrintable(error.errorString() + QStringLiteral(": ") + QString::fromUtf8(json)));
        const QJsonObject object = doc.object();
        QCOMPARE(object.value(QLatin1String("z")).toString(), value);
        QCOMPARE(object.value(QLatin1String("a")).toString(), value);
        QVERIFY(json.indexOf("\"z\"") < json.indexOf("\"a\""));
        const QJsonObject nested = object.value(QLatin1String("inner")).toObject();
        QCOMPARE(nested.value(QLatin1String("n")).toInteger(), qint64(-42));
        QCOMPARE(nested.value(QLatin1String("t")), QJsonValue(true));
        QCOMPARE(nested.value(QLatin1String("f")), QJsonValue(false));
        QCOMPARE(object.size(), 3);
    }
};

QTEST_GUILESS_MAIN(TestStubs)
#include "tst_stubs.moc"

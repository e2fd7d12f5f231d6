// The agent's state files (enrollments, known users) and the in-memory secret store of the unit tests.
#include "core/store/agentstate.h"
#include "core/store/secretstore.h"

#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <optional>

using namespace hotdesk;
using namespace hotdesk::store;

namespace {

EnrollmentRecord record(const QString &dasUrl, const QString &deviceId, const QString &kid = QStringLiteral("kid-1"))
{
    return {dasUrl, deviceId, deviceKeyName(dasUrl), kid, 1'767'225'600};
}

template <typename R> QByteArray why(const R &r)
{
    return r ? QByteArray() : (r.error().codeName() + QStringLiteral(": ") + r.error().message).toUtf8();
}

template <typename R, typename Start> R await(Start start)
{
    std::optional<R> out;
    bool inside = true;
    start([&](R r) {
        if (inside)
            qFatal("a callback ran inside the call");
        out = std::move(r);
    });
    inside = false;
    for (int i = 0; i < 100 && !out; ++i)
        QTest::qWait(10);
    if (!out)
        qFatal("the callback did not run");
    return std::move(*out);
}

const QFileDevice::Permissions kOthers = QFileDevice::ReadGroup | QFileDevice::WriteGroup | QFileDevice::ExeGroup
    | QFileDevice::ReadOther | QFileDevice::WriteOther | QFileDevice::ExeOther;

} // namespace

class TestAgentState : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void emptyDirectory()
    {
        QTemporaryDir dir;
        AgentState state(dir.filePath(QStringLiteral("not/yet")));
        auto records = state.enrollments();
        QVERIFY2(records, why(records));
        QVERIFY(records->isEmpty());
        auto user = state.knownUser(QStringLiteral("alice"));
        QVERIFY(user && !*user);
        // Reading creates nothing.
        QVERIFY(!QFileInfo::exists(dir.filePath(QStringLiteral("not"))));
    }

    void enrollmentsCoexistAndReenrollReplaces()
    {
        QTemporaryDir dir;
        AgentState state(dir.filePath(QStringLiteral("state")));
        QVERIFY(state.saveEnrollment(record(QStringLiteral("https://das-a.example"), QStringLiteral("pc-1"))));
        QVERIFY(state.saveEnrollment(record(QStringLiteral("https://das-b.example"), QStringLiteral("pc-1b"))));
        QVERIFY(state.saveEnrollment(
            record(QStringLiteral("https://das-a.example"), QStringLiteral("pc-1"), QStringLiteral("kid-2"))));
        auto records = AgentState(state.directory()).enrollments();
        QVERIFY2(records, why(records));
        QCOMPARE(records->size(), 2);
        auto a = state.enrollment(QStringLiteral("https://das-a.example"));
        QVERIFY(a && *a);
        QCOMPARE((*a)->kid, QStringLiteral("kid-2"));
        QCOMPARE((*a)->keyName, QStringLiteral("device-key:https://das-a.example"));
        QCOMPARE(**a, record(QStringLiteral("https://das-a.example"), QStringLiteral("pc-1"), QStringLiteral("kid-2")));
        QVERIFY(state.forgetEnrollment(QStringLiteral("https://das-b.example")));
        QCOMPARE(state.enrollments()->size(), 1);
    }

    void filesAreTheOwnersOnly()
    {
        QTemporaryDir dir;
        AgentState state(dir.filePath(QStringLiteral("state")));
        QVERIFY(state.saveEnrollment(record(QStringLiteral("https://das.example"), QStringLiteral("pc-1"))));
        QVERIFY(state.rememberUser(QStringLiteral("alice@corp.example"), QStringLiteral("4f1c2a9e")));
        for (const char *name : {"enrollments.json", "users.json"}) {
            const QFileInfo info(QDir(state.directory()).filePath(QLatin1String(name)));
            QVERIFY2(info.exists(), name);
            QCOMPARE(info.permissions() & kOthers, QFileDevice::Permissions());
        }
        QCOMPARE(QFileInfo(state.directory()).permissions() & kOthers, QFileDevice::Permissions());
    }

    void knownUsers()
    {
        QTemporaryDir dir;
        AgentState state(dir.path());
        QVERIFY(state.rememberUser(QStringLiteral("alice@corp.example"), QStringLiteral("4f1c2a9e")));
        QVERIFY(state.rememberUser(QStringLiteral("bob@corp.example"), QStringLiteral("77aa")));
        QVERIFY(state.rememberUser(QStringLiteral("alice@corp.example"), QStringLiteral("4f1c2a9f")));
        auto alice = state.knownUser(QStringLiteral("alice@corp.example"));
        QVERIFY(alice && *alice);
        QCOMPARE(**alice, QStringLiteral("4f1c2a9f"));
        auto carol = state.knownUser(QStringLiteral("carol@corp.example"));
        QVERIFY(carol && !*carol);
        QVERIFY(!state.rememberUser(QStringLiteral("dave"), QString()));
    }

    void damagedFiles_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QByteArray>("content");
        QTest::newRow("enrollments: not JSON") << "enrollments.json" << QByteArray("{\"version\": 1, \"enrollments\": [");
        QTest::newRow("enrollments: empty") << "enrollments.json" << QByteArray();
        QTest::newRow("enrollments: no version") << "enrollments.json" << QByteArray("{\"enrollments\": []}");
        QTest::newRow("enrollments: not an array") << "enrollments.json" << QByteArray("{\"version\": 1, \"enrollments\": {}}");
        QTest::newRow("enrollments: no das_url")
            << "enrollments.json"
            << QByteArray(
                   "{\"version\":1,\"enrollments\":[{\"device_id\":\"a\",\"key_name\":\"k\",\"kid\":\"x\",\"enrolled_at\":1}]}");
        QTest::newRow("enrollments: bad time") << "enrollments.json"
                                               << QByteArray("{\"version\":1,\"enrollments\":[{\"das_url\":\"u\",\"device_id\":"
                                                             "\"a\",\"key_name\":\"k\",\"kid\":\"x\",\"enrolled_at\":\"now\"}]}");
        QTest::newRow("enrollments: duplicate member") << "enrollments.json" << QByteArray("{\"version\":1,\"version\":1}");
        QTest::newRow("users: not an object") << "users.json" << QByteArray("{\"version\":1,\"users\":[]}");
        QTest::newRow("users: no shared id") << "users.json" << QByteArray("{\"version\":1,\"users\":{\"alice\":{}}}");
        QTest::newRow("users: binary") << "users.json" << QByteArray("\x00\xff\xfe garbage", 12);
    }
    void damagedFiles()
    {
        QFETCH(QString, file);
        QFETCH(QByteArray, content);
        QTemporaryDir dir;
        QFile f(dir.filePath(file));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(content);
        f.close();
        AgentState state(dir.path());
        const bool enrollments = file == u"enrollments.json";
        const Status read = enrollments ? Status(state.enrollments().map([](auto &&) {}))
                                        : Status(state.knownUser(QStringLiteral("alice")).map([](auto &&) {}));
        QVERIFY(!read);
        QCOMPARE(read.error().code, ErrorCode::Malformed);
        QVERIFY2(read.error().message.contains(dir.filePath(file)), qPrintable(read.error().message));
        QVERIFY2(read.error().message.contains(QLatin1String("move it aside")), qPrintable(read.error().message));
        // A damaged file is never overwritten: the administrator decides.
        const Status write = enrollments
            ? state.saveEnrollment(record(QStringLiteral("https://das.example"), QStringLiteral("pc-1")))
            : state.rememberUser(QStringLiteral("alice"), QStringLiteral("x"));
        QVERIFY(!write);
        QCOMPARE(write.error().code, ErrorCode::Malformed);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), content);
    }

    void memorySecretStore()
    {
        MemorySecretStore secrets;
        auto missing = await<Result<QByteArray>>([&](auto done) { secrets.readSecret(QStringLiteral("k"), done); });
        QVERIFY(!missing);
        QCOMPARE(missing.error().code, ErrorCode::NotEnrolled);
        QVERIFY(await<Status>([&](auto done) { secrets.writeSecret(QStringLiteral("k"), "v1", done); }));
        QVERIFY(await<Status>([&](auto done) { secrets.writeSecret(QStringLiteral("k"), "v2", done); }));
        auto read = await<Result<QByteArray>>([&](auto done) { secrets.readSecret(QStringLiteral("k"), done); });
        QVERIFY(read && *read == "v2");
        secrets.setFailure(Error {ErrorCode::Keychain, QStringLiteral("locked")});
        auto failed = await<Result<QByteArray>>([&](auto done) { secrets.readSecret(QStringLiteral("k"), done); });
        QCOMPARE(failed.error().code, ErrorCode::Keychain);
        secrets.setFailure(std::nullopt);
        QVERIFY(await<Status>([&](auto done) { secrets.deleteSecret(QStringLiteral("k"), done); }));
        QVERIFY(await<Status>([&](auto done) { secrets.deleteSecret(QStringLiteral("k"), done); }));
        QVERIFY(!secrets.contains(QStringLiteral("k")));
    }
};

QTEST_GUILESS_MAIN(TestAgentState)
#include "tst_agentstate.moc"

// "hotdesk doctor" where hotdeskd enforces, all real processes: hotdesk-stubs, "hotdesk enroll --system", hotdeskd on
// python3-dbusmock's logind, the doctor as uid 65534; and the daemon's "health" as that uid sees it.
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QProcess>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>

#include "daemonclient.h"
#include "enrolleddaemon.h"
#include "logindmock.h"
#include "relayclient.h"
#include "stubsprocess.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace hotdesk::test;

namespace {

constexpr uid_t kNobody = 65534;
const QString kSession = QStringLiteral("s1");

struct DoctorRun {
    int exitCode = -1;
    QByteArray out; // one line per problem
    QByteArray err; // ok and note lines
};

} // namespace

class TestHotdeskdDoctor : public QObject, protected EnrolledDaemonFixture {
    Q_OBJECT
private:
    QString m_home; // the doctor's HOME and state directory, uid 65534's

    bool startDaemon(const QString &stateDir) { return startEnrolledDaemon({}, stateDir); }

    DoctorRun runDoctor(const QString &policyFile = {})
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("HOTDESK_DAEMON_SOCKET"), m_socket);
        env.insert(QStringLiteral("XDG_SESSION_ID"), kSession);
        env.insert(QStringLiteral("HOME"), m_home);
        env.insert(QStringLiteral("HOTDESK_STATE_DIR"), m_home);
        QProcess doctor;
        doctor.setProcessEnvironment(env);
        doctor.start(QStringLiteral("setpriv"),
            {QStringLiteral("--reuid=%1").arg(kNobody), QStringLiteral("--regid=%1").arg(kNobody),
                QStringLiteral("--clear-groups"), QStringLiteral(HOTDESK_BINARY), QStringLiteral("doctor"),
                QStringLiteral("--policy"), policyFile.isEmpty() ? m_policyFile : policyFile});
        DoctorRun run;
        if (!doctor.waitForFinished(60000)) {
            stopProcess(doctor);
            return run;
        }
        run.exitCode = doctor.exitCode();
        run.out = doctor.readAllStandardOutput();
        run.err = doctor.readAllStandardError();
        return run;
    }

    // "health" as uid 65534.
    QJsonObject healthAsNobody()
    {
        RelayClient client;
        if (!client.start(m_socket, kNobody, false))
            return {};
        return client.request(command("health"));
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (const char *missing = LogindMock::missingForEnrolledDaemon())
            QSKIP(missing);
        QVERIFY(startEnrolledServers({})); // uid 65534 reaches what is inside

        // The policy and its CA where uid 65534 may read them, root's and 0644 as an administrator installs it.
        const QString ca = m_dir.filePath(QStringLiteral("ca.pem"));
        QVERIFY(QFile::copy(m_stubs->caFile(), ca));
        QVERIFY(::chmod(QFile::encodeName(ca).constData(), 0644) == 0);
        QJsonObject policy = readJsonFile(m_stubs->policyFile());
        QJsonObject servers = policy.value(QLatin1String("servers")).toObject();
        servers.insert(QStringLiteral("ca_bundle"), ca);
        policy.insert(QStringLiteral("servers"), servers);
        QVERIFY(writeJsonFile(m_policyFile, policy));
        QVERIFY(::chmod(QFile::encodeName(m_policyFile).constData(), 0644) == 0);
        m_home = m_dir.filePath(QStringLiteral("home"));
        QVERIFY(QDir().mkpath(m_home));
        QVERIFY(::chown(QFile::encodeName(m_home).constData(), kNobody, kNobody) == 0);

        QVERIFY(startLogind());
        QVERIFY(m_logind.addSession(kSession, QStringLiteral("x11"), kNobody, QStringLiteral("alice")));
    }

    void cleanupTestCase() { stopEnrolledDaemon(); }

    void healthTellsEveryUidTheEnrollmentOnly()
    {
        QVERIFY(startDaemon(m_stateDir));
        const QJsonObject health = healthAsNobody();
        QVERIFY2(health.value(QLatin1String("ok")).toBool(), QJsonDocument(health).toJson().constData());
        const QJsonObject enrollment = health.value(QLatin1String("enrollment")).toObject();
        QCOMPARE(enrollment.value(QLatin1String("enrolled")).toBool(), true);
        QVERIFY(!enrollment.value(QLatin1String("device_id")).toString().isEmpty());
        QVERIFY(enrollment.value(QLatin1String("das")).toString().startsWith(u"https://"));
        // The record's public members, never the key or its name.
        QCOMPARE(enrollment.keys(),
            (QStringList {
                QStringLiteral("das"), QStringLiteral("device_id"), QStringLiteral("enrolled"), QStringLiteral("enrolled_at")}));
        const QJsonObject policy = health.value(QLatin1String("policy")).toObject();
        QCOMPARE(policy.value(QLatin1String("file")).toString(), m_policyFile);
        QCOMPARE(policy.value(QLatin1String("applied")).toBool(), true);
        QVERIFY(!policy.contains(QLatin1String("refused")));
        // Nothing about users or sessions; the event queue's length for root only.
        QCOMPARE(health.keys(),
            (QStringList {QStringLiteral("daemon"), QStringLiteral("enrollment"), QStringLiteral("ok"),
                QStringLiteral("policy"), QStringLiteral("v")}));
        RelayClient root;
        QVERIFY(root.start(m_socket, 0, false));
        const QJsonObject asRoot = root.request(command("health"));
        QCOMPARE(asRoot.value(QLatin1String("event_queue")).toInt(-1), 0);
        QCOMPARE(asRoot.value(QLatin1String("enrollment")).toObject(), enrollment);
    }

    void doctorReportsAnEnrolledDaemon()
    {
        QVERIFY(startDaemon(m_stateDir));
        const auto agent = lockedRelayAgent(m_socket, kSession, kNobody);
        QVERIFY(agent);
        const DoctorRun run = runDoctor();
        QVERIFY2(run.exitCode == 0, QByteArray(run.out + run.err).constData());
        QCOMPARE(run.out, QByteArray());
        QVERIFY2(run.err.contains(QByteArray("ok       hotdeskd " HOTDESK_VERSION " answers on " + QFile::encodeName(m_socket))),
            run.err.constData());
        QVERIFY2(run.err.contains("ok       hotdeskd follows session s1 (lock required: "), run.err.constData());
        QVERIFY(run.err.contains("ok       hotdeskd session s1 has its agent attached"));
        QVERIFY(run.err.contains("ok       hotdeskd enrolled as "));
        QVERIFY(run.err.contains(QByteArray("ok       hotdeskd applies the policy " + QFile::encodeName(m_policyFile))));
        QVERIFY(run.err.contains(
            QByteArray("ok       policy " + QFile::encodeName(m_policyFile) + " is root's and writable by nobody else")));
        QVERIFY(run.err.contains("pam: "));
        // The user's keychain is not where the enrollment is looked for.
        QVERIFY(!run.err.contains("device key in the keychain"));
        QVERIFY(run.err.contains("every check passed"));
    }

    void doctorNamesAMissingAgentAndAnUnenrolledDaemon()
    {
        const QString empty = m_dir.filePath(QStringLiteral("empty-state"));
        QVERIFY(QDir().mkpath(empty));
        QVERIFY(::chmod(QFile::encodeName(empty).constData(), 0700) == 0);
        QVERIFY(startDaemon(empty));
        QCOMPARE(
            healthAsNobody().value(QLatin1String("enrollment")).toObject().value(QLatin1String("enrolled")).toBool(true), false);
        const DoctorRun run = runDoctor();
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.out.contains("hotdeskd session s1: no Hotdesk agent is attached"), run.out.constData());
        QVERIFY2(
            run.out.contains("hotdeskd enrollment: hotdeskd is not enrolled with the DAS of its policy"), run.out.constData());
        QVERIFY(!run.err.contains("ok       hotdeskd enrolled"));
    }

    void doctorNamesAnUntrustedPolicy()
    {
        // Writable by anyone: the daemon refuses it, and so does the doctor's check.
        QVERIFY(::chmod(QFile::encodeName(m_policyFile).constData(), 0666) == 0);
        const auto restore = qScopeGuard([this] { ::chmod(QFile::encodeName(m_policyFile).constData(), 0644); });
        QVERIFY(startDaemon(m_stateDir));
        const QJsonObject policy = healthAsNobody().value(QLatin1String("policy")).toObject();
        const DoctorRun run = runDoctor();
        QCOMPARE(policy.value(QLatin1String("refused")).toString(), QStringLiteral("policy_untrusted"));
        QCOMPARE(policy.value(QLatin1String("applied")).toBool(true), false);
        QCOMPARE(run.exitCode, 1);
        const QByteArray file = QFile::encodeName(m_policyFile);
        QVERIFY2(run.out.contains(QByteArray("policy " + file + ": hotdeskd refuses it (owner uid 0, mode 0666)")),
            run.out.constData());
        QVERIFY2(run.out.contains(QByteArray("hotdeskd policy " + file + ": refused (policy_untrusted)")), run.out.constData());
    }

    void doctorWithoutAPolicyStillAsksTheDaemon()
    {
        QVERIFY(startDaemon(m_stateDir));
        const QString broken = m_dir.filePath(QStringLiteral("broken-policy.json"));
        QFile file(broken);
        QVERIFY(file.open(QIODevice::WriteOnly) && file.write("{\"servers\": ") > 0);
        file.close();
        QVERIFY(::chmod(QFile::encodeName(broken).constData(), 0644) == 0);
        const DoctorRun run = runDoctor(broken);
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.out.startsWith("policy: "), run.out.constData());
        QVERIFY2(run.err.contains("ok       hotdeskd enrolled as "), run.err.constData());
        QVERIFY(run.err.contains(QByteArray("ok       hotdeskd applies the policy " + QFile::encodeName(m_policyFile))));
        QVERIFY(!run.err.contains("ok       das "));
    }

    void doctorNamesADaemonThatIsNotRunning()
    {
        QVERIFY(startDaemon(m_stateDir));
        // Killed: its socket file stays behind, and nobody answers there.
        m_daemon.kill();
        QVERIFY(m_daemon.waitForFinished(5000));
        QVERIFY(QFile::exists(m_socket));
        const DoctorRun run = runDoctor();
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.out.contains(QByteArray("hotdeskd: its socket " + QFile::encodeName(m_socket) + " does not answer")),
            run.out.constData());
        QVERIFY(run.out.contains("systemctl status hotdeskd"));
        QVERIFY(!run.err.contains("ok       hotdeskd"));
    }
};

QTEST_GUILESS_MAIN(TestHotdeskdDoctor)
#include "tst_hotdeskd_doctor.moc"

// The policy at its installed place, /etc/hotdesk/policy.json, is obeyed only when trusted: the real hotdesk (doctor and
// the tray agent) runs in a private mount namespace whose /etc is an overlay, so the test installs a policy there
// without changing this machine's /etc.
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>
#include <unistd.h>

namespace {

const char kInstalled[] = "/etc/hotdesk/policy.json";
// No triggers: a trusted policy leaves the agent unlocked; servers nobody answers on (refused at once).
const QByteArray kPolicy = "{\"version\": 1, \"servers\": {\"das\": [\"http://127.0.0.1:9\"], "
                           "\"idp_issuer\": \"https://127.0.0.1:9\", \"client_id\": \"agent\"}}\n";
// Mounts the overlay on /etc ($1 the upper layer, $2 its work folder), then runs the rest.
const char kEnterNamespace[]
    = "mount -t overlay overlay -o \"lowerdir=/etc,upperdir=$1,workdir=$2\" /etc || exit 97; shift 2; exec \"$@\"";

struct Run {
    int exitCode = -1;
    QString out;
    QString err;
};

} // namespace

class TestInstalledPolicy : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void doctor_data();
    void doctor();
    void trayAgentStaysLockedUnderAnUntrustedPolicy();

private:
    QString upperFile() const { return m_dir.filePath(QStringLiteral("upper/hotdesk/policy.json")); }
    // hotdesk ARGS in a new private mount namespace with the overlay on /etc.
    void startInstalled(QProcess &process, const QStringList &args)
    {
        const QString work = m_dir.filePath(QStringLiteral("work-%1").arg(++m_runs));
        QDir().mkpath(work);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("HOTDESK_STATE_DIR"), m_dir.filePath(QStringLiteral("state")));
        env.insert(QStringLiteral("HOTDESK_AUDIT_LOG"), m_audit);
        env.insert(QStringLiteral("HOTDESK_CONTROL_SOCKET"), m_dir.filePath(QStringLiteral("control")));
        process.setProcessEnvironment(env);
        process.start(QStringLiteral("unshare"),
            QStringList {QStringLiteral("--mount"), QStringLiteral("--propagation"), QStringLiteral("private"),
                QStringLiteral("sh"), QStringLiteral("-c"), QLatin1String(kEnterNamespace), QStringLiteral("installed"),
                m_dir.filePath(QStringLiteral("upper")), work, QStringLiteral(HOTDESK_BINARY)}
                + args);
    }
    Run runInstalled(const QStringList &args)
    {
        QProcess process;
        startInstalled(process, args);
        Run run;
        if (!process.waitForFinished(30000)) {
            process.kill();
            process.waitForFinished(5000);
        } else if (process.exitStatus() == QProcess::NormalExit) {
            run.exitCode = process.exitCode();
        }
        run.out = QString::fromUtf8(process.readAllStandardOutput());
        run.err = QString::fromUtf8(process.readAllStandardError());
        return run;
    }
    // "hotdesk status" from outside the namespace, through the agent's control socket.
    QString agentStatus()
    {
        QProcess status;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("HOTDESK_CONTROL_SOCKET"), m_dir.filePath(QStringLiteral("control")));
        status.setProcessEnvironment(env);
        status.start(QStringLiteral(HOTDESK_BINARY), {QStringLiteral("status")});
        status.waitForFinished(10000);
        return QString::fromUtf8(status.readAllStandardOutput());
    }
    static bool chmodTo(const QString &path, mode_t mode) { return ::chmod(QFile::encodeName(path).constData(), mode) == 0; }

    QTemporaryDir m_dir;
    QString m_audit;
    int m_runs = 0;
};

void TestInstalledPolicy::initTestCase()
{
    if (::geteuid() != 0)
        QSKIP("needs root: a private mount namespace with an overlay on /etc (CI runs as root)");
    if (QStandardPaths::findExecutable(QStringLiteral("unshare")).isEmpty())
        QSKIP("needs unshare (util-linux) for a private mount namespace; ./dev installs it");
    QVERIFY(m_dir.isValid());
    m_audit = m_dir.filePath(QStringLiteral("audit.jsonl"));
    QVERIFY(QDir().mkpath(m_dir.filePath(QStringLiteral("upper/hotdesk"))));
    QVERIFY(chmodTo(m_dir.filePath(QStringLiteral("upper/hotdesk")), 0755));
    QFile policy(upperFile());
    QVERIFY(policy.open(QIODevice::WriteOnly));
    QCOMPARE(policy.write(kPolicy), kPolicy.size());
    policy.close();
    // The namespace really shows the file at the installed place, and only inside it.
    const Run probe = runInstalled({QStringLiteral("policy"), QStringLiteral("check"), QLatin1String(kInstalled)});
    if (probe.exitCode == 97)
        QSKIP("this kernel or container refuses an overlay mount in a private mount namespace");
    QVERIFY2(probe.exitCode == 0, qPrintable(probe.out + probe.err));
    QVERIFY(!QFile::exists(QLatin1String(kInstalled)));
}

void TestInstalledPolicy::init()
{
    QVERIFY(chmodTo(upperFile(), 0644));
    QCOMPARE(::chown(QFile::encodeName(upperFile()).constData(), 0, 0), 0);
    QVERIFY(chmodTo(m_dir.filePath(QStringLiteral("upper/hotdesk")), 0755));
}

void TestInstalledPolicy::doctor_data()
{
    QTest::addColumn<QString>("setup");
    QTest::addColumn<QString>("refusal"); // empty: trusted
    QTest::newRow("root, 0644") << QString() << QString();
    QTest::newRow("writable by all") << QStringLiteral("0666") << QStringLiteral("it is owned by root (uid 0) with mode 0666");
    QTest::newRow("owned by 65534") << QStringLiteral("nobody") << QStringLiteral("(uid 65534) with mode 0644");
    QTest::newRow("folder writable by all") << QStringLiteral(
        "folder") << QStringLiteral("the folder /etc/hotdesk above it is owned by root (uid 0) with mode 0777");
}

// No --policy: the platform location, checked. The same bytes pass or fail by owner and mode alone.
void TestInstalledPolicy::doctor()
{
    QFETCH(QString, setup);
    QFETCH(QString, refusal);
    if (setup == u"0666")
        QVERIFY(chmodTo(upperFile(), 0666));
    else if (setup == u"nobody")
        QCOMPARE(::chown(QFile::encodeName(upperFile()).constData(), 65534, 65534), 0);
    else if (setup == u"folder")
        QVERIFY(chmodTo(m_dir.filePath(QStringLiteral("upper/hotdesk")), 0777));
    const Run run = runInstalled({QStringLiteral("doctor")});
    QVERIFY2(run.exitCode == 1, qPrintable(run.out + run.err)); // nobody answers at 127.0.0.1:9 either way
    if (refusal.isEmpty()) {
        QVERIFY2(run.err.contains(QStringLiteral("policy %1").arg(QLatin1String(kInstalled))), qPrintable(run.err));
        QVERIFY2(run.out.contains(QLatin1String("das http://127.0.0.1:9: cannot reach")), qPrintable(run.out));
        QVERIFY2(!run.out.contains(QLatin1String("not trusted")), qPrintable(run.out));
    } else {
        QVERIFY2(
            run.out.startsWith(QStringLiteral("policy: %1: not trusted: ").arg(QLatin1String(kInstalled))), qPrintable(run.out));
        QVERIFY2(run.out.contains(refusal), qPrintable(run.out));
        QVERIFY2(!run.out.contains(QLatin1String("das http")), qPrintable(run.out));
    }
}

// Fail closed: an untrusted policy is no policy, so the agent locks; the same file trusted lets the session be.
void TestInstalledPolicy::trayAgentStaysLockedUnderAnUntrustedPolicy()
{
    QVERIFY(chmodTo(upperFile(), 0666));
    QProcess agent;
    agent.setProcessChannelMode(QProcess::ForwardedChannels);
    startInstalled(agent, {QStringLiteral("--user"), QStringLiteral("alice"), QStringLiteral("--no-auto-sign-in")});
    QVERIFY(agent.waitForStarted(10000));
    QTRY_VERIFY_WITH_TIMEOUT(agentStatus().contains(QLatin1String("state:")), 30000);
    const QString locked = agentStatus();
    QVERIFY2(locked.contains(QLatin1String("state: locked")) && locked.contains(QLatin1String("detail: no_policy")),
        qPrintable(locked));
    QFile audit(m_audit);
    QVERIFY(audit.open(QIODevice::ReadOnly));
    const QByteArray trail = audit.readAll();
    QVERIFY2(trail.contains("policy_missing") && trail.contains("not trusted: it is owned by root (uid 0) with mode 0666"),
        trail.constData());
    agent.terminate();
    QVERIFY(agent.waitForFinished(10000));

    QVERIFY(chmodTo(upperFile(), 0644));
    startInstalled(agent, {QStringLiteral("--user"), QStringLiteral("alice"), QStringLiteral("--no-auto-sign-in")});
    QVERIFY(agent.waitForStarted(10000));
    QTRY_VERIFY_WITH_TIMEOUT(agentStatus().contains(QLatin1String("state:")), 30000);
    const QString trusted = agentStatus();
    QVERIFY2(!trusted.contains(QLatin1String("no_policy")), qPrintable(trusted));
    agent.terminate();
    QVERIFY(agent.waitForFinished(10000));
}

QTEST_MAIN(TestInstalledPolicy)
#include "tst_installedpolicy.moc"

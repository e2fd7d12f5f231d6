// The agent's test overrides as an unprivileged user sees them: the real hotdesk binary run as uid 65534 (setpriv).
// A test build honours them for every user; a build with HOTDESK_TEST_HOOKS=OFF ignores them for anyone but root and
// says so. Which branch runs depends on how this tree was configured (isTestBuild(), the same flag the binary has).
#include "core/control/controlserver.h"
#include "core/trustoverrides.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>
#include <unistd.h>

using namespace hotdesk;

namespace {

constexpr uid_t kNobody = 65534;

struct Run {
    int exitCode = -1;
    QString out;
    QString err;
};

} // namespace

class TestAgentOverrides : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void versionSaysWhichBuild();
    void controlSocketVariable();
    void policyAndStateOverrides();

private:
    // Starts hotdesk as uid/gid 65534 without supplementary groups; the caller runs the event loop.
    void startAsNobody(QProcess &process, const QStringList &args, const QProcessEnvironment &extra)
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(QStringLiteral("XDG_RUNTIME_DIR")); // root's; the agent's default socket would be there
        env.insert(QStringLiteral("HOME"), m_dir.path());
        for (const QString &key : extra.keys())
            env.insert(key, extra.value(key));
        process.setProcessEnvironment(env);
        process.start(QStringLiteral("setpriv"),
            QStringList {QStringLiteral("--reuid=%1").arg(kNobody), QStringLiteral("--regid=%1").arg(kNobody),
                QStringLiteral("--clear-groups"), QStringLiteral(HOTDESK_BINARY)}
                + args);
    }
    Run finish(QProcess &process)
    {
        Run run;
        // The event loop runs meanwhile: a test's server answers from it.
        if (!QTest::qWaitFor([&] { return process.state() == QProcess::NotRunning; }, 30000)) {
            process.kill();
            process.waitForFinished(5000);
            return run;
        }
        if (process.exitStatus() == QProcess::NormalExit)
            run.exitCode = process.exitCode();
        run.out = QString::fromUtf8(process.readAllStandardOutput());
        run.err = QString::fromUtf8(process.readAllStandardError());
        return run;
    }
    Run runAsNobody(const QStringList &args, const QProcessEnvironment &extra = {})
    {
        QProcess process;
        startAsNobody(process, args, extra);
        return finish(process);
    }

    QTemporaryDir m_dir;
};

void TestAgentOverrides::initTestCase()
{
    if (::geteuid() != 0)
        QSKIP("needs root to run hotdesk as uid 65534 through setpriv (CI runs as root)");
    if (QStandardPaths::findExecutable(QStringLiteral("setpriv")).isEmpty())
        QSKIP("needs setpriv (util-linux) to run hotdesk as uid 65534; ./dev installs it");
    QVERIFY(m_dir.isValid());
    // uid 65534 must reach the files and the socket in it.
    QCOMPARE(::chmod(QFile::encodeName(m_dir.path()).constData(), 0755), 0);
}

void TestAgentOverrides::versionSaysWhichBuild()
{
    const Run run = runAsNobody({QStringLiteral("--version")});
    QCOMPARE(run.exitCode, 0);
    const QStringList lines = run.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 2);
    QVERIFY(lines.at(0).startsWith(QLatin1String("hotdesk ")));
    QCOMPARE(lines.at(1),
        isTestBuild()
            ? QStringLiteral("test build: --policy, --state-dir and the HOTDESK_* overrides are honoured for every user")
            : QStringLiteral("--policy, --state-dir and the HOTDESK_* overrides are honoured for root only"));
}

// HOTDESK_CONTROL_SOCKET decides which agent "hotdesk status" believes.
void TestAgentOverrides::controlSocketVariable()
{
    control::ControlServer server;
    const QString name = m_dir.filePath(QStringLiteral("control"));
    QVERIFY(server.listen(name));
    QCOMPARE(::chmod(QFile::encodeName(server.fullServerName()).constData(), 0777), 0);
    server.setStatusProvider([] {
        return control::AgentStatus {control::AgentState::Ok, QStringLiteral("somebody"), QStringLiteral("from the test")};
    });
    QProcessEnvironment env;
    env.insert(QStringLiteral("HOTDESK_CONTROL_SOCKET"), name);
    QProcess process;
    startAsNobody(process, {QStringLiteral("status")}, env);
    const Run run = finish(process);
    if (isTestBuild()) {
        QVERIFY2(run.exitCode == 0, qPrintable(run.out + run.err));
        QVERIFY2(run.out.contains(QLatin1String("user: somebody")), qPrintable(run.out));
        QVERIFY2(!run.err.contains(QLatin1String("is ignored")), qPrintable(run.err));
    } else {
        QVERIFY2(run.exitCode == 1, qPrintable(run.out + run.err));
        QVERIFY2(!run.out.contains(QLatin1String("somebody")), qPrintable(run.out));
        QVERIFY2(run.err.contains(QLatin1String("hotdesk: HOTDESK_CONTROL_SOCKET is ignored: ")), qPrintable(run.err));
    }
}

// --policy, --state-dir, HOTDESK_STATE_DIR and HOTDESK_AUDIT_LOG: doctor names the policy file it tried to read.
void TestAgentOverrides::policyAndStateOverrides()
{
    const QString policy = m_dir.filePath(QStringLiteral("absent-policy.json"));
    QProcessEnvironment env;
    env.insert(QStringLiteral("HOTDESK_STATE_DIR"), m_dir.filePath(QStringLiteral("state")));
    env.insert(QStringLiteral("HOTDESK_AUDIT_LOG"), m_dir.filePath(QStringLiteral("audit.jsonl")));
    const Run run = runAsNobody({QStringLiteral("doctor"), QStringLiteral("--policy"), policy, QStringLiteral("--state-dir"),
                                    m_dir.filePath(QStringLiteral("s"))},
        env);
    QVERIFY2(run.exitCode == 1, qPrintable(run.out + run.err));
    if (isTestBuild()) {
        QCOMPARE(run.out, QStringLiteral("policy: cannot read the policy %1: No such file or directory\n").arg(policy));
        QVERIFY2(!run.err.contains(QLatin1String("is ignored")), qPrintable(run.err));
    } else {
        QVERIFY2(!run.out.contains(policy), qPrintable(run.out));
        for (const char *name : {"--policy", "--state-dir", "HOTDESK_STATE_DIR", "HOTDESK_AUDIT_LOG"})
            QVERIFY2(run.err.contains(QStringLiteral("hotdesk: %1 is ignored: ").arg(QLatin1String(name))), qPrintable(run.err));
    }
}

QTEST_GUILESS_MAIN(TestAgentOverrides)
#include "tst_agentoverrides.moc"

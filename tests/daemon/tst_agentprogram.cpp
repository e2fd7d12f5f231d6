// daemon::checkAgentProgram with real processes: only the very file named (by device and inode), root's and
// writable by root only, passes; a copy, another owner, a group-writable file, pid 0 or a finished process do not.
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "app/daemon/agentprogram.h"

#include <sys/stat.h>
#include <unistd.h>

using namespace hotdesk::daemon;

class TestAgentProgram : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_agent; // a root-owned 0755 program standing in for the installed agent
    QString m_copy; // the same bytes in another file
    QProcess m_running; // m_agent, running

private Q_SLOTS:
    void initTestCase()
    {
        if (::geteuid() != 0)
            QSKIP("the program must be root's file, which only root can make; CI runs as root");
        QVERIFY(m_dir.isValid());
        m_agent = m_dir.filePath(QStringLiteral("hotdesk"));
        m_copy = m_dir.filePath(QStringLiteral("copy"));
        for (const QString &file : {m_agent, m_copy}) {
            QVERIFY(QFile::copy(QStringLiteral("/usr/bin/sleep"), file));
            QCOMPARE(::chmod(QFile::encodeName(file).constData(), 0755), 0);
        }
        m_running.start(m_agent, {QStringLiteral("60")});
        QVERIFY(m_running.waitForStarted(5000));
    }

    void cleanupTestCase()
    {
        m_running.kill();
        m_running.waitForFinished(5000);
    }

    void theInstalledFileIsTheAgent()
    {
        const AgentProgram checked = checkAgentProgram(pid_t(m_running.processId()), {m_copy, m_agent});
        QVERIFY2(checked.allowed, qPrintable(checked.why));
        QCOMPARE(checked.program, m_agent);
        // A link to it names the same file.
        const QString link = m_dir.filePath(QStringLiteral("link"));
        QVERIFY(QFile::link(m_agent, link));
        QVERIFY(checkAgentProgram(pid_t(m_running.processId()), {link}).allowed);
    }

    void anotherFileIsNot()
    {
        // The same bytes in another file (as a user's copy would be): not the agent, and the refusal names the program.
        const AgentProgram checked = checkAgentProgram(pid_t(m_running.processId()), {m_copy});
        QVERIFY(!checked.allowed);
        QVERIFY2(checked.why.contains(m_agent) && checked.why.contains(m_copy), qPrintable(checked.why));
        QVERIFY(!checkAgentProgram(pid_t(m_running.processId()), {m_dir.filePath(QStringLiteral("missing"))}).allowed);
        // This test's own program is not it either.
        QVERIFY(!checkAgentProgram(::getpid(), {m_agent}).allowed);
    }

    void aFileOthersMayChangeIsNot_data()
    {
        QTest::addColumn<int>("mode");
        QTest::addColumn<uint>("owner");
        QTest::newRow("group-writable") << 0775 << 0u;
        QTest::newRow("world-writable") << 0757 << 0u;
        QTest::newRow("owned by uid 65534") << 0755 << 65534u;
    }

    void aFileOthersMayChangeIsNot()
    {
        QFETCH(int, mode);
        QFETCH(uint, owner);
        const QByteArray file = QFile::encodeName(m_agent);
        QCOMPARE(::chmod(file.constData(), mode_t(mode)), 0);
        QCOMPARE(::chown(file.constData(), owner, 0), 0);
        const AgentProgram checked = checkAgentProgram(pid_t(m_running.processId()), {m_agent});
        QCOMPARE(::chown(file.constData(), 0, 0), 0);
        QCOMPARE(::chmod(file.constData(), 0755), 0);
        QVERIFY(!checked.allowed);
        QVERIFY2(checked.why.contains(QLatin1String("only root may write")), qPrintable(checked.why));
        QVERIFY(checkAgentProgram(pid_t(m_running.processId()), {m_agent}).allowed);
    }

    void anUnknownOrFinishedProcessIsNot()
    {
        QVERIFY(!checkAgentProgram(0, {m_agent}).allowed);
        QProcess finished;
        finished.start(m_agent, {QStringLiteral("0")});
        QVERIFY(finished.waitForStarted(5000));
        const pid_t pid = pid_t(finished.processId());
        QVERIFY(finished.waitForFinished(5000));
        const AgentProgram checked = checkAgentProgram(pid, {m_agent});
        QVERIFY(!checked.allowed);
    }
};

QTEST_GUILESS_MAIN(TestAgentProgram)
#include "tst_agentprogram.moc"

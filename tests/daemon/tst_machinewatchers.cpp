// Whose sessions a process's or a seat's event counts for (app/daemon/machinewatchers.h), on a /proc stand-in.
#include "app/daemon/machinewatchers.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

using namespace hotdesk;

namespace {

platform::LoginSession session(const QString &id, uid_t uid, const QString &seat, bool active)
{
    platform::LoginSession s;
    s.id = id;
    s.uid = uid;
    s.seat = seat;
    s.active = active;
    s.sessionClass = QStringLiteral("user");
    return s;
}

} // namespace

class TestMachineWatchers : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_proc;
    const QList<platform::LoginSession> m_sessions {session(QStringLiteral("7"), 1000, QStringLiteral("seat0"), false),
        session(QStringLiteral("8"), 1000, QStringLiteral("seat0"), true), session(QStringLiteral("9"), 1001, {}, true)};

    // procRoot/PID owned by uid, its cgroup file with the given text.
    void makeProcess(qint64 pid, uid_t uid, const QByteArray &cgroup)
    {
        const QString dir = m_proc.filePath(QString::number(pid));
        QVERIFY(QDir().mkpath(dir));
        QFile file(dir + QStringLiteral("/cgroup"));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(cgroup);
        file.close();
        QCOMPARE(::chown(QFile::encodeName(dir).constData(), uid, uid), 0);
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (::geteuid() != 0)
            QSKIP("needs root to give the /proc stand-in's entries other owners (CI runs as root)");
        QVERIFY(m_proc.isValid());
        makeProcess(100, 1000, "0::/user.slice/user-1000.slice/session-7.scope\n");
        makeProcess(200, 1000, "0::/user.slice/user-1000.slice/user@1000.service/app.slice/pipewire.service\n");
        makeProcess(300, 1000, "0::/user.slice/user-1000.slice/session-42.scope\n");
        makeProcess(400, 4242, "0::/system.slice/backup.service\n");
    }

    void sessionsOfProcess_data()
    {
        QTest::addColumn<qint64>("pid");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("its cgroup's session, even when not in front") << qint64(100) << QStringList {QStringLiteral("7")};
        QTest::newRow("outside a session: its owner's sessions")
            << qint64(200) << QStringList {QStringLiteral("7"), QStringLiteral("8")};
        QTest::newRow("a session not followed: its owner's")
            << qint64(300) << QStringList {QStringLiteral("7"), QStringLiteral("8")};
        QTest::newRow("an owner without sessions") << qint64(400) << QStringList {};
        QTest::newRow("gone") << qint64(500) << QStringList {};
    }

    void sessionsOfProcess()
    {
        QFETCH(qint64, pid);
        QFETCH(QStringList, expected);
        QCOMPARE(daemon::sessionsOfProcess(m_proc.path(), pid, m_sessions), expected);
    }

    void activeSeatSessions()
    {
        // Session 9 is Active but has no seat (logind calls every seatless session active): nobody sits in front of it.
        QCOMPARE(daemon::activeSeatSessions(m_sessions), QStringList {QStringLiteral("8")});
        QCOMPARE(daemon::activeSeatSessions({}), QStringList {});
    }
};

QTEST_GUILESS_MAIN(TestMachineWatchers)
#include "tst_machinewatchers.moc"

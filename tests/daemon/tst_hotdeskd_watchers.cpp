// hotdeskd's watchers of sensitive paths and devices for the whole machine: the real daemon (root), real files
// opened and created by processes of uid 65534, real inotify and /proc; logind is python3-dbusmock's template, and the
// device nodes are regular files in a directory given with --dev-root (test builds only).
#include <QDBusMessage>
#include <QDBusVariant>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "daemonclient.h"
#include "logindmock.h"

#include <csignal>
#include <sys/stat.h>
#include <unistd.h>

using namespace hotdesk::test;

namespace {

constexpr uid_t kNobody = 65534;
constexpr uid_t kNoSessions = 4242; // a uid with no session at all (a system service, say)

} // namespace

class TestHotdeskdWatchers : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    LogindMock m_logind;
    QProcess m_daemon;
    std::unique_ptr<NotifySocket> m_notify;
    QString m_socket;
    QString m_policy;
    int m_n = 0;

    QString path(const QString &relative) const { return m_dir.filePath(relative); }
    QString fresh(const char *name) { return path(QStringLiteral("%1-%2").arg(QLatin1String(name)).arg(++m_n)); }

    bool writePolicy(const QByteArray &triggers)
    {
        // Written beside and renamed over, as an administrator's editor does; root's and 0644 as the daemon demands.
        const QString next = m_policy + QStringLiteral(".new");
        QFile file(next);
        if (!file.open(QIODevice::WriteOnly))
            return false;
        file.write("{\"version\": 1, \"servers\": {\"das\": [\"https://das.corp.example\"], "
                   "\"idp_issuer\": \"https://idp.corp.example\", \"client_id\": \"hotdesk-agent\"}, \"triggers\": "
            + triggers + "}");
        file.close();
        return ::rename(QFile::encodeName(next).constData(), QFile::encodeName(m_policy).constData()) == 0;
    }

    bool startDaemon()
    {
        m_socket = fresh("hotdeskd.sock");
        return startHotdeskd(m_daemon, m_notify, QStringLiteral(HOTDESKD_BINARY), fresh("notify"),
            QStringList {QStringLiteral("--socket"), m_socket, QStringLiteral("--state-dir"), fresh("state"),
                QStringLiteral("--policy"), m_policy, QStringLiteral("--dev-root"), path(QStringLiteral("dev"))}
                + pythonAgentArguments(),
            {QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS=") + m_logind.address()});
    }

    // A session of uid (65534 "nobody" or 0 "root") on seat0, Active or not, as the daemon sees it.
    bool addSession(const QString &id, uint uid, bool active)
    {
        if (!m_logind.addSession(id, QStringLiteral("x11"), uid, uid == 0 ? QStringLiteral("root") : QStringLiteral("nobody")))
            return false;
        QDBusMessage set = QDBusMessage::createMethodCall(QStringLiteral("org.freedesktop.login1"), LogindMock::sessionPath(id),
            QStringLiteral("org.freedesktop.DBus.Properties"), QStringLiteral("Set"));
        set.setArguments({QStringLiteral("org.freedesktop.login1.Session"), QStringLiteral("Active"),
            QVariant::fromValue(QDBusVariant(active))});
        if (m_logind.connection().call(set, QDBus::Block, 5000).type() != QDBusMessage::ReplyMessage)
            return false;
        return LogindMock::waitFor(
            [&] {
                const QJsonObject session = sessionStatus(id);
                return !session.isEmpty() && session.value(QLatin1String("active")).toBool() == active;
            },
            10000);
    }

    bool removeSession(const QString &id) { return m_logind.managerSignal(QStringLiteral("SessionRemoved"), id); }

    // The session as the daemon's status shows it to root (asked for each uid the tests use).
    QJsonObject sessionStatus(const QString &id)
    {
        for (const uid_t uid : {kNobody, uid_t(0)}) {
            Client client;
            if (!client.connect(m_socket)
                || !client.send(QByteArray("{\"v\":1,\"command\":\"status\",\"uid\":") + QByteArray::number(uid) + "}\n"))
                return {};
            for (const QJsonValue &session : client.reply().value(QLatin1String("sessions")).toArray())
                if (session.toObject().value(QLatin1String("id")).toString() == id)
                    return session.toObject();
        }
        return {};
    }

    // The reason of the lock the session requires; empty while none is.
    QString lockReason(const QString &id)
    {
        const QJsonObject lock = sessionStatus(id).value(QLatin1String("lock")).toObject();
        return lock.value(QLatin1String("required")).toBool() ? lock.value(QLatin1String("reason")).toString() : QString();
    }

    // command run by /bin/sh as uid (no groups), the way a person's program runs.
    static std::unique_ptr<QProcess> runAs(uid_t uid, const QString &command)
    {
        auto process = std::make_unique<QProcess>();
        process->setProcessChannelMode(QProcess::ForwardedErrorChannel);
        process->start(QStringLiteral("setpriv"),
            {QStringLiteral("--reuid=%1").arg(uid), QStringLiteral("--regid=%1").arg(uid), QStringLiteral("--clear-groups"),
                QStringLiteral("/bin/sh"), QStringLiteral("-c"), command});
        return process->waitForStarted(10000) ? std::move(process) : nullptr;
    }

    static bool finished(QProcess &process)
    {
        return process.waitForFinished(10000) && process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0;
    }

    static void stop(QProcess &process)
    {
        ::kill(pid_t(process.processId()), SIGKILL);
        process.waitForFinished(5000);
    }

    // The next line the agent printed with this "event"; empty when none comes within timeoutMs.
    static QJsonObject agentEvent(QProcess &agent, const QString &event, int timeoutMs = 10000)
    {
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < timeoutMs) {
            while (agent.canReadLine()) {
                const QJsonObject line = QJsonDocument::fromJson(agent.readLine()).object();
                if (line.value(QLatin1String("event")).toString() == event)
                    return line;
            }
            agent.waitForReadyRead(200);
        }
        return {};
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!LogindMock::installed())
            QSKIP("python3-dbusmock is not installed (./dev installs it; Debian package python3-dbusmock)");
        QVERIFY(m_dir.isValid());
        // uid 65534 must reach the files below.
        QCOMPARE(::chmod(QFile::encodeName(m_dir.path()).constData(), 0755), 0);
        QString why;
        QVERIFY2(m_logind.start(&why), qPrintable(why));

        for (const QString &dir : {QStringLiteral("payroll"), QStringLiteral("contracts"), QStringLiteral("dev/snd")}) {
            QVERIFY(QDir().mkpath(path(dir)));
            QCOMPARE(::chown(QFile::encodeName(path(dir)).constData(), kNobody, kNobody), 0);
        }
        // Stand-ins for /dev/video0 and /dev/snd/pcmC0D0c (a camera, a capture PCM), readable by everyone.
        for (const QString &node :
            {QStringLiteral("dev/video0"), QStringLiteral("dev/snd/pcmC0D0c"), QStringLiteral("payroll/salaries.csv")}) {
            QFile file(path(node));
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write("x\n");
        }
        m_policy = path(QStringLiteral("policy.json"));
        QVERIFY(writePolicy(QByteArray("{\"sensitive_paths\": [\"") + QFile::encodeName(path(QStringLiteral("payroll")))
            + "\"], \"sensitive_devices\": [\"camera\", \"microphone\"]}"));
        QVERIFY(startDaemon());
    }

    void cleanupTestCase()
    {
        if (m_daemon.state() != QProcess::NotRunning)
            stop(m_daemon);
    }

    void openedFileLocksTheActiveSessionThroughItsAgent()
    {
        // The same user twice on the seat: only the session in front (Active) counts for a path.
        QVERIFY(addSession(QStringLiteral("p1"), kNobody, true));
        QVERIFY(addSession(QStringLiteral("p2"), kNobody, false));
        auto agent = std::make_unique<QProcess>();
        agent->start(QStringLiteral("setpriv"),
            {QStringLiteral("--reuid=%1").arg(kNobody), QStringLiteral("--regid=%1").arg(kNobody),
                QStringLiteral("--clear-groups"), QStringLiteral("/usr/bin/python3"), QStringLiteral("-u"),
                QStringLiteral(HOTDESK_AGENT_CLIENT), m_socket, QStringLiteral("p1")});
        QVERIFY(agent->waitForStarted(10000));
        QTRY_VERIFY_WITH_TIMEOUT(sessionStatus(QStringLiteral("p1")).value(QLatin1String("agent")).toBool(), 10000);
        QVERIFY(lockReason(QStringLiteral("p1")).isEmpty());

        auto reader = runAs(kNobody, QStringLiteral("cat %1 >/dev/null").arg(path(QStringLiteral("payroll/salaries.csv"))));
        QVERIFY(reader && finished(*reader));
        const QJsonObject lock = agentEvent(*agent, QStringLiteral("lock"));
        QCOMPARE(lock.value(QLatin1String("reason")).toString(), QStringLiteral("sensitive_path"));
        QCOMPARE(lock.value(QLatin1String("session")).toString(), QStringLiteral("p1"));
        QCOMPARE(lockReason(QStringLiteral("p1")), QStringLiteral("sensitive_path"));
        // The agent holds the lock: logind is not asked. The session not in front is left alone.
        QTest::qWait(500);
        QCOMPARE(m_logind.locks(QStringLiteral("p1")), 0);
        QVERIFY(lockReason(QStringLiteral("p2")).isEmpty());
        QCOMPARE(m_logind.locks(QStringLiteral("p2")), 0);
        stop(*agent);
        QVERIFY(removeSession(QStringLiteral("p1")));
        QVERIFY(removeSession(QStringLiteral("p2")));
    }

    void createdFileBringsTheOsLockWithoutAnAgent()
    {
        QVERIFY(addSession(QStringLiteral("p3"), kNobody, true));
        QVERIFY(addSession(QStringLiteral("p4"), 0, false));
        // A copy made below the path: the file created is seen, whoever made it.
        auto writer = runAs(kNobody, QStringLiteral("echo 1 > %1").arg(path(QStringLiteral("payroll/copy.csv"))));
        QVERIFY(writer && finished(*writer));
        QTRY_COMPARE_WITH_TIMEOUT(lockReason(QStringLiteral("p3")), QStringLiteral("sensitive_path"), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(m_logind.locks(QStringLiteral("p3")) >= 1, 10000);
        QVERIFY(lockReason(QStringLiteral("p4")).isEmpty());
        QCOMPARE(m_logind.locks(QStringLiteral("p4")), 0);
        QVERIFY(removeSession(QStringLiteral("p3")));
        QVERIFY(removeSession(QStringLiteral("p4")));
    }

    void cameraCountsForItsHoldersSession()
    {
        // The holder's session counts even when it is not in front; root's session in front does not.
        QVERIFY(addSession(QStringLiteral("d1"), kNobody, false));
        QVERIFY(addSession(QStringLiteral("d2"), 0, true));
        auto holder = runAs(kNobody, QStringLiteral("exec 3<%1; exec sleep 30").arg(path(QStringLiteral("dev/video0"))));
        QVERIFY(holder);
        QTRY_COMPARE_WITH_TIMEOUT(lockReason(QStringLiteral("d1")), QStringLiteral("sensitive_device:camera"), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(m_logind.locks(QStringLiteral("d1")) >= 1, 10000);
        QVERIFY(lockReason(QStringLiteral("d2")).isEmpty());
        QCOMPARE(m_logind.locks(QStringLiteral("d2")), 0);
        stop(*holder);
        QVERIFY(removeSession(QStringLiteral("d1")));
        QVERIFY(removeSession(QStringLiteral("d2")));
    }

    void microphoneOfAProcessWithoutASessionCountsForTheActiveSession()
    {
        QVERIFY(addSession(QStringLiteral("d3"), kNobody, true));
        QVERIFY(addSession(QStringLiteral("d4"), kNobody, false));
        auto holder
            = runAs(kNoSessions, QStringLiteral("exec 3<%1; exec sleep 30").arg(path(QStringLiteral("dev/snd/pcmC0D0c"))));
        QVERIFY(holder);
        QTRY_COMPARE_WITH_TIMEOUT(lockReason(QStringLiteral("d3")), QStringLiteral("sensitive_device:microphone"), 10000);
        QVERIFY(lockReason(QStringLiteral("d4")).isEmpty());
        stop(*holder);
        QVERIFY(removeSession(QStringLiteral("d3")));
        QVERIFY(removeSession(QStringLiteral("d4")));
    }

    void cameraTakenBeforeTheSessionCountsForIt()
    {
        // Held while its owner has no session (and nobody is at the seat): it counts once the owner's session begins.
        auto holder = runAs(kNobody, QStringLiteral("exec 3<%1; exec sleep 30").arg(path(QStringLiteral("dev/video0"))));
        QVERIFY(holder);
        QTest::qWait(1000);
        QVERIFY(addSession(QStringLiteral("d5"), kNobody, false));
        QTRY_COMPARE_WITH_TIMEOUT(lockReason(QStringLiteral("d5")), QStringLiteral("sensitive_device:camera"), 10000);
        // Another user's session beginning now is not the holder's.
        QVERIFY(addSession(QStringLiteral("d6"), 0, true));
        QTest::qWait(500);
        QVERIFY(lockReason(QStringLiteral("d6")).isEmpty());
        stop(*holder);
        QVERIFY(removeSession(QStringLiteral("d5")));
        QVERIFY(removeSession(QStringLiteral("d6")));
    }

    void aNewPolicyMovesTheWatches()
    {
        QVERIFY(
            writePolicy(QByteArray("{\"sensitive_paths\": [\"") + QFile::encodeName(path(QStringLiteral("contracts"))) + "\"]}"));
        // In force once a file in the new path locks (the daemon reads the policy as it changes).
        QVERIFY(addSession(QStringLiteral("n1"), kNobody, true));
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                auto toucher = runAs(kNobody, QStringLiteral("touch %1").arg(path(QStringLiteral("contracts/a.txt"))));
                return toucher && finished(*toucher) && lockReason(QStringLiteral("n1")) == QLatin1String("sensitive_path");
            }(),
            15000);
        QVERIFY(removeSession(QStringLiteral("n1")));
        // The old path and the devices are no longer watched.
        QVERIFY(addSession(QStringLiteral("n2"), kNobody, true));
        auto reader = runAs(kNobody,
            QStringLiteral("cat %1 >/dev/null && exec 3<%2; exec sleep 2")
                .arg(path(QStringLiteral("payroll/salaries.csv")), path(QStringLiteral("dev/video0"))));
        QVERIFY(reader && finished(*reader));
        QVERIFY(lockReason(QStringLiteral("n2")).isEmpty());
        QCOMPARE(m_logind.locks(QStringLiteral("n2")), 0);
        QVERIFY(removeSession(QStringLiteral("n2")));
    }
};

QTEST_GUILESS_MAIN(TestHotdeskdWatchers)
#include "tst_hotdeskd_watchers.moc"

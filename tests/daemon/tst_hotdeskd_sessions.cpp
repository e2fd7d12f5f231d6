// hotdeskd against logind: python3-dbusmock's logind template on a private bus stands in for the system's logind
// (the one thing that cannot run here); the daemon, its socket and its clients (run as uid 65534) are real.
#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDBusObjectPath>
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
} // namespace

class TestHotdeskdSessions : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    LogindMock m_logind;
    QProcess m_daemon;
    std::unique_ptr<NotifySocket> m_notify;
    QString m_socket;
    QString m_stateDir;
    QString m_policy;
    int m_n = 0;
    bool m_pythonAgents = true; // the python agent stand-in may attach (pythonAgentArguments)

    QString fresh(const char *name) { return m_dir.filePath(QStringLiteral("%1-%2").arg(QLatin1String(name)).arg(++m_n)); }

    // A session of uid 65534 (or root's) of the given type, announced with SessionNew as logind does.
    bool addSession(const QString &id, const QString &type, uint uid = kNobody)
    {
        return m_logind.addSession(id, type, uid, uid == 0 ? QStringLiteral("root") : QStringLiteral("nobody"));
    }

    int locks(const QString &id) const { return m_logind.locks(id); }

    bool startDaemon(const QStringList &more = {}, const QStringList &environment = {})
    {
        m_socket = fresh("hotdeskd.sock");
        return startHotdeskd(m_daemon, m_notify, QStringLiteral(HOTDESKD_BINARY), fresh("notify"),
            QStringList {QStringLiteral("--socket"), m_socket, QStringLiteral("--state-dir"), m_stateDir,
                QStringLiteral("--policy"), m_policy, QStringLiteral("--agent-timeout"), QStringLiteral("1500")}
                + (m_pythonAgents ? pythonAgentArguments() : QStringList()) + more,
            QStringList {QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS=") + m_logind.address()} + environment);
    }

    void stopDaemon()
    {
        if (m_daemon.state() != QProcess::NotRunning) {
            m_daemon.kill();
            m_daemon.waitForFinished(5000);
        }
    }

    // The daemon's status of uid as root sees it.
    QJsonObject status(uint uid = kNobody)
    {
        Client client;
        if (!client.connect(m_socket)
            || !client.send(QByteArray("{\"v\":1,\"command\":\"status\",\"uid\":") + QByteArray::number(uid) + "}\n"))
            return {};
        return client.reply();
    }

    QJsonObject sessionStatus(const QString &id)
    {
        for (const QJsonValue &session : status().value(QLatin1String("sessions")).toArray())
            if (session.toObject().value(QLatin1String("id")).toString() == id)
                return session.toObject();
        return {};
    }

    bool lockRequired(const QString &id)
    {
        return sessionStatus(id).value(QLatin1String("lock")).toObject().value(QLatin1String("required")).toBool();
    }

    // An agent process as uid 65534 attached to session id; extra: request lines it sends after attaching.
    std::unique_ptr<QProcess> startAgent(const QString &id, const QStringList &extra = {}, bool silent = false)
    {
        auto agent = std::make_unique<QProcess>();
        QStringList arguments {QStringLiteral("--reuid=%1").arg(kNobody), QStringLiteral("--regid=%1").arg(kNobody),
            QStringLiteral("--clear-groups"), QStringLiteral("/usr/bin/python3"), QStringLiteral("-u"),
            QStringLiteral(HOTDESK_AGENT_CLIENT), m_socket, id};
        arguments += extra;
        if (silent)
            arguments << QStringLiteral("--silent");
        agent->setProcessChannelMode(QProcess::SeparateChannels);
        agent->start(QStringLiteral("setpriv"), arguments);
        return agent->waitForStarted(10000) ? std::move(agent) : nullptr;
    }

    // The next line the agent printed that has the given "event" (or an "error", when event is empty).
    static QJsonObject agentLine(QProcess &agent, const QString &event, int timeoutMs = 10000)
    {
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < timeoutMs) {
            while (agent.canReadLine()) {
                const QJsonObject line = QJsonDocument::fromJson(agent.readLine()).object();
                if (event.isEmpty() ? line.contains(QLatin1String("error"))
                                    : line.value(QLatin1String("event")).toString() == event)
                    return line;
            }
            agent.waitForReadyRead(200);
        }
        return {};
    }

    static void kill9(QProcess &process)
    {
        ::kill(pid_t(process.processId()), SIGKILL);
        process.waitForFinished(5000);
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!LogindMock::installed())
            QSKIP("python3-dbusmock is not installed (./dev installs it; Debian package python3-dbusmock)");
        QVERIFY(m_dir.isValid());
        QVERIFY(QFile::setPermissions(m_dir.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner
                | QFileDevice::ReadGroup | QFileDevice::ExeGroup | QFileDevice::ReadOther | QFileDevice::ExeOther));
        QString why;
        QVERIFY2(m_logind.start(&why), qPrintable(why));

        // One X11 session before the daemon starts: found by ListSessions.
        QVERIFY(addSession(QStringLiteral("c1"), QStringLiteral("x11")));
        m_stateDir = m_dir.filePath(QStringLiteral("state"));
        m_policy = m_dir.filePath(QStringLiteral("policy.json"));
        QFile policy(m_policy);
        QVERIFY(policy.open(QIODevice::WriteOnly));
        // An ordinary policy; nothing locks a session at its start, the tests ask for locks with "reauth".
        policy.write("{\"version\": 1, \"servers\": {\"das\": [\"https://das.corp.example\"], "
                     "\"idp_issuer\": \"https://idp.corp.example\", \"client_id\": \"hotdesk-agent\"}, "
                     "\"triggers\": {\"on_unlock\": true}}");

        policy.close();
        QVERIFY(startDaemon());
    }

    void cleanupTestCase()
    {
        stopDaemon();
    }

    void sessionsAreFollowed()
    {
        const QJsonObject session = sessionStatus(QStringLiteral("c1"));
        QCOMPARE(session.value(QLatin1String("user")).toString(), QStringLiteral("nobody"));
        QCOMPARE(session.value(QLatin1String("type")).toString(), QStringLiteral("x11"));
        QCOMPARE(session.value(QLatin1String("agent")).toBool(true), false);
        QCOMPARE(status().value(QLatin1String("state")).toString(), QStringLiteral("unlocked"));
        // A session that starts later is followed from its SessionNew.
        QVERIFY(addSession(QStringLiteral("c2"), QStringLiteral("x11")));
        QTRY_VERIFY_WITH_TIMEOUT(!sessionStatus(QStringLiteral("c2")).isEmpty(), 10000);
        QVERIFY(m_logind.managerSignal(QStringLiteral("SessionRemoved"), QStringLiteral("c2")));
        QTRY_VERIFY_WITH_TIMEOUT(sessionStatus(QStringLiteral("c2")).isEmpty(), 10000);
    }

    void killedAgentBringsTheOsLock()
    {
        auto agent = startAgent(QStringLiteral("c1"), {QStringLiteral("{\"v\":1,\"command\":\"reauth\"}")});
        QVERIFY(agent);
        // The lock goes to the agent: with it attached, logind is not asked.
        const QJsonObject lock = agentLine(*agent, QStringLiteral("lock"));
        QCOMPARE(lock.value(QLatin1String("reason")).toString(), QStringLiteral("manual"));
        QVERIFY(lockRequired(QStringLiteral("c1")));
        QTRY_VERIFY_WITH_TIMEOUT(sessionStatus(QStringLiteral("c1")).value(QLatin1String("agent")).toBool(), 5000);
        const int before = locks(QStringLiteral("c1"));
        QTest::qWait(500);
        QCOMPARE(locks(QStringLiteral("c1")), before);

        kill9(*agent);
        // The bound is a timeout, not a measurement: ./dev bench measures daemon.backstop_lock_ms.
        QTRY_COMPARE_WITH_TIMEOUT(locks(QStringLiteral("c1")), before + 1, 10000);
        QVERIFY(lockRequired(QStringLiteral("c1")));

        // A restarted agent is told at once that the lock is up.
        auto again = startAgent(QStringLiteral("c1"));
        QVERIFY(again);
        QCOMPARE(agentLine(*again, QStringLiteral("lock")).value(QLatin1String("reason")).toString(), QStringLiteral("manual"));
        const int beforeKill = locks(QStringLiteral("c1"));
        kill9(*again);
        QTRY_COMPARE_WITH_TIMEOUT(locks(QStringLiteral("c1")), beforeKill + 1, 10000);
    }

    void silentAgentIsMissing()
    {
        QVERIFY(lockRequired(QStringLiteral("c1")));
        const int before = locks(QStringLiteral("c1"));
        auto agent = startAgent(QStringLiteral("c1"), {}, true);
        QVERIFY(agent);
        // The attach reply asks for a heartbeat every third of --agent-timeout (1.5 s).
        QTRY_VERIFY_WITH_TIMEOUT(agent->canReadLine(), 10000);
        const QJsonObject attached = QJsonDocument::fromJson(agent->readLine()).object();
        QCOMPARE(attached.value(QLatin1String("ok")).toBool(), true);
        QCOMPARE(attached.value(QLatin1String("heartbeat_ms")).toDouble(), 500.0);
        QVERIFY(!agentLine(*agent, QStringLiteral("lock")).isEmpty());
        // No heartbeat for --agent-timeout (1.5 s): missing, and the OS lock takes over.
        QTRY_COMPARE_WITH_TIMEOUT(locks(QStringLiteral("c1")), before + 1, 10000);
        kill9(*agent);
    }

    void forgedUnlocksAreRefused()
    {
        QVERIFY(lockRequired(QStringLiteral("c1")));
        auto agent = startAgent(QStringLiteral("c1"),
            {QStringLiteral("{\"v\":1,\"command\":\"unlocked\"}"),
                QStringLiteral("{\"v\":1,\"command\":\"unlock\",\"session\":\"c1\"}"),
                QStringLiteral("{\"v\":1,\"command\":\"heartbeat\",\"idle_ms\":0,\"lock\":false}")});
        QVERIFY(agent);
        const QJsonObject refused = agentLine(*agent, QString());
        QCOMPARE(refused.value(QLatin1String("error")).toString(), QStringLiteral("unknown_command"));
        QTest::qWait(300);
        QVERIFY(lockRequired(QStringLiteral("c1")));
        // An OS unlock (loginctl unlock-session, or the desktop's own unlock) while the lock is
        // required and no agent holds it is answered with the OS lock again.
        const int beforeKill = locks(QStringLiteral("c1"));
        kill9(*agent);
        // The agent's end brings the OS lock; that call is complete before the unlock below.
        QTRY_COMPARE_WITH_TIMEOUT(locks(QStringLiteral("c1")), beforeKill + 1, 10000);
        const int before = locks(QStringLiteral("c1"));
        QVERIFY(m_logind.unlock(QStringLiteral("c1")));
        QTRY_COMPARE_WITH_TIMEOUT(locks(QStringLiteral("c1")), before + 1, 10000);
        QVERIFY(lockRequired(QStringLiteral("c1")));
    }

    void otherUsersSessionsAreOutOfReach()
    {
        QVERIFY(addSession(QStringLiteral("c3"), QStringLiteral("x11"), 0));
        QTRY_VERIFY_WITH_TIMEOUT(!status(0).value(QLatin1String("sessions")).toArray().isEmpty(), 10000);
        for (const QString &request : {QStringLiteral("{\"v\":1,\"command\":\"reauth\",\"session\":\"c3\"}"),
                 QStringLiteral("{\"v\":1,\"command\":\"status\",\"uid\":0}")}) {
            auto agent = startAgent(QStringLiteral("c3"), {request});
            QVERIFY(agent);
            // The attach and the request are both refused.
            QCOMPARE(agentLine(*agent, QString()).value(QLatin1String("error")).toString(), QStringLiteral("forbidden"));
            QCOMPARE(agentLine(*agent, QString()).value(QLatin1String("error")).toString(), QStringLiteral("forbidden"));
            kill9(*agent);
        }
        QVERIFY(!status(0)
                     .value(QLatin1String("sessions"))
                     .toArray()
                     .first()
                     .toObject()
                     .value(QLatin1String("lock"))
                     .toObject()
                     .value(QLatin1String("required"))
                     .toBool());
    }

    void waylandSessionsAlwaysGetTheOsLock()
    {
        QVERIFY(addSession(QStringLiteral("c4"), QStringLiteral("wayland")));
        QTRY_VERIFY_WITH_TIMEOUT(!sessionStatus(QStringLiteral("c4")).isEmpty(), 10000);
        auto agent = startAgent(QStringLiteral("c4"), {QStringLiteral("{\"v\":1,\"command\":\"reauth\"}")});
        QVERIFY(agent);
        QVERIFY(!agentLine(*agent, QStringLiteral("lock")).isEmpty());
        // No client can hold a lock on Wayland: logind's lock even with the agent there.
        QTRY_COMPARE_WITH_TIMEOUT(locks(QStringLiteral("c4")), 1, 10000);
        QVERIFY(sessionStatus(QStringLiteral("c4")).value(QLatin1String("agent")).toBool());
        kill9(*agent);
    }

    void lockOutlivesTheDaemon()
    {
        QVERIFY(lockRequired(QStringLiteral("c1")));
        struct stat info { };
        const QByteArray file = QFile::encodeName(QDir(m_stateDir).filePath(QStringLiteral("sessions/c1.json")));
        QCOMPARE(::stat(file.constData(), &info), 0);
        QCOMPARE(info.st_uid, uid_t(0));
        QCOMPARE(info.st_mode & 0077, mode_t(0));
        // kill -9 of the daemon: it comes back (systemd restarts it) with the lock.
        ::kill(pid_t(m_daemon.processId()), SIGKILL);
        m_daemon.waitForFinished(5000);
        const int before = locks(QStringLiteral("c1"));
        QVERIFY(startDaemon());
        QVERIFY(lockRequired(QStringLiteral("c1")));
        QCOMPARE(
            sessionStatus(QStringLiteral("c1")).value(QLatin1String("lock")).toObject().value(QLatin1String("reason")).toString(),
            QStringLiteral("manual"));
        // No agent yet: the OS lock again.
        QTRY_COMPARE_WITH_TIMEOUT(locks(QStringLiteral("c1")), before + 1, 10000);
    }

    void withoutAPolicyEverySessionIsLocked()
    {
        stopDaemon();
        const QString saved = m_policy;
        m_policy = m_dir.filePath(QStringLiteral("missing-policy.json"));
        QVERIFY(addSession(QStringLiteral("c5"), QStringLiteral("x11")));
        QVERIFY(startDaemon());
        QCOMPARE(
            sessionStatus(QStringLiteral("c5")).value(QLatin1String("lock")).toObject().value(QLatin1String("reason")).toString(),
            QStringLiteral("policy_unusable"));
        QTRY_COMPARE_WITH_TIMEOUT(locks(QStringLiteral("c5")), 1, 10000);
        stopDaemon();
        m_policy = saved;
        QVERIFY(startDaemon());
    }

    void renamedCopyOfASensitiveProgramLocks()
    {
        // "payroll" is installed (a copy of sleep, in a directory on the daemon's PATH); the person copies it to p.
        const QString bin = fresh("bin");
        QVERIFY(QDir().mkpath(bin));
        QVERIFY(QFile::copy(QStringLiteral("/usr/bin/sleep"), bin + QStringLiteral("/payroll")));
        QVERIFY(QFile::setPermissions(bin + QStringLiteral("/payroll"),
            QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner | QFileDevice::ReadGroup
                | QFileDevice::ExeGroup | QFileDevice::ReadOther | QFileDevice::ExeOther));
        const QString home = fresh("home");
        QVERIFY(QDir().mkpath(home));
        QCOMPARE(::chown(QFile::encodeName(home).constData(), kNobody, kNobody), 0);
        stopDaemon();
        const QString saved = m_policy;
        m_policy = fresh("policy.json");
        QFile policy(m_policy);
        QVERIFY(policy.open(QIODevice::WriteOnly));
        policy.write("{\"version\": 1, \"servers\": {\"das\": [\"https://das.corp.example\"], "
                     "\"idp_issuer\": \"https://idp.corp.example\", \"client_id\": \"hotdesk-agent\"}, "
                     "\"triggers\": {\"sensitive_apps\": [\"payroll\"]}}");
        policy.close();
        QVERIFY(addSession(QStringLiteral("c6"), QStringLiteral("x11")));
        QVERIFY(startDaemon({}, {QStringLiteral("PATH=%1:/usr/bin:/bin").arg(bin)}));
        QVERIFY(!lockRequired(QStringLiteral("c6")));

        QProcess person;
        person.start(QStringLiteral("setpriv"),
            {QStringLiteral("--reuid=%1").arg(kNobody), QStringLiteral("--regid=%1").arg(kNobody), QStringLiteral("--clear-groups"),
                QStringLiteral("/bin/sh"), QStringLiteral("-c"),
                QStringLiteral("cp %1/payroll %2/p && exec %2/p 4").arg(bin, home)});
        QVERIFY(person.waitForStarted(10000));
        QTRY_VERIFY_WITH_TIMEOUT(lockRequired(QStringLiteral("c6")), 15000);
        QCOMPARE(sessionStatus(QStringLiteral("c6")).value(QLatin1String("lock")).toObject().value(QLatin1String("reason")).toString(),
            QStringLiteral("sensitive_app:payroll"));
        // No agent in c6: logind's lock as well.
        QTRY_VERIFY_WITH_TIMEOUT(locks(QStringLiteral("c6")) >= 1, 10000);
        person.waitForFinished(10000);
        stopDaemon();
        m_policy = saved;
        QVERIFY(startDaemon());
    }

    // The policy's enforcement.os_lock "always": logind's lock as well as the agent's window, for sites that do not
    // trust an X11 lock window (killedAgentBringsTheOsLock: with the default, logind is not asked while the agent is there).
    void theOsLockAlwaysWhenThePolicySaysSo()
    {
        stopDaemon();
        const QString saved = m_policy;
        m_policy = fresh("policy.json");
        QFile policy(m_policy);
        QVERIFY(policy.open(QIODevice::WriteOnly));
        policy.write("{\"version\": 1, \"servers\": {\"das\": [\"https://das.corp.example\"], "
                     "\"idp_issuer\": \"https://idp.corp.example\", \"client_id\": \"hotdesk-agent\"}, "
                     "\"triggers\": {\"on_unlock\": true}, \"enforcement\": {\"os_lock\": \"always\"}}");
        policy.close();
        QVERIFY(addSession(QStringLiteral("c7"), QStringLiteral("x11")));
        QVERIFY(startDaemon());
        auto agent = startAgent(QStringLiteral("c7"));
        QVERIFY(agent);
        QTRY_VERIFY_WITH_TIMEOUT(sessionStatus(QStringLiteral("c7")).value(QLatin1String("agent")).toBool(), 5000);
        QTest::qWait(300);
        QCOMPARE(locks(QStringLiteral("c7")), 0); // no lock required, nothing asked
        Client root;
        QVERIFY(root.connect(m_socket) && root.send("{\"v\":1,\"command\":\"reauth\",\"session\":\"c7\"}\n"));
        QVERIFY(root.reply().value(QLatin1String("ok")).toBool());
        QCOMPARE(agentLine(*agent, QStringLiteral("lock")).value(QLatin1String("reason")).toString(), QStringLiteral("manual"));
        QTRY_COMPARE_WITH_TIMEOUT(locks(QStringLiteral("c7")), 1, 10000);
        QVERIFY(sessionStatus(QStringLiteral("c7")).value(QLatin1String("agent")).toBool());
        kill9(*agent);
        stopDaemon();
        m_policy = saved;
        QVERIFY(startDaemon());
    }

    // On X11 any program of the user can connect; only the installed agent may attach (here, without the test
    // option, the python stand-in is not it), so a program that attaches and shows nothing holds no lock.
    void aProgramThatIsNotTheAgentCannotAttach()
    {
        stopDaemon();
        m_pythonAgents = false;
        QVERIFY(addSession(QStringLiteral("c8"), QStringLiteral("x11")));
        QVERIFY(startDaemon());
        m_pythonAgents = true;
        auto fake = startAgent(QStringLiteral("c8"), {QStringLiteral("{\"v\":1,\"command\":\"reauth\",\"session\":\"c8\"}")});
        QVERIFY(fake);
        const QJsonObject refused = agentLine(*fake, QString());
        QCOMPARE(refused.value(QLatin1String("error")).toString(), QStringLiteral("forbidden"));
        QVERIFY2(refused.value(QLatin1String("message")).toString().contains(QLatin1String("python")),
            qPrintable(refused.value(QLatin1String("message")).toString()));
        QVERIFY(!sessionStatus(QStringLiteral("c8")).value(QLatin1String("agent")).toBool());
        // Its reauth still locks the session, and with no agent attached the OS lock follows.
        QTRY_VERIFY_WITH_TIMEOUT(lockRequired(QStringLiteral("c8")), 5000);
        QTRY_COMPARE_WITH_TIMEOUT(locks(QStringLiteral("c8")), 1, 10000);
        QFile audit(qEnvironmentVariable("LOGS_DIRECTORY") + QStringLiteral("/audit.jsonl"));
        QVERIFY(audit.open(QIODevice::ReadOnly));
        bool recorded = false;
        while (!audit.atEnd()) {
            const QJsonObject record = QJsonDocument::fromJson(audit.readLine()).object();
            recorded = recorded
                || (record.value(QLatin1String("event")).toString() == u"agent_refused"
                    && record.value(QLatin1String("session")).toString() == u"c8"
                    && record.value(QLatin1String("program")).toString().contains(QLatin1String("python"))
                    && record.value(QLatin1String("uid")).toInt() == int(kNobody));
        }
        QVERIFY(recorded);
        kill9(*fake);
        stopDaemon();
        QVERIFY(startDaemon());
    }

    void untrustedPoliciesAreRefused_data()
    {
        QTest::addColumn<int>("mode");
        QTest::addColumn<uint>("owner");
        QTest::newRow("writable by everyone") << 0666 << 0u;
        QTest::newRow("writable by its group") << 0664 << 0u;
        QTest::newRow("owned by uid 65534") << 0644 << uint(kNobody);
    }

    void untrustedPoliciesAreRefused()
    {
        QFETCH(int, mode);
        QFETCH(uint, owner);
        stopDaemon();
        const QString saved = m_policy;
        m_policy = fresh("policy.json");
        QVERIFY(QFile::copy(saved, m_policy));
        QCOMPARE(::chmod(QFile::encodeName(m_policy).constData(), mode_t(mode)), 0);
        QCOMPARE(::chown(QFile::encodeName(m_policy).constData(), owner, owner == 0 ? 0 : owner), 0);
        QVERIFY(startDaemon());
        // The same text that is in force above, refused for who may change it: every session locked.
        const QJsonObject reply = status();
        QVERIFY2(reply.value(QLatin1String("policy_problem")).toString().contains(m_policy),
            qPrintable(reply.value(QLatin1String("policy_problem")).toString()));
        QCOMPARE(sessionStatus(QStringLiteral("c1")).value(QLatin1String("lock")).toObject().value(QLatin1String("reason")).toString(),
            QStringLiteral("policy_unusable"));
        stopDaemon();
        m_policy = saved;
        QVERIFY(startDaemon());
        QVERIFY(!status().contains(QLatin1String("policy_problem")));
    }
};

QTEST_GUILESS_MAIN(TestHotdeskdSessions)
#include "tst_hotdeskd_sessions.moc"

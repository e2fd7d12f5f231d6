// The real tray agent as hotdeskd's face: the real daemon on python3-dbusmock's logind (tests/support/logindmock.h),
// the agent process on Xvfb attached to its session. The daemon's lock shows in the agent; kill -9 of the agent
// brings logind's lock; the restarted agent shows the lock again. With the companion servers, the agent shows the
// daemon's sign-in page, the phone approves, and only the daemon's validation unlocks.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QProcess>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>

#include "daemonclient.h"
#include "logindmock.h"
#include "stubsprocess.h"

#include <csignal>

#ifdef HOTDESK_TEST_XCB
#include <xcb/xcb.h>
#endif

using namespace hotdesk::test;

namespace {

const QString kSession = QStringLiteral("c1");

// One process whose stderr is kept, for the agent's report lines ("hotdesk: ...").
class Watched {
public:
    QProcess process;
    QByteArray err;

    bool said(const QByteArray &text)
    {
        err += process.readAllStandardError();
        return err.contains(text);
    }
    void kill9()
    {
        ::kill(pid_t(process.processId()), SIGKILL);
        process.waitForFinished(5000);
    }
    ~Watched()
    {
        if (process.state() != QProcess::NotRunning) {
            process.kill();
            process.waitForFinished(5000);
        }
    }
};

} // namespace

class TestAgentDaemon : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    LogindMock m_logind;
    QProcess m_daemon;
    QString m_socket;
    QString m_policy;

    QJsonObject ask(const QByteArray &line)
    {
        Client client;
        if (!client.connect(m_socket) || !client.send(line + '\n'))
            return {};
        return client.reply();
    }

    QJsonObject session()
    {
        return ask("{\"v\":1,\"command\":\"status\",\"uid\":0}").value(QLatin1String("sessions")).toArray().first().toObject();
    }

    bool startDaemon(const QString &policy)
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS"), m_logind.address());
        env.remove(QStringLiteral("NOTIFY_SOCKET"));
        m_daemon.setProcessEnvironment(env);
        m_daemon.setProcessChannelMode(QProcess::ForwardedChannels);
        dieWithTest(m_daemon);
        m_daemon.start(QStringLiteral(HOTDESKD_BINARY),
            {QStringLiteral("--socket"), m_socket, QStringLiteral("--state-dir"), m_dir.filePath(QStringLiteral("state")),
                QStringLiteral("--policy"), policy, QStringLiteral("--agent-timeout"), QStringLiteral("4000")});
        return m_daemon.waitForStarted(10000) && QTest::qWaitFor([this] { return !session().isEmpty(); }, 15000);
    }

    void stopDaemon()
    {
        if (m_daemon.state() != QProcess::NotRunning) {
            m_daemon.kill();
            m_daemon.waitForFinished(5000);
        }
    }

    void startAgent(Watched &agent, const QString &session = kSession, const QString &policy = {}, const QStringList &more = {})
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("HOTDESK_STATE_DIR"), m_dir.filePath(QStringLiteral("agent-state")));
        env.insert(QStringLiteral("HOTDESK_AUDIT_LOG"), m_dir.filePath(QStringLiteral("agent-audit.log")));
        env.insert(QStringLiteral("HOTDESK_CONTROL_SOCKET"), m_dir.filePath(QStringLiteral("agent.sock")));
        env.insert(QStringLiteral("HOTDESK_DAEMON_SOCKET"), m_socket);
        env.insert(QStringLiteral("XDG_SESSION_ID"), session);
        env.insert(QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS"), m_logind.address());
        agent.process.setProcessEnvironment(env);
        agent.process.start(QStringLiteral(HOTDESK_BINARY),
            QStringList {QStringLiteral("--policy"), policy.isEmpty() ? m_policy : policy} + more);
        QVERIFY(agent.process.waitForStarted(10000));
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!LogindMock::installed())
            QSKIP("python3-dbusmock is not installed (./dev installs it; Debian package python3-dbusmock)");
        QVERIFY(m_dir.isValid());
        QString why;
        QVERIFY2(m_logind.start(&why), qPrintable(why));
        QVERIFY(m_logind.addSession(kSession, QStringLiteral("x11"), 0, QStringLiteral("root")));
        m_policy = m_dir.filePath(QStringLiteral("policy.json"));
        QFile policy(m_policy);
        QVERIFY(policy.open(QIODevice::WriteOnly));
        // No trigger locks at a session's start: the test asks the daemon for the lock.
        policy.write("{\"version\": 1, \"servers\": {\"das\": [\"https://127.0.0.1:9/\"], "
                     "\"idp_issuer\": \"https://127.0.0.1:9\", \"client_id\": \"hotdesk-agent\"}, "
                     "\"triggers\": {\"on_unlock\": true}}");
        policy.close();
        // Root's file in root's directory, as the daemon requires.
        QVERIFY(QFile::setPermissions(m_dir.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner
                | QFileDevice::ReadGroup | QFileDevice::ExeGroup | QFileDevice::ReadOther | QFileDevice::ExeOther));
        m_socket = m_dir.filePath(QStringLiteral("hotdeskd.sock"));
        QVERIFY(startDaemon(m_policy));
    }

    void cleanupTestCase() { stopDaemon(); }

    void theAgentPresentsTheDaemonsLock()
    {
        Watched agent;
        startAgent(agent);
        QTRY_VERIFY_WITH_TIMEOUT(agent.said("attached to hotdeskd for session c1"), 30000);
        QTRY_VERIFY_WITH_TIMEOUT(session().value(QLatin1String("agent")).toBool(), 10000);
        QCOMPARE(ask("{\"v\":1,\"command\":\"reauth\",\"session\":\"c1\"}").value(QLatin1String("ok")).toBool(), true);
        QTRY_VERIFY_WITH_TIMEOUT(agent.said("hotdeskd requires the lock: manual"), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(agent.said("lock screen visible"), 30000);
#ifdef HOTDESK_TEST_XCB
        QTRY_VERIFY_WITH_TIMEOUT(agent.said("lock screen holds the keyboard and the pointer"), 10000);
#endif
        // The agent presents hotdeskd's decision: it audits none of its own beside hotdeskd's.
        QFile audit(m_dir.filePath(QStringLiteral("agent-audit.log")));
        QVERIFY(audit.open(QIODevice::ReadOnly));
        const QByteArray log = audit.readAll();
        QVERIFY(log.contains("\"event\":\"agent_started\""));
        QVERIFY2(!log.contains("\"event\":\"reauth_required\""), log.constData());
        // The agent holds the lock: logind is not asked while its heartbeats come, also past --agent-timeout
        // (4 s): the agent heartbeats as often as the attach reply asks (heartbeat_ms), not at its own 5 s.
        QTest::qWait(5000);
        QCOMPARE(m_logind.locks(kSession), 0);

        agent.kill9();
        QTRY_COMPARE_WITH_TIMEOUT(m_logind.locks(kSession), 1, 10000);
        QVERIFY(session().value(QLatin1String("lock")).toObject().value(QLatin1String("required")).toBool());

        // The next agent is told at once and shows the lock again.
        Watched again;
        startAgent(again);
        QTRY_VERIFY_WITH_TIMEOUT(again.said("hotdeskd requires the lock: manual"), 30000);
        QTRY_VERIFY_WITH_TIMEOUT(again.said("lock screen visible"), 30000);
        QCOMPARE(m_logind.locks(kSession), 1);
        // Stopping it politely is no way out either.
        again.process.terminate();
        QVERIFY(again.process.waitForFinished(10000));
        QTRY_COMPARE_WITH_TIMEOUT(m_logind.locks(kSession), 2, 10000);
    }

    // A session that still has an agent refuses a second one ("busy"); once it is gone, the waiting agent attaches.
    void aRefusedAgentAttachesLater()
    {
        auto holder = std::make_unique<Client>();
        QVERIFY(holder->connect(m_socket));
        QVERIFY(holder->send("{\"v\":1,\"command\":\"attach\",\"session\":\"c1\"}\n"));
        QCOMPARE(holder->reply().value(QLatin1String("ok")).toBool(), true);
        Watched agent;
        startAgent(agent);
        QTRY_VERIFY_WITH_TIMEOUT(agent.said("not attached to hotdeskd: busy"), 30000);
        holder.reset();
        QTRY_VERIFY_WITH_TIMEOUT(agent.said("attached to hotdeskd for session c1"), 30000);
        QTRY_VERIFY_WITH_TIMEOUT(session().value(QLatin1String("agent")).toBool(), 10000);
        agent.process.terminate();
        QVERIFY(agent.process.waitForFinished(10000));
    }

    void theDaemonsSignInUnlocks();
#ifdef HOTDESK_TEST_XCB
    // Another X client holds the keyboard: the lock window cannot hold the session, says so and asks the OS lock.
    void aLockWithoutItsGrabsAsksTheOsLock()
    {
        xcb_connection_t *other = xcb_connect(nullptr, nullptr);
        const auto disconnect = qScopeGuard([other] { xcb_disconnect(other); });
        QVERIFY(!xcb_connection_has_error(other));
        const xcb_window_t root = xcb_setup_roots_iterator(xcb_get_setup(other)).data->root;
        xcb_grab_keyboard_reply_t *grab = xcb_grab_keyboard_reply(
            other, xcb_grab_keyboard(other, 0, root, XCB_CURRENT_TIME, XCB_GRAB_MODE_ASYNC, XCB_GRAB_MODE_ASYNC), nullptr);
        QVERIFY(grab);
        const int status = grab->status;
        free(grab);
        QCOMPARE(status, int(XCB_GRAB_STATUS_SUCCESS));

        Watched agent;
        startAgent(agent);
        QTRY_VERIFY_WITH_TIMEOUT(agent.said("attached to hotdeskd for session c1"), 30000);
        ask("{\"v\":1,\"command\":\"reauth\",\"session\":\"c1\"}");
        QTRY_VERIFY_WITH_TIMEOUT(agent.said("lock screen visible"), 30000);
        QTRY_VERIFY_WITH_TIMEOUT(
            agent.said("lock screen could not grab the keyboard/pointer: keyboard: another program holds it"), 15000);
        QVERIFY(!agent.said("lock screen holds the keyboard and the pointer"));
        // logind's LockSession for this session answered.
        QTRY_VERIFY_WITH_TIMEOUT(agent.said("the OS lock locked the session"), 10000);
        QFile audit(m_dir.filePath(QStringLiteral("agent-audit.log")));
        QVERIFY(audit.open(QIODevice::ReadOnly));
        const QByteArray log = audit.readAll();
        QVERIFY(log.contains("\"event\":\"lock_grab_failed\""));
        QVERIFY(log.contains("\"event\":\"session_locked\""));
        QVERIFY(log.contains("\"reason\":\"grab_failed\""));
    }
#endif

    // "Lock now" (here `hotdesk reauth` on the agent's control socket) is hotdeskd's reauth: the agent's own
    // engine decides nothing, hotdeskd's lock event is what locks.
    void lockNowIsTheDaemonsReauth()
    {
        stopDaemon();
        QVERIFY(startDaemon(m_policy));
        QVERIFY(m_logind.addSession(QStringLiteral("c3"), QStringLiteral("x11"), 0, QStringLiteral("root")));
        const auto lockOfC3 = [this]() -> std::optional<bool> {
            const QJsonArray sessions
                = ask("{\"v\":1,\"command\":\"status\",\"uid\":0}").value(QLatin1String("sessions")).toArray();
            for (const QJsonValue &entry : sessions) {
                if (entry.toObject().value(QLatin1String("id")).toString() == u"c3")
                    return entry.toObject().value(QLatin1String("lock")).toObject().value(QLatin1String("required")).toBool();
            }
            return std::nullopt;
        };
        QTRY_VERIFY_WITH_TIMEOUT(lockOfC3().has_value(), 10000);
        QCOMPARE(lockOfC3(), std::optional(false));
        Watched agent;
        startAgent(agent, QStringLiteral("c3"));
        QTRY_VERIFY_WITH_TIMEOUT(agent.said("attached to hotdeskd for session c3"), 30000);

        QProcess reauth;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("HOTDESK_CONTROL_SOCKET"), m_dir.filePath(QStringLiteral("agent.sock")));
        reauth.setProcessEnvironment(env);
        reauth.start(QStringLiteral(HOTDESK_BINARY), {QStringLiteral("reauth")});
        QVERIFY(reauth.waitForFinished(10000));
        QCOMPARE(reauth.exitCode(), 0);
        QTRY_VERIFY_WITH_TIMEOUT(agent.said("re-authentication asked of hotdeskd (control_socket)"), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(agent.said("hotdeskd requires the lock: manual"), 10000);
        QCOMPARE(lockOfC3(), std::optional(true));
        QTRY_VERIFY_WITH_TIMEOUT(agent.said("lock screen visible"), 30000);
        // The agent's own engine did not decide beside hotdeskd's.
        QVERIFY2(!agent.said("trigger manual"), agent.err.constData());
        agent.process.terminate();
        QVERIFY(agent.process.waitForFinished(10000));
    }

    // hotdeskd keeps the state that decides: the attached agent reads no engine-state.json and writes none.
    void aPlantedEngineStateChangesNothing();
};

void TestAgentDaemon::theDaemonsSignInUnlocks()
{
    // The companion servers (the phone approves at once), this PC enrolled for the daemon as root.
    const quint16 ports = freePortBase(33000);
    QVERIFY(ports != 0);
    StubsProcess stubs(QStringLiteral(HOTDESK_STUBS_BINARY), m_dir.filePath(QStringLiteral("servers")), ports);
    stubs.start({}, 0);
    QVERIFY(!stubs.admin({QStringLiteral("phone"), QStringLiteral("enroll"), QStringLiteral("alice")}).isNull());
    const QString enrolled = stubs.enrollForDaemon(QStringLiteral(HOTDESK_BINARY), m_dir.filePath(QStringLiteral("state")));
    QVERIFY2(enrolled.isEmpty(), qPrintable(enrolled));
    // The servers' policy as root's file, for the daemon and the agent alike.
    const QString policy = m_dir.filePath(QStringLiteral("servers-policy.json"));
    QVERIFY(writeJsonFile(policy, readJsonFile(stubs.policyFile())));
    stopDaemon();
    QVERIFY(startDaemon(policy));

    // alice's session; the agent signs in with nothing of its own: no keychain entry, no enrollment in its state.
    QVERIFY(m_logind.addSession(QStringLiteral("c2"), QStringLiteral("x11"), 0, QStringLiteral("alice")));
    QTRY_VERIFY_WITH_TIMEOUT(ask("{\"v\":1,\"command\":\"status\",\"uid\":0}").value(QLatin1String("sessions")).toArray().size() == 2, 10000);
    Watched agent;
    startAgent(agent, QStringLiteral("c2"), policy, {QStringLiteral("--user"), QStringLiteral("alice")});
    QTRY_VERIFY_WITH_TIMEOUT(agent.said("attached to hotdeskd for session c2"), 30000);
    QCOMPARE(ask("{\"v\":1,\"command\":\"reauth\",\"session\":\"c2\"}").value(QLatin1String("ok")).toBool(), true);
    QTRY_VERIFY_WITH_TIMEOUT(agent.said("signing in alice through hotdeskd"), 30000);
    // The IdP's page in the lock window, the phone's approval, the redirect relayed, the daemon's validation.
    QTRY_VERIFY_WITH_TIMEOUT(agent.said("unlocked for alice"), 120000);
    const QJsonArray sessions = ask("{\"v\":1,\"command\":\"status\",\"uid\":0}").value(QLatin1String("sessions")).toArray();
    bool found = false;
    for (const QJsonValue &entry : sessions) {
        if (entry.toObject().value(QLatin1String("id")).toString() != u"c2")
            continue;
        found = true;
        QCOMPARE(entry.toObject().value(QLatin1String("lock")).toObject().value(QLatin1String("required")).toBool(true), false);
    }
    QVERIFY(found);
    QVERIFY(!agent.err.contains("signing in alice\n")); // not the agent's own flow
    agent.process.terminate();
    QVERIFY(agent.process.waitForFinished(10000));
    // hotdeskd keeps the state: the attached agent wrote none of its own, not even after the sign-in.
    QVERIFY(!QFile::exists(m_dir.filePath(QStringLiteral("agent-state/engine-state.json"))));
}

void TestAgentDaemon::aPlantedEngineStateChangesNothing()
{
    // The session's user plants a lock and a lockout in the agent's state directory (theirs to edit).
    const auto c4 = [this] {
        const QJsonArray sessions = ask("{\"v\":1,\"command\":\"status\",\"uid\":0}").value(QLatin1String("sessions")).toArray();
        for (const QJsonValue &entry : sessions)
            if (entry.toObject().value(QLatin1String("id")).toString() == u"c4")
                return entry.toObject();
        return QJsonObject();
    };
    QVERIFY(m_logind.addSession(QStringLiteral("c4"), QStringLiteral("x11"), 0, QStringLiteral("root")));
    QTRY_VERIFY_WITH_TIMEOUT(!c4().isEmpty(), 10000);
    QVERIFY(QDir().mkpath(m_dir.filePath(QStringLiteral("agent-state"))));
    const QString planted = m_dir.filePath(QStringLiteral("agent-state/engine-state.json"));
    const QByteArray text = "{\"version\":1,\"lock\":{\"user\":\"root\",\"trigger\":\"manual\",\"detail\":\"\"},"
                            "\"users\":{\"root\":{\"locked_out_until\":4102444800,\"failed_since_success\":true}}}";
    QFile file(planted);
    QVERIFY(file.open(QIODevice::WriteOnly));
    QCOMPARE(file.write(text), text.size());
    file.close();

    Watched agent;
    startAgent(agent, QStringLiteral("c4"));
    QTRY_VERIFY_WITH_TIMEOUT(agent.said("attached to hotdeskd for session c4"), 30000);
    // Read by no one: no lock from the file, and the daemon was asked for none.
    QTest::qWait(1000);
    QVERIFY2(!agent.said("lock screen visible"), agent.err.constData());
    QCOMPARE(c4().value(QLatin1String("lock")).toObject().value(QLatin1String("required")).toBool(true), false);
    // hotdeskd's lock is what shows.
    QCOMPARE(ask("{\"v\":1,\"command\":\"reauth\",\"session\":\"c4\"}").value(QLatin1String("ok")).toBool(), true);
    QTRY_VERIFY_WITH_TIMEOUT(agent.said("hotdeskd requires the lock: manual"), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(agent.said("lock screen visible"), 30000);
    agent.process.terminate();
    QVERIFY(agent.process.waitForFinished(10000));
    // Nor written: the file is the planted one.
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), text);
}

QTEST_MAIN(TestAgentDaemon)
#include "tst_agentdaemon.moc"

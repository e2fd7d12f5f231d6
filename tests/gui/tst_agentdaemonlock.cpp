// hotdeskd's lock as the person at the keyboard meets it: the real tray agent (app/agent/trayagent, in-process so
// that the test types into its lock window) attached to the real daemon on python3-dbusmock's logind, with the
// companion servers. In a shared kiosk account's session "Switch user" signs the named person in through the
// daemon's sign-in; in a person's own session, with the servers down, the lock window's offline unlock hands the
// account password to the daemon, which checks it through real PAM (libpam-wrapper's pam_matrix.so).
#include "app/agent/trayagent.h"
#include "daemonclient.h"
#include "logindmock.h"
#include "stubsprocess.h"
#include "ui/lockscreen.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

using namespace hotdesk;
using namespace hotdesk::test;

namespace {

const QString kKiosk = QStringLiteral("k1"); // the ward's shared login "ward", a kiosk account in the policy
const QString kAlice = QStringLiteral("a1"); // alice's own session
const QString kPassword = QStringLiteral("correct horse 7");

} // namespace

class TestAgentDaemonLock : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    LogindMock m_logind;
    std::unique_ptr<StubsProcess> m_stubs;
    QProcess m_daemon;
    QString m_socket;
    QString m_policy;
    QStringList m_steps; // the agent's report lines

    QJsonObject ask(const QByteArray &line)
    {
        Client client;
        if (!client.connect(m_socket) || !client.send(line + '\n'))
            return {};
        return client.reply();
    }

    QJsonObject session(const QString &id)
    {
        for (const QJsonValue &entry :
            ask("{\"v\":1,\"command\":\"status\",\"uid\":0}").value(QLatin1String("sessions")).toArray())
            if (entry.toObject().value(QLatin1String("id")).toString() == id)
                return entry.toObject();
        return {};
    }

    bool lockRequired(const QString &id)
    {
        return session(id).value(QLatin1String("lock")).toObject().value(QLatin1String("required")).toBool();
    }

    // The daemon's audit records of that event (LOGS_DIRECTORY/audit.jsonl).
    QList<QJsonObject> audited(const QString &event) const
    {
        return auditRecords(m_dir.filePath(QStringLiteral("logs/audit.jsonl")), event);
    }

    bool auditedFor(const QString &event, const QString &user, const QString &session) const
    {
        const auto records = audited(event);
        return std::any_of(records.cbegin(), records.cend(), [&](const QJsonObject &r) {
            return r.value(QLatin1String("user")).toString() == user && r.value(QLatin1String("session")).toString() == session;
        });
    }

    // alice's failed attempts as the daemon keeps them.
    int failuresOfAlice() const
    {
        QFile file(m_dir.filePath(QStringLiteral("state/engine-users.json")));
        if (!file.open(QIODevice::ReadOnly))
            return 0;
        const QJsonObject all = QJsonDocument::fromJson(file.readAll()).object();
        const QJsonObject users = all.contains(QLatin1String("users")) ? all.value(QLatin1String("users")).toObject() : all;
        return int(users.value(QLatin1String("alice")).toObject().value(QLatin1String("failures")).toArray().size());
    }

    bool said(const QString &line) const
    {
        return std::any_of(m_steps.cbegin(), m_steps.cend(), [&](const QString &step) { return step.contains(line); });
    }

    // The service hotdesk-offline as pam_matrix: alice's password is kPassword.
    bool writePamConfig(const QString &pamDir)
    {
        const QString passdb = m_dir.filePath(QStringLiteral("passdb"));
        QFile users(passdb);
        if (!QDir().mkpath(pamDir) || !users.open(QIODevice::WriteOnly))
            return false;
        users.write("alice:" + kPassword.toUtf8() + ":hotdesk-offline\n");
        QFile service(pamDir + QStringLiteral("/hotdesk-offline"));
        if (!service.open(QIODevice::WriteOnly))
            return false;
        for (const char *type : {"auth", "account"})
            service.write(QByteArray(type) + " required " HOTDESK_PAM_MATRIX " passdb=" + QFile::encodeName(passdb) + '\n');
        return true;
    }

    // The agent of that session, as the desktop starts it for the account (its own state, audit and control socket).
    std::unique_ptr<cli::TrayAgent> startAgent(const QString &sessionId, const QString &user)
    {
        qputenv("XDG_SESSION_ID", sessionId.toUtf8());
        cli::TrayAgentOptions options;
        options.policyFile = m_policy;
        options.stateDir = m_dir.filePath(QStringLiteral("agent-") + sessionId);
        options.user = user;
        options.auditLog = m_dir.filePath(QStringLiteral("agent-%1.log").arg(sessionId));
        options.controlName = m_dir.filePath(QStringLiteral("control-") + sessionId);
        auto agent = std::make_unique<cli::TrayAgent>(options);
        m_steps.clear();
        connect(agent.get(), &cli::TrayAgent::stepReported, this, [this](const QString &line) { m_steps << line; });
        const Status started = agent->start();
        if (!started) {
            qWarning("agent did not start: %s", qPrintable(started.error().message));
            return nullptr;
        }
        return agent;
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (::geteuid() != 0)
            QSKIP("hotdesk enroll --system and the daemon's state need root; CI runs as root");
        if (!LogindMock::installed())
            QSKIP("python3-dbusmock is not installed (./dev installs it; Debian package python3-dbusmock)");
        if (QStringLiteral(HOTDESK_PAM_MATRIX).isEmpty() || !QFile::exists(QStringLiteral(HOTDESK_PAM_MATRIX)))
            QSKIP("libpam-wrapper's pam_matrix.so is not installed (./dev installs it; Debian package libpam-wrapper)");
        QVERIFY(m_dir.isValid());
        QVERIFY(QFile::setPermissions(m_dir.path(),
            QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner | QFileDevice::ReadGroup
                | QFileDevice::ExeGroup | QFileDevice::ReadOther | QFileDevice::ExeOther));
        const QString pamDir = m_dir.filePath(QStringLiteral("pam.d"));
        QVERIFY(writePamConfig(pamDir));

        // The servers; bob's and alice's phones approve at once; this PC enrolled for the daemon.
        const quint16 ports = freePortBase(35000);
        QVERIFY(ports != 0);
        m_stubs = std::make_unique<StubsProcess>(
            QStringLiteral(HOTDESK_STUBS_BINARY), m_dir.filePath(QStringLiteral("servers")), ports);
        m_stubs->start({}, 0);
        for (const char *person : {"bob", "alice"})
            QVERIFY(!m_stubs->admin({QStringLiteral("phone"), QStringLiteral("enroll"), QLatin1String(person)}).isNull());
        const QString enrolled
            = m_stubs->enrollForDaemon(QStringLiteral(HOTDESK_BINARY), m_dir.filePath(QStringLiteral("state")));
        QVERIFY2(enrolled.isEmpty(), qPrintable(enrolled));

        // The servers' policy: the ward's login is a kiosk account; one offline unlock within 8 hours of a sign-in
        // with the phone; no trigger locks by itself (the test asks the daemon for the lock).
        QJsonObject policy = readJsonFile(m_stubs->policyFile());
        QVERIFY(!policy.isEmpty());
        policy.insert(QStringLiteral("triggers"), QJsonObject {{QStringLiteral("on_unlock"), true}});
        policy.insert(QStringLiteral("failure"),
            QJsonObject {{QStringLiteral("max_attempts"), 100},
                {QStringLiteral("offline"),
                    QJsonObject {{QStringLiteral("mode"), QStringLiteral("grace")},
                        {QStringLiteral("grace"), QStringLiteral("PT8H")}, {QStringLiteral("max_uses"), 1}}}});
        policy.insert(
            QStringLiteral("enforcement"), QJsonObject {{QStringLiteral("kiosk_accounts"), QJsonArray {QStringLiteral("ward")}}});
        m_policy = m_dir.filePath(QStringLiteral("policy.json"));
        QVERIFY(writeJsonFile(m_policy, policy));

        QString why;
        QVERIFY2(m_logind.start(&why), qPrintable(why));
        QVERIFY(m_logind.addSession(kKiosk, QStringLiteral("x11"), 0, QStringLiteral("ward")));
        QVERIFY(m_logind.addSession(kAlice, QStringLiteral("x11"), 0, QStringLiteral("alice")));
        // The agent in this process finds logind and the daemon where the test put them.
        qputenv("DBUS_SYSTEM_BUS_ADDRESS", m_logind.address().toUtf8());
        m_socket = m_dir.filePath(QStringLiteral("hotdeskd.sock"));
        qputenv("HOTDESK_DAEMON_SOCKET", m_socket.toUtf8());

        // The agent runs in this process, whose main thread also starts Qt WebEngine: on a loaded machine it is silent
        // for seconds, and a daemon that then counts it missing (4 s here once) sent the lock again, which cancelled the
        // sign-in under way. No test here is about a missing agent (tst_agentdaemon, tst_hotdeskd_sessions are). Its
        // heartbeats (a third of the agent timeout apart) must still come within the client timeout.
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS"), m_logind.address());
        env.insert(QStringLiteral("LOGS_DIRECTORY"), m_dir.filePath(QStringLiteral("logs")));
        env.remove(QStringLiteral("NOTIFY_SOCKET"));
        m_daemon.setProcessEnvironment(env);
        m_daemon.setProcessChannelMode(QProcess::ForwardedChannels);
        dieWithTest(m_daemon);
        m_daemon.start(QStringLiteral(HOTDESKD_BINARY),
            {QStringLiteral("--socket"), m_socket, QStringLiteral("--state-dir"), m_dir.filePath(QStringLiteral("state")),
                QStringLiteral("--policy"), m_policy, QStringLiteral("--agent-timeout"), QStringLiteral("60000"),
                QStringLiteral("--client-timeout"), QStringLiteral("60000"), QStringLiteral("--pam-confdir"), pamDir});
        QVERIFY(m_daemon.waitForStarted(10000));
        QTRY_VERIFY_WITH_TIMEOUT(!session(kKiosk).isEmpty() && !session(kAlice).isEmpty(), 60000);
    }

    void cleanupTestCase()
    {
        stopProcess(m_daemon);
        m_stubs.reset();
    }

    void aKioskSwitchSignsTheNextPersonIn();
    void theOfflineUnlockAsksForTheAccountPassword();
};

// The ward's shared login: the person at the keyboard types their login name after "Switch user"; the agent starts
// the daemon's sign-in for that person, shows its IdP page, relays the redirect, and the daemon switches the person.
void TestAgentDaemonLock::aKioskSwitchSignsTheNextPersonIn()
{
    auto agent = startAgent(kKiosk, QStringLiteral("ward"));
    QVERIFY(agent);
    QTRY_VERIFY_WITH_TIMEOUT(said(QStringLiteral("attached to hotdeskd for session k1")), 30000);
    QVERIFY(agent->controller().isKiosk());
    QCOMPARE(ask("{\"v\":1,\"command\":\"reauth\",\"session\":\"k1\"}").value(QLatin1String("ok")).toBool(), true);
    QTRY_VERIFY_WITH_TIMEOUT(agent->controller().isDaemonLock(), 60000);
    QVERIFY(agent->lockScreen().isLocked());
    QTRY_VERIFY_WITH_TIMEOUT(said(QStringLiteral("lock screen visible")), 30000);

    // Keyboard only: the Switch user button, the name, Enter.
    ui::LockWindow *primary = agent->lockScreen().primaryWindow();
    QVERIFY(primary);
    QTest::keyClick(primary->switchUserButton(), Qt::Key_Space);
    QTRY_VERIFY_WITH_TIMEOUT(primary->switchUserEdit()->isVisible(), 30000);
    QTRY_VERIFY_WITH_TIMEOUT(primary->switchUserEdit()->hasFocus(), 30000);
    QTest::keyClicks(primary->switchUserEdit(), QStringLiteral("bob"));
    QTest::keyClick(primary->switchUserEdit(), Qt::Key_Return);
    // The lock says who signs in.
    QCOMPARE(primary->headline()->text(), QStringLiteral("bob, please sign in again"));
    QCOMPARE(agent->controller().lockUser(), QStringLiteral("bob"));
    QVERIFY(!said(QStringLiteral("goes to the login screen")));

    // The daemon runs bob's sign-in in the ward's session.
    QTRY_VERIFY_WITH_TIMEOUT(auditedFor(QStringLiteral("sign_in_started"), QStringLiteral("bob"), kKiosk), 30000);
    const auto started = audited(QStringLiteral("sign_in_started"));
    const auto bobs = std::find_if(started.cbegin(), started.cend(),
        [](const QJsonObject &r) { return r.value(QLatin1String("user")).toString() == u"bob"; });
    QCOMPARE(bobs->value(QLatin1String("account")).toString(), QStringLiteral("ward"));

    // The IdP's page in the lock window, bob's phone approves, the redirect goes to the daemon, which validates.
    QTRY_VERIFY_WITH_TIMEOUT(!agent->lockScreen().isLocked(), 120000);
    QVERIFY(said(QStringLiteral("unlocked for bob")));
    QCOMPARE(agent->controller().person(), QStringLiteral("bob"));
    QCOMPARE(session(kKiosk).value(QLatin1String("person")).toString(), QStringLiteral("bob"));
    QVERIFY(!lockRequired(kKiosk));
    const auto switched = audited(QStringLiteral("person_switched"));
    QCOMPARE(switched.size(), 1);
    QCOMPARE(switched.first().value(QLatin1String("user")).toString(), QStringLiteral("ward"));
    QCOMPARE(switched.first().value(QLatin1String("to")).toString(), QStringLiteral("bob"));
}

// alice's own session: she signed in with her phone; then the servers are down, the daemon's sign-in finds them
// unreachable, and the lock window offers the offline unlock: a wrong password keeps the lock (and counts), the
// right one is the daemon's offline unlock. Switch user here goes to the login screen, not to a sign-in.
void TestAgentDaemonLock::theOfflineUnlockAsksForTheAccountPassword()
{
    auto agent = startAgent(kAlice, QStringLiteral("alice"));
    QVERIFY(agent);
    QTRY_VERIFY_WITH_TIMEOUT(said(QStringLiteral("attached to hotdeskd for session a1")), 30000);
    QVERIFY(!agent->controller().isKiosk());
    // A sign-in with the phone first: the offline grace counts from it.
    QCOMPARE(ask("{\"v\":1,\"command\":\"reauth\",\"session\":\"a1\"}").value(QLatin1String("ok")).toBool(), true);
    QTRY_VERIFY_WITH_TIMEOUT(agent->lockScreen().isLocked(), 60000);
    QTRY_VERIFY_WITH_TIMEOUT(!agent->lockScreen().isLocked(), 120000);
    QVERIFY(!lockRequired(kAlice));

    m_stubs->stop();
    QCOMPARE(ask("{\"v\":1,\"command\":\"reauth\",\"session\":\"a1\"}").value(QLatin1String("ok")).toBool(), true);
    QTRY_VERIFY_WITH_TIMEOUT(agent->lockScreen().isLocked(), 60000);
    ui::LockWindow *primary = agent->lockScreen().primaryWindow();
    QVERIFY(primary);
    // The daemon's own sign-in (started by the lock) cannot reach the servers: the lock offers the offline unlock.
    QTRY_VERIFY_WITH_TIMEOUT(said(QStringLiteral("(unreachable)")), 60000);
    QTRY_VERIFY_WITH_TIMEOUT(primary->offlineButton()->isVisible(), 30000);

    // Not a kiosk account: Switch user is the login screen's, and no sign-in starts for bob.
    QTest::keyClick(primary->switchUserButton(), Qt::Key_Space);
    QTRY_VERIFY_WITH_TIMEOUT(primary->switchUserEdit()->isVisible(), 30000);
    QTest::keyClicks(primary->switchUserEdit(), QStringLiteral("bob"));
    QTest::keyClick(primary->switchUserEdit(), Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(said(QStringLiteral("bob goes to the login screen; the session of alice stays locked")), 30000);
    QVERIFY(!auditedFor(QStringLiteral("sign_in_started"), QStringLiteral("bob"), kAlice));
    QVERIFY(agent->lockScreen().isLocked());

    // A wrong password: the lock stays, and the daemon counts a failed attempt.
    const int failures = failuresOfAlice();
    QTest::keyClick(primary->offlineButton(), Qt::Key_Space);
    QTRY_VERIFY_WITH_TIMEOUT(primary->codeEdit()->isVisible(), 30000);
    QCOMPARE(primary->codeEdit()->echoMode(), QLineEdit::Password);
    QTRY_VERIFY_WITH_TIMEOUT(primary->codeEdit()->hasFocus(), 30000);
    QTest::keyClicks(primary->codeEdit(), QStringLiteral("not the password"));
    QTest::keyClick(primary->codeEdit(), Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(said(QStringLiteral("offline unlock refused by hotdeskd: wrong_password")), 30000);
    QVERIFY(agent->lockScreen().isLocked());
    QVERIFY(lockRequired(kAlice));
    QVERIFY(auditedFor(QStringLiteral("offline_unlock_refused"), QStringLiteral("alice"), kAlice));
    QCOMPARE(audited(QStringLiteral("offline_unlock_refused")).last().value(QLatin1String("reason")).toString(),
        QStringLiteral("wrong_password"));
    QTRY_COMPARE_WITH_TIMEOUT(failuresOfAlice(), failures + 1, 30000);

    // The right one: the daemon's offline unlock, and the agent's lock lifts.
    QTest::keyClick(primary->offlineButton(), Qt::Key_Space);
    QTRY_VERIFY_WITH_TIMEOUT(primary->codeEdit()->isVisible(), 30000);
    QTest::keyClicks(primary->codeEdit(), kPassword);
    QTest::keyClick(primary->codeEdit(), Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(!agent->lockScreen().isLocked(), 30000);
    QVERIFY(said(QStringLiteral("unlocked for alice")));
    QVERIFY(!lockRequired(kAlice));
    const auto granted = audited(QStringLiteral("offline_unlock_granted"));
    QCOMPARE(granted.size(), 1);
    QCOMPARE(granted.first().value(QLatin1String("user")).toString(), QStringLiteral("alice"));
    QCOMPARE(granted.first().value(QLatin1String("factor")).toString(), QStringLiteral("password"));
    // The agent's log records what it showed, with the daemon's reason; the password is in no log.
    QFile agentLog(m_dir.filePath(QStringLiteral("agent-a1.log")));
    QVERIFY(agentLog.open(QIODevice::ReadOnly));
    const QByteArray log = agentLog.readAll();
    QVERIFY2(log.contains("\"daemon_reason\":\"offline\""), log.constData());
    QVERIFY(!log.contains(kPassword.toUtf8()));
    QFile daemonLog(m_dir.filePath(QStringLiteral("logs/audit.jsonl")));
    QVERIFY(daemonLog.open(QIODevice::ReadOnly));
    QVERIFY(!daemonLog.readAll().contains(kPassword.toUtf8()));
}

QTEST_MAIN(TestAgentDaemonLock)
#include "tst_agentdaemonlock.moc"

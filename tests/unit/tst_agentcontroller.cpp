// The agent's controller (core/agent/agentcontroller.h) without a display: a fake clock, hotdeskd's events
// fed by hand through a connection that records what the agent sends, and a view that records what it shows.
#include "core/agent/agentcontroller.h"
#include "core/policy/policy.h"
#include "core/store/secretstore.h"
#include "fakeclock.h"

#include <QtTest>

using namespace hotdesk;
using namespace hotdesk::agent;
using namespace std::chrono_literals;

namespace {

// hotdeskd's side: attached or not, and every request line the agent sent.
class RecordingDaemon final : public DaemonConnection {
public:
    bool isAttached() const override { return attached; }
    bool send(QJsonObject request) override
    {
        if (!attached)
            return false;
        sent << request;
        return true;
    }
    QString lastCommand() const { return sent.isEmpty() ? QString() : sent.last().value(QLatin1String("command")).toString(); }
    bool attached = false;
    QList<QJsonObject> sent;
};

// The lock screen and the tray as the controller drives them. lift() accepts
// the proof when the lock is up and it names the lock's user, as LockScreen does.
class RecordingView final : public AgentView {
public:
    void showLock(const LockView &view) override
    {
        locked = true;
        lock = view;
        ++shown;
    }
    void updateLock(const LockView &view) override { lock = view; }
    void setStatus(const QString &text, bool busy) override
    {
        status = text;
        statusBusy = busy;
    }
    bool lift(const UnlockProof &proof) override
    {
        if (!locked)
            return true;
        if (held && !std::holds_alternative<DaemonValidated>(proof))
            return false;
        const QString user = std::visit([](const auto &p) { return p.user; }, proof);
        if (user != lock.user)
            return false;
        lifted << proof.index();
        locked = false;
        held = false;
        return true;
    }
    void holdForDaemon(bool hold) override { held = hold; }
    void askForCode(CodePrompt kind, const QString &prompt) override
    {
        askedFor = kind;
        codePrompt = prompt;
    }
    void hideOneTimeCode() override { }
    void openDaemonSignIn(const QString &id, const QUrl &url) override
    {
        pageId = id;
        pageUrl = url;
    }
    void closeSignInPage() override
    {
        pageId.clear();
        pageUrl.clear();
    }
    void notify(const QString &title, const QString &text) override { notices << title + u": " + text; }
    void setTray(const control::AgentStatus &now) override { tray = now; }
    void lockSession(const QString &user, const QString &why) override { osLocks << user + u' ' + why; }
    void switchToGreeter(const QString &who) override { greeter << who; }

    bool locked = false;
    bool held = false;
    int shown = 0;
    LockView lock;
    QString status;
    bool statusBusy = false;
    QList<std::size_t> lifted; // the proofs' indices in UnlockProof
    std::optional<CodePrompt> askedFor;
    QString codePrompt;
    QString pageId;
    QUrl pageUrl;
    QStringList notices;
    control::AgentStatus tray;
    QStringList osLocks;
    QStringList greeter;
};

class RecordingServices final : public AgentServices {
public:
    void startFlow(const FlowRequest &request) override { flows << request.user; }
    void cancelFlow() override { ++cancelled; }
    void provideOneTimeCode(const QString &code) override { codes << code; }
    store::SecretStore &secrets() override { return keychain; }
    void notifyAdmin(const policy::NotifyAdmin &event) override { admin << event.event; }
    bool saveState(const policy::EngineState &state) override
    {
        saved = state;
        return true;
    }
    void audit(store::AuditEvent event, const QString &user, const QString &reason, const QJsonObject &) override
    {
        audits << store::auditEventName(event) + u' ' + user + u' ' + reason;
    }
    void report(const QString &line) override { lines << line; }
    bool audited(const QString &prefix) const
    {
        return std::any_of(audits.cbegin(), audits.cend(), [&](const QString &a) { return a.startsWith(prefix); });
    }

    store::MemorySecretStore keychain;
    QStringList flows;
    int cancelled = 0;
    QStringList codes;
    QStringList admin;
    std::optional<policy::EngineState> saved;
    QStringList audits;
    QStringList lines;
};

policy::Policy makePolicy(const char *triggers, const char *failure = "{}")
{
    const QByteArray json = QByteArray("{\"version\": 1, \"servers\": {\"das\": [\"https://das.example\"], "
                                       "\"idp_issuer\": \"https://idp.example\", \"client_id\": \"agent\"}, \"triggers\": ")
        + triggers + ", \"failure\": " + failure + "}";
    auto parsed = policy::parsePolicy(json, QStringLiteral("test-policy.json"));
    if (!parsed)
        qFatal("test policy: %s", qPrintable(parsed.error().message));
    return *parsed;
}

QJsonObject daemonLine(const char *name, QJsonObject members = {})
{
    members.insert(QStringLiteral("event"), QLatin1String(name));
    return members;
}

flow::FlowResult proofFor(const QString &user)
{
    flow::FlowResult result;
    result.user = user;
    result.sharedId = QStringLiteral("sub-") + user;
    result.idToken.subject = result.sharedId;
    return result;
}

// One controller with its recorders, for alice, started with a policy.
struct Agent {
    explicit Agent(bool attached, const policy::Policy &policy = makePolicy("{\"idle\": \"PT15M\"}"))
    {
        daemon.attached = attached;
        controller.setUser(QStringLiteral("alice"), true);
        controller.restore(std::nullopt, false);
        controller.applyPolicy(policy);
        controller.sessionStarted(QStringLiteral("alice"));
    }
    test::FakeClock clock;
    OpenSslRandom random;
    RecordingDaemon daemon;
    RecordingView view;
    RecordingServices services;
    AgentController controller {clock, random, daemon, view, services};
};

} // namespace

class TestAgentController : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void startsUnlockedWithAPolicy()
    {
        Agent agent(false);
        QCOMPARE(agent.controller.state(), AgentState::Unlocked);
        QVERIFY(!agent.view.locked);
        QCOMPARE(agent.view.tray.state, control::AgentState::Ok);
        QCOMPARE(agentStateName(agent.controller.state()), QStringLiteral("unlocked"));
    }

    // Standalone (no hotdeskd): the agent's own engine locks when the idle time
    // reaches the policy's 15 minutes on the fake clock, not a second before.
    void standaloneIdleLocksAtTheFakeClocksTime()
    {
        Agent agent(false);
        // An hour into the session the desktop says: no input for 10 minutes.
        agent.clock.advance(1h);
        agent.controller.idleTimeIs(600s);
        QCOMPARE(agent.controller.state(), AgentState::Unlocked);
        const qint64 idleSince = agent.clock.secondsSinceEpoch() - 600;
        QCOMPARE(agent.controller.nextTick()->time_since_epoch().count(), idleSince + 900);

        agent.clock.advance(299s);
        agent.controller.tick();
        QCOMPARE(agent.controller.state(), AgentState::Unlocked);
        QVERIFY(!agent.view.locked);

        agent.clock.advance(1s);
        agent.controller.tick();
        QCOMPARE(agent.controller.state(), AgentState::Locked);
        QVERIFY(agent.view.locked);
        QVERIFY(!agent.view.held);
        QCOMPARE(agent.view.lock.user, QStringLiteral("alice"));
        QCOMPARE(agent.view.lock.reason, QStringLiteral("This PC was left without input for a while."));
        QVERIFY(agent.services.audited(QStringLiteral("reauth_required alice idle")));
        QVERIFY(agent.services.saved && agent.services.saved->lock);
        QCOMPARE(agent.services.saved->lock->trigger, policy::Trigger::Idle);
        QCOMPARE(agent.view.tray.state, control::AgentState::Locked);
        // The sign-in starts by itself once the lock is up.
        QTRY_COMPARE(agent.controller.state(), AgentState::SigningIn);
        QCOMPARE(agent.services.flows, QStringList {QStringLiteral("alice")});
    }

    // Standalone: a validated ID token lifts the agent's own lock; a failure keeps it and counts.
    void standaloneSignInUnlocksAndAFailureKeepsTheLock()
    {
        Agent agent(false);
        agent.controller.setAutoSignIn(false);
        agent.controller.reauthRequested(QStringLiteral("tray"));
        QCOMPARE(agent.controller.state(), AgentState::Locked);
        QVERIFY(agent.services.audited(QStringLiteral("reauth_requested alice tray")));

        agent.controller.signIn(QStringLiteral("alice"));
        QCOMPARE(agent.controller.state(), AgentState::SigningIn);
        agent.controller.flowFailed(QStringLiteral("alice"), Error {ErrorCode::AccessDenied, QStringLiteral("denied")},
            QStringLiteral("The sign-in was denied."), QStringLiteral("Try again."));
        QCOMPARE(agent.controller.state(), AgentState::Locked);
        QVERIFY(agent.view.locked);
        QCOMPARE(agent.view.status, QStringLiteral("Try again."));
        QCOMPARE(agent.view.lock.attemptsLeft, 4);

        agent.controller.signIn(QStringLiteral("alice"));
        QCOMPARE(agent.controller.state(), AgentState::SigningIn);
        agent.controller.flowSucceeded(proofFor(QStringLiteral("alice")));
        QCOMPARE(agent.controller.state(), AgentState::Unlocked);
        QVERIFY(!agent.view.locked);
        QVERIFY(agent.services.audited(QStringLiteral("reauth_succeeded alice id_token_valid")));
        QVERIFY(agent.services.saved && !agent.services.saved->lock);
    }

    // Cancel during the agent's own sign-in: the flow is stopped, its failure brings the lock back to waiting.
    void cancelStopsTheOwnSignIn()
    {
        Agent agent(false);
        agent.controller.setAutoSignIn(false);
        agent.controller.reauthRequested(QStringLiteral("tray"));
        agent.controller.signIn(QStringLiteral("alice"));
        agent.controller.cancel();
        QCOMPARE(agent.services.cancelled, 1);
        agent.controller.flowFailed(QStringLiteral("alice"), Error {ErrorCode::Cancelled, QStringLiteral("cancelled")},
            QStringLiteral("Cancelled."), QStringLiteral("Select Sign in."));
        QCOMPARE(agent.controller.state(), AgentState::Locked);
        QVERIFY(agent.view.locked);
        // The engine counts a cancelled sign-in as an attempt (DecisionEngine::countsAsAttempt).
        QCOMPARE(agent.view.lock.attemptsLeft, 4);
        QVERIFY(agent.services.audited(QStringLiteral("reauth_failed alice cancelled")));
    }

    // Attached to hotdeskd: the agent's own engine neither decides nor reports.
    void attachedTheOwnEngineDoesNotDecide()
    {
        Agent agent(true);
        agent.services.audits.clear();
        agent.controller.idleTimeIs(2h);
        agent.clock.advance(1h);
        agent.controller.tick();
        agent.controller.processStarted(QStringLiteral("gnucash"));
        QCOMPARE(agent.controller.state(), AgentState::Unlocked);
        QVERIFY(!agent.view.locked);
        QVERIFY(!agent.controller.nextTick());
        // "Lock now" is hotdeskd's reauth; nothing locks until its lock event.
        agent.controller.reauthRequested(QStringLiteral("tray"));
        QCOMPARE(agent.daemon.lastCommand(), QStringLiteral("reauth"));
        QCOMPARE(agent.controller.state(), AgentState::Unlocked);
        QVERIFY(agent.services.audits.isEmpty());
    }

    // hotdeskd's lock event locks; its sign-in URL shows the page; the redirect goes to hotdeskd; "unlocked" lifts.
    void theDaemonsLockSignInAndUnlock()
    {
        Agent agent(true);
        agent.controller.daemonEvent(
            daemonLine("lock", {{QStringLiteral("reason"), QStringLiteral("idle")}, {QStringLiteral("sign_in"), true}}));
        QCOMPARE(agent.controller.state(), AgentState::DaemonLocked);
        QVERIFY(agent.view.locked);
        QVERIFY(agent.view.held);
        QCOMPARE(agent.view.lock.reason, QStringLiteral("This PC was left without input for a while."));
        QVERIFY(!agent.view.lock.offerRecoveryCode);
        QVERIFY(!agent.services.audited(QStringLiteral("reauth_required")));
        // The sign-in starts by itself: "sign_in" to hotdeskd.
        QTRY_COMPARE(agent.controller.state(), AgentState::DaemonStarting);
        QCOMPARE(agent.daemon.lastCommand(), QStringLiteral("sign_in"));

        const QUrl url(QStringLiteral("https://idp.example/authorize?request_uri=x"));
        agent.controller.daemonEvent(daemonLine(
            "sign_in_url", {{QStringLiteral("sign_in"), QStringLiteral("s1")}, {QStringLiteral("url"), url.toString()}}));
        QCOMPARE(agent.controller.state(), AgentState::DaemonSigningIn);
        QCOMPARE(agent.view.pageId, QStringLiteral("s1"));
        QCOMPARE(agent.view.pageUrl, url);
        agent.controller.daemonSignInRedirected(
            QStringLiteral("s1"), QUrl(QStringLiteral("http://127.0.0.1:1/cb?code=c&state=s")));
        QCOMPARE(agent.daemon.lastCommand(), QStringLiteral("sign_in_response"));
        QCOMPARE(agent.daemon.sent.last().value(QLatin1String("url")).toString(),
            QStringLiteral("http://127.0.0.1:1/cb?code=c&state=s"));
        // A redirect of another sign-in is not relayed.
        const auto before = agent.daemon.sent.size();
        agent.controller.daemonSignInRedirected(QStringLiteral("other"), QUrl(QStringLiteral("http://127.0.0.1:1/cb?code=d")));
        QCOMPARE(agent.daemon.sent.size(), before);

        agent.controller.daemonEvent(daemonLine("unlocked"));
        QCOMPARE(agent.controller.state(), AgentState::Unlocked);
        QVERIFY(!agent.view.locked);
        QVERIFY(!agent.view.held);
        QCOMPARE(agent.view.lifted, QList<std::size_t> {3}); // DaemonValidated
        QVERIFY(agent.view.pageId.isEmpty());
        // The agent records what it showed, and no decision of its own.
        QCOMPARE(agent.services.audits, QStringList {QStringLiteral("reauth_succeeded alice hotdeskd_validated")});
    }

    // The connection to hotdeskd ends while its lock is up: the lock stays, the sign-in ends, nothing of the agent's own runs.
    void aLostConnectionLeavesTheDaemonsLockUp()
    {
        Agent agent(true);
        agent.controller.setAutoSignIn(false);
        agent.controller.daemonEvent(
            daemonLine("lock", {{QStringLiteral("reason"), QStringLiteral("manual")}, {QStringLiteral("sign_in"), true}}));
        agent.controller.signIn(QStringLiteral("alice"));
        agent.controller.daemonEvent(daemonLine("sign_in_url",
            {{QStringLiteral("sign_in"), QStringLiteral("s1")},
                {QStringLiteral("url"), QStringLiteral("https://idp.example/a")}}));
        QCOMPARE(agent.controller.state(), AgentState::DaemonSigningIn);

        agent.daemon.attached = false;
        agent.controller.daemonLost(QStringLiteral("connection closed"));
        QCOMPARE(agent.controller.state(), AgentState::DaemonLocked);
        QVERIFY(agent.view.locked);
        QVERIFY(agent.view.held);
        QVERIFY(agent.view.pageId.isEmpty());
        QCOMPARE(agent.view.status, QStringLiteral("The sign-in service restarted. Sign in again."));

        // Without hotdeskd, Sign in does not start a sign-in of the agent's own, and the engine does not lift it.
        agent.controller.signIn(QStringLiteral("alice"));
        QCOMPARE(agent.controller.state(), AgentState::DaemonLocked);
        QVERIFY(agent.services.flows.isEmpty());
        agent.controller.idleTimeIs(0s);
        agent.controller.tick();
        QVERIFY(agent.view.locked);
        QVERIFY(agent.view.lifted.isEmpty());
        QCOMPARE(agent.controller.status().state, control::AgentState::Locked);
    }

    // While hotdeskd holds the lock, the agent's own proofs are refused: a token of its own flow, a recovery code.
    void theAgentsOwnProofIsRefusedWhileTheDaemonHoldsTheLock()
    {
        Agent agent(false, makePolicy("{}", "{\"recovery_codes\": {\"enabled\": true}}"));
        agent.controller.setAutoSignIn(false);
        agent.controller.reauthRequested(QStringLiteral("tray"));
        agent.controller.signIn(QStringLiteral("alice"));
        QCOMPARE(agent.controller.state(), AgentState::SigningIn);

        // hotdeskd comes and requires the lock: the running flow of the agent's own is cancelled.
        agent.daemon.attached = true;
        agent.controller.daemonAttached(QStringLiteral("c1"));
        agent.controller.daemonEvent(
            daemonLine("lock", {{QStringLiteral("reason"), QStringLiteral("manual")}, {QStringLiteral("sign_in"), true}}));
        QCOMPARE(agent.controller.state(), AgentState::DaemonLocked);
        QCOMPARE(agent.services.cancelled, 1);
        QVERIFY(agent.view.held);

        // Its token arrives anyway: the lock stays.
        agent.controller.flowSucceeded(proofFor(QStringLiteral("alice")));
        QCOMPARE(agent.controller.state(), AgentState::DaemonLocked);
        QVERIFY(agent.view.locked);
        QVERIFY(agent.view.lifted.isEmpty());
        QVERIFY(agent.services.audited(QStringLiteral("reauth_failed alice daemon_lock")));

        // A recovery code is not checked here: hotdeskd, which keeps the hashes, is asked; its refusal keeps the lock.
        agent.controller.recoveryCode(QStringLiteral("alice"), QStringLiteral("ABCD-EFGH-JKLM"));
        QCOMPARE(agent.controller.state(), AgentState::DaemonLocked);
        QCOMPARE(agent.daemon.lastCommand(), QStringLiteral("recovery_code"));
        QCOMPARE(agent.daemon.sent.last().value(QLatin1String("code")).toString(), QStringLiteral("ABCD-EFGH-JKLM"));
        QCOMPARE(agent.view.status, QStringLiteral("Checking the recovery code…"));
        agent.controller.daemonRecoveryCodeRefused(QStringLiteral("wrong_code"), QStringLiteral("not an unused code"));
        QCOMPARE(agent.view.status,
            QStringLiteral("That recovery code is not right, or it was used before. Check it and try again."));
        QVERIFY(agent.view.locked);
        QVERIFY(agent.view.lifted.isEmpty());

        // Nor does an offline unlock of the agent's own: the password goes to hotdeskd.
        agent.controller.offlineUnlock(QStringLiteral("alice"));
        QCOMPARE(agent.view.askedFor, std::optional(CodePrompt::AccountPassword));
        QVERIFY(agent.view.locked);
    }

    // Cancel during hotdeskd's sign-in: "sign_in_cancel" for that sign-in, the page closes, the lock waits.
    void cancelEndsTheDaemonsSignIn()
    {
        Agent agent(true);
        agent.controller.setAutoSignIn(false);
        agent.controller.daemonEvent(
            daemonLine("lock", {{QStringLiteral("reason"), QStringLiteral("manual")}, {QStringLiteral("sign_in"), true}}));
        agent.controller.signIn(QStringLiteral("alice"));
        agent.controller.daemonEvent(daemonLine("sign_in_url",
            {{QStringLiteral("sign_in"), QStringLiteral("s7")},
                {QStringLiteral("url"), QStringLiteral("https://idp.example/a")}}));
        agent.controller.cancel();
        QCOMPARE(agent.controller.state(), AgentState::DaemonLocked);
        QCOMPARE(agent.daemon.lastCommand(), QStringLiteral("sign_in_cancel"));
        QCOMPARE(agent.daemon.sent.last().value(QLatin1String("sign_in")).toString(), QStringLiteral("s7"));
        QVERIFY(agent.view.pageId.isEmpty());
        QVERIFY(agent.view.locked);
        // hotdeskd's answer to the cancel changes nothing more.
        agent.controller.daemonEvent(daemonLine("sign_in_failed",
            {{QStringLiteral("sign_in"), QStringLiteral("s7")}, {QStringLiteral("error"), QStringLiteral("cancelled")}}));
        QCOMPARE(agent.controller.state(), AgentState::DaemonLocked);
        QVERIFY(agent.view.lock.signInAllowed);
    }

    // Offline unlock of hotdeskd's lock: the password goes to hotdeskd; a wrong one leaves the lock.
    void theAccountPasswordGoesToTheDaemon()
    {
        Agent agent(true);
        agent.controller.setAutoSignIn(false);
        agent.controller.daemonEvent(
            daemonLine("lock", {{QStringLiteral("reason"), QStringLiteral("manual")}, {QStringLiteral("sign_in"), true}}));
        agent.controller.offlineUnlock(QStringLiteral("alice"));
        agent.controller.accountPassword(QStringLiteral("secret"));
        QCOMPARE(agent.controller.state(), AgentState::CheckingPassword);
        QCOMPARE(agent.daemon.lastCommand(), QStringLiteral("offline_unlock"));
        QCOMPARE(agent.daemon.sent.last().value(QLatin1String("password")).toString(), QStringLiteral("secret"));
        agent.controller.daemonEvent(
            daemonLine("offline_unlock_failed", {{QStringLiteral("error"), QStringLiteral("wrong_password")}}));
        QCOMPARE(agent.controller.state(), AgentState::DaemonLocked);
        QVERIFY(agent.view.locked);
        QCOMPARE(agent.view.status,
            QStringLiteral("That password was not accepted. The lock stays; try again, or sign in with your phone."));
    }

    // A shared kiosk account's session (attach said kiosk): Switch user signs the named person in through hotdeskd's
    // sign-in ("sign_in" with "person"), the lock shows who signs in, and "unlocked" with the person lifts it for them.
    void aKioskSwitchSignsTheNamedPersonIn()
    {
        Agent agent(true);
        agent.controller.setUser(QStringLiteral("ward"), true);
        agent.controller.daemonAttached(QStringLiteral("k1"),
            {{QStringLiteral("ok"), true}, {QStringLiteral("kiosk"), true}, {QStringLiteral("person"), QStringLiteral("carol")}});
        QVERIFY(agent.controller.isKiosk());
        QCOMPARE(agent.controller.person(), QStringLiteral("carol"));
        QCOMPARE(agent.controller.status().user, QStringLiteral("carol"));
        // hotdeskd's lock asks carol, who signed in last; its sign-in (for her) starts by itself.
        agent.controller.daemonEvent(daemonLine("lock",
            {{QStringLiteral("reason"), QStringLiteral("idle")}, {QStringLiteral("sign_in"), true},
                {QStringLiteral("kiosk"), true}, {QStringLiteral("person"), QStringLiteral("carol")}}));
        QCOMPARE(agent.view.lock.user, QStringLiteral("carol"));
        QTRY_COMPARE(agent.controller.state(), AgentState::DaemonStarting);
        QCOMPARE(agent.daemon.lastCommand(), QStringLiteral("sign_in"));
        QVERIFY(!agent.daemon.sent.last().contains(QLatin1String("person")));
        agent.controller.daemonAnswered(
            QStringLiteral("sign_in"), {{QStringLiteral("ok"), true}, {QStringLiteral("sign_in"), QStringLiteral("s1")}});
        agent.controller.daemonEvent(daemonLine("sign_in_url",
            {{QStringLiteral("sign_in"), QStringLiteral("s1")},
                {QStringLiteral("url"), QStringLiteral("https://idp.example/a")}}));
        QCOMPARE(agent.controller.state(), AgentState::DaemonSigningIn);

        // bob switches in: carol's sign-in is cancelled, bob's starts, and the lock names him.
        agent.controller.switchUser(QStringLiteral("bob"));
        QVERIFY(agent.view.greeter.isEmpty());
        QCOMPARE(agent.daemon.sent.at(agent.daemon.sent.size() - 2).value(QLatin1String("command")).toString(),
            QStringLiteral("sign_in_cancel"));
        QCOMPARE(
            agent.daemon.sent.at(agent.daemon.sent.size() - 2).value(QLatin1String("sign_in")).toString(), QStringLiteral("s1"));
        QCOMPARE(agent.daemon.lastCommand(), QStringLiteral("sign_in"));
        QCOMPARE(agent.daemon.sent.last().value(QLatin1String("person")).toString(), QStringLiteral("bob"));
        QCOMPARE(agent.controller.state(), AgentState::DaemonStarting);
        QCOMPARE(agent.view.lock.user, QStringLiteral("bob"));
        QCOMPARE(agent.controller.lockUser(), QStringLiteral("bob"));
        QCOMPARE(agent.view.status, QStringLiteral("Signing in bob: connecting to the sign-in service…"));
        QVERIFY(agent.view.held);
        QVERIFY(agent.view.pageId.isEmpty());
        QVERIFY(agent.services.audited(QStringLiteral("user_switch bob kiosk")));
        // The cancelled sign-in's end changes nothing; bob's goes on.
        agent.controller.daemonEvent(daemonLine("sign_in_failed",
            {{QStringLiteral("sign_in"), QStringLiteral("s1")}, {QStringLiteral("error"), QStringLiteral("cancelled")}}));
        QCOMPARE(agent.controller.state(), AgentState::DaemonStarting);
        agent.controller.daemonAnswered(
            QStringLiteral("sign_in"), {{QStringLiteral("ok"), true}, {QStringLiteral("sign_in"), QStringLiteral("s2")}});
        agent.controller.daemonEvent(daemonLine("sign_in_url",
            {{QStringLiteral("sign_in"), QStringLiteral("s2")},
                {QStringLiteral("url"), QStringLiteral("https://idp.example/b")}}));
        QCOMPARE(agent.controller.state(), AgentState::DaemonSigningIn);
        QCOMPARE(agent.view.pageId, QStringLiteral("s2"));
        agent.controller.daemonSignInRedirected(QStringLiteral("s2"), QUrl(QStringLiteral("com.hotdesk.agent:/callback?code=c")));
        QCOMPARE(agent.daemon.lastCommand(), QStringLiteral("sign_in_response"));

        // hotdeskd validated bob's token: the lock lifts for bob, who is the session's person now.
        agent.controller.daemonEvent(daemonLine("unlocked",
            {{QStringLiteral("reason"), QStringLiteral("sign_in")}, {QStringLiteral("person"), QStringLiteral("bob")}}));
        QCOMPARE(agent.controller.state(), AgentState::Unlocked);
        QVERIFY(!agent.view.locked);
        QCOMPARE(agent.view.lifted, QList<std::size_t> {3}); // DaemonValidated
        QCOMPARE(agent.controller.person(), QStringLiteral("bob"));
        QCOMPARE(agent.controller.status().user, QStringLiteral("bob"));
        QVERIFY(agent.services.audited(QStringLiteral("reauth_succeeded bob hotdeskd_validated")));
    }

    // A switch while hotdeskd has not yet answered the running "sign_in": that one is cancelled once its id comes,
    // and only then is the person's sent (hotdeskd runs one sign-in per session). A failed switch keeps the lock on
    // the person, and Sign in tries them again.
    void aKioskSwitchWaitsForTheRunningSignInsReply()
    {
        Agent agent(true);
        agent.controller.setAutoSignIn(false);
        agent.controller.daemonAttached(QStringLiteral("k1"), {{QStringLiteral("ok"), true}, {QStringLiteral("kiosk"), true}});
        agent.controller.daemonEvent(daemonLine("lock",
            {{QStringLiteral("reason"), QStringLiteral("manual")}, {QStringLiteral("sign_in"), true},
                {QStringLiteral("kiosk"), true}, {QStringLiteral("person"), QString()}}));
        QCOMPARE(agent.view.lock.user, QStringLiteral("alice")); // nobody signed in yet: the account
        agent.controller.signIn(QStringLiteral("alice"));
        QCOMPARE(agent.daemon.sent.size(), 1);
        agent.controller.switchUser(QStringLiteral("bob"));
        QCOMPARE(agent.daemon.sent.size(), 1); // nothing sent before the running one's id is known
        QCOMPARE(agent.controller.state(), AgentState::DaemonStarting);
        agent.controller.daemonAnswered(
            QStringLiteral("sign_in"), {{QStringLiteral("ok"), true}, {QStringLiteral("sign_in"), QStringLiteral("s1")}});
        QCOMPARE(agent.daemon.sent.size(), 3);
        QCOMPARE(agent.daemon.sent.at(1).value(QLatin1String("command")).toString(), QStringLiteral("sign_in_cancel"));
        QCOMPARE(agent.daemon.sent.at(1).value(QLatin1String("sign_in")).toString(), QStringLiteral("s1"));
        QCOMPARE(agent.daemon.sent.at(2).value(QLatin1String("person")).toString(), QStringLiteral("bob"));
        // s1's end and its late page are not bob's sign-in.
        agent.controller.daemonEvent(daemonLine("sign_in_url",
            {{QStringLiteral("sign_in"), QStringLiteral("s1")},
                {QStringLiteral("url"), QStringLiteral("https://idp.example/a")}}));
        agent.controller.daemonEvent(daemonLine("sign_in_failed",
            {{QStringLiteral("sign_in"), QStringLiteral("s1")}, {QStringLiteral("error"), QStringLiteral("cancelled")}}));
        QCOMPARE(agent.controller.state(), AgentState::DaemonStarting);
        QVERIFY(agent.view.pageId.isEmpty());

        // The token was not bob's: the lock stays, still for bob, and Sign in asks for bob again.
        agent.controller.daemonAnswered(
            QStringLiteral("sign_in"), {{QStringLiteral("ok"), true}, {QStringLiteral("sign_in"), QStringLiteral("s2")}});
        agent.controller.daemonEvent(daemonLine("sign_in_failed",
            {{QStringLiteral("sign_in"), QStringLiteral("s2")}, {QStringLiteral("error"), QStringLiteral("subject_mismatch")}}));
        QCOMPARE(agent.controller.state(), AgentState::DaemonLocked);
        QVERIFY(agent.view.locked);
        QCOMPARE(agent.view.lock.user, QStringLiteral("bob"));
        agent.controller.signIn(QStringLiteral("bob"));
        QCOMPARE(agent.daemon.lastCommand(), QStringLiteral("sign_in"));
        QCOMPARE(agent.daemon.sent.last().value(QLatin1String("person")).toString(), QStringLiteral("bob"));
        // A refused start (here: not a login name) says why and leaves the lock waiting.
        agent.controller.daemonAnswered(QStringLiteral("sign_in"),
            {{QStringLiteral("ok"), false}, {QStringLiteral("error"), QStringLiteral("bad_request")},
                {QStringLiteral("message"), QStringLiteral("no blanks")}});
        QCOMPARE(agent.controller.state(), AgentState::DaemonLocked);
        QCOMPARE(agent.view.status, QStringLiteral("The sign-in could not start: no blanks"));
    }

    // Outside a kiosk account's session Switch user goes to the display manager's greeter: no "person" is sent,
    // the owner's session stays locked. Without hotdeskd, a kiosk switch is refused (it needs hotdeskd's sign-in).
    void aSwitchOutsideAKioskGoesToTheGreeter()
    {
        Agent agent(true);
        agent.controller.daemonAttached(QStringLiteral("c1"), {{QStringLiteral("ok"), true}});
        QVERIFY(!agent.controller.isKiosk());
        agent.controller.daemonEvent(
            daemonLine("lock", {{QStringLiteral("reason"), QStringLiteral("idle")}, {QStringLiteral("sign_in"), true}}));
        QTRY_COMPARE(agent.controller.state(), AgentState::DaemonStarting);
        const auto before = agent.daemon.sent.size();
        agent.controller.switchUser(QStringLiteral("bob"));
        QCOMPARE(agent.view.greeter, QStringList {QStringLiteral("bob")});
        QCOMPARE(agent.controller.state(), AgentState::DaemonLocked);
        QVERIFY(agent.view.locked);
        QCOMPARE(agent.view.lock.user, QStringLiteral("alice"));
        for (auto i = before; i < agent.daemon.sent.size(); ++i)
            QVERIFY(!agent.daemon.sent.at(i).contains(QLatin1String("person")));
        QVERIFY(agent.services.audited(QStringLiteral("user_switch bob greeter")));

        Agent kiosk(true);
        kiosk.controller.setAutoSignIn(false);
        kiosk.controller.daemonAttached(QStringLiteral("k1"), {{QStringLiteral("ok"), true}, {QStringLiteral("kiosk"), true}});
        kiosk.controller.daemonEvent(
            daemonLine("lock", {{QStringLiteral("reason"), QStringLiteral("idle")}, {QStringLiteral("sign_in"), true}}));
        kiosk.daemon.attached = false;
        kiosk.controller.daemonLost(QStringLiteral("gone"));
        kiosk.controller.switchUser(QStringLiteral("bob"));
        QVERIFY(kiosk.view.greeter.isEmpty());
        QCOMPARE(kiosk.controller.state(), AgentState::DaemonLocked);
        QCOMPARE(kiosk.view.lock.user, QStringLiteral("alice"));
        QVERIFY(kiosk.view.status.startsWith(QLatin1String("The system service cannot be reached")));
    }

    // hotdeskd's sign-in finds the servers unreachable: the lock offers the offline unlock (the policy has a grace),
    // whose password goes to hotdeskd; its "unlocked" (reason offline) lifts the lock.
    void anUnreachableSignInOffersTheOfflineUnlock()
    {
        Agent agent(true, makePolicy("{}", "{\"offline\": {\"mode\": \"grace\", \"grace\": \"PT8H\", \"max_uses\": 2}}"));
        agent.controller.daemonEvent(
            daemonLine("lock", {{QStringLiteral("reason"), QStringLiteral("manual")}, {QStringLiteral("sign_in"), true}}));
        QTRY_COMPARE(agent.controller.state(), AgentState::DaemonStarting);
        QVERIFY(!agent.view.lock.offerOffline);
        agent.controller.daemonAnswered(
            QStringLiteral("sign_in"), {{QStringLiteral("ok"), true}, {QStringLiteral("sign_in"), QStringLiteral("s1")}});
        agent.controller.daemonEvent(daemonLine("sign_in_failed",
            {{QStringLiteral("sign_in"), QStringLiteral("s1")}, {QStringLiteral("error"), QStringLiteral("unreachable")}}));
        QCOMPARE(agent.controller.state(), AgentState::DaemonLocked);
        QVERIFY(agent.view.lock.offerOffline);
        agent.controller.offlineUnlock(QStringLiteral("alice"));
        QCOMPARE(agent.view.askedFor, std::optional(CodePrompt::AccountPassword));
        agent.controller.accountPassword(QStringLiteral("secret"));
        QCOMPARE(agent.controller.state(), AgentState::CheckingPassword);
        QCOMPARE(agent.daemon.lastCommand(), QStringLiteral("offline_unlock"));
        agent.controller.daemonEvent(daemonLine("unlocked", {{QStringLiteral("reason"), QStringLiteral("offline")}}));
        QCOMPARE(agent.controller.state(), AgentState::Unlocked);
        QVERIFY(!agent.view.locked);
        QCOMPARE(agent.controller.status().state, control::AgentState::Offline);
    }

    // Attached, a lock of the agent's own (restored from its state) is handed to hotdeskd by Sign in.
    void anOwnLockIsHandedToTheDaemon()
    {
        test::FakeClock clock;
        OpenSslRandom random;
        RecordingDaemon daemon;
        RecordingView view;
        RecordingServices services;
        AgentController controller(clock, random, daemon, view, services);
        controller.setUser(QStringLiteral("alice"), true);
        policy::EngineState saved;
        saved.lock = policy::LockRecord {QStringLiteral("alice"), policy::Trigger::Idle, {}};
        controller.restore(saved, false);
        QCOMPARE(controller.state(), AgentState::Locked);
        QVERIFY(view.locked);
        QVERIFY(!view.lock.signInAllowed); // no policy yet
        controller.applyPolicy(makePolicy("{}"));
        daemon.attached = true;
        controller.daemonAttached(QStringLiteral("c1"));
        controller.signIn(QStringLiteral("alice"));
        QCOMPARE(daemon.lastCommand(), QStringLiteral("reauth"));
        QCOMPARE(controller.state(), AgentState::Locked);
        controller.daemonEvent(
            daemonLine("lock", {{QStringLiteral("reason"), QStringLiteral("manual")}, {QStringLiteral("sign_in"), true}}));
        QCOMPARE(controller.state(), AgentState::DaemonLocked);
        QCOMPARE(view.lock.reason, QStringLiteral("Hotdesk restarted while this PC was locked."));
        controller.daemonEvent(daemonLine("unlocked"));
        QCOMPARE(controller.state(), AgentState::Unlocked);
        // The engine forgot its own lock record; attached, nothing is written (hotdeskd keeps the state, and
        // a restarted agent that finds hotdeskd's socket reads no state of its own).
        QVERIFY(!controller.engine()->state().lock);
        QVERIFY(!services.saved);
        // Without hotdeskd again, the agent's own engine keeps its state as before.
        daemon.attached = false;
        controller.daemonLost(QStringLiteral("gone"));
        controller.sessionStarted(QStringLiteral("alice"));
        controller.reauthRequested(QStringLiteral("tray"));
        QVERIFY(services.saved && services.saved->lock);
    }

    // No usable policy: locked and nobody may sign in.
    void withoutAPolicyNobodySignsIn()
    {
        test::FakeClock clock;
        OpenSslRandom random;
        RecordingDaemon daemon;
        RecordingView view;
        RecordingServices services;
        AgentController controller(clock, random, daemon, view, services);
        controller.setUser(QStringLiteral("alice"), true);
        controller.restore(std::nullopt, false);
        QCOMPARE(controller.state(), AgentState::Starting);
        controller.policyMissing(QStringLiteral("no file"));
        QCOMPARE(controller.state(), AgentState::Locked);
        QVERIFY(!view.lock.signInAllowed);
        controller.signIn(QStringLiteral("alice"));
        QCOMPARE(controller.state(), AgentState::Locked);
        QVERIFY(services.flows.isEmpty());
        QCOMPARE(controller.status().detail, QStringLiteral("no_policy"));
    }
};

QTEST_GUILESS_MAIN(TestAgentController)
#include "tst_agentcontroller.moc"

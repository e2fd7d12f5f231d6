// What the tray agent does, decided without a display: one state, explicit transitions (docs/tray-agent.md, "The controller").
#pragma once

#include "../clock.h"
#include "../control/controlserver.h"
#include "../flow/reauthflow.h"
#include "../policy/decisionengine.h"
#include "../policy/policy.h"
#include "../random.h"
#include "../result.h"
#include "../store/auditlog.h"
#include "../store/recoverycodestore.h"

#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QTimer>
#include <QUrl>

#include <memory>
#include <optional>
#include <variant>

namespace hotdesk::store {
class SecretStore;
}

namespace hotdesk::agent {

// The one state of the agent. "Own" states are the standalone agent's (no
// hotdeskd attached: test builds and development); the Daemon states are a
// lock hotdeskd holds, which only hotdeskd's "unlocked" event lifts.
enum class AgentState {
    Starting, // created: the saved state and the policy are not read yet
    Unlocked, // no lock: the person works
    Locked, // the agent's own lock is up, waiting for the person
    SigningIn, // the agent's own sign-in (flow 1) runs: credential loading, IdP page, one-time code
    CheckingCode, // a recovery code is checked against the keychain (own lock)
    DaemonLocked, // hotdeskd holds the lock, waiting for the person
    DaemonStarting, // "sign_in" was sent to hotdeskd, its URL has not come yet
    DaemonSigningIn, // hotdeskd's sign-in: the IdP page shows, its redirect goes to hotdeskd
    CheckingPassword, // offline unlock: the account password is with hotdeskd
};
// "starting", "unlocked", "locked", "signing_in", "checking_code", "daemon_locked",
// "daemon_starting", "daemon_signing_in", "checking_password".
QString agentStateName(AgentState state);

// What the lock screen shows (ui::LockInfo without the widgets).
struct LockView {
    QString user; // who must prove who they are
    QString reason; // why, for people
    int attemptsLeft = -1; // -1: not shown
    QString helpText; // the policy's help-desk text
    bool signInAllowed = true;
    bool offerOffline = false;
    bool offerRecoveryCode = false;
};

// hotdeskd's connection as the controller uses it (control::DaemonLink in the
// product); its events come in through AgentController's daemon... methods.
class DaemonConnection {
public:
    virtual ~DaemonConnection() = default;
    virtual bool isAttached() const = 0;
    // False when not attached.
    virtual bool send(QJsonObject request) = 0;
    // A recovery code for hotdeskd to check ("recovery_code"); its refusal comes back through
    // AgentController::daemonRecoveryCodeRefused, a right one as the event "unlocked".
    virtual bool sendRecoveryCode(const QString &code)
    {
        return send({{QStringLiteral("command"), QStringLiteral("recovery_code")}, {QStringLiteral("code"), code}});
    }
};

// hotdeskd said it validated a sign-in of the session's owner.
struct DaemonValidated {
    QString user;
};
// What lifts a lock; the lock screen checks each again before it lifts.
using UnlockProof = std::variant<flow::FlowResult, policy::OfflineGranted, store::RecoveryCodeAccepted, DaemonValidated>;

enum class CodePrompt { OneTimeCode, AccountPassword };

// What the controller has shown or done on the desktop. The Widgets side
// (TrayAgent with LockScreen and DesktopIntegration) only presents.
class AgentView {
public:
    virtual ~AgentView() = default;
    // Locks every screen (or updates the lock that is up) with what to show.
    virtual void showLock(const LockView &view) = 0;
    virtual void updateLock(const LockView &view) = 0;
    virtual void setStatus(const QString &text, bool busy) = 0;
    // True when the lock screen lifted (it checks the proof against the lock itself).
    virtual bool lift(const UnlockProof &proof) = 0;
    // While held only DaemonValidated lifts the lock screen.
    virtual void holdForDaemon(bool hold) = 0;
    virtual void askForCode(CodePrompt kind, const QString &prompt) = 0;
    virtual void hideOneTimeCode() = 0;
    // hotdeskd's sign-in page; the redirect comes back through daemonSignInRedirected().
    virtual void openDaemonSignIn(const QString &id, const QUrl &url) = 0;
    virtual void closeSignInPage() = 0;
    virtual void notify(const QString &title, const QString &text) = 0;
    virtual void setTray(const control::AgentStatus &status) = 0;
    // The OS lock (logind / the screensaver), for `user` because of `why`.
    virtual void lockSession(const QString &user, const QString &why) = 0;
    // The display manager's login screen for another person; this session stays locked.
    virtual void switchToGreeter(const QString &who) = 0;
};

// What the controller has done outside: the sign-in, the DAS, the disk, the
// log. Answers come back through the controller's flow... methods.
struct FlowRequest {
    QString user;
    QStringList acrValues;
    policy::UnrecognizedDevice unrecognized = policy::UnrecognizedDevice::Deny;
};
class AgentServices {
public:
    virtual ~AgentServices() = default;
    // Flow 1 in the lock screen; ends with flowSucceeded() or flowFailed().
    virtual void startFlow(const FlowRequest &request) = 0;
    virtual void cancelFlow() = 0;
    virtual void provideOneTimeCode(const QString &code) = 0;
    // The keychain holding the recovery codes' hashes (asked for at the first code).
    virtual store::SecretStore &secrets() = 0;
    virtual void notifyAdmin(const policy::NotifyAdmin &event) = 0;
    // The engine's state changed: written to disk, so a restart comes back locked.
    // False when it could not be written (it is tried again at the next change).
    virtual bool saveState(const policy::EngineState &state) = 0;
    virtual void audit(store::AuditEvent event, const QString &user, const QString &reason, const QJsonObject &extra) = 0;
    // One line for people (stderr, the tests and the demo).
    virtual void report(const QString &line) = 0;
};

// Decides what the agent does. Everything from outside comes in through the
// public methods (the platform watchers' events, the person's actions, the
// flow's and hotdeskd's answers); everything it does goes out through the
// view and the services. Time only from the injected clock.
//
// Attached to hotdeskd (the product), the agent keeps nothing that decides:
// its own engine is not asked and reports nothing; hotdeskd's "lock" event
// is what locks, "Lock now" is hotdeskd's "reauth", only hotdeskd's
// "unlocked" lifts its lock, and a lost connection leaves the lock up.
// Without hotdeskd the agent's own DecisionEngine decides, as before.
class AgentController : public QObject {
    Q_OBJECT
public:
    AgentController(const Clock &clock, RandomSource &random, DaemonConnection &daemon, AgentView &view, AgentServices &services,
        QObject *parent = nullptr);
    ~AgentController() override;

    AgentState state() const { return m_state; }
    bool isLocked() const { return m_state != AgentState::Starting && m_state != AgentState::Unlocked; }
    bool isDaemonLock() const { return m_state >= AgentState::DaemonLocked; }
    bool isSigningIn() const { return m_state == AgentState::SigningIn; }
    // Whom the lock asks; empty while unlocked.
    const QString &lockUser() const { return m_lock.user; }
    const QString &user() const { return m_user; }
    // A shared kiosk account's session (hotdeskd's attach said "kiosk": true) and its person, who signed in last.
    bool isKiosk() const { return m_kiosk; }
    const QString &person() const { return m_person; }
    const policy::DecisionEngine *engine() const { return m_engine.get(); }
    const std::optional<policy::Policy> &policy() const { return m_policy; }
    control::AgentStatus status() const;
    // When tick() is due next (the controller's own timer calls it then).
    std::optional<policy::Instant> nextTick() const;

    // Start: who sits here, whether a sign-in starts when the lock goes up.
    void setUser(const QString &user, bool fixed);
    void setAutoSignIn(bool on) { m_autoSignIn = on; }
    // The saved engine state (nullopt: none); damaged: it could not be read.
    void restore(const std::optional<policy::EngineState> &saved, bool damaged);
    // No usable policy: the screens lock and nobody may sign in.
    void policyMissing(const QString &problem);
    void policyRejected(const QString &problem);
    void applyPolicy(const policy::Policy &policy);
    void setSessionId(const QString &id) { m_sessionId = id; }

    // The platform watchers (standalone only: attached, hotdeskd watches).
    void sessionStarted(const QString &user);
    void screenUnlocked();
    void idleTimeIs(std::chrono::seconds idle);
    void activity();
    void processStarted(const QString &name);
    void pathTouched(const QString &path);
    void deviceInUse(policy::SensitiveDevice device);
    void tick();

    // The person's actions (tray, control socket, lock screen).
    void reauthRequested(const QString &source);
    void signIn(const QString &user);
    void cancel();
    void switchUser(const QString &user);
    void offlineUnlock(const QString &user);
    void oneTimeCode(const QString &code);
    void recoveryCode(const QString &user, const QString &code);
    void accountPassword(QString password);
    // X11: the lock screen could not take the keyboard and the pointer.
    void grabFailed(const QString &why);

    // Flow 1's answers.
    void flowProgress(const QString &message);
    void flowOneTimeCodeNeeded(const QString &prompt, const QString &status);
    void flowSucceeded(const flow::FlowResult &result);
    // reason and status: what the lock screen says about the failure, in the person's language.
    void flowFailed(const QString &user, const Error &error, const QString &reason, const QString &status);

    // hotdeskd's side (control::DaemonLink's signals).
    // reply: hotdeskd's answer to "attach" (the session's members; "kiosk" and "person" in a kiosk account's).
    void daemonAttached(const QString &session, const QJsonObject &reply = {});
    void daemonLost(const QString &why);
    // hotdeskd's reply to a request the controller sent (command: the request's), ok or not.
    void daemonAnswered(const QString &command, const QJsonObject &reply);
    void daemonRequestFailed(const QString &error, const QString &message);
    // hotdeskd refused a recovery code ("wrong_code", "no_codes", "locked_out", ...).
    void daemonRecoveryCodeRefused(const QString &error, const QString &message);
    void daemonEvent(const QJsonObject &event);
    void daemonSignInRedirected(const QString &id, const QUrl &redirect);
    void daemonSignInPageFailed(const QString &id);

Q_SIGNALS:
    void stateChanged(hotdesk::agent::AgentState state);

private:
    struct Lock {
        QString user;
        QString reason; // what the lock screen says about why
        bool signInTried = false; // a sign-in started since this lock went up
        QString person; // a kiosk switch named this person: hotdeskd's sign-in is theirs ("person")
    };

    bool attached() const { return m_daemon.isAttached(); }
    bool standalone() const { return m_engine && !attached(); }
    void setState(AgentState state);
    void handle(const QList<policy::Decision> &decisions);
    void handleOne(const policy::Decision &decision);
    void handleRequire(const policy::RequireReauth &require, const QJsonObject &extra);
    void handleLockOut(const policy::Decision &decision, const QJsonObject &extra);
    void handleOffline(const policy::Decision &decision, const QJsonObject &extra);
    void afterEngine();
    void scheduleTick();
    void showLock(const QString &user, const QString &reason, bool signInAllowed, AgentState state);
    void relock(const QString &user, const QString &reason, bool signInAllowed);
    LockView lockView(const QString &user, const QString &reason, bool signInAllowed) const;
    bool lockedOut(const QString &user) const;
    QString lockedOutText(const QString &user, std::optional<policy::Instant> until) const;
    QString reasonForPeople(policy::Trigger trigger, const QString &detail) const;
    void unlocked(const QString &user);
    void refuse(const QString &status);
    void startOwnSignIn(const QString &user);
    void startDaemonSignIn();
    void sendSignIn();
    void switchPerson(const QString &person);
    // hotdeskd's sign-in under way is given up: cancelled now, or as soon as its id comes.
    void abandonDaemonSignIn();
    void endDaemonSignIn();
    void daemonLock(const QJsonObject &event);
    void daemonSignInEvent(const QString &name, const QJsonObject &event);
    void daemonUnlocked(const QJsonObject &event);
    void recoveryCodeChecked(const QString &user, Result<store::RecoveryCodeAccepted> accepted);
    void audit(store::AuditEvent event, const QString &user, const QString &reason, const QJsonObject &extra = {});
    void updateTray();

    const Clock &m_clock;
    RandomSource &m_random;
    DaemonConnection &m_daemon;
    AgentView &m_view;
    AgentServices &m_services;
    AgentState m_state = AgentState::Starting;
    Lock m_lock;
    QString m_user;
    bool m_userFixed = false;
    bool m_autoSignIn = true;
    QString m_sessionId;
    std::unique_ptr<policy::DecisionEngine> m_engine;
    std::optional<policy::Policy> m_policy;
    policy::EngineState m_saved;
    // A lock without policy or state waits for the session to become a re-authentication.
    bool m_relockAtSessionStart = false;
    bool m_stateDamaged = false;
    policy::Network m_network = policy::Network::Online;
    bool m_soon = false;
    QString m_problem; // a policy problem for the tray
    QString m_daemonSignIn; // the id of hotdeskd's sign-in under way
    bool m_signInReplyDue = false; // "sign_in" was sent, its reply (with the id) has not come
    bool m_abandonOnReply = false; // that sign-in is given up: cancelled once its id comes
    QSet<QString> m_abandoned; // sign-ins cancelled by the agent: their events are ignored
    bool m_kiosk = false;
    QString m_person;
    QTimer m_tick;
    QPointer<store::RecoveryCodeStore> m_recoveryCodes;
};

} // namespace hotdesk::agent

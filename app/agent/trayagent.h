// The tray agent (`hotdesk` without a command): policy, triggers, lock screen, flow 1 and failure handling, all day long.
#pragma once

#include "agentcontext.h"
#include "core/clock.h"
#include "core/control/controlserver.h"
#include "core/control/daemonlink.h"
#include "core/flow/reauthflow.h"
#include "core/platform/platform.h"
#include "core/policy/decisionengine.h"
#include "core/policy/policy.h"
#include "core/random.h"
#include "core/result.h"

#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QWindow>

#include <memory>
#include <optional>

namespace hotdesk::policy {
class PolicyStore;
}
namespace hotdesk::store {
class AuditLog;
struct AuditEntry;
enum class AuditEvent;
class RecoveryCodeStore;
class SecretStore;
} // namespace hotdesk::store
namespace hotdesk::ui {
class DesktopIntegration;
class LockScreen;
struct LockInfo;
} // namespace hotdesk::ui

namespace hotdesk::cli {

class AgentContext;
class TrayEnrollment;

struct TrayAgentOptions {
    QString policyFile; // empty: the platform location
    QString stateDir; // empty: environment.stateDir()
    QString user; // who sits at this PC; empty: the account of the desktop session
    QString auditLog; // empty: environment.auditLog()
    QString controlName; // empty: control::defaultServerName()
    QString screenshotFile; // the lock screen, once the IdP's page shows in it; empty: environment.screenshotFile
    // The sign-in starts as soon as the lock screen is up (the phone gets its
    // push at once, as Duo and Okta do); otherwise it waits for "Sign in".
    bool autoSignIn = true;
    // What the options above leave empty comes from here.
    AgentEnvironment environment;
};

// Owns everything the running agent is made of and connects it:
//   PolicyStore -> DecisionEngine (rules) <- platform watchers, timer, tray, control socket
//   DecisionEngine decisions -> LockScreen, ReauthFlow in the lock screen,
//                               AuditLog, DAS events feed, tray
// The engine's state is written to STATE_DIR/engine-state.json after every
// change, so an agent killed while locked comes back locked.
class TrayAgent : public QObject {
    Q_OBJECT
public:
    explicit TrayAgent(TrayAgentOptions options, QObject *parent = nullptr);
    ~TrayAgent() override;

    // Claims the control socket (another running agent is an error), opens
    // the audit log, reads the policy and the saved state, starts watching.
    Status start();

    control::AgentStatus status() const;
    ui::LockScreen &lockScreen() { return *m_lock; }
    ui::DesktopIntegration &desktop() { return *m_desktop; }
    bool isSigningIn() const { return m_flow != nullptr; }
    // "Enroll this PC…": asks for an administrator, who signs in with their phone.
    void enrollThisPc();
    TrayEnrollment &enrollment();

    // The engine's state file in the state directory.
    static QString engineStateFile(const QString &stateDir);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

Q_SIGNALS:
    // For tests and the demo: each thing the agent did, as one line for people.
    void stepReported(const QString &line);

private:
    void applyPolicy(const policy::Policy &policy);
    void handle(const QList<policy::Decision> &decisions);
    void handleOne(const policy::Decision &decision);
    void afterEngine();
    void saveState();
    void scheduleTick();
    void connectPlatform();
    // The requests of the control socket and the tray, and the lock screen's.
    void connectRequests();
    void connectLockScreen();
    // The engine's state as saved before the agent stopped; a lock that was up goes up again.
    void restoreState();
    Status startPolicyStore();
    // hotdeskd, the system service: this agent presents its session's lock (docs/hotdeskd.md).
    void connectDaemon();
    void daemonEvent(const QJsonObject &event);
    // The sign-in run by hotdeskd: the agent shows the IdP page and relays the redirect.
    void startDaemonSignIn(const QString &user);
    void daemonSignInEvent(const QString &name, const QJsonObject &event);
    void daemonUnlocked();
    // "Switch user" under hotdeskd: the display manager's login screen; this session stays locked.
    void switchToGreeter(const QString &who);
    void endDaemonSignIn();
    void configureWatchers(const policy::Triggers &triggers);

    void showLock(const QString &user, const QString &reason, bool signInAllowed);
    ui::LockInfo lockInfo(const QString &user, const QString &reason, bool signInAllowed) const;
    int attemptsLeft(const QString &user) const;
    QString reasonForPeople(policy::Trigger trigger, const QString &detail) const;

    void startSignIn(const QString &user);
    void withContext(std::function<void(AgentContext *, const Error *)> work);
    void runFlow(AgentContext &context, const QString &user);
    void flowSucceeded(const flow::FlowResult &result);
    void flowFailed(const QString &user, const Error &error);
    void endFlow();
    void checkRecoveryCode(const QString &user, const QString &code);
    void notifyAdmin(const policy::NotifyAdmin &event);
    void saveScreenshot();

    void audit(store::AuditEvent event, const QString &user, const QString &reason, const QJsonObject &extra = {});
    void report(const QString &line);
    void updateTray();

    TrayAgentOptions m_options;
    SystemClock m_clock;
    QString m_stateFile;
    QString m_user; // the session's account
    std::unique_ptr<store::AuditLog> m_audit;
    std::unique_ptr<control::ControlServer> m_control;
    std::unique_ptr<control::DaemonLink> m_daemon;
    QString m_daemonProblem; // why the agent is not attached to hotdeskd; empty while it is
    bool m_daemonLock = false; // the lock shown is one hotdeskd requires: only its sign-in lifts it
    bool m_daemonStarting = false; // "sign_in" sent, no URL yet
    QString m_daemonSignIn; // the id of hotdeskd's sign-in under way
    std::unique_ptr<policy::PolicyStore> m_policyStore;
    std::unique_ptr<policy::DecisionEngine> m_engine;
    std::optional<policy::Policy> m_policy;
    policy::EngineState m_saved;
    bool m_stateDamaged = false;
    platform::Platform m_platform;
    bool m_platformConnected = false;
    QString m_sessionId;
    QTimer m_tick;
    ui::LockScreen *m_lock = nullptr;
    ui::DesktopIntegration *m_desktop = nullptr;

    OpenSslRandom m_random;
    std::unique_ptr<store::SecretStore> m_secrets; // the keychain, for recovery codes
    store::RecoveryCodeStore *m_recoveryCodes = nullptr;
    bool m_checkingCode = false; // a recovery code is being checked
    std::unique_ptr<AgentContext> m_context;
    TrayEnrollment *m_enrollment = nullptr; // made when first asked for
    bool m_contextStale = false;
    QPointer<flow::ReauthFlow> m_flow;
    std::unique_ptr<flow::AuthorizationFrontend> m_frontend;
    QString m_flowUser;
    bool m_starting = false; // the device credential is loading for a sign-in
    QString m_lockUser; // whom the lock screen asks
    QString m_lockInfoReason; // what the lock screen says about why
    bool m_signInTried = false; // a sign-in started since this lock went up
    bool m_relockAtSessionStart = false; // a lock without policy or state waits for the session to become a re-authentication
    bool m_offline = false;
    bool m_soon = false;
    QString m_problem; // a policy or platform problem for the tray
    bool m_screenshotTaken = false;
    QPointer<QWindow> m_exposeWatch; // the primary lock window until it is first shown
};

// `hotdesk [--policy FILE] [--state-dir DIR] [--user U]`: runs the agent until the session ends.
int runTrayAgent(const QStringList &args, const AgentEnvironment &environment);

} // namespace hotdesk::cli

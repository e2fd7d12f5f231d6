// The tray agent (`hotdesk` without a command): policy, triggers, lock screen, flow 1 and failure handling, all day long.
#pragma once

#include "agentcontext.h"
#include "core/agent/agentcontroller.h"
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

// Owns everything the running agent is made of and connects it; what the
// agent does is decided by agent::AgentController (core/agent/agentcontroller.h),
// GUI-free with one state; this class only presents and carries out:
//   PolicyStore, platform watchers, tray, control socket, lock screen, hotdeskd -> AgentController
//   AgentController -> LockScreen (+ the sign-in page in it), tray, AuditLog,
//                      engine-state.json, DAS events feed, flow 1, hotdeskd's requests
// Without hotdeskd (test builds only) the engine's state is written to
// STATE_DIR/engine-state.json after every change, so an agent killed while
// locked comes back locked; with it, the daemon keeps the state and the agent
// neither reads nor writes that file.
class TrayAgent : public QObject, private agent::AgentView, private agent::AgentServices {
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
    agent::AgentController &controller() { return *m_controller; }
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
    // hotdeskd's link as the controller sees it (null until start()).
    class DaemonLinkConnection final : public agent::DaemonConnection {
    public:
        bool isAttached() const override { return link && link->isAttached(); }
        bool send(QJsonObject request) override { return link && link->send(std::move(request)); }
        bool sendRecoveryCode(const QString &code) override { return link && link->sendRecoveryCode(code); }
        control::DaemonLink *link = nullptr;
    };

    void applyPolicy(const policy::Policy &policy);
    void connectPlatform();
    // The requests of the control socket and the tray, and the lock screen's.
    void connectRequests();
    void connectLockScreen();
    // The engine's state as saved before the agent stopped; a lock that was up goes up again.
    void restoreState();
    Status startPolicyStore();
    // hotdeskd, the system service: this agent presents its session's lock (docs/hotdeskd.md).
    void connectDaemon();
    void startDaemonLink(const QString &sessionId);
    void configureWatchers(const policy::Triggers &triggers);

    // agent::AgentView: the lock screen, the tray, the desktop.
    void showLock(const agent::LockView &view) override;
    void updateLock(const agent::LockView &view) override;
    void setStatus(const QString &text, bool busy) override;
    bool lift(const agent::UnlockProof &proof) override;
    void holdForDaemon(bool hold) override;
    void askForCode(agent::CodePrompt kind, const QString &prompt) override;
    void hideOneTimeCode() override;
    void openDaemonSignIn(const QString &id, const QUrl &url) override;
    void closeSignInPage() override;
    void notify(const QString &title, const QString &text) override;
    void setTray(const control::AgentStatus &status) override;
    void lockSession(const QString &user, const QString &why) override;
    // "Switch user" under hotdeskd: the display manager's login screen; this session stays locked.
    void switchToGreeter(const QString &who) override;

    // agent::AgentServices: flow 1, the keychain, the DAS, the disk, the log.
    void startFlow(const agent::FlowRequest &request) override;
    void cancelFlow() override;
    void provideOneTimeCode(const QString &code) override;
    store::SecretStore &secrets() override;
    void notifyAdmin(const policy::NotifyAdmin &event) override;
    bool saveState(const policy::EngineState &state) override;
    void audit(store::AuditEvent event, const QString &user, const QString &reason, const QJsonObject &extra = {}) override;
    void report(const QString &line) override;

    void withContext(std::function<void(AgentContext *, const Error *)> work);
    void runFlow(AgentContext &context, const agent::FlowRequest &request);
    void flowFailed(const QString &user, const Error &error);
    void endFlow();
    void saveScreenshot();

    TrayAgentOptions m_options;
    SystemClock m_clock;
    OpenSslRandom m_random;
    QString m_stateFile;
    QString m_user; // the session's account
    std::unique_ptr<store::AuditLog> m_audit;
    std::unique_ptr<control::ControlServer> m_control;
    std::unique_ptr<control::DaemonLink> m_daemon;
    DaemonLinkConnection m_daemonConnection;
    QString m_daemonProblem; // why the agent is not attached to hotdeskd; empty while it is
    std::unique_ptr<policy::PolicyStore> m_policyStore;
    platform::Platform m_platform;
    bool m_platformConnected = false;
    ui::LockScreen *m_lock = nullptr;
    ui::DesktopIntegration *m_desktop = nullptr;

    std::unique_ptr<store::SecretStore> m_secrets; // the keychain, for recovery codes
    std::unique_ptr<AgentContext> m_context;
    TrayEnrollment *m_enrollment = nullptr; // made when first asked for
    bool m_contextStale = false; // the policy or the enrollment changed during a sign-in: a new context after it
    QPointer<flow::ReauthFlow> m_flow;
    std::unique_ptr<flow::AuthorizationFrontend> m_frontend; // flow 1's page
    std::unique_ptr<flow::AuthorizationFrontend> m_daemonFrontend; // hotdeskd's sign-in page
    bool m_screenshotTaken = false;
    QPointer<QWindow> m_exposeWatch; // the primary lock window until it is first shown
    // Last: it goes first, before what it drives.
    std::unique_ptr<agent::AgentController> m_controller;
};

// `hotdesk [--policy FILE] [--state-dir DIR] [--user U]`: runs the agent until the session ends.
int runTrayAgent(const QStringList &args, const AgentEnvironment &environment);

} // namespace hotdesk::cli

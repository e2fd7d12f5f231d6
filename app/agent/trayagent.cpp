// The tray agent: the decision engine's decisions carried out on the desktop, the servers and the audit log.
#include "trayagent.h"

#include "agentcontext.h"
#include "cli.h"
#include "core/das/dasclient.h"
#include "core/jose/strictjson.h"
#ifdef Q_OS_LINUX
#include "core/platform/linux/greeterswitch.h"
#endif
#include "core/policy/policystore.h"
#include "core/store/agentstate.h"
#include "core/store/auditlog.h"
#include "core/store/recoverycodestore.h"
#include "core/store/secretstore.h"
#include "core/username.h"
#include "devicefingerprint.h"
#include "embeddedfrontend.h"
#include "trayenrollment.h"
#include "ui/authbrowser.h"
#if defined(Q_OS_LINUX)
#include "ui/desktopidlesource.h"
#endif
#include "ui/lockscreen.h"
#include "ui/trayicon.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDateTime>
#include <QDesktopServices>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>
#include <QMessageBox>
#include <QPushButton>
#include <QSaveFile>
#include <QUrl>
#include <QWindow>

#include <cstdio>

namespace hotdesk::cli {

namespace {

using namespace std::chrono_literals;

// Flow 1's sign-in page inside the lock screen: the browser sits in the
// primary screen's lock window, never in a window of its own that the lock
// would cover.
class LockScreenFrontend final : public flow::AuthorizationFrontend {
public:
    LockScreenFrontend(ui::LockScreen &lock, QList<QSslCertificate> extraCas, QString issuer, QObject *parent)
        : AuthorizationFrontend(parent)
        , m_lock(lock)
        , m_extraCas(std::move(extraCas))
        , m_issuer(std::move(issuer))
    {
    }
    ~LockScreenFrontend() override { close(); }

    Result<QString> prepare() override { return EmbeddedFrontend::redirectUri(); }

    void open(const QUrl &authorizationUrl) override
    {
        close();
        m_browser = new ui::AuthBrowserWidget;
        ui::AuthBrowserOptions options = EmbeddedFrontend::browserOptions(authorizationUrl, m_issuer, m_extraCas);
        options.title = QString(); // the lock window says who and why
        options.helpText = TrayAgent::tr("Sign in with your organisation's account. The screens unlock by themselves when you are done.");
        // A link out of the IdP would open behind the lock: it is not followed.
        options.openExternally = [](const QUrl &) {};
        options.showCancel = false; // the lock window's Cancel stops the flow

        EmbeddedFrontend::relay(m_browser, this);
        connect(m_browser, &ui::AuthBrowserWidget::pageLoaded, this, [this] {
            if (pageShown)
                pageShown();
        });
        m_lock.setBrowser(m_browser);
        if (auto started = m_browser->start(options); !started)
            QTimer::singleShot(0, this, [this, error = started.error()] { Q_EMIT failed(error); });
    }

    void close() override
    {
        if (!m_browser)
            return;
        m_browser->disconnect(this);
        m_lock.setBrowser(nullptr);
        m_browser->hide();
        // Later: close() may run inside one of the browser's own signals.
        m_browser->deleteLater();
        m_browser = nullptr;
    }

    std::function<void()> pageShown;

private:
    ui::LockScreen &m_lock;
    QList<QSslCertificate> m_extraCas;
    QString m_issuer;
    QPointer<ui::AuthBrowserWidget> m_browser;
};

platform::DeviceKind deviceKind(policy::SensitiveDevice device)
{
    return device == policy::SensitiveDevice::Camera ? platform::DeviceKind::Camera : platform::DeviceKind::Microphone;
}

policy::SensitiveDevice sensitiveDevice(platform::DeviceKind kind)
{
    return kind == platform::DeviceKind::Camera ? policy::SensitiveDevice::Camera : policy::SensitiveDevice::Microphone;
}


} // namespace

TrayAgent::TrayAgent(TrayAgentOptions options, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
{
    if (m_options.stateDir.isEmpty())
        m_options.stateDir = m_options.environment.stateDir();
    if (m_options.auditLog.isEmpty())
        m_options.auditLog = m_options.environment.auditLog();
    if (m_options.screenshotFile.isEmpty())
        m_options.screenshotFile = m_options.environment.screenshotFile;
    // The session watcher reports the same account, later; the lock may need it before.
    m_user = m_options.user.isEmpty() ? platform::loginName() : m_options.user;
    m_sessionId = qEnvironmentVariable("XDG_SESSION_ID");
    m_stateFile = engineStateFile(m_options.stateDir);
    m_tick.setSingleShot(true);
    connect(&m_tick, &QTimer::timeout, this, [this] {
        if (m_engine)
            handle(m_engine->tick());
    });
    m_lock = new ui::LockScreen(this);
    m_desktop = new ui::DesktopIntegration(this);
}

TrayAgent::~TrayAgent()
{
    if (m_flow)
        m_flow->disconnect(this);
    m_frontend.reset();
}

QString TrayAgent::engineStateFile(const QString &stateDir)
{
    return QDir(stateDir).filePath(QStringLiteral("engine-state.json"));
}

Status TrayAgent::start()
{
    m_control = std::make_unique<control::ControlServer>();
    if (auto listening = m_control->listen(m_options.controlName.isEmpty() ? control::defaultServerName() : m_options.controlName);
        !listening)
        return listening;
    connectRequests();
    connectLockScreen();

    m_audit = std::make_unique<store::AuditLog>(m_options.auditLog, m_clock);
    audit(store::AuditEvent::AgentStarted, m_user, {}, {{QStringLiteral("version"), QStringLiteral(HOTDESK_VERSION)}});

    // The saved state first: a lock that was up when the agent died goes up again
    // before anything else happens.
    restoreState();
    const Status policy = startPolicyStore();
    connectDaemon();
    return policy;
}

void TrayAgent::connectDaemon()
{
    control::DaemonLink::Options options;
    options.sessionId = qEnvironmentVariable("XDG_SESSION_ID");
    // The heartbeat carries the idle time where this agent can read it.
    const auto idle = [this](std::function<void(std::optional<std::chrono::milliseconds>)> answer) {
        if (!m_platform.idle) {
            answer(std::nullopt);
            return;
        }
        m_platform.idle->queryIdleTime([answer = std::move(answer)](const Result<std::chrono::milliseconds> &time) {
            answer(time ? std::optional(*time) : std::nullopt);
        });
    };
    m_daemon = std::make_unique<control::DaemonLink>(options, idle);
    connect(m_daemon.get(), &control::DaemonLink::event, this, &TrayAgent::daemonEvent);
    connect(m_daemon.get(), &control::DaemonLink::attached, this, [this, session = options.sessionId] {
        m_daemonProblem.clear();
        report(tr("attached to hotdeskd for session %1").arg(session));
    });
    const auto problem = [this](const QString &why) {
        if (!m_daemonSignIn.isEmpty() || m_daemonStarting) {
            // hotdeskd ended the sign-in with the connection; the person starts another.
            endDaemonSignIn();
            m_lock->setStatus(tr("The sign-in service restarted. Sign in again."), false);
        }
        if (why == m_daemonProblem)
            return;
        m_daemonProblem = why;
        report(tr("not attached to hotdeskd: %1").arg(why));
    };
    connect(m_daemon.get(), &control::DaemonLink::unavailable, this, problem);
    connect(m_daemon.get(), &control::DaemonLink::requestFailed, this, [this](const QString &error, const QString &message) {
        report(tr("hotdeskd refused: %1 (%2)").arg(message, error));
        if (m_daemonStarting) {
            m_daemonStarting = false;
            m_lock->setStatus(tr("The sign-in could not start: %1").arg(message), false);
        } else if (error == QLatin1String("offline_refused") && m_lock->isLocked()) {
            m_lock->setStatus(tr("Offline unlock is not possible now. Sign in with your phone, or ask the help desk."), false);
        }
    });
    connect(
        m_daemon.get(), &control::DaemonLink::recoveryCodeRefused, this, [this](const QString &error, const QString &message) {
            report(tr("hotdeskd refused: %1 (%2)").arg(message, error));
            m_lock->setStatus(error == QLatin1String("wrong_code")
                    ? tr("That recovery code is not right, or it was used before. Check it and try again.")
                    : tr("The recovery code could not be checked: %1").arg(message),
                false);
        });
    connect(m_daemon.get(), &control::DaemonLink::refused, this,
        [problem](const QString &error, const QString &message) { problem(error + QStringLiteral(": ") + message); });
    m_daemon->start();
}

void TrayAgent::daemonEvent(const QJsonObject &event)
{
    const QString name = event.value(QLatin1String("event")).toString();
    if (name == QLatin1String("notify")) {
        m_desktop->notify(tr("Re-authentication soon"),
            tr("You will be asked to sign in again with your phone in %n minute(s).", nullptr,
                event.value(QLatin1String("minutes")).toInt()));
        return;
    }
    if (name == QLatin1String("unlocked")) {
        daemonUnlocked();
        return;
    }
    if (name.startsWith(QLatin1String("sign_in_"))) {
        daemonSignInEvent(name, event);
        return;
    }
    if (name == QLatin1String("offline_unlock_failed")) {
        const QString error = event.value(QLatin1String("error")).toString();
        report(tr("offline unlock refused by hotdeskd: %1").arg(error));
        m_lock->setStatus(error == QLatin1String("wrong_password")
                ? tr("That password was not accepted. The lock stays; try again, or sign in with your phone.")
                : tr("Offline unlock is not possible now. Sign in with your phone, or ask the help desk."),
            false);
        return;
    }
    if (name != QLatin1String("lock"))
        return;
    const QString reason = event.value(QLatin1String("reason")).toString();
    report(tr("hotdeskd requires the lock: %1").arg(reason));
    m_daemonLock = true;
    m_lock->holdForDaemon(true);
    // The agent's own sign-in could lift only its own lock: the daemon's sign-in takes over.
    if (m_flow)
        m_flow->cancel();
    if (m_lock->isLocked()) {
        // A lock of the agent's own is the daemon's now: its sign-in starts as any would.
        if (m_options.autoSignIn && event.value(QLatin1String("sign_in")).toBool())
            QTimer::singleShot(0, this, [this] {
                if (m_lock->isLocked() && !m_flow && !m_starting)
                    startDaemonSignIn(m_lockUser.isEmpty() ? m_user : m_lockUser);
            });
        return;
    }
    if (!event.value(QLatin1String("sign_in")).toBool()) {
        showLock(m_user, reason == QLatin1String("policy_unusable")
                ? tr("There is no usable Hotdesk policy on this PC. Ask your administrator.")
                : tr("Too many failed sign-ins. Another user can switch in."),
            false);
        return;
    }
    // The daemon's reason in the engine's words ("idle", "sensitive_app:NAME", ...).
    policy::RequireReauth require;
    require.user = m_user;
    require.trigger = policy::triggerFromName(reason.section(QLatin1Char(':'), 0, 0)).value_or(policy::Trigger::Manual);
    require.detail = reason.section(QLatin1Char(':'), 1);
    handle({require});
}

void TrayAgent::connectRequests()
{
    m_control->setStatusProvider([this] { return status(); });
    connect(m_control.get(), &control::ControlServer::reauthRequested, this, [this] {
        audit(store::AuditEvent::ReauthRequested, m_user, QStringLiteral("control_socket"));
        if (m_engine)
            handle(m_engine->reauthRequested());
    });
    connect(m_desktop, &ui::DesktopIntegration::reauthRequested, this, [this] {
        audit(store::AuditEvent::ReauthRequested, m_user, QStringLiteral("tray"));
        if (m_engine)
            handle(m_engine->reauthRequested());
    });
    connect(m_desktop, &ui::DesktopIntegration::openAuditLogRequested, this,
        [this] { QDesktopServices::openUrl(QUrl::fromLocalFile(m_options.auditLog)); });
    connect(m_desktop, &ui::DesktopIntegration::enrollRequested, this, &TrayAgent::enrollThisPc);
    connect(m_desktop, &ui::DesktopIntegration::aboutRequested, this, [] {
        QMessageBox::about(nullptr, tr("About Hotdesk"),
            tr("Hotdesk %1\nRe-authentication with your phone for shared PCs.").arg(QStringLiteral(HOTDESK_VERSION)));
    });
}

void TrayAgent::connectLockScreen()
{
    connect(m_lock, &ui::LockScreen::signInRequested, this, [this](const QString &user) { startSignIn(user); });
    connect(m_lock, &ui::LockScreen::offlineUnlockRequested, this, [this](const QString &user) {
        if (m_lock->isHeldForDaemon()) {
            // hotdeskd checks the account password through PAM, within the policy's offline grace.
            m_lock->askForCode(ui::CodeKind::AccountPassword, tr("Offline unlock: type the account password of %1:").arg(user));
            return;
        }
        if (m_engine && !m_flow && !m_starting)
            handle(m_engine->offlineUnlockRequested(user));
    });
    connect(m_lock, &ui::LockScreen::cancelRequested, this, [this] {
        if (!m_daemonSignIn.isEmpty())
            m_daemon->send({{QStringLiteral("command"), QStringLiteral("sign_in_cancel")}, {QStringLiteral("sign_in"), m_daemonSignIn}});
        if (m_flow)
            m_flow->cancel();
    });
    connect(m_lock, &ui::LockScreen::recoveryCodeEntered, this, &TrayAgent::checkRecoveryCode);
    connect(m_lock, &ui::LockScreen::accountPasswordEntered, this, [this](const QString &, QString password) {
        if (!m_daemon || !m_daemon->send({{QStringLiteral("command"), QStringLiteral("offline_unlock")},
                             {QStringLiteral("password"), password}})) {
            m_lock->setStatus(tr("The system service cannot be reached; offline unlock is not possible now."), false);
        } else {
            m_lock->setStatus(tr("Checking the password…"), true);
            report(tr("offline unlock asked of hotdeskd"));
        }
        password.fill(QLatin1Char('\0'));
    });
    connect(m_lock, &ui::LockScreen::oneTimeCodeEntered, this, [this](const QString &code) {
        if (!m_flow)
            return;
        m_lock->setStatus(tr("Checking the code…"), true);
        m_flow->provideOneTimeCode(code);
    });
    connect(m_lock, &ui::LockScreen::switchUserRequested, this, [this](const QString &user) {
        if (m_daemon && m_daemon->isAttached()) {
            // With hotdeskd the session stays its owner's: another person logs in at the login screen.
            switchToGreeter(user);
            return;
        }
        if (m_flow)
            m_flow->cancel();
        audit(store::AuditEvent::UserSwitch, user, QStringLiteral("lock_screen"), {{QStringLiteral("from"), m_lockUser}});
        report(tr("%1 switches in at the lock screen").arg(user));
        m_lockUser = user;
        const bool lockedOut = m_engine && m_engine->lockedOutUntil(user).has_value();
        m_lock->setInfo(lockInfo(user, tr("Sign in to use this PC."), !lockedOut));
        if (!lockedOut)
            startSignIn(user);
    });
    // X11: the lock holds the session only with both grabs; without them the OS lock takes over.
    connect(m_lock, &ui::LockScreen::grabbed, this, [this] { report(tr("lock screen holds the keyboard and the pointer")); });
    connect(m_lock, &ui::LockScreen::raisedAgain, this, [this](const QString &why) {
        audit(store::AuditEvent::LockRaised, m_lockUser, QStringLiteral("window_above"), {{QStringLiteral("message"), why}});
        report(tr("lock screen raised again (%1)").arg(why));
    });
    connect(m_lock, &ui::LockScreen::grabFailed, this, [this](const QString &why) {
        audit(store::AuditEvent::LockGrabFailed, m_lockUser, QStringLiteral("grab_failed"), {{QStringLiteral("message"), why}});
        report(tr("lock screen could not grab the keyboard/pointer: %1; asking the OS lock").arg(why));
        if (!m_platform.session)
            return;
        m_platform.session->lockSession([this, user = m_lockUser](Status locked) {
            if (locked)
                audit(store::AuditEvent::SessionLocked, user, QStringLiteral("grab_failed"));
            else
                audit(store::AuditEvent::SessionLockFailed, user, locked.error().codeName(),
                    {{QStringLiteral("message"), locked.error().message}});
            report(locked ? tr("the OS lock locked the session") : tr("the OS lock failed: %1").arg(locked.error().message));
        });
    });
}

void TrayAgent::switchToGreeter(const QString &who)
{
    if (!m_daemonSignIn.isEmpty())
        m_daemon->send({{QStringLiteral("command"), QStringLiteral("sign_in_cancel")}, {QStringLiteral("sign_in"), m_daemonSignIn}});
    audit(store::AuditEvent::UserSwitch, who, QStringLiteral("greeter"), {{QStringLiteral("from"), m_lockUser}});
    report(tr("%1 goes to the login screen; the session of %2 stays locked").arg(who, m_lockUser));
#ifdef Q_OS_LINUX
    auto *greeter = new platform::GreeterSwitch({}, this);
    greeter->switchToGreeter([this, greeter](const Result<QString> &manager) {
        greeter->deleteLater();
        if (manager) {
            report(tr("the login screen of %1 is open").arg(*manager));
            m_lock->setStatus(tr("The login screen is open for another person; this session stays locked."), false);
        } else {
            report(tr("no login screen: %1").arg(manager.error().message));
            m_lock->setStatus(tr("No login screen could be opened here. Ask the help desk, or sign in as %1.").arg(m_lockUser), false);
        }
    });
#endif
}

void TrayAgent::restoreState()
{
    QFile file(m_stateFile);
    if (file.exists()) {
        std::optional<policy::EngineState> state;
        if (file.open(QIODevice::ReadOnly) && file.size() <= 4 * 1024 * 1024) {
            auto object = jose::parseStrictJsonObject(file.readAll());
            if (object) {
                if (auto parsed = policy::EngineState::fromJson(*object))
                    state = *parsed;
            }
        }
        if (state) {
            m_saved = *state;
        } else {
            // Unreadable: whatever it said, the person at the keyboard proves who they are.
            m_stateDamaged = true;
            audit(store::AuditEvent::StateDamaged, m_user, QStringLiteral("malformed"), {{QStringLiteral("file"), m_stateFile}});
        }
    }
    if (m_saved.lock || m_stateDamaged)
        showLock(m_saved.lock ? m_saved.lock->user : m_user, tr("Hotdesk restarted while this PC was locked."), false);
}

Status TrayAgent::startPolicyStore()
{
    m_policyStore = std::make_unique<policy::PolicyStore>(m_options.policyFile);
    connect(m_policyStore.get(), &policy::PolicyStore::policyChanged, this, &TrayAgent::applyPolicy);
    connect(m_policyStore.get(), &policy::PolicyStore::policyRejected, this,
        [this](const QList<policy::PolicyProblem> &problems) {
            QStringList lines;
            for (const policy::PolicyProblem &p : problems)
                lines << QStringLiteral("%1:%2: %3").arg(p.line).arg(p.column).arg(p.message);
            audit(store::AuditEvent::PolicyRejected, m_user, QStringLiteral("policy_invalid"),
                {{QStringLiteral("file"), m_policyStore->file()},
                    {QStringLiteral("problems"), QJsonArray::fromStringList(lines)}});
            m_problem = m_policyStore->hasPolicy()
                ? tr("The new policy has errors; the previous one stays in force. Run 'hotdesk policy check %1'.")
                      .arg(m_policyStore->file())
                : m_policyStore->reason();
            report(tr("policy rejected: %1").arg(lines.join(QStringLiteral("; "))));
            updateTray();
        });
    if (!m_policyStore->start()) {
        // Fail closed: without a valid policy nobody can be let in.
        m_problem = m_policyStore->reason();
        audit(store::AuditEvent::PolicyMissing, m_user, QStringLiteral("policy_invalid"), {{QStringLiteral("why"), m_problem}});
        report(tr("no valid policy: %1").arg(m_problem));
        showLock(m_user, tr("There is no valid Hotdesk policy on this PC (%1). Ask your administrator.").arg(m_problem), false);
        updateTray();
        return {};
    }
    if (!m_engine) // unless start() already announced it through policyChanged
        applyPolicy(m_policyStore->policy());
    return {};
}

void TrayAgent::applyPolicy(const policy::Policy &policy)
{
    const bool first = !m_engine;
    const bool wasLockedWithoutPolicy = first && m_lock->isLocked() && !m_saved.lock && !m_stateDamaged;
    m_policy = policy;
    m_problem.clear();
    policy::EngineState state = m_engine ? m_engine->state() : m_saved;
    m_engine = std::make_unique<policy::DecisionEngine>(policy::reauthRules(policy), m_clock, policy::EngineEnvironment {}, state);
    if (!first) {
        audit(store::AuditEvent::PolicyApplied, m_user, {}, {{QStringLiteral("file"), policy.sourceFile}});
        report(tr("policy reloaded from %1").arg(policy.sourceFile));
    }
    // The servers may have changed: the next flow reads them again.
    if (m_flow)
        m_contextStale = true;
    else
        m_context.reset();

    if (m_platformConnected) {
        configureWatchers(policy.triggers);
        afterEngine();
    } else {
        connectPlatform();
    }
    // The lock that went up without a policy (or with a damaged state) becomes
    // a re-authentication once the session is known: only a validated ID token lifts it.
    m_relockAtSessionStart = wasLockedWithoutPolicy || (first && m_stateDamaged);
    updateTray();
}

void TrayAgent::connectPlatform()
{
    m_platform = platform::createPlatform();
#if defined(Q_OS_LINUX)
    // The desktop's D-Bus services, then the X server: idle time on plain X11 too.
    m_platform.idle = std::make_unique<platform::IdleMonitor>(ui::desktopIdleSource());
#endif
    m_platformConnected = true;
    platform::SessionWatcher *session = m_platform.session.get();
    connect(session, &platform::SessionWatcher::sessionStarted, this, [this](const QString &user) {
        if (m_options.user.isEmpty() && !user.isEmpty())
            m_user = user;
        report(tr("session of %1 started").arg(m_user));
        handle(m_engine->sessionStarted(m_user, m_sessionId));
        if (m_relockAtSessionStart && !m_engine->isLocked())
            handle(m_engine->reauthRequested());
        m_relockAtSessionStart = false;
    });
    connect(session, &platform::SessionWatcher::unlocked, this, [this] {
        m_lock->resumeGrabs();
        handle(m_engine->screenUnlocked(m_user));
    });
    connect(session, &platform::SessionWatcher::watching, this, [this](const QString &backend) {
        report(tr("screen lock events from: %1").arg(backend));
    });
    connect(m_platform.idle.get(), &platform::IdleMonitor::idleReached, this, [this](std::chrono::milliseconds idle) {
        handle(m_engine->idleTimeIs(std::chrono::duration_cast<std::chrono::seconds>(idle)));
    });
    connect(m_platform.idle.get(), &platform::IdleMonitor::activityResumed, this, [this] { handle(m_engine->activity()); });
    connect(m_platform.idle.get(), &platform::IdleMonitor::unavailable, this, [this](const QString &message) {
        audit(store::AuditEvent::PlatformProblem, m_user, QStringLiteral("idle_unavailable"),
            {{QStringLiteral("message"), message}});
        report(tr("idle time unavailable: %1").arg(message));
    });
    connect(m_platform.processes.get(), &platform::ProcessWatcher::processStarted, this,
        [this](const QString &name, qint64) { handle(m_engine->processStarted(name)); });
    connect(m_platform.paths.get(), &platform::PathWatcher::touched, this,
        [this](const QString &path, platform::TouchKind) { handle(m_engine->pathTouched(path)); });
    connect(m_platform.devices.get(), &platform::DeviceWatcher::deviceInUse, this,
        [this](platform::DeviceKind kind, qint64, const QString &) {
            handle(m_engine->deviceInUse(sensitiveDevice(kind)));
        });
    const auto problem = [this](const QString &message) {
        audit(store::AuditEvent::PlatformProblem, m_user, QStringLiteral("watcher"), {{QStringLiteral("message"), message}});
        report(message);
    };
    connect(m_platform.processes.get(), &platform::ProcessWatcher::problem, this, problem);
    connect(m_platform.paths.get(), &platform::PathWatcher::problem, this, problem);
    connect(m_platform.devices.get(), &platform::DeviceWatcher::problem, this, problem);

    configureWatchers(m_policy->triggers);
    session->start();
}

void TrayAgent::configureWatchers(const policy::Triggers &triggers)
{
    m_platform.idle->setThreshold(triggers.idle ? std::chrono::milliseconds(*triggers.idle) : 0ms);
    m_platform.processes->setNames(triggers.sensitiveApps);
    m_platform.paths->setPaths(triggers.sensitivePaths);
    QList<platform::DeviceKind> kinds;
    for (policy::SensitiveDevice d : triggers.sensitiveDevices)
        kinds << deviceKind(d);
    m_platform.devices->setKinds(kinds);
}

void TrayAgent::handle(const QList<policy::Decision> &decisions)
{
    for (const policy::Decision &decision : decisions)
        handleOne(decision);
    afterEngine();
}

void TrayAgent::handleOne(const policy::Decision &decision)
{
    // Every decision is audited as the engine describes it (user and reason have columns of their own).
    QJsonObject extra = policy::decisionToJson(decision);
    extra.remove(QStringLiteral("user"));
    extra.remove(QStringLiteral("decision"));
    extra.remove(QStringLiteral("reason"));

    if (const auto *require = std::get_if<policy::RequireReauth>(&decision)) {
        if (m_lock->isLocked() && m_signInTried && sameUser(m_lockUser, require->user)) {
            // After a failed attempt the engine asks again (maybe with other
            // methods): the lock stays and the person chooses when to retry,
            // so a denying phone cannot burn the attempts by itself.
            m_lock->setInfo(lockInfo(require->user, m_lockInfoReason, true));
            return;
        }
        audit(store::AuditEvent::ReauthRequired, require->user, require->reason(), extra);
        report(tr("trigger %1: %2 must re-authenticate").arg(require->reason(), require->user));
        showLock(require->user, reasonForPeople(require->trigger, require->detail), true);
        if (m_options.autoSignIn)
            QTimer::singleShot(0, this, [this, who = require->user] {
                if (m_lock->isLocked() && m_lockUser == who && !m_signInTried)
                    startSignIn(who);
            });
    } else if (const auto *notice = std::get_if<policy::Notify>(&decision)) {
        audit(store::AuditEvent::ReauthSoon, notice->user, policy::triggerName(notice->trigger), extra);
        m_soon = true;
        m_desktop->notify(tr("Re-authentication soon"),
            tr("You will be asked to sign in again with your phone in %n minute(s).", nullptr, notice->minutes));
        report(tr("%1 will be asked to re-authenticate in %2 minute(s)").arg(notice->user).arg(notice->minutes));
    } else if (const auto *lock = std::get_if<policy::Lock>(&decision)) {
        audit(store::AuditEvent::Locked, lock->user, lock->reason, extra);
        const auto until = m_engine->lockedOutUntil(lock->user);
        const QString when = until ? QLocale().toString(QDateTime::fromSecsSinceEpoch(until->time_since_epoch().count()).time(),
                                         QLocale::ShortFormat)
                                   : QString();
        report(tr("%1 is locked out; the PC stays locked").arg(lock->user));
        showLock(lock->user,
            tr("Too many failed sign-ins. %1 cannot sign in again before %2; another user can switch in.").arg(lock->user, when),
            false);
    } else if (const auto *out = std::get_if<policy::LockOutUser>(&decision)) {
        audit(store::AuditEvent::UserLockedOut, out->user, QStringLiteral("too_many_failures"), extra);
        report(tr("%1 is locked out after %2 failed attempts").arg(out->user).arg(out->attempts));
        const QString when = QLocale().toString(
            QDateTime::fromSecsSinceEpoch(out->until.time_since_epoch().count()).time(), QLocale::ShortFormat);
        if (m_lock->isLocked() && sameUser(m_lockUser, out->user))
            m_lock->setInfo(lockInfo(out->user,
                tr("Too many failed sign-ins. %1 cannot sign in again before %2; another user can switch in.").arg(out->user, when),
                false));
    } else if (const auto *admin = std::get_if<policy::NotifyAdmin>(&decision)) {
        audit(store::AuditEvent::AdminNotify, admin->user, admin->event, extra);
        notifyAdmin(*admin);
    } else if (const auto *credentials = std::get_if<policy::RequireCredentials>(&decision)) {
        // The session's own lock asks for the account password: logind (or the
        // screensaver) locks it, and the desktop's locker shows its prompt.
        audit(store::AuditEvent::CredentialsRequired, credentials->user, QStringLiteral("failure_policy"), extra);
        report(tr("%1 must also give the account password").arg(credentials->user));
        if (m_platform.session) {
            m_lock->suspendGrabs(); // the desktop's locker needs the keyboard and the pointer
            m_platform.session->lockSession([this, user = credentials->user](Status locked) {
                if (locked)
                    audit(store::AuditEvent::SessionLocked, user, QStringLiteral("require_credentials"));
                else
                    audit(store::AuditEvent::SessionLockFailed, user, locked.error().codeName(),
                        {{QStringLiteral("message"), locked.error().message}});
            });
        }
    } else if (const auto *granted = std::get_if<policy::OfflineGranted>(&decision)) {
        audit(store::AuditEvent::OfflineUnlock, granted->user, granted->reason, extra);
        if (m_lock->unlockOffline(*granted))
            report(tr("unlocked offline for %1 (%n offline unlock(s) left)", nullptr, granted->usesLeft).arg(granted->user));
    } else if (const auto *refused = std::get_if<policy::OfflineRefused>(&decision)) {
        audit(store::AuditEvent::OfflineRefused, refused->user, refused->why, extra);
        QString text;
        if (refused->why == u"no_recent_2fa")
            text = tr("Offline unlock is not possible: %1 has not signed in with the phone on this PC recently enough.")
                       .arg(refused->user);
        else if (refused->why == u"grace_used_up")
            text = tr("Offline unlock is not possible: the offline unlocks allowed until the next sign-in with the phone are used up.");
        else if (refused->why == u"online")
            text = tr("The sign-in service can be reached again: select Sign in.");
        else
            text = tr("Offline unlock is not possible (%1).").arg(refused->why);
        report(text);
        m_lock->setStatus(text, false);
    }
}

void TrayAgent::afterEngine()
{
    saveState();
    scheduleTick();
    updateTray();
}

void TrayAgent::saveState()
{
    if (!m_engine || m_engine->state() == m_saved)
        return;
    QDir().mkpath(m_options.stateDir);
    QSaveFile file(m_stateFile);
    const QByteArray text = QJsonDocument(m_engine->state().toJson()).toJson(QJsonDocument::Compact);
    // Owner-only before the rename, so the file is never readable by others.
    if (!file.open(QIODevice::WriteOnly) || !file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner)
        || file.write(text) != text.size() || !file.commit()) {
        // Not fatal for this session, but a restart would forget a lock: say so loudly.
        audit(store::AuditEvent::StateNotSaved, m_user, QStringLiteral("io"),
            {{QStringLiteral("file"), m_stateFile}, {QStringLiteral("why"), file.errorString()}});
        return;
    }
    m_saved = m_engine->state();
}

void TrayAgent::scheduleTick()
{
    if (!m_engine)
        return;
    const auto next = m_engine->nextDeadline();
    if (!next) {
        m_tick.stop();
        return;
    }
    const qint64 delaySeconds = next->time_since_epoch().count() - m_clock.secondsSinceEpoch();
    // At most a day ahead (the clock may jump; the next event re-plans anyway),
    // and a second after the deadline so that it has surely passed.
    const qint64 ms = std::clamp<qint64>(delaySeconds * 1000 + 1000, 0, 24LL * 3600 * 1000);
    m_tick.start(std::chrono::milliseconds(ms));
}

ui::LockInfo TrayAgent::lockInfo(const QString &user, const QString &reason, bool signInAllowed) const
{
    ui::LockInfo info;
    info.user = user;
    info.reason = reason;
    info.attemptsLeft = m_engine ? attemptsLeft(user) : -1;
    info.helpText = m_policy ? m_policy->failure.helpText : QString();
    info.signInAllowed = signInAllowed && m_engine;
    info.offerOffline = m_offline && m_engine && m_engine->rules().failure.offlineGrace.has_value();
    info.offerRecoveryCode = m_engine && m_policy && m_policy->failure.recoveryCodes.enabled;
    return info;
}

void TrayAgent::showLock(const QString &user, const QString &reason, bool signInAllowed)
{
    const bool wasLocked = m_lock->isLocked();
    if (!wasLocked || !sameUser(m_lockUser, user))
        m_signInTried = false;
    m_lockUser = user;
    m_lockInfoReason = reason;
    m_screenshotTaken = false;
    m_lock->lock(lockInfo(user, reason, signInAllowed));
    if (!wasLocked) {
        report(tr("screens locked (%n screen(s))", nullptr, int(m_lock->windows().size())));
        // Said once the window system shows it (what `./dev bench agent` times as agent.lock_ms).
        ui::LockWindow *primary = m_lock->primaryWindow();
        if (QWindow *window = primary ? primary->windowHandle() : nullptr) {
            if (window->isExposed()) {
                report(tr("lock screen visible"));
            } else {
                m_exposeWatch = window;
                window->installEventFilter(this);
            }
        }
    }
    updateTray();
}

int TrayAgent::attemptsLeft(const QString &user) const
{
    const auto &users = m_engine->state().users;
    const auto it = users.constFind(user);
    const int failures = it == users.cend() ? 0 : int(it->failures.size());
    return std::max(0, m_engine->rules().failure.maxAttempts - failures);
}

QString TrayAgent::reasonForPeople(policy::Trigger trigger, const QString &detail) const
{
    using policy::Trigger;
    switch (trigger) {
    case Trigger::FirstLogon:
        return tr("This is the first sign-in on this PC in a while: confirm it is you with your phone.");
    case Trigger::MaxSession:
        return tr("Your session has reached the time limit your administrator set.");
    case Trigger::Idle:
        return tr("This PC was left without input for a while.");
    case Trigger::OnUnlock:
        return tr("The screen was unlocked: confirm it is you with your phone.");
    case Trigger::SensitiveApp:
        return tr("%1 needs a fresh sign-in.").arg(detail);
    case Trigger::SensitivePath:
        return tr("These files need a fresh sign-in.");
    case Trigger::SensitiveDevice:
        return detail == u"microphone" ? tr("The microphone is in use: confirm it is you.")
                                        : tr("The camera is in use: confirm it is you.");
    case Trigger::Schedule:
        return tr("A scheduled re-authentication is due.");
    case Trigger::Lockout:
        return tr("Too many failed sign-ins.");
    case Trigger::Manual:
        return tr("A re-authentication was requested.");
    }
    return {};
}

void TrayAgent::withContext(std::function<void(AgentContext *, const Error *)> work)
{
    if (m_context && m_context->das()) {
        work(m_context.get(), nullptr);
        return;
    }
    if (!m_context) {
        auto created = AgentContext::create(m_policyStore->file(), m_options.stateDir, m_options.environment);
        if (!created) {
            work(nullptr, &created.error());
            return;
        }
        m_context = std::move(*created);
    }
    QPointer<AgentContext> context = m_context.get();
    m_context->loadCredential([this, context, work = std::move(work)](Status loaded) {
        if (!context)
            return;
        if (!loaded) {
            work(nullptr, &loaded.error());
            return;
        }
        work(context.data(), nullptr);
    });
}

void TrayAgent::startDaemonSignIn(const QString &user)
{
    if (m_daemonStarting || !m_daemonSignIn.isEmpty())
        return;
    m_flowUser = user;
    m_signInTried = true;
    m_daemonStarting = true;
    m_lock->setStatus(tr("Connecting to the sign-in service…"), true);
    report(tr("signing in %1 through hotdeskd").arg(user));
    // hotdeskd signs in its session's owner; the agent only shows the page and relays the answer.
    m_daemon->send({{QStringLiteral("command"), QStringLiteral("sign_in")}});
}

void TrayAgent::daemonSignInEvent(const QString &name, const QJsonObject &event)
{
    const QString id = event.value(QLatin1String("sign_in")).toString();
    const QString message = event.value(QLatin1String("message")).toString();
    if (name == QLatin1String("sign_in_url") && m_daemonStarting && m_policy) {
        m_daemonStarting = false;
        m_daemonSignIn = id;
        QList<QSslCertificate> extraCas;
        if (auto trust = net::TlsTrust::fromBundle(m_policy->servers.caBundle); trust && !m_policy->servers.caBundle.isEmpty())
            extraCas = trust->extraCertificates();
        auto *frontend = new LockScreenFrontend(*m_lock, extraCas, m_policy->servers.idpIssuer, nullptr);
        frontend->pageShown = [this] { QTimer::singleShot(500, this, &TrayAgent::saveScreenshot); };
        m_frontend.reset(frontend);
        connect(frontend, &flow::AuthorizationFrontend::redirected, this, [this, id](const QUrl &redirect) {
            m_lock->setStatus(tr("Checking the sign-in…"), true);
            m_daemon->send({{QStringLiteral("command"), QStringLiteral("sign_in_response")}, {QStringLiteral("sign_in"), id},
                {QStringLiteral("url"), redirect.toString(QUrl::FullyEncoded)}});
        });
        connect(frontend, &flow::AuthorizationFrontend::failed, this, [this, id](const Error &) {
            m_daemon->send({{QStringLiteral("command"), QStringLiteral("sign_in_cancel")}, {QStringLiteral("sign_in"), id}});
        });
        frontend->open(QUrl(event.value(QLatin1String("url")).toString()));
    } else if (name == QLatin1String("sign_in_progress") && (id == m_daemonSignIn || m_daemonStarting)) {
        m_lock->setStatus(message, true);
        report(message);
    } else if (name == QLatin1String("sign_in_failed")) {
        endDaemonSignIn();
        report(tr("sign-in of %1 failed: %2 (%3)").arg(m_flowUser, message, event.value(QLatin1String("error")).toString()));
        m_lock->setInfo(lockInfo(m_lockUser, m_lockInfoReason, event.value(QLatin1String("error")).toString() != QLatin1String("locked_out")));
        m_lock->setStatus(tr("The sign-in did not succeed. Try again, or ask the help desk."), false);
    }
}

void TrayAgent::daemonUnlocked()
{
    endDaemonSignIn();
    m_daemonLock = false;
    const QString user = m_lockUser.isEmpty() ? m_user : m_lockUser;
    if (m_lock->isLocked() && !m_lock->unlockValidatedByDaemon(user))
        return;
    audit(store::AuditEvent::ReauthSucceeded, user, QStringLiteral("hotdeskd_validated"));
    report(tr("unlocked for %1").arg(user));
    m_soon = false;
    if (m_engine)
        handle(m_engine->authSucceeded(user));
}

void TrayAgent::endDaemonSignIn()
{
    m_daemonStarting = false;
    m_daemonSignIn.clear();
    if (m_frontend) {
        m_frontend->close();
        m_frontend.release()->deleteLater();
    }
}

void TrayAgent::startSignIn(const QString &user)
{
    if (m_flow || m_checkingCode || !m_engine || !m_lock->isLocked())
        return;
    if (m_engine->lockedOutUntil(user)) {
        m_lock->setStatus(tr("Sign-in is blocked for %1 for now. Another user can switch in.").arg(user), false);
        return;
    }
    if (m_starting)
        return; // the device credential is still loading for an earlier request
    if (m_daemon && m_daemon->isAttached()) {
        // hotdeskd decides: a lock of the agent's own becomes the daemon's ("reauth"),
        // and its lock event starts the daemon's sign-in.
        if (m_daemonLock)
            startDaemonSignIn(user);
        else
            m_daemon->send({{QStringLiteral("command"), QStringLiteral("reauth")}});
        return;
    }
    m_flowUser = user;
    m_starting = true;
    m_signInTried = true;
    m_lock->setStatus(tr("Connecting to the sign-in service…"), true);
    withContext([this, user](AgentContext *context, const Error *error) {
        m_starting = false;
        if (!context) {
            flowFailed(user, *error);
            return;
        }
        runFlow(*context, user);
    });
}

void TrayAgent::runFlow(AgentContext &context, const QString &user)
{
    if (m_flow)
        return;
    auto *frontend = new LockScreenFrontend(*m_lock, context.http().trust().extraCertificates(), context.servers().idpIssuer, nullptr);
    frontend->pageShown = [this] { QTimer::singleShot(500, this, &TrayAgent::saveScreenshot); };
    m_frontend.reset(frontend);
    auto *reauth = new flow::ReauthFlow(context.servers(), context.http(), *context.das(), context.provider(), context.state(),
        *frontend, localFingerprint, context.clock(), context.random(), this);
    m_flow = reauth;
    connect(reauth, &flow::ReauthFlow::progress, this, [this](flow::Step, const QString &message) {
        m_lock->setStatus(message, true);
        report(message);
    });
    connect(reauth, &flow::ReauthFlow::approvalRequested, this, [this](const QString &id) {
        const QString text = tr("This PC must be approved by an administrator (request %1). Waiting…").arg(id);
        m_lock->setStatus(text, true);
        report(text);
    });
    connect(reauth, &flow::ReauthFlow::oneTimeCodeNeeded, this, [this](int digits, qint64 expiresAt, int attemptsLeft) {
        const QString until = QLocale().toString(QDateTime::fromSecsSinceEpoch(expiresAt).time(), QLocale::ShortFormat);
        m_lock->askForCode(ui::CodeKind::OneTimeCode,
            tr("Type the %1-character code that was sent to you (valid until %2, %n attempt(s) left):", nullptr, attemptsLeft)
                .arg(digits)
                .arg(until));
        // Busy, so that Cancel stays available while the person looks for the code.
        m_lock->setStatus(tr("This PC is not recognized. A one-time code was sent to you by e-mail; type it below."), true);
        report(tr("waiting for the one-time code sent to %1").arg(m_flowUser));
    });
    connect(reauth, &flow::ReauthFlow::succeeded, this, &TrayAgent::flowSucceeded);
    connect(reauth, &flow::ReauthFlow::failed, this, [this, user](const Error &error) { flowFailed(user, error); });
    flow::FlowOptions options;
    options.user = user;
    options.acrValues = m_engine ? m_engine->acrFor(user) : QStringList();
    if (!options.acrValues.isEmpty())
        report(tr("asking the identity provider for: %1").arg(options.acrValues.join(u' ')));
    options.unrecognizedDevice = m_policy ? m_policy->device.unrecognized : policy::UnrecognizedDevice::Deny;
    report(tr("signing in %1").arg(user));
    reauth->start(options);
}

void TrayAgent::flowSucceeded(const flow::FlowResult &result)
{
    endFlow();
    report(tr("%1 signed in; the ID token is valid").arg(result.user));
    if (!m_lock->unlock(result)) {
        // A valid token for someone other than the person the lock asks for: it stays.
        audit(store::AuditEvent::ReauthFailed, result.user, QStringLiteral("user_mismatch"));
        m_lock->setStatus(tr("That sign-in was for %1, not %2. Try again.").arg(result.user, m_lockUser), false);
        return;
    }
    audit(store::AuditEvent::ReauthSucceeded, result.user, QStringLiteral("id_token_valid"),
        {{QStringLiteral("sub"), result.sharedId}, {QStringLiteral("iss"), result.idToken.issuer}});
    report(tr("unlocked for %1").arg(result.user));
    m_offline = false;
    m_soon = false;
    m_engine->networkState(policy::Network::Online);
    handle(m_engine->authSucceeded(m_lockUser.isEmpty() ? result.user : m_lockUser));
}

void TrayAgent::flowFailed(const QString &user, const Error &error)
{
    endFlow();
    audit(store::AuditEvent::ReauthFailed, user, error.codeName(), {{QStringLiteral("message"), error.message}});
    report(tr("sign-in of %1 failed: %2 (%3)").arg(user, error.message, error.codeName()));
    // Unreachable servers make this PC "offline" for the failure policy's grace.
    m_offline = error.code == ErrorCode::Unreachable || error.code == ErrorCode::Timeout;
    if (m_engine) {
        m_engine->networkState(m_offline ? policy::Network::Offline : policy::Network::Online);
        handle(m_engine->authFailed(user, error.code));
    }
    if (!m_lock->isLocked())
        return;
    // The person reads a translated sentence for the code; the message is in the report and the audit log.
    const ui::SignInFailureText text = ui::LockScreen::failureText(error);
    m_lockInfoReason = text.reason;
    m_lock->setInfo(lockInfo(m_lockUser, text.reason, m_engine && !m_engine->lockedOutUntil(m_lockUser)));
    m_lock->setStatus(text.status, false);
}

void TrayAgent::endFlow()
{
    m_lock->hideCode(ui::CodeKind::OneTimeCode);
    if (m_flow) {
        m_flow->disconnect(this);
        m_flow->deleteLater();
        m_flow.clear();
    }
    if (m_frontend) {
        m_frontend->close();
        m_frontend.release()->deleteLater();
    }
    if (m_contextStale) {
        m_contextStale = false;
        m_context.reset();
    }
}

TrayEnrollment &TrayAgent::enrollment()
{
    if (!m_enrollment) {
        m_enrollment = new TrayEnrollment(m_policyStore->file(), m_options.stateDir, m_options.environment, this);
        connect(m_enrollment, &TrayEnrollment::progress, this, &TrayAgent::report);
        connect(m_enrollment, &TrayEnrollment::enrolled, this,
            [this](const QString &admin, const QString &deviceId, const QString &dasUrl) {
                audit(store::AuditEvent::PcEnrolled, admin, QStringLiteral("administrator_sign_in"),
                    {{QStringLiteral("enrolled_device_id"), deviceId}, {QStringLiteral("das"), dasUrl}});
                report(tr("this PC is enrolled as %1 with %2").arg(deviceId, dasUrl));
                m_desktop->notify(tr("This PC is enrolled"),
                    tr("%1 enrolled this PC with %2. Sign-ins now work on it.").arg(admin, dasUrl));
                // The next sign-in reads the new device key; one running now keeps the old context to its end.
                if (m_flow || m_starting)
                    m_contextStale = true;
                else
                    m_context.reset();
            });
        connect(m_enrollment, &TrayEnrollment::failed, this, [this](const QString &admin, const Error &error) {
            audit(store::AuditEvent::EnrollFailed, admin, error.codeName(), {{QStringLiteral("message"), error.message}});
            report(tr("enrolling this PC failed: %1 (%2)").arg(error.message, error.codeName()));
            if (error.code == ErrorCode::Cancelled)
                return;
            auto *box = new QMessageBox(QMessageBox::Warning, tr("Enroll this PC"),
                tr("This PC was not enrolled.\n\n%1\n\nAsk your Hotdesk administrator if this goes on.").arg(error.message));
            box->setObjectName(QStringLiteral("enroll-failed-message"));
            box->setAttribute(Qt::WA_DeleteOnClose);
            box->open();
        });
    }
    return *m_enrollment;
}

void TrayAgent::enrollThisPc()
{
    // Nobody enrolls from behind the lock screen: it covers the menu anyway.
    if (m_lock->isLocked())
        return;
    enrollment().start();
}

void TrayAgent::checkRecoveryCode(const QString &user, const QString &code)
{
    if (!m_engine || !m_lock->isLocked() || m_flow || m_starting || m_checkingCode)
        return;
    if (!m_policy || !m_policy->failure.recoveryCodes.enabled)
        return;
    if (m_lock->isHeldForDaemon()) {
        // hotdeskd keeps the codes' hashes: it checks the code and lifts its lock ("unlocked"), or refuses.
        const bool sent = m_daemon && m_daemon->sendRecoveryCode(code);
        m_lock->setStatus(
            sent ? tr("Checking the recovery code…") : tr("The system service cannot be reached. Try again."), sent);
        return;
    }
    if (m_engine->lockedOutUntil(user)) {
        m_lock->setStatus(tr("Sign-in is blocked for %1 for now. Another user can switch in.").arg(user), false);
        return;
    }
    if (!m_recoveryCodes) {
        m_secrets = std::make_unique<store::KeychainSecretStore>();
        m_recoveryCodes = new store::RecoveryCodeStore(*m_secrets, m_random, this);
    }
    m_checkingCode = true;
    // The person chose how to get in: a wrong code must not start a push on its own.
    m_signInTried = true;
    m_lock->setStatus(tr("Checking the recovery code…"), true);
    report(tr("checking a recovery code for %1").arg(user));
    m_recoveryCodes->consume(user, code, [this, user](Result<store::RecoveryCodeAccepted> accepted) {
        m_checkingCode = false;
        if (!accepted) {
            const Error &error = accepted.error();
            audit(store::AuditEvent::RecoveryCodeRefused, user, error.codeName(), {{QStringLiteral("message"), error.message}});
            QString text;
            if (error.code == ErrorCode::AccessDenied) {
                text = tr("That recovery code is not right, or it was used before. Check it and try again.");
                // A wrong code is a failed attempt: guessing codes runs into max_attempts.
                handle(m_engine->authFailed(user, ErrorCode::AccessDenied));
            } else if (error.code == ErrorCode::NotEnrolled) {
                text = tr("%1 has no recovery codes on this PC. Sign in with the phone, or ask the help desk.").arg(user);
            } else {
                text = tr("The recovery code could not be checked: %1").arg(error.message);
            }
            report(text);
            if (m_lock->isLocked()) {
                m_lock->setInfo(lockInfo(m_lockUser, m_lockInfoReason, !m_engine->lockedOutUntil(m_lockUser)));
                m_lock->setStatus(text, false);
            }
            return;
        }
        if (!m_lock->unlockWithRecoveryCode(*accepted)) {
            audit(store::AuditEvent::RecoveryCodeRefused, user, QStringLiteral("user_mismatch"));
            m_lock->setStatus(tr("That recovery code is not for %1.").arg(m_lockUser), false);
            return;
        }
        audit(store::AuditEvent::ReauthSucceeded, user, QStringLiteral("recovery_code"),
            {{QStringLiteral("codes_left"), accepted->remaining}});
        report(tr("unlocked for %1 with a recovery code (%n code(s) left)", nullptr, accepted->remaining).arg(user));
        m_soon = false;
        handle(m_engine->authSucceeded(user, policy::AuthMethod::RecoveryCode));
    });
}

void TrayAgent::notifyAdmin(const policy::NotifyAdmin &event)
{
    const QJsonObject body {{QStringLiteral("type"), event.event}, {QStringLiteral("user"), event.user},
        {QStringLiteral("detail"), event.detail}};
    withContext([this, body, event](AgentContext *context, const Error *error) {
        if (!context) {
            audit(store::AuditEvent::AdminNotifyFailed, event.user, error->codeName(), {{QStringLiteral("event"), event.event}});
            return;
        }
        context->das()->postEvent(body, [this, event](Status sent) {
            if (sent) {
                audit(store::AuditEvent::AdminNotified, event.user, event.event);
                report(tr("the administrator was told: %1").arg(event.event));
            } else {
                audit(store::AuditEvent::AdminNotifyFailed, event.user, sent.error().codeName(),
                    {{QStringLiteral("event"), event.event}});
            }
        });
    });
}

void TrayAgent::saveScreenshot()
{
    if (m_options.screenshotFile.isEmpty() || m_screenshotTaken || !m_lock->isLocked())
        return;
    if (ui::LockWindow *primary = m_lock->primaryWindow()) {
        const QImage image = primary->grab().toImage();
        if (!image.isNull() && image.save(m_options.screenshotFile)) {
            m_screenshotTaken = true;
            report(tr("screenshot of the lock screen: %1").arg(m_options.screenshotFile));
        }
    }
}

bool TrayAgent::eventFilter(QObject *watched, QEvent *event)
{
    if (event->type() == QEvent::Expose && watched == m_exposeWatch && m_exposeWatch->isExposed()) {
        m_exposeWatch->removeEventFilter(this);
        m_exposeWatch.clear();
        // After the event is handled, so the first frame is on its way.
        QTimer::singleShot(0, this, [this] { report(tr("lock screen visible")); });
    }
    return QObject::eventFilter(watched, event);
}

control::AgentStatus TrayAgent::status() const
{
    control::AgentStatus s;
    if (m_lock->isLocked()) {
        s.state = control::AgentState::Locked;
        s.user = m_lockUser;
        s.detail = m_engine && m_engine->lockedOutUntil(m_lockUser) ? QStringLiteral("locked_out")
            : m_flow                                                  ? QStringLiteral("signing_in")
            : !m_engine                                               ? QStringLiteral("no_policy")
                                                                      : QStringLiteral("waiting");
        if (m_engine && m_engine->state().lock)
            s.detail += u' ' + policy::reasonString(m_engine->state().lock->trigger, m_engine->state().lock->detail);
        return s;
    }
    s.user = m_user;
    if (!m_engine) {
        s.state = control::AgentState::Error;
        s.detail = m_problem;
    } else if (m_offline) {
        s.state = control::AgentState::Offline;
    } else if (!m_problem.isEmpty()) {
        s.state = control::AgentState::Error;
        s.detail = m_problem;
    } else if (m_soon) {
        s.state = control::AgentState::ReauthSoon;
    } else {
        s.state = control::AgentState::Ok;
    }
    return s;
}

void TrayAgent::updateTray()
{
    const control::AgentStatus s = status();
    m_desktop->setState(s.state, s.user, s.detail);
}

void TrayAgent::audit(store::AuditEvent event, const QString &user, const QString &reason, const QJsonObject &extra)
{
    if (!m_audit)
        return;
    QString deviceId;
    if (m_context && m_context->das())
        deviceId = m_context->das()->credential().deviceId;
    if (auto written = m_audit->append({store::auditEventName(event), user, reason, deviceId, extra}); !written)
        std::fprintf(stderr, "hotdesk: the audit log cannot be written: %s\n", qPrintable(written.error().message));
}

void TrayAgent::report(const QString &line)
{
    printErr(QStringLiteral("hotdesk: %1").arg(line));
    Q_EMIT stepReported(line);
}

int runTrayAgent(const QStringList &args, const AgentEnvironment &environment)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("The Hotdesk tray agent: enforces the re-authentication policy."));
    CommonOptions common;
    common.addTo(parser);
    const QCommandLineOption user(QStringLiteral("user"),
        QStringLiteral("Who sits at this PC (default: the account of the desktop session). Honoured for root and in "
                       "test builds only."),
        QStringLiteral("NAME"));
    const QCommandLineOption manual(QStringLiteral("no-auto-sign-in"),
        QStringLiteral("Wait for Sign in on the lock screen instead of starting the sign-in at once."));
    parser.addOptions({user, manual});
    parser.addHelpOption();
    if (!parser.parse(QStringList {QStringLiteral("hotdesk")} + args))
        return usageError(parser.errorText(), {});
    if (parser.isSet(QStringLiteral("help"))) {
        printOut(parser.helpText().toUtf8());
        return ExitOk;
    }
    if (!parser.positionalArguments().isEmpty())
        return usageError(QStringLiteral("unknown command '%1'").arg(parser.positionalArguments().constFirst()), {});
    if (!qobject_cast<QApplication *>(QCoreApplication::instance())) {
        printErr(QStringLiteral("hotdesk: the tray agent needs a desktop session (no display found)"));
        return ExitRejected;
    }
    TrayAgentOptions options;
    // Empty: the platform location, read only when trusted (docs/policy.md).
    options.policyFile = overrideOption(parser, common.policy).value_or(QString());
    options.stateDir = common.stateDirectory(parser, environment);
    options.environment = environment;
    // Whose second factor lifts the lock changes what is trusted too.
    options.user = overrideOption(parser, user).value_or(QString());
    options.autoSignIn = !parser.isSet(manual);
    // Closing the last window (the lock screen lifting) must not end the agent.
    QApplication::setQuitOnLastWindowClosed(false);
    TrayAgent agent(options);
    if (auto started = agent.start(); !started) {
        printErr(QStringLiteral("hotdesk: %1").arg(started.error().message));
        return ExitRejected;
    }
    return QCoreApplication::exec();
}

} // namespace hotdesk::cli

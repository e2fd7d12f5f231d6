// The tray agent: the decision engine's decisions carried out on the desktop, the servers and the audit log.
#include "trayagent.h"

#include "agentcontext.h"
#include "cli.h"
#include "core/das/dasclient.h"
#include "core/jose/strictjson.h"
#ifdef Q_OS_LINUX
#include "core/platform/linux/greeterswitch.h"
#include "core/platform/linux/logindsessions.h"
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
    // With hotdeskd the daemon keeps the state that decides; a file of the user's own would only be theirs to edit.
    if (!control::daemonInUse())
        m_stateFile = engineStateFile(m_options.stateDir);
    m_lock = new ui::LockScreen(this);
    m_desktop = new ui::DesktopIntegration(this);
    agent::AgentView &view = *this;
    agent::AgentServices &services = *this;
    m_controller = std::make_unique<agent::AgentController>(m_clock, m_random, m_daemonConnection, view, services);
    m_controller->setUser(m_user, !m_options.user.isEmpty());
    m_controller->setAutoSignIn(m_options.autoSignIn);
    m_controller->setSessionId(qEnvironmentVariable("XDG_SESSION_ID"));
}

TrayAgent::~TrayAgent()
{
    m_controller.reset();
    if (m_flow)
        m_flow->disconnect(this);
    m_frontend.reset();
    m_daemonFrontend.reset();
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
#ifdef Q_OS_LINUX
    // Started by the session, the agent has its id in the environment; started by the user's systemd (the packaged
    // hotdesk.service), it presents the user's display session.
    platform::findOwnSession(QDBusConnection::systemBus(), std::chrono::seconds(5), this, [this](const Result<QString> &session) {
        if (!session)
            report(session.error().message);
        startDaemonLink(session.value_or(QString()));
    });
#else
    startDaemonLink(qEnvironmentVariable("XDG_SESSION_ID"));
#endif
}

void TrayAgent::startDaemonLink(const QString &sessionId)
{
    m_controller->setSessionId(sessionId);
    control::DaemonLink::Options options;
    options.sessionId = sessionId;
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
    m_daemonConnection.link = m_daemon.get();
    agent::AgentController *controller = m_controller.get();
    connect(m_daemon.get(), &control::DaemonLink::event, controller, &agent::AgentController::daemonEvent);
    connect(m_daemon.get(), &control::DaemonLink::attached, this, [this, session = options.sessionId] {
        m_daemonProblem.clear();
        m_controller->daemonAttached(session, m_daemon->attachReply());
    });
    const auto problem = [this](const QString &why) {
        m_controller->daemonLost(why);
        if (why == m_daemonProblem)
            return;
        m_daemonProblem = why;
        report(tr("not attached to hotdeskd: %1").arg(why));
    };
    connect(m_daemon.get(), &control::DaemonLink::unavailable, this, problem);
    connect(m_daemon.get(), &control::DaemonLink::answered, controller, &agent::AgentController::daemonAnswered);
    connect(m_daemon.get(), &control::DaemonLink::requestFailed, controller, &agent::AgentController::daemonRequestFailed);
    connect(m_daemon.get(), &control::DaemonLink::recoveryCodeRefused, controller,
        &agent::AgentController::daemonRecoveryCodeRefused);
    connect(m_daemon.get(), &control::DaemonLink::refused, this,
        [problem](const QString &error, const QString &message) { problem(error + QStringLiteral(": ") + message); });
    m_daemon->start();
}

void TrayAgent::connectRequests()
{
    m_control->setStatusProvider([this] { return status(); });
    connect(m_control.get(), &control::ControlServer::reauthRequested, this,
        [this] { m_controller->reauthRequested(QStringLiteral("control_socket")); });
    connect(m_desktop, &ui::DesktopIntegration::reauthRequested, this,
        [this] { m_controller->reauthRequested(QStringLiteral("tray")); });
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
    // The person's actions go to the controller, which decides.
    agent::AgentController *controller = m_controller.get();
    connect(m_lock, &ui::LockScreen::signInRequested, controller, &agent::AgentController::signIn);
    connect(m_lock, &ui::LockScreen::offlineUnlockRequested, controller, &agent::AgentController::offlineUnlock);
    connect(m_lock, &ui::LockScreen::cancelRequested, controller, &agent::AgentController::cancel);
    connect(m_lock, &ui::LockScreen::recoveryCodeEntered, controller, &agent::AgentController::recoveryCode);
    connect(m_lock, &ui::LockScreen::accountPasswordEntered, this, [this](const QString &, QString password) {
        m_controller->accountPassword(password);
        password.fill(QLatin1Char('\0'));
    });
    connect(m_lock, &ui::LockScreen::oneTimeCodeEntered, controller, &agent::AgentController::oneTimeCode);
    connect(m_lock, &ui::LockScreen::switchUserRequested, controller, &agent::AgentController::switchUser);
    // X11: the lock holds the session only with both grabs; without them the OS lock takes over.
    connect(m_lock, &ui::LockScreen::grabbed, this, [this] { report(tr("lock screen holds the keyboard and the pointer")); });
    connect(m_lock, &ui::LockScreen::raisedAgain, this, [this](const QString &why) {
        audit(store::AuditEvent::LockRaised, m_controller->lockUser(), QStringLiteral("window_above"),
            {{QStringLiteral("message"), why}});
        report(tr("lock screen raised again (%1)").arg(why));
    });
    connect(m_lock, &ui::LockScreen::grabFailed, controller, &agent::AgentController::grabFailed);
}

void TrayAgent::switchToGreeter(const QString &who)
{
    Q_UNUSED(who); // the controller audited and reported who goes to the login screen
#ifdef Q_OS_LINUX
    auto *greeter = new platform::GreeterSwitch({}, this);
    greeter->switchToGreeter([this, greeter, owner = m_controller->lockUser()](const Result<QString> &manager) {
        greeter->deleteLater();
        if (manager) {
            report(tr("the login screen of %1 is open").arg(*manager));
            m_lock->setStatus(tr("The login screen is open for another person; this session stays locked."), false);
        } else {
            report(tr("no login screen: %1").arg(manager.error().message));
            m_lock->setStatus(tr("No login screen could be opened here. Ask the help desk, or sign in as %1.").arg(owner), false);
        }
    });
#endif
}

void TrayAgent::restoreState()
{
    if (m_stateFile.isEmpty()) {
        m_controller->restore(std::nullopt, false);
        return;
    }
    QFile file(m_stateFile);
    std::optional<policy::EngineState> state;
    bool damaged = false;
    if (file.exists()) {
        if (file.open(QIODevice::ReadOnly) && file.size() <= 4 * 1024 * 1024) {
            auto object = jose::parseStrictJsonObject(file.readAll());
            if (object) {
                if (auto parsed = policy::EngineState::fromJson(*object))
                    state = *parsed;
            }
        }
        if (!state) {
            // Unreadable: whatever it said, the person at the keyboard proves who they are.
            damaged = true;
            audit(store::AuditEvent::StateDamaged, m_user, QStringLiteral("malformed"), {{QStringLiteral("file"), m_stateFile}});
        }
    }
    m_controller->restore(state, damaged);
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
            const QString problem = m_policyStore->hasPolicy()
                ? tr("The new policy has errors; the previous one stays in force. Run 'hotdesk policy check %1'.")
                      .arg(m_policyStore->file())
                : m_policyStore->reason();
            report(tr("policy rejected: %1").arg(lines.join(QStringLiteral("; "))));
            m_controller->policyRejected(problem);
        });
    if (!m_policyStore->start()) {
        // Fail closed: without a valid policy nobody can be let in.
        m_controller->policyMissing(m_policyStore->reason());
        return {};
    }
    if (!m_controller->engine()) // unless start() already announced it through policyChanged
        applyPolicy(m_policyStore->policy());
    return {};
}

void TrayAgent::applyPolicy(const policy::Policy &policy)
{
    m_controller->applyPolicy(policy);
    // The servers may have changed: the next flow reads them again.
    if (m_flow || m_controller->isSigningIn())
        m_contextStale = true;
    else
        m_context.reset();
    if (m_platformConnected)
        configureWatchers(policy.triggers);
    else
        connectPlatform();
}

void TrayAgent::connectPlatform()
{
    m_platform = platform::createPlatform();
#if defined(Q_OS_LINUX)
    // The desktop's D-Bus services, then the X server: idle time on plain X11 too.
    m_platform.idle = std::make_unique<platform::IdleMonitor>(ui::desktopIdleSource());
#endif
    m_platformConnected = true;
    agent::AgentController *controller = m_controller.get();
    platform::SessionWatcher *session = m_platform.session.get();
    connect(session, &platform::SessionWatcher::sessionStarted, controller, &agent::AgentController::sessionStarted);
    connect(session, &platform::SessionWatcher::unlocked, this, [this] {
        m_lock->resumeGrabs();
        m_controller->screenUnlocked();
    });
    connect(session, &platform::SessionWatcher::watching, this, [this](const QString &backend) {
        report(tr("screen lock events from: %1").arg(backend));
    });
    connect(m_platform.idle.get(), &platform::IdleMonitor::idleReached, this, [this](std::chrono::milliseconds idle) {
        m_controller->idleTimeIs(std::chrono::duration_cast<std::chrono::seconds>(idle));
    });
    connect(m_platform.idle.get(), &platform::IdleMonitor::activityResumed, controller, &agent::AgentController::activity);
    connect(m_platform.idle.get(), &platform::IdleMonitor::unavailable, this, [this](const QString &message) {
        audit(store::AuditEvent::PlatformProblem, m_user, QStringLiteral("idle_unavailable"),
            {{QStringLiteral("message"), message}});
        report(tr("idle time unavailable: %1").arg(message));
    });
    connect(m_platform.processes.get(), &platform::ProcessWatcher::processStarted, this,
        [this](const QString &name, qint64) { m_controller->processStarted(name); });
    connect(m_platform.paths.get(), &platform::PathWatcher::touched, this,
        [this](const QString &path, platform::TouchKind) { m_controller->pathTouched(path); });
    connect(m_platform.devices.get(), &platform::DeviceWatcher::deviceInUse, this,
        [this](platform::DeviceKind kind, qint64, const QString &) { m_controller->deviceInUse(sensitiveDevice(kind)); });
    const auto problem = [this](const QString &message) {
        audit(store::AuditEvent::PlatformProblem, m_user, QStringLiteral("watcher"), {{QStringLiteral("message"), message}});
        report(message);
    };
    connect(m_platform.processes.get(), &platform::ProcessWatcher::problem, this, problem);
    connect(m_platform.paths.get(), &platform::PathWatcher::problem, this, problem);
    connect(m_platform.devices.get(), &platform::DeviceWatcher::problem, this, problem);

    configureWatchers(m_controller->policy()->triggers);
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

// --- agent::AgentView ---------------------------------------------------------------------------

namespace {

ui::LockInfo lockInfo(const agent::LockView &view)
{
    ui::LockInfo info;
    info.user = view.user;
    info.reason = view.reason;
    info.attemptsLeft = view.attemptsLeft;
    info.helpText = view.helpText;
    info.signInAllowed = view.signInAllowed;
    info.offerOffline = view.offerOffline;
    info.offerRecoveryCode = view.offerRecoveryCode;
    return info;
}

} // namespace

void TrayAgent::showLock(const agent::LockView &view)
{
    const bool wasLocked = m_lock->isLocked();
    m_screenshotTaken = false;
    m_lock->lock(lockInfo(view));
    if (wasLocked)
        return;
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

void TrayAgent::updateLock(const agent::LockView &view)
{
    m_lock->setInfo(lockInfo(view));
}

void TrayAgent::setStatus(const QString &text, bool busy)
{
    m_lock->setStatus(text, busy);
}

bool TrayAgent::lift(const agent::UnlockProof &proof)
{
    // The lock screen checks each proof against its lock again.
    if (const auto *result = std::get_if<flow::FlowResult>(&proof))
        return m_lock->unlock(*result);
    if (const auto *granted = std::get_if<policy::OfflineGranted>(&proof))
        return m_lock->unlockOffline(*granted);
    if (const auto *code = std::get_if<store::RecoveryCodeAccepted>(&proof))
        return m_lock->unlockWithRecoveryCode(*code);
    return m_lock->unlockValidatedByDaemon(std::get<agent::DaemonValidated>(proof).user);
}

void TrayAgent::holdForDaemon(bool hold)
{
    m_lock->holdForDaemon(hold);
}

void TrayAgent::askForCode(agent::CodePrompt kind, const QString &prompt)
{
    m_lock->askForCode(
        kind == agent::CodePrompt::OneTimeCode ? ui::CodeKind::OneTimeCode : ui::CodeKind::AccountPassword, prompt);
}

void TrayAgent::hideOneTimeCode()
{
    m_lock->hideCode(ui::CodeKind::OneTimeCode);
}

void TrayAgent::openDaemonSignIn(const QString &id, const QUrl &url)
{
    closeSignInPage();
    QList<QSslCertificate> extraCas;
    QString issuer;
    if (const auto &policy = m_controller->policy()) {
        if (auto trust = net::TlsTrust::fromBundle(policy->servers.caBundle); trust && !policy->servers.caBundle.isEmpty())
            extraCas = trust->extraCertificates();
        issuer = policy->servers.idpIssuer;
    }
    auto *frontend = new LockScreenFrontend(*m_lock, extraCas, issuer, nullptr);
    frontend->pageShown = [this] { QTimer::singleShot(500, this, &TrayAgent::saveScreenshot); };
    m_daemonFrontend.reset(frontend);
    connect(frontend, &flow::AuthorizationFrontend::redirected, this,
        [this, id](const QUrl &redirect) { m_controller->daemonSignInRedirected(id, redirect); });
    connect(frontend, &flow::AuthorizationFrontend::failed, this,
        [this, id](const Error &) { m_controller->daemonSignInPageFailed(id); });
    frontend->open(url);
}

void TrayAgent::closeSignInPage()
{
    if (m_daemonFrontend) {
        m_daemonFrontend->close();
        m_daemonFrontend.release()->deleteLater();
    }
}

void TrayAgent::notify(const QString &title, const QString &text)
{
    m_desktop->notify(title, text);
}

void TrayAgent::setTray(const control::AgentStatus &status)
{
    m_desktop->setState(status.state, status.user, status.detail);
}

void TrayAgent::lockSession(const QString &user, const QString &why)
{
    if (!m_platform.session)
        return;
    if (why == QLatin1String("require_credentials"))
        m_lock->suspendGrabs(); // the desktop's locker needs the keyboard and the pointer
    m_platform.session->lockSession([this, user, why](Status locked) {
        if (locked)
            audit(store::AuditEvent::SessionLocked, user, why);
        else
            audit(store::AuditEvent::SessionLockFailed, user, locked.error().codeName(),
                {{QStringLiteral("message"), locked.error().message}});
        report(locked ? tr("the OS lock locked the session") : tr("the OS lock failed: %1").arg(locked.error().message));
    });
}

// --- agent::AgentServices -----------------------------------------------------------------------

bool TrayAgent::saveState(const policy::EngineState &state)
{
    if (m_stateFile.isEmpty())
        return true; // hotdeskd keeps the state
    QDir().mkpath(m_options.stateDir);
    QSaveFile file(m_stateFile);
    const QByteArray text = QJsonDocument(state.toJson()).toJson(QJsonDocument::Compact);
    // Owner-only before the rename, so the file is never readable by others.
    if (!file.open(QIODevice::WriteOnly) || !file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner)
        || file.write(text) != text.size() || !file.commit()) {
        // Not fatal for this session, but a restart would forget a lock: say so loudly.
        audit(store::AuditEvent::StateNotSaved, m_user, QStringLiteral("io"),
            {{QStringLiteral("file"), m_stateFile}, {QStringLiteral("why"), file.errorString()}});
        return false;
    }
    return true;
}

store::SecretStore &TrayAgent::secrets()
{
    if (!m_secrets)
        m_secrets = std::make_unique<store::KeychainSecretStore>();
    return *m_secrets;
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

void TrayAgent::startFlow(const agent::FlowRequest &request)
{
    withContext([this, request](AgentContext *context, const Error *error) {
        // The controller may have moved on while the device credential loaded (hotdeskd took the lock over).
        if (m_controller->state() != agent::AgentState::SigningIn || m_flow)
            return;
        if (!context) {
            flowFailed(request.user, *error);
            return;
        }
        runFlow(*context, request);
    });
}

void TrayAgent::cancelFlow()
{
    if (m_flow)
        m_flow->cancel();
}

void TrayAgent::provideOneTimeCode(const QString &code)
{
    if (m_flow)
        m_flow->provideOneTimeCode(code);
}

void TrayAgent::runFlow(AgentContext &context, const agent::FlowRequest &request)
{
    auto *frontend = new LockScreenFrontend(*m_lock, context.http().trust().extraCertificates(), context.servers().idpIssuer, nullptr);
    frontend->pageShown = [this] { QTimer::singleShot(500, this, &TrayAgent::saveScreenshot); };
    m_frontend.reset(frontend);
    auto *reauth = new flow::ReauthFlow(context.servers(), context.http(), *context.das(), context.provider(), context.state(),
        *frontend, localFingerprint, context.clock(), context.random(), this);
    m_flow = reauth;
    connect(reauth, &flow::ReauthFlow::progress, this,
        [this](flow::Step, const QString &message) { m_controller->flowProgress(message); });
    connect(reauth, &flow::ReauthFlow::approvalRequested, this, [this](const QString &id) {
        m_controller->flowProgress(tr("This PC must be approved by an administrator (request %1). Waiting…").arg(id));
    });
    connect(reauth, &flow::ReauthFlow::oneTimeCodeNeeded, this,
        [this, user = request.user](int digits, qint64 expiresAt, int attemptsLeft) {
            const QString until = QLocale().toString(QDateTime::fromSecsSinceEpoch(expiresAt).time(), QLocale::ShortFormat);
            m_controller->flowOneTimeCodeNeeded(
                tr("Type the %1-character code that was sent to you (valid until %2, %n attempt(s) left):", nullptr, attemptsLeft)
                    .arg(digits)
                    .arg(until),
                tr("This PC is not recognized. A one-time code was sent to you by e-mail; type it below."));
            report(tr("waiting for the one-time code sent to %1").arg(user));
        });
    connect(reauth, &flow::ReauthFlow::succeeded, this, [this](const flow::FlowResult &result) {
        endFlow();
        m_controller->flowSucceeded(result);
    });
    connect(
        reauth, &flow::ReauthFlow::failed, this, [this, user = request.user](const Error &error) { flowFailed(user, error); });
    flow::FlowOptions options;
    options.user = request.user;
    options.acrValues = request.acrValues;
    if (!options.acrValues.isEmpty())
        report(tr("asking the identity provider for: %1").arg(options.acrValues.join(u' ')));
    options.unrecognizedDevice = request.unrecognized;
    report(tr("signing in %1").arg(request.user));
    reauth->start(options);
}

void TrayAgent::flowFailed(const QString &user, const Error &error)
{
    endFlow();
    // The person reads a translated sentence for the code; the message is in the report and the audit log.
    const ui::SignInFailureText text = ui::LockScreen::failureText(error);
    m_controller->flowFailed(user, error, text.reason, text.status);
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
                if (m_flow || m_controller->isSigningIn())
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
    return m_controller->status();
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

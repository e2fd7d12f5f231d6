// The agent's controller: the decision engine's decisions and hotdeskd's events turned into one state and what to show.
#include "agentcontroller.h"

#include "../store/secretstore.h"
#include "../username.h"
#include "daemontexts.h"

#include <QDateTime>
#include <QLocale>

namespace hotdesk::agent {

namespace {

using namespace std::chrono_literals;

QString eventText(const QJsonObject &event, const char *key)
{
    return event.value(QLatin1String(key)).toString();
}

} // namespace

QString agentStateName(AgentState state)
{
    switch (state) {
    case AgentState::Starting:
        return QStringLiteral("starting");
    case AgentState::Unlocked:
        return QStringLiteral("unlocked");
    case AgentState::Locked:
        return QStringLiteral("locked");
    case AgentState::SigningIn:
        return QStringLiteral("signing_in");
    case AgentState::CheckingCode:
        return QStringLiteral("checking_code");
    case AgentState::DaemonLocked:
        return QStringLiteral("daemon_locked");
    case AgentState::DaemonStarting:
        return QStringLiteral("daemon_starting");
    case AgentState::DaemonSigningIn:
        return QStringLiteral("daemon_signing_in");
    case AgentState::CheckingPassword:
        return QStringLiteral("checking_password");
    }
    return {};
}

AgentController::AgentController(
    const Clock &clock, RandomSource &random, DaemonConnection &daemon, AgentView &view, AgentServices &services, QObject *parent)
    : QObject(parent)
    , m_clock(clock)
    , m_random(random)
    , m_daemon(daemon)
    , m_view(view)
    , m_services(services)
{
    m_tick.setSingleShot(true);
    connect(&m_tick, &QTimer::timeout, this, &AgentController::tick);
}

AgentController::~AgentController() = default;

void AgentController::setState(AgentState state)
{
    if (state == m_state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

void AgentController::setUser(const QString &user, bool fixed)
{
    m_user = user;
    m_userFixed = fixed;
}

// --- start: saved state and policy ------------------------------------------------------------

void AgentController::restore(const std::optional<policy::EngineState> &saved, bool damaged)
{
    m_saved = saved.value_or(policy::EngineState {});
    m_stateDamaged = damaged;
    if (m_saved.lock || damaged)
        showLock(m_saved.lock ? m_saved.lock->user : m_user, tr("Hotdesk restarted while this PC was locked."), false,
            AgentState::Locked);
}

void AgentController::policyMissing(const QString &problem)
{
    // Fail closed: without a valid policy nobody can be let in.
    m_problem = problem;
    audit(store::AuditEvent::PolicyMissing, m_user, QStringLiteral("policy_invalid"), {{QStringLiteral("why"), problem}});
    m_services.report(tr("no valid policy: %1").arg(problem));
    showLock(m_user, tr("There is no valid Hotdesk policy on this PC (%1). Ask your administrator.").arg(problem), false,
        AgentState::Locked);
    updateTray();
}

void AgentController::policyRejected(const QString &problem)
{
    m_problem = problem;
    updateTray();
}

void AgentController::applyPolicy(const policy::Policy &policy)
{
    const bool first = !m_engine;
    const bool wasLockedWithoutPolicy = first && isLocked() && !m_saved.lock && !m_stateDamaged;
    m_policy = policy;
    m_problem.clear();
    policy::EngineState state = m_engine ? m_engine->state() : m_saved;
    m_engine
        = std::make_unique<policy::DecisionEngine>(policy::reauthRules(policy), m_clock, policy::EngineEnvironment {}, state);
    if (!first) {
        audit(store::AuditEvent::PolicyApplied, m_user, {}, {{QStringLiteral("file"), policy.sourceFile}});
        m_services.report(tr("policy reloaded from %1").arg(policy.sourceFile));
    }
    if (m_state == AgentState::Starting)
        setState(AgentState::Unlocked);
    // The lock that went up without a policy (or with a damaged state) becomes
    // a re-authentication once the session is known: only a validated ID token lifts it.
    m_relockAtSessionStart = wasLockedWithoutPolicy || (first && m_stateDamaged);
    afterEngine();
}

// --- the platform's events: the agent's own engine decides only without hotdeskd -------------

void AgentController::sessionStarted(const QString &user)
{
    if (!m_userFixed && !user.isEmpty())
        m_user = user;
    m_services.report(tr("session of %1 started").arg(m_user));
    if (!standalone())
        return;
    handle(m_engine->sessionStarted(m_user, m_sessionId));
    if (m_relockAtSessionStart && !m_engine->isLocked())
        handle(m_engine->reauthRequested());
    m_relockAtSessionStart = false;
}

void AgentController::screenUnlocked()
{
    if (standalone())
        handle(m_engine->screenUnlocked(m_user));
}

void AgentController::idleTimeIs(std::chrono::seconds idle)
{
    if (standalone())
        handle(m_engine->idleTimeIs(idle));
}

void AgentController::activity()
{
    if (standalone())
        handle(m_engine->activity());
}

void AgentController::processStarted(const QString &name)
{
    if (standalone())
        handle(m_engine->processStarted(name));
}

void AgentController::pathTouched(const QString &path)
{
    if (standalone())
        handle(m_engine->pathTouched(path));
}

void AgentController::deviceInUse(policy::SensitiveDevice device)
{
    if (standalone())
        handle(m_engine->deviceInUse(device));
}

void AgentController::tick()
{
    if (standalone())
        handle(m_engine->tick());
}

std::optional<policy::Instant> AgentController::nextTick() const
{
    return standalone() ? m_engine->nextDeadline() : std::nullopt;
}

// --- the engine's decisions ---------------------------------------------------------------------

void AgentController::handle(const QList<policy::Decision> &decisions)
{
    for (const policy::Decision &decision : decisions)
        handleOne(decision);
    afterEngine();
}

void AgentController::handleOne(const policy::Decision &decision)
{
    // Every decision is audited as the engine describes it (user and reason have columns of their own).
    QJsonObject extra = policy::decisionToJson(decision);
    extra.remove(QStringLiteral("user"));
    extra.remove(QStringLiteral("decision"));
    extra.remove(QStringLiteral("reason"));

    if (const auto *require = std::get_if<policy::RequireReauth>(&decision)) {
        handleRequire(*require, extra);
    } else if (const auto *notice = std::get_if<policy::Notify>(&decision)) {
        audit(store::AuditEvent::ReauthSoon, notice->user, policy::triggerName(notice->trigger), extra);
        m_soon = true;
        m_view.notify(tr("Re-authentication soon"),
            tr("You will be asked to sign in again with your phone in %n minute(s).", nullptr, notice->minutes));
        m_services.report(tr("%1 will be asked to re-authenticate in %2 minute(s)").arg(notice->user).arg(notice->minutes));
    } else if (const auto *admin = std::get_if<policy::NotifyAdmin>(&decision)) {
        audit(store::AuditEvent::AdminNotify, admin->user, admin->event, extra);
        m_services.notifyAdmin(*admin);
    } else if (const auto *credentials = std::get_if<policy::RequireCredentials>(&decision)) {
        // The session's own lock asks for the account password: logind (or the
        // screensaver) locks it, and the desktop's locker shows its prompt.
        audit(store::AuditEvent::CredentialsRequired, credentials->user, QStringLiteral("failure_policy"), extra);
        m_services.report(tr("%1 must also give the account password").arg(credentials->user));
        m_view.lockSession(credentials->user, QStringLiteral("require_credentials"));
    } else if (std::holds_alternative<policy::Lock>(decision) || std::holds_alternative<policy::LockOutUser>(decision)) {
        handleLockOut(decision, extra);
    } else {
        handleOffline(decision, extra);
    }
}

void AgentController::handleRequire(const policy::RequireReauth &require, const QJsonObject &extra)
{
    if (isLocked() && m_lock.signInTried && sameUser(m_lock.user, require.user)) {
        // After a failed attempt the engine asks again (maybe with other
        // methods): the lock stays and the person chooses when to retry,
        // so a denying phone cannot burn the attempts by itself.
        m_view.updateLock(lockView(require.user, m_lock.reason, true));
        return;
    }
    audit(store::AuditEvent::ReauthRequired, require.user, require.reason(), extra);
    m_services.report(tr("trigger %1: %2 must re-authenticate").arg(require.reason(), require.user));
    showLock(require.user, reasonForPeople(require.trigger, require.detail), true, AgentState::Locked);
    if (m_autoSignIn)
        QTimer::singleShot(0, this, [this, who = require.user] {
            if (m_state == AgentState::Locked && m_lock.user == who && !m_lock.signInTried)
                signIn(who);
        });
}

QString AgentController::lockedOutText(const QString &user, std::optional<policy::Instant> until) const
{
    const QString when = until
        ? QLocale().toString(QDateTime::fromSecsSinceEpoch(until->time_since_epoch().count()).time(), QLocale::ShortFormat)
        : QString();
    return tr("Too many failed sign-ins. %1 cannot sign in again before %2; another user can switch in.").arg(user, when);
}

void AgentController::handleLockOut(const policy::Decision &decision, const QJsonObject &extra)
{
    if (const auto *lock = std::get_if<policy::Lock>(&decision)) {
        audit(store::AuditEvent::Locked, lock->user, lock->reason, extra);
        m_services.report(tr("%1 is locked out; the PC stays locked").arg(lock->user));
        const auto until = m_engine->lockedOutUntil(lock->user);
        showLock(lock->user, lockedOutText(lock->user, until), false, AgentState::Locked);
    } else if (const auto *out = std::get_if<policy::LockOutUser>(&decision)) {
        audit(store::AuditEvent::UserLockedOut, out->user, QStringLiteral("too_many_failures"), extra);
        m_services.report(tr("%1 is locked out after %2 failed attempts").arg(out->user).arg(out->attempts));
        if (isLocked() && sameUser(m_lock.user, out->user)) {
            m_lock.reason = lockedOutText(out->user, out->until);
            m_view.updateLock(lockView(out->user, m_lock.reason, false));
        }
    }
}

void AgentController::handleOffline(const policy::Decision &decision, const QJsonObject &extra)
{
    if (const auto *granted = std::get_if<policy::OfflineGranted>(&decision)) {
        audit(store::AuditEvent::OfflineUnlock, granted->user, granted->reason, extra);
        if (!isDaemonLock() && m_view.lift(*granted)) {
            m_services.report(
                tr("unlocked offline for %1 (%n offline unlock(s) left)", nullptr, granted->usesLeft).arg(granted->user));
            m_lock = {};
            setState(AgentState::Unlocked);
        }
    } else if (const auto *refused = std::get_if<policy::OfflineRefused>(&decision)) {
        audit(store::AuditEvent::OfflineRefused, refused->user, refused->why, extra);
        QString text;
        if (refused->why == u"no_recent_2fa")
            text = tr("Offline unlock is not possible: %1 has not signed in with the phone on this PC recently enough.")
                       .arg(refused->user);
        else if (refused->why == u"grace_used_up")
            text = tr(
                "Offline unlock is not possible: the offline unlocks allowed until the next sign-in with the phone are used up.");
        else if (refused->why == u"online")
            text = tr("The sign-in service can be reached again: select Sign in.");
        else
            text = tr("Offline unlock is not possible (%1).").arg(refused->why);
        m_services.report(text);
        m_view.setStatus(text, false);
    }
}

void AgentController::afterEngine()
{
    // Attached, hotdeskd keeps the state that decides; the agent's engine only remembers for a time without it.
    if (standalone() && m_engine->state() != m_saved && m_services.saveState(m_engine->state()))
        m_saved = m_engine->state();
    scheduleTick();
    updateTray();
}

void AgentController::scheduleTick()
{
    const auto next = nextTick();
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

// --- the lock -----------------------------------------------------------------------------------

bool AgentController::lockedOut(const QString &user) const
{
    return m_engine && m_engine->lockedOutUntil(user).has_value();
}

LockView AgentController::lockView(const QString &user, const QString &reason, bool signInAllowed) const
{
    LockView view;
    view.user = user;
    view.reason = reason;
    if (m_engine) {
        const auto &users = m_engine->state().users;
        const auto it = users.constFind(user);
        const int failures = it == users.cend() ? 0 : int(it->failures.size());
        view.attemptsLeft = std::max(0, m_engine->rules().failure.maxAttempts - failures);
    }
    view.helpText = m_policy ? m_policy->failure.helpText : QString();
    view.signInAllowed = signInAllowed && m_engine;
    view.offerOffline = m_network == policy::Network::Offline && m_engine && m_engine->rules().failure.offlineGrace.has_value();
    view.offerRecoveryCode = m_engine && m_policy && m_policy->failure.recoveryCodes.enabled && !isDaemonLock();
    return view;
}

void AgentController::showLock(const QString &user, const QString &reason, bool signInAllowed, AgentState target)
{
    if (!isLocked() || !sameUser(m_lock.user, user))
        m_lock.signInTried = false;
    m_lock.user = user;
    m_lock.reason = reason;
    // A lock already up keeps its state (a sign-in under way goes on); only
    // hotdeskd's lock takes over one of the agent's own.
    if (!isLocked() || (target == AgentState::DaemonLocked && !isDaemonLock())) {
        if (m_state == AgentState::SigningIn || m_state == AgentState::CheckingCode)
            m_services.cancelFlow();
        setState(target);
    }
    m_view.holdForDaemon(isDaemonLock());
    m_view.showLock(lockView(user, reason, signInAllowed));
    updateTray();
}

void AgentController::refuse(const QString &status)
{
    m_services.report(status);
    m_view.setStatus(status, false);
}

void AgentController::unlocked(const QString &user)
{
    m_lock = {};
    m_soon = false;
    setState(AgentState::Unlocked);
    m_view.holdForDaemon(false);
    if (m_engine) {
        if (attached()) {
            // hotdeskd decided; the agent's own engine only forgets a lock it still records.
            m_engine->authSucceeded(user);
            afterEngine();
        } else {
            handle(m_engine->authSucceeded(user));
        }
    }
    updateTray();
}

QString AgentController::reasonForPeople(policy::Trigger trigger, const QString &detail) const
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

// --- the person's actions -----------------------------------------------------------------------

void AgentController::reauthRequested(const QString &source)
{
    if (attached()) {
        // hotdeskd decides; its "lock" event is what locks.
        m_services.report(tr("re-authentication asked of hotdeskd (%1)").arg(source));
        m_daemon.send({{QStringLiteral("command"), QStringLiteral("reauth")}});
        return;
    }
    audit(store::AuditEvent::ReauthRequested, m_user, source);
    if (m_engine)
        handle(m_engine->reauthRequested());
}

void AgentController::signIn(const QString &user)
{
    if (m_state == AgentState::DaemonLocked) {
        if (attached())
            startDaemonSignIn();
        else
            refuse(
                tr("The system service cannot be reached; the lock stays until it is back. Ask the help desk if this goes on."));
        return;
    }
    if (m_state != AgentState::Locked || !m_engine)
        return;
    if (lockedOut(user)) {
        m_view.setStatus(tr("Sign-in is blocked for %1 for now. Another user can switch in.").arg(user), false);
        return;
    }
    if (attached()) {
        // A lock of the agent's own becomes hotdeskd's ("reauth"); its lock event starts its sign-in.
        m_services.report(tr("the lock is handed to hotdeskd"));
        m_daemon.send({{QStringLiteral("command"), QStringLiteral("reauth")}});
        return;
    }
    startOwnSignIn(user);
}

void AgentController::startOwnSignIn(const QString &user)
{
    m_lock.signInTried = true;
    setState(AgentState::SigningIn);
    m_view.setStatus(tr("Connecting to the sign-in service…"), true);
    FlowRequest request;
    request.user = user;
    request.acrValues = m_engine->acrFor(user);
    request.unrecognized = m_policy ? m_policy->device.unrecognized : policy::UnrecognizedDevice::Deny;
    updateTray();
    m_services.startFlow(request);
}

void AgentController::cancel()
{
    switch (m_state) {
    case AgentState::SigningIn:
        m_services.cancelFlow(); // its failure (cancelled) comes back through flowFailed()
        break;
    case AgentState::DaemonStarting:
    case AgentState::DaemonSigningIn:
        abandonDaemonSignIn();
        m_view.setStatus(tr("The sign-in was cancelled."), false);
        break;
    case AgentState::CheckingPassword:
        // The password is with hotdeskd: its answer may still unlock; the person may try something else meanwhile.
        setState(AgentState::DaemonLocked);
        m_view.setStatus(QString(), false);
        break;
    default:
        break;
    }
}

void AgentController::switchUser(const QString &user)
{
    if (!isLocked())
        return;
    if (m_kiosk && (attached() || isDaemonLock())) {
        // A shared kiosk account's session: the next person signs in inside it, with hotdeskd's sign-in.
        switchPerson(user);
        return;
    }
    if (attached() || isDaemonLock()) {
        // With hotdeskd the session stays its owner's: another person logs in at the login screen.
        abandonDaemonSignIn();
        audit(store::AuditEvent::UserSwitch, user, QStringLiteral("greeter"), {{QStringLiteral("from"), m_lock.user}});
        m_services.report(tr("%1 goes to the login screen; the session of %2 stays locked").arg(user, m_lock.user));
        m_view.switchToGreeter(user);
        return;
    }
    if (m_state == AgentState::SigningIn)
        m_services.cancelFlow();
    audit(store::AuditEvent::UserSwitch, user, QStringLiteral("lock_screen"), {{QStringLiteral("from"), m_lock.user}});
    m_services.report(tr("%1 switches in at the lock screen").arg(user));
    m_lock.user = user;
    m_lock.reason = tr("Sign in to use this PC.");
    const bool out = lockedOut(user);
    m_view.updateLock(lockView(user, m_lock.reason, !out));
    if (!out && m_state == AgentState::Locked)
        startOwnSignIn(user);
}

void AgentController::switchPerson(const QString &person)
{
    if (!attached()) {
        refuse(tr("The system service cannot be reached; the lock stays until it is back. Ask the help desk if this goes on."));
        return;
    }
    audit(store::AuditEvent::UserSwitch, person, QStringLiteral("kiosk"),
        {{QStringLiteral("from"), m_lock.user}, {QStringLiteral("account"), m_user}});
    m_services.report(tr("%1 switches in at the lock screen of the kiosk account %2").arg(person, m_user));
    if (m_state == AgentState::SigningIn)
        m_services.cancelFlow();
    abandonDaemonSignIn();
    // The lock is hotdeskd's from now (it locks the session before the switch, if it was not): only its "unlocked" lifts it.
    setState(AgentState::DaemonLocked);
    m_view.holdForDaemon(true);
    m_lock.user = person;
    m_lock.person = person;
    m_lock.reason = tr("Sign in to use this PC.");
    m_view.updateLock(lockView(person, m_lock.reason, true));
    startDaemonSignIn();
}

void AgentController::offlineUnlock(const QString &user)
{
    if (m_state == AgentState::DaemonLocked) {
        // hotdeskd checks the account password through PAM, within the policy's offline grace.
        m_view.askForCode(CodePrompt::AccountPassword, tr("Offline unlock: type the account password of %1:").arg(user));
        return;
    }
    if (m_state == AgentState::Locked && standalone())
        handle(m_engine->offlineUnlockRequested(user));
}

void AgentController::accountPassword(QString password)
{
    if (m_state != AgentState::DaemonLocked) {
        password.fill(QLatin1Char('\0'));
        return;
    }
    if (!m_daemon.send({{QStringLiteral("command"), QStringLiteral("offline_unlock")}, {QStringLiteral("password"), password}})) {
        m_view.setStatus(tr("The system service cannot be reached; offline unlock is not possible now."), false);
    } else {
        setState(AgentState::CheckingPassword);
        m_view.setStatus(tr("Checking the password…"), true);
        m_services.report(tr("offline unlock asked of hotdeskd"));
    }
    password.fill(QLatin1Char('\0'));
}

void AgentController::oneTimeCode(const QString &code)
{
    if (m_state != AgentState::SigningIn)
        return;
    m_view.setStatus(tr("Checking the code…"), true);
    m_services.provideOneTimeCode(code);
}

void AgentController::recoveryCode(const QString &user, const QString &code)
{
    if (isDaemonLock()) {
        // hotdeskd keeps the codes' hashes: it checks the code and lifts its lock ("unlocked"), or refuses.
        if (m_state != AgentState::DaemonLocked)
            return;
        const bool sent = m_daemon.sendRecoveryCode(code);
        m_services.report(tr("recovery code for %1 handed to hotdeskd").arg(user));
        m_view.setStatus(sent ? tr("Checking the recovery code…") : tr("The system service cannot be reached. Try again."), sent);
        return;
    }
    if (m_state != AgentState::Locked || !m_engine || !m_policy || !m_policy->failure.recoveryCodes.enabled)
        return;
    if (lockedOut(user)) {
        m_view.setStatus(tr("Sign-in is blocked for %1 for now. Another user can switch in.").arg(user), false);
        return;
    }
    if (!m_recoveryCodes)
        m_recoveryCodes = new store::RecoveryCodeStore(m_services.secrets(), m_random, this);
    setState(AgentState::CheckingCode);
    // The person chose how to get in: a wrong code must not start a push on its own.
    m_lock.signInTried = true;
    m_view.setStatus(tr("Checking the recovery code…"), true);
    m_services.report(tr("checking a recovery code for %1").arg(user));
    m_recoveryCodes->consume(user, code, [this, guard = QPointer(this), user](Result<store::RecoveryCodeAccepted> accepted) {
        if (guard)
            recoveryCodeChecked(user, std::move(accepted));
    });
}

void AgentController::recoveryCodeChecked(const QString &user, Result<store::RecoveryCodeAccepted> accepted)
{
    if (m_state == AgentState::CheckingCode)
        setState(AgentState::Locked);
    if (accepted && isDaemonLock()) {
        // hotdeskd took the lock over meanwhile: an own proof does not lift it.
        audit(store::AuditEvent::RecoveryCodeRefused, user, QStringLiteral("daemon_lock"));
        refuse(tr("Recovery codes do not lift this lock. Sign in with your phone, or ask the help desk."));
        return;
    }
    if (!accepted) {
        const Error &error = accepted.error();
        audit(store::AuditEvent::RecoveryCodeRefused, user, error.codeName(), {{QStringLiteral("message"), error.message}});
        QString text;
        if (error.code == ErrorCode::AccessDenied) {
            text = tr("That recovery code is not right, or it was used before. Check it and try again.");
            // A wrong code is a failed attempt: guessing codes runs into max_attempts.
            if (standalone())
                handle(m_engine->authFailed(user, ErrorCode::AccessDenied));
        } else if (error.code == ErrorCode::NotEnrolled) {
            text = tr("%1 has no recovery codes on this PC. Sign in with the phone, or ask the help desk.").arg(user);
        } else {
            text = tr("The recovery code could not be checked: %1").arg(error.message);
        }
        m_services.report(text);
        if (isLocked()) {
            m_view.updateLock(lockView(m_lock.user, m_lock.reason, !lockedOut(m_lock.user)));
            m_view.setStatus(text, false);
        }
        return;
    }
    if (!m_view.lift(*accepted)) {
        audit(store::AuditEvent::RecoveryCodeRefused, user, QStringLiteral("user_mismatch"));
        m_view.setStatus(tr("That recovery code is not for %1.").arg(m_lock.user), false);
        return;
    }
    audit(store::AuditEvent::ReauthSucceeded, user, QStringLiteral("recovery_code"),
        {{QStringLiteral("codes_left"), accepted->remaining}});
    m_services.report(tr("unlocked for %1 with a recovery code (%n code(s) left)", nullptr, accepted->remaining).arg(user));
    m_lock = {};
    m_soon = false;
    setState(AgentState::Unlocked);
    if (m_engine)
        handle(m_engine->authSucceeded(user, policy::AuthMethod::RecoveryCode));
}

void AgentController::grabFailed(const QString &why)
{
    audit(store::AuditEvent::LockGrabFailed, m_lock.user, QStringLiteral("grab_failed"), {{QStringLiteral("message"), why}});
    m_services.report(tr("lock screen could not grab the keyboard/pointer: %1; asking the OS lock").arg(why));
    m_view.lockSession(m_lock.user, QStringLiteral("grab_failed"));
}

// --- flow 1's answers (the agent's own sign-in) ------------------------------------------------

void AgentController::flowProgress(const QString &message)
{
    if (m_state != AgentState::SigningIn)
        return;
    m_view.setStatus(message, true);
    m_services.report(message);
}

void AgentController::flowOneTimeCodeNeeded(const QString &prompt, const QString &status)
{
    if (m_state != AgentState::SigningIn)
        return;
    m_view.askForCode(CodePrompt::OneTimeCode, prompt);
    // Busy, so that Cancel stays available while the person looks for the code.
    m_view.setStatus(status, true);
}

void AgentController::flowSucceeded(const flow::FlowResult &result)
{
    m_view.hideOneTimeCode();
    m_services.report(tr("%1 signed in; the ID token is valid").arg(result.user));
    if (isDaemonLock() || m_state != AgentState::SigningIn) {
        // hotdeskd holds the lock now (or it went away): the agent's own proof does not lift it.
        audit(store::AuditEvent::ReauthFailed, result.user, QStringLiteral("daemon_lock"));
        if (isDaemonLock())
            refuse(tr("This lock is lifted by the system service's sign-in. Select Sign in."));
        return;
    }
    setState(AgentState::Locked);
    if (!m_view.lift(result)) {
        // A valid token for someone other than the person the lock asks for: it stays.
        audit(store::AuditEvent::ReauthFailed, result.user, QStringLiteral("user_mismatch"));
        m_view.setStatus(tr("That sign-in was for %1, not %2. Try again.").arg(result.user, m_lock.user), false);
        return;
    }
    audit(store::AuditEvent::ReauthSucceeded, result.user, QStringLiteral("id_token_valid"),
        {{QStringLiteral("sub"), result.sharedId}, {QStringLiteral("iss"), result.idToken.issuer}});
    m_services.report(tr("unlocked for %1").arg(result.user));
    m_network = policy::Network::Online;
    const QString who = m_lock.user.isEmpty() ? result.user : m_lock.user;
    if (m_engine)
        m_engine->networkState(policy::Network::Online);
    unlocked(who);
}

void AgentController::flowFailed(const QString &user, const Error &error, const QString &reason, const QString &status)
{
    m_view.hideOneTimeCode();
    const bool own = m_state == AgentState::SigningIn;
    if (own)
        setState(AgentState::Locked);
    audit(store::AuditEvent::ReauthFailed, user, error.codeName(), {{QStringLiteral("message"), error.message}});
    m_services.report(tr("sign-in of %1 failed: %2 (%3)").arg(user, error.message, error.codeName()));
    if (!own)
        return; // cancelled because hotdeskd took the lock over, or an answer that comes too late
    // Unreachable servers make this PC "offline" for the failure policy's grace.
    m_network = error.code == ErrorCode::Unreachable || error.code == ErrorCode::Timeout ? policy::Network::Offline
                                                                                         : policy::Network::Online;
    if (standalone()) {
        m_engine->networkState(m_network);
        handle(m_engine->authFailed(user, error.code));
    }
    if (m_state != AgentState::Locked)
        return;
    // The person reads a translated sentence for the code; the message is in the report and the audit log.
    m_lock.reason = reason;
    m_view.updateLock(lockView(m_lock.user, reason, !lockedOut(m_lock.user)));
    m_view.setStatus(status, false);
    updateTray();
}

// --- hotdeskd -----------------------------------------------------------------------------------

void AgentController::daemonAttached(const QString &session, const QJsonObject &reply)
{
    m_kiosk = reply.value(QLatin1String("kiosk")).toBool();
    m_person = eventText(reply, "person");
    m_services.report(tr("attached to hotdeskd for session %1").arg(session));
    scheduleTick(); // hotdeskd's engine decides now: the agent's own timer stops
}

void AgentController::daemonLost(const QString &why)
{
    Q_UNUSED(why);
    // The replies and sign-ins of that connection are gone with it.
    m_signInReplyDue = false;
    m_abandonOnReply = false;
    m_abandoned.clear();
    if (m_state == AgentState::DaemonStarting || m_state == AgentState::DaemonSigningIn) {
        // hotdeskd ended the sign-in with the connection; the person starts another.
        endDaemonSignIn();
        m_view.setStatus(tr("The sign-in service restarted. Sign in again."), false);
    } else if (m_state == AgentState::CheckingPassword) {
        setState(AgentState::DaemonLocked);
        m_view.setStatus(tr("The system service cannot be reached; offline unlock is not possible now."), false);
    }
    // A lock hotdeskd holds stays up: only its "unlocked" lifts it.
    scheduleTick();
}

void AgentController::daemonRequestFailed(const QString &error, const QString &message)
{
    // A refused "sign_in" is daemonAnswered()'s.
    m_services.report(tr("hotdeskd refused: %1 (%2)").arg(message, error));
    if (error == QLatin1String("offline_refused") && isLocked()) {
        if (m_state == AgentState::CheckingPassword)
            setState(AgentState::DaemonLocked);
        m_view.setStatus(tr("Offline unlock is not possible now. Sign in with your phone, or ask the help desk."), false);
    }
}

void AgentController::daemonRecoveryCodeRefused(const QString &error, const QString &message)
{
    m_services.report(tr("hotdeskd refused: %1 (%2)").arg(message, error));
    if (!isDaemonLock())
        return;
    QString text = tr("The recovery code could not be checked: %1")
                       .arg(daemonTextForPeople({{QStringLiteral("error"), error}, {QStringLiteral("message"), message}}));
    if (error == QLatin1String("wrong_code"))
        text = tr("That recovery code is not right, or it was used before. Check it and try again.");
    else if (error == QLatin1String("no_codes"))
        text = tr("%1 has no recovery codes on this PC. Sign in with the phone, or ask the help desk.").arg(m_lock.user);
    m_view.setStatus(text, false);
}

void AgentController::daemonEvent(const QJsonObject &event)
{
    const QString name = eventText(event, "event");
    if (name == QLatin1String("notify")) {
        m_view.notify(tr("Re-authentication soon"),
            tr("You will be asked to sign in again with your phone in %n minute(s).", nullptr,
                event.value(QLatin1String("minutes")).toInt()));
    } else if (name == QLatin1String("unlocked")) {
        daemonUnlocked(event);
    } else if (name.startsWith(QLatin1String("sign_in_"))) {
        daemonSignInEvent(name, event);
    } else if (name == QLatin1String("offline_unlock_failed")) {
        const QString error = eventText(event, "error");
        m_services.report(tr("offline unlock refused by hotdeskd: %1").arg(error));
        if (m_state == AgentState::CheckingPassword)
            setState(AgentState::DaemonLocked);
        m_view.setStatus(error == QLatin1String("wrong_password")
                ? tr("That password was not accepted. The lock stays; try again, or sign in with your phone.")
                : tr("Offline unlock is not possible now. Sign in with your phone, or ask the help desk."),
            false);
    } else if (name == QLatin1String("lock")) {
        daemonLock(event);
    }
}

void AgentController::daemonLock(const QJsonObject &event)
{
    const QString reason = eventText(event, "reason");
    const bool signInAllowed = event.value(QLatin1String("sign_in")).toBool();
    m_services.report(tr("hotdeskd requires the lock: %1").arg(reason));
    if (event.contains(QLatin1String("kiosk"))) {
        m_kiosk = event.value(QLatin1String("kiosk")).toBool();
        m_person = eventText(event, "person");
    }
    if (isDaemonLock()) {
        m_view.holdForDaemon(true);
        return; // already hotdeskd's: a sign-in under way goes on
    }
    QString text;
    if (isLocked()) {
        text = m_lock.reason; // a lock of the agent's own is hotdeskd's now
    } else if (!signInAllowed) {
        text = reason == QLatin1String("policy_unusable")
            ? tr("There is no usable Hotdesk policy on this PC. Ask your administrator.")
            : tr("Too many failed sign-ins. Another user can switch in.");
    } else {
        // The daemon's reason in the engine's words ("idle", "sensitive_app:NAME", ...).
        const auto trigger = policy::triggerFromName(reason.section(QLatin1Char(':'), 0, 0)).value_or(policy::Trigger::Manual);
        text = reasonForPeople(trigger, reason.section(QLatin1Char(':'), 1));
    }
    // The agent's own sign-in could lift only its own lock: hotdeskd's sign-in takes over.
    // A kiosk account's lock asks its person (who signed in last), else the session's owner.
    const QString who = isLocked() ? m_lock.user : (m_kiosk && !m_person.isEmpty() ? m_person : m_user);
    showLock(who, text, signInAllowed, AgentState::DaemonLocked);
    if (m_autoSignIn && signInAllowed)
        QTimer::singleShot(0, this, [this] {
            if (m_state == AgentState::DaemonLocked && attached())
                startDaemonSignIn();
        });
}

void AgentController::startDaemonSignIn()
{
    if (m_state != AgentState::DaemonLocked)
        return;
    m_lock.signInTried = true;
    setState(AgentState::DaemonStarting);
    if (m_lock.person.isEmpty()) {
        m_view.setStatus(tr("Connecting to the sign-in service…"), true);
        m_services.report(tr("signing in %1 through hotdeskd").arg(m_lock.user));
    } else {
        m_view.setStatus(tr("Signing in %1: connecting to the sign-in service…").arg(m_lock.person), true);
        m_services.report(tr("signing in %1 through hotdeskd in the kiosk account %2").arg(m_lock.person, m_user));
    }
    // A sign-in given up a moment ago has not answered yet: this one is sent once it has (daemonAnswered).
    if (!m_signInReplyDue)
        sendSignIn();
}

void AgentController::sendSignIn()
{
    // hotdeskd signs in its session's owner, or in a kiosk account's the person named; the agent only shows the
    // page and relays the answer.
    QJsonObject request {{QStringLiteral("command"), QStringLiteral("sign_in")}};
    if (!m_lock.person.isEmpty())
        request.insert(QStringLiteral("person"), m_lock.person);
    if (!m_daemon.send(request)) {
        setState(AgentState::DaemonLocked);
        m_view.setStatus(
            tr("The system service cannot be reached; the lock stays until it is back. Ask the help desk if this goes on."),
            false);
        return;
    }
    m_signInReplyDue = true;
}

void AgentController::daemonAnswered(const QString &command, const QJsonObject &reply)
{
    if (command != QLatin1String("sign_in") || !m_signInReplyDue)
        return;
    m_signInReplyDue = false;
    const bool ok = reply.value(QLatin1String("ok")).toBool();
    const QString id = eventText(reply, "sign_in");
    if (m_abandonOnReply) {
        m_abandonOnReply = false;
        if (ok && !id.isEmpty()) {
            m_abandoned.insert(id);
            m_daemon.send({{QStringLiteral("command"), QStringLiteral("sign_in_cancel")}, {QStringLiteral("sign_in"), id}});
        }
        if (m_state == AgentState::DaemonStarting)
            sendSignIn(); // the sign-in asked for meanwhile
        return;
    }
    if (!ok) {
        if (m_state == AgentState::DaemonStarting) {
            endDaemonSignIn();
            m_view.setStatus(tr("The sign-in could not start: %1").arg(daemonTextForPeople(reply)), false);
        }
        return;
    }
    if (m_state == AgentState::DaemonStarting && m_daemonSignIn.isEmpty())
        m_daemonSignIn = id;
}

void AgentController::abandonDaemonSignIn()
{
    if (!m_daemonSignIn.isEmpty()) {
        m_abandoned.insert(m_daemonSignIn);
        m_daemon.send(
            {{QStringLiteral("command"), QStringLiteral("sign_in_cancel")}, {QStringLiteral("sign_in"), m_daemonSignIn}});
    } else if (m_signInReplyDue) {
        m_abandonOnReply = true;
    }
    endDaemonSignIn();
}

void AgentController::daemonSignInEvent(const QString &name, const QJsonObject &event)
{
    const QString id = eventText(event, "sign_in");
    const QString message = eventText(event, "message");
    if (m_abandoned.contains(id)) {
        if (name == QLatin1String("sign_in_failed"))
            m_abandoned.remove(id); // its end; nothing of it is shown
        return;
    }
    if (!m_daemonSignIn.isEmpty() && id != m_daemonSignIn)
        return; // not the sign-in this lock runs
    if (!m_abandonOnReply)
        m_signInReplyDue = false; // its events come after its reply
    if (name == QLatin1String("sign_in_url") && m_state == AgentState::DaemonStarting) {
        m_daemonSignIn = id;
        setState(AgentState::DaemonSigningIn);
        m_view.openDaemonSignIn(id, QUrl(eventText(event, "url")));
    } else if (name == QLatin1String("sign_in_progress")
        && ((m_state == AgentState::DaemonSigningIn && id == m_daemonSignIn) || m_state == AgentState::DaemonStarting)) {
        // The daemon speaks English; the person reads the agent's translation of its message_id.
        m_view.setStatus(daemonTextForPeople(event), true);
        m_services.report(message);
    } else if (name == QLatin1String("sign_in_failed")) {
        endDaemonSignIn();
        const QString error = eventText(event, "error");
        m_services.report(tr("sign-in of %1 failed: %2 (%3)").arg(m_lock.user, message, error));
        // Servers that cannot be reached make this PC "offline": the lock offers the policy's offline unlock.
        if (error == QLatin1String("unreachable") || error == QLatin1String("timeout"))
            m_network = policy::Network::Offline;
        else if (error != QLatin1String("cancelled"))
            m_network = policy::Network::Online;
        if (!isLocked())
            return;
        m_view.updateLock(lockView(m_lock.user, m_lock.reason, error != QLatin1String("locked_out")));
        m_view.setStatus(tr("The sign-in did not succeed. Try again, or ask the help desk."), false);
    }
}

void AgentController::daemonSignInRedirected(const QString &id, const QUrl &redirect)
{
    if (m_state != AgentState::DaemonSigningIn || id != m_daemonSignIn)
        return;
    m_view.setStatus(tr("Checking the sign-in…"), true);
    m_daemon.send({{QStringLiteral("command"), QStringLiteral("sign_in_response")}, {QStringLiteral("sign_in"), id},
        {QStringLiteral("url"), redirect.toString(QUrl::FullyEncoded)}});
}

void AgentController::daemonSignInPageFailed(const QString &id)
{
    m_daemon.send({{QStringLiteral("command"), QStringLiteral("sign_in_cancel")}, {QStringLiteral("sign_in"), id}});
}

void AgentController::daemonUnlocked(const QJsonObject &event)
{
    endDaemonSignIn();
    // In a kiosk account's session hotdeskd names who signed in; the lock screen lifts only for the person it shows.
    const QString person = eventText(event, "person");
    if (m_kiosk && !person.isEmpty())
        m_person = person;
    const QString user = m_kiosk && !person.isEmpty() ? person : m_lock.user.isEmpty() ? m_user : m_lock.user;
    if (isLocked() && !m_view.lift(DaemonValidated {user}))
        return;
    const QString reason = eventText(event, "reason");
    if (reason == QLatin1String("sign_in"))
        m_network = policy::Network::Online;
    // The agent's record of what it showed; hotdeskd's audit log has the validation itself.
    audit(store::AuditEvent::ReauthSucceeded, user, QStringLiteral("hotdeskd_validated"),
        reason.isEmpty() ? QJsonObject {} : QJsonObject {{QStringLiteral("daemon_reason"), reason}});
    m_services.report(tr("unlocked for %1").arg(user));
    unlocked(user);
}

void AgentController::endDaemonSignIn()
{
    m_daemonSignIn.clear();
    m_view.closeSignInPage();
    if (m_state == AgentState::DaemonStarting || m_state == AgentState::DaemonSigningIn
        || m_state == AgentState::CheckingPassword)
        setState(AgentState::DaemonLocked);
}

// --- what the tray and `hotdesk status` say -------------------------------------------------------

control::AgentStatus AgentController::status() const
{
    control::AgentStatus s;
    if (isLocked()) {
        s.state = control::AgentState::Locked;
        s.user = m_lock.user;
        const bool signingIn
            = m_state == AgentState::SigningIn || m_state == AgentState::DaemonStarting || m_state == AgentState::DaemonSigningIn;
        s.detail = lockedOut(m_lock.user) ? QStringLiteral("locked_out")
            : signingIn                   ? QStringLiteral("signing_in")
            : !m_engine                   ? QStringLiteral("no_policy")
                                          : QStringLiteral("waiting");
        if (m_engine && m_engine->state().lock)
            s.detail += u' ' + policy::reasonString(m_engine->state().lock->trigger, m_engine->state().lock->detail);
        return s;
    }
    s.user = m_kiosk && !m_person.isEmpty() ? m_person : m_user;
    if (!m_engine) {
        s.state = control::AgentState::Error;
        s.detail = m_problem;
    } else if (m_network == policy::Network::Offline) {
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

void AgentController::updateTray()
{
    m_view.setTray(status());
}

void AgentController::audit(store::AuditEvent event, const QString &user, const QString &reason, const QJsonObject &extra)
{
    m_services.audit(event, user, reason, extra);
}

} // namespace hotdesk::agent

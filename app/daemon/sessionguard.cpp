// A logind session's decision engine and the lock it requires, enforced through the agent or the OS locker.
#include "sessionguard.h"

#include <QJsonArray>

#include <variant>

namespace hotdesk::daemon {
namespace {

using namespace std::chrono_literals;

constexpr char kPolicyUnusable[] = "policy_unusable";

template <class... Ts> struct Overloaded : Ts... {
    using Ts::operator()...;
};

} // namespace

SessionGuard::SessionGuard(platform::LoginSession session, std::optional<policy::ReauthRules> rules, const Clock &clock,
    policy::EngineState restored, std::chrono::milliseconds agentTimeout, QObject *parent)
    : QObject(parent)
    , m_session(std::move(session))
    , m_rules(std::move(rules))
    , m_clock(clock)
    , m_engine(std::make_unique<policy::DecisionEngine>(
          m_rules.value_or(policy::ReauthRules {}), clock, policy::EngineEnvironment {}, std::move(restored)))
    , m_agentTimeout(agentTimeout)
    , m_saved(m_engine->state())
{
    m_tick.setSingleShot(true);
    m_tick.setTimerType(Qt::VeryCoarseTimer); // the engine keeps whole seconds
    connect(&m_tick, &QTimer::timeout, this, &SessionGuard::tick);
    m_agentSilence.setSingleShot(true);
    m_agentSilence.setInterval(m_agentTimeout);
    connect(&m_agentSilence, &QTimer::timeout, this, [this] { agentDetached(QStringLiteral("agent_silent")); });
}

QString SessionGuard::lockReason() const
{
    if (!m_rules)
        return QLatin1String(kPolicyUnusable);
    const auto &lock = m_engine->state().lock;
    return lock ? policy::reasonString(lock->trigger, lock->detail) : QString();
}

void SessionGuard::begin()
{
    // A kiosk session's person, when the saved state names one: the same session going on, not a new logon.
    handle(m_engine->sessionStarted(m_person.isEmpty() ? m_session.user : m_person, m_session.id));
    if (!m_rules)
        Q_EMIT audited(QStringLiteral("lock_required"), m_session.user, QLatin1String(kPolicyUnusable), {});
    enforce(QStringLiteral("session_started"));
}

void SessionGuard::sessionChanged(const platform::LoginSession &now)
{
    const platform::LoginSession before = m_session;
    m_session = now;
    if (before.locked && !now.locked) {
        // The desktop's locker let someone in. A lock of ours still required
        // and no agent to hold it: lock again at once.
        m_osLockAsked = false;
        if (lockRequired())
            Q_EMIT audited(QStringLiteral("os_unlocked_while_required"), m_session.user, lockReason(), {});
        else if (m_rules)
            handle(m_engine->screenUnlocked(m_session.user));
    }
    if (!m_agentReportsIdle && before.idle != now.idle) {
        if (now.idle && now.idleSinceUs > 0) {
            const auto since = std::chrono::system_clock::time_point(std::chrono::microseconds(now.idleSinceUs));
            handle(m_engine->idleTimeIs(std::chrono::duration_cast<std::chrono::seconds>(m_clock.now() - since)));
        } else if (!now.idle) {
            handle(m_engine->activity());
        }
    }
    enforce(QStringLiteral("session_changed"));
}

void SessionGuard::unlockRequested()
{
    if (!lockRequired())
        return;
    Q_EMIT audited(QStringLiteral("os_unlock_refused"), m_session.user, lockReason(), {});
    m_osLockAsked = false;
    enforce(QStringLiteral("os_unlock_requested"));
}

void SessionGuard::agentAttached()
{
    m_agentPresent = true;
    // The agent holds the lock from now on; should it go, logind is asked again.
    m_osLockAsked = false;
    m_agentSilence.start();
    Q_EMIT audited(QStringLiteral("agent_attached"), m_session.user, {}, {});
    // After the reply to "attach": the agent learns of a lock that is already up.
    QTimer::singleShot(0, this, [this] {
        if (m_agentPresent && lockRequired())
            Q_EMIT agentEvent(lockEvent());
    });
}

void SessionGuard::agentHeartbeat(std::optional<std::chrono::milliseconds> idle)
{
    if (!m_agentPresent)
        agentAttached();
    m_agentSilence.start();
    m_agentReportsIdle = idle.has_value();
    if (idle)
        handle(m_engine->idleTimeIs(std::chrono::duration_cast<std::chrono::seconds>(*idle)));
    enforce(QStringLiteral("heartbeat"));
}

void SessionGuard::agentDetached(const QString &why)
{
    if (!m_agentPresent)
        return;
    m_agentPresent = false;
    m_agentReportsIdle = false;
    m_agentSilence.stop();
    Q_EMIT audited(QStringLiteral("agent_lost"), m_session.user, why, {});
    enforce(why);
}

void SessionGuard::reauthRequested()
{
    handle(m_engine->reauthRequested());
    enforce(QStringLiteral("manual"));
}

void SessionGuard::processStarted(const QString &entry)
{
    handle(m_engine->processStarted(entry));
    enforce(QStringLiteral("sensitive_app"));
}

void SessionGuard::pathTouched(const QString &path)
{
    handle(m_engine->pathTouched(path));
    enforce(QStringLiteral("sensitive_path"));
}

void SessionGuard::deviceInUse(policy::SensitiveDevice device)
{
    handle(m_engine->deviceInUse(device));
    enforce(QStringLiteral("sensitive_device"));
}

void SessionGuard::policyChanged(std::optional<policy::ReauthRules> rules)
{
    const bool wasUnusable = !m_rules;
    m_rules = std::move(rules);
    // The engine's memory (locks, counters) carries over to the new rules.
    m_engine = std::make_unique<policy::DecisionEngine>(
        m_rules.value_or(policy::ReauthRules {}), m_clock, policy::EngineEnvironment {}, m_engine->state());
    networkIs(m_offline);
    if (wasUnusable && m_rules)
        handle(m_engine->sessionStarted(m_session.user, m_session.id));
    enforce(QStringLiteral("policy_changed"));
}

void SessionGuard::osLockResult(const Status &status)
{
    if (!status) {
        // Asked again at the next chance (an unlock, an agent that leaves).
        m_osLockAsked = false;
        Q_EMIT audited(
            QStringLiteral("os_lock_failed"), m_session.user, lockReason(), {{QStringLiteral("error"), status.error().message}});
    }
}

void SessionGuard::signInSucceeded(const QString &signInId, const QJsonObject &proof)
{
    QJsonObject record = proof;
    record.insert(QStringLiteral("sign_in"), signInId);
    // Without usable rules the engine is not asked: only a valid policy lifts policy_unusable.
    // The servers answered: online again.
    networkIs(false);
    if (m_rules)
        handle(m_engine->authSucceeded(m_session.user, policy::AuthMethod::TwoFactor));
    if (lockRequired()) {
        // Locked out meanwhile, or no usable policy: the proof does not lift this lock.
        Q_EMIT audited(QStringLiteral("reauth_not_applied"), m_session.user, lockReason(), record);
        enforce(QStringLiteral("sign_in"));
        return;
    }
    Q_EMIT audited(QStringLiteral("reauth_succeeded"), m_session.user, QStringLiteral("two_factor"), record);
    Q_EMIT agentEvent({{QStringLiteral("event"), QStringLiteral("unlocked")}, {QStringLiteral("session"), m_session.id},
        {QStringLiteral("reason"), QStringLiteral("sign_in")}});
}

void SessionGuard::signInFailed(const QString &signInId, const Error &error)
{
    Q_EMIT audited(QStringLiteral("reauth_failed"), m_session.user, error.codeName(),
        {{QStringLiteral("sign_in"), signInId}, {QStringLiteral("message"), error.message},
            {QStringLiteral("counted"), policy::DecisionEngine::countsAsAttempt(error.code)}});
    // Servers that cannot be reached make this PC offline for the failure policy's grace, as in the tray agent;
    // any other failure but a cancel came from a server that answered.
    if (error.code != ErrorCode::Cancelled)
        networkIs(error.code == ErrorCode::Unreachable || error.code == ErrorCode::Timeout);
    handle(m_engine->authFailed(m_session.user, error.code));
    // The agent learns that no sign-in is possible until the lockout ends.
    if (m_agentPresent && lockRequired() && userLockedOut())
        Q_EMIT agentEvent(lockEvent());
    enforce(QStringLiteral("sign_in_failed"));
}

void SessionGuard::networkIs(bool offline)
{
    m_offline = offline;
    m_engine->networkState(offline ? policy::Network::Offline : policy::Network::Online);
}

QString SessionGuard::offlineUnlockRefusal() const
{
    if (!m_rules)
        return QLatin1String(kPolicyUnusable);
    // A copy of the engine: asking the real one would use up an offline unlock before the password is known.
    policy::DecisionEngine trial(*m_rules, m_clock, policy::EngineEnvironment {}, m_engine->state());
    trial.networkState(m_offline ? policy::Network::Offline : policy::Network::Online);
    for (const policy::Decision &decision : trial.offlineUnlockRequested(m_session.user))
        if (const auto *refused = std::get_if<policy::OfflineRefused>(&decision))
            return refused->why;
    return {};
}

QString SessionGuard::offlineUnlockVerified()
{
    if (!m_rules)
        return QLatin1String(kPolicyUnusable);
    QString why;
    std::optional<int> usesLeft;
    QList<policy::Decision> others;
    for (const policy::Decision &decision : m_engine->offlineUnlockRequested(m_session.user)) {
        if (const auto *granted = std::get_if<policy::OfflineGranted>(&decision)) {
            usesLeft = granted->usesLeft;
            Q_EMIT audited(QStringLiteral("offline_unlock_granted"), m_session.user, granted->reason,
                {{QStringLiteral("uses_left"), granted->usesLeft}, {QStringLiteral("factor"), QStringLiteral("password")}});
        } else if (const auto *refused = std::get_if<policy::OfflineRefused>(&decision)) {
            why = refused->why;
        } else {
            others << decision;
        }
    }
    handle(others); // notify_admin; the state is saved
    if (!usesLeft) {
        // Something changed while PAM was asked (a sign-in, a new policy): the engine's word now counts.
        Q_EMIT audited(QStringLiteral("offline_unlock_refused"), m_session.user, why, {});
        enforce(QStringLiteral("offline_unlock"));
        return why.isEmpty() ? QStringLiteral("not_granted") : why;
    }
    Q_EMIT agentEvent({{QStringLiteral("event"), QStringLiteral("unlocked")}, {QStringLiteral("session"), m_session.id},
        {QStringLiteral("reason"), QStringLiteral("offline")}, {QStringLiteral("uses_left"), *usesLeft}});
    return {};
}

void SessionGuard::offlineUnlockFailed(const QString &detail)
{
    Q_EMIT audited(QStringLiteral("offline_unlock_refused"), m_session.user, QStringLiteral("wrong_password"),
        {{QStringLiteral("pam"), detail}});
    handle(m_engine->authFailed(m_session.user, ErrorCode::AccessDenied));
    if (m_agentPresent && lockRequired() && userLockedOut())
        Q_EMIT agentEvent(lockEvent());
    enforce(QStringLiteral("offline_unlock_failed"));
}

bool SessionGuard::userLockedOut() const
{
    const auto &lock = m_engine->state().lock;
    if (lock && lock->trigger == policy::Trigger::Lockout)
        return true;
    const auto until = m_engine->lockedOutUntil(m_session.user);
    return until && *until > m_clock.now();
}

void SessionGuard::handle(const QList<policy::Decision> &decisions)
{
    for (const policy::Decision &decision : decisions)
        handleOne(decision);
    // Saved only when it changed: a heartbeat must not cost two fsyncs.
    if (m_engine->state() != m_saved) {
        m_saved = m_engine->state();
        Q_EMIT stateChanged();
    }
    scheduleTick();
}

AuditedDecision auditedDecision(const policy::Decision &decision)
{
    QJsonObject record = policy::decisionToJson(decision);
    AuditedDecision audited {policy::decisionName(decision), record.take(QStringLiteral("user")).toString(),
        record.take(QStringLiteral("reason")).toString(), {}};
    record.remove(QStringLiteral("decision"));
    audited.extra = record;
    return audited;
}

void SessionGuard::handleOne(const policy::Decision &decision)
{
    const AuditedDecision record = auditedDecision(decision);
    Q_EMIT audited(record.event, record.user.isEmpty() ? m_session.user : record.user, record.reason, record.extra);
    std::visit(Overloaded {
                   [this](const policy::RequireReauth &) { Q_EMIT agentEvent(lockEvent()); },
                   [this](const policy::Lock &) { Q_EMIT agentEvent(lockEvent()); },
                   [this](const policy::Notify &notice) {
                       Q_EMIT agentEvent({{QStringLiteral("event"), QStringLiteral("notify")},
                           {QStringLiteral("trigger"), policy::triggerName(notice.trigger)},
                           {QStringLiteral("minutes"), notice.minutes}});
                   },
                   [this](const policy::NotifyAdmin &notice) {
                       Q_EMIT adminEvent(notice.event, notice.user.isEmpty() ? m_session.user : notice.user, notice.detail);
                   },
                   [](const auto &) {},
               },
        decision);
}

void SessionGuard::tick()
{
    // Without an agent the desktop's idle hint is the only word on input:
    // while it says "not idle" the person is there.
    if (!m_agentReportsIdle && !m_session.idle)
        m_engine->activity();
    handle(m_engine->tick());
    enforce(QStringLiteral("tick"));
}

void SessionGuard::scheduleTick()
{
    const auto deadline = m_engine->nextDeadline();
    if (!deadline) {
        m_tick.stop();
        return;
    }
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - m_clock.now());
    // One timer at the engine's next deadline: no polling.
    m_tick.start(std::max(wait, 0ms) + 50ms);
}

void SessionGuard::enforce(const QString &cause)
{
    if (!lockRequired()) {
        m_osLockAsked = false;
        return;
    }
    QString why;
    if (m_session.needsOsLock())
        why = QStringLiteral("no_client_lock_on_%1").arg(m_session.type);
    else if (!m_agentPresent)
        why = QStringLiteral("agent_missing");
    else if (m_alwaysOsLock)
        why = QStringLiteral("policy_os_lock_always");
    if (why.isEmpty() || m_osLockAsked)
        return;
    m_osLockAsked = true;
    Q_EMIT audited(QStringLiteral("os_lock"), m_session.user, lockReason(),
        {{QStringLiteral("why"), why}, {QStringLiteral("cause"), cause}});
    Q_EMIT osLockNeeded(why);
}

QJsonObject SessionGuard::lockEvent() const
{
    // A lockout that came while another lock was up leaves that lock's reason: the user's record says it.
    return withKiosk({{QStringLiteral("event"), QStringLiteral("lock")}, {QStringLiteral("session"), m_session.id},
        {QStringLiteral("user"), m_session.user}, {QStringLiteral("reason"), lockReason()},
        {QStringLiteral("sign_in"), bool(m_rules) && !userLockedOut()}});
}

QJsonObject SessionGuard::toJson() const
{
    QJsonObject lock {{QStringLiteral("required"), lockRequired()}};
    if (lockRequired())
        lock.insert(QStringLiteral("reason"), lockReason());
    return withKiosk({{QStringLiteral("id"), m_session.id}, {QStringLiteral("user"), m_session.user},
        {QStringLiteral("uid"), double(m_session.uid)}, {QStringLiteral("type"), m_session.type},
        {QStringLiteral("seat"), m_session.seat}, {QStringLiteral("active"), m_session.active},
        {QStringLiteral("os_locked"), m_session.locked}, {QStringLiteral("agent"), m_agentPresent},
        {QStringLiteral("lock"), lock}});
}

} // namespace hotdesk::daemon

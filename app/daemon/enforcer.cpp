// The policy and logind's sessions brought together: one guard per user session, saved after every change.
#include "enforcer.h"

#include "daemonserver.h"
#include "machinewatchers.h"
#include "passwordcheck.h"
#include "pushservice.h"
#include "sessionguard.h"
#include "signinservice.h"

#include "core/jose/strictjson.h"
#include "core/policy/policy.h"
#include "core/platform/linux/linuxprocesswatcher.h"
#include "core/policy/policystore.h"
#include "core/store/agentstate.h"
#include "core/store/filesecretstore.h"
#include "core/store/recoverycodestore.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QPointer>
#include <QRegularExpression>

namespace hotdesk::daemon {
namespace {

constexpr qint64 kMaxStateFileBytes = 1024 * 1024;

Result<QJsonObject> readJsonFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(ErrorCode::Io, QStringLiteral("cannot read %1: %2").arg(path, file.errorString()));
    const QByteArray text = file.read(kMaxStateFileBytes + 1);
    if (text.size() > kMaxStateFileBytes)
        return fail(ErrorCode::Malformed, QStringLiteral("%1 is larger than 1 MiB").arg(path));
    return jose::parseStrictJsonObject(text);
}


} // namespace

bool isSafeSessionId(const QString &id)
{
    static const QRegularExpression safe(QStringLiteral("^[A-Za-z0-9_-]{1,64}$"));
    return safe.match(id).hasMatch();
}

Enforcer::Enforcer(EnforcerOptions options, const Clock &clock, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
    , m_clock(clock)
    , m_passwords(std::make_unique<PasswordCheck>(m_options.pamConfDir))
{
}

Enforcer::~Enforcer() = default;

std::optional<policy::ReauthRules> Enforcer::currentRules() const
{
    if (!m_policy || !m_policy->hasPolicy())
        return std::nullopt;
    return policy::reauthRules(m_policy->policy());
}

std::optional<policy::ServerSettings> Enforcer::servers() const
{
    if (!m_policy || !m_policy->hasPolicy())
        return std::nullopt;
    return m_policy->policy().servers;
}

void Enforcer::start()
{
    QDir().mkpath(QDir(m_options.stateDir).filePath(QStringLiteral("sessions")));
    // Read once: from now on the daemon is the only writer of the file.
    if (const auto users = readJsonFile(usersFile()))
        if (auto known = policy::EngineState::fromJson(*users))
            m_users = known->users;
    m_policy = std::make_unique<policy::PolicyStore>(m_options.policyFile);
    // Only root's file, which no one else can write (policy.md, "Who may change it").
    m_policy->requireTrustedFile(0);
    if (!m_policy->start())
        Q_EMIT audited(
            QStringLiteral("policy_unusable"), {}, {}, m_policy->reason(), {{QStringLiteral("file"), m_options.policyFile}});
    rebuildSignIn();
    const auto applyPolicy = [this] {
        Q_EMIT audited(QStringLiteral("policy_applied"), {}, {}, {}, {{QStringLiteral("file"), m_options.policyFile}});
        configureWatchers();
        rebuildSignIn();
        for (auto &[id, guard] : m_guards) {
            applyEnforcement(*guard);
            guard->policyChanged(currentRules());
        }
    };
    connect(m_policy.get(), &policy::PolicyStore::policyChanged, this, applyPolicy);
    connect(m_policy.get(), &policy::PolicyStore::policyRejected, this, [this](const QList<policy::PolicyProblem> &) {
        Q_EMIT audited(QStringLiteral("policy_rejected"), {}, {},
            m_policy->hasPolicy() ? QStringLiteral("the last valid policy stays") : m_policy->reason(),
            {{QStringLiteral("file"), m_options.policyFile}});
    });

    startMachineWatchers();
    m_logind = std::make_unique<platform::LogindSessions>(
        platform::LogindSessions::Options {m_options.systemBus, std::chrono::milliseconds(3000)});
    connect(m_logind.get(), &platform::LogindSessions::added, this, &Enforcer::addSession);
    connect(m_logind.get(), &platform::LogindSessions::removed, this, &Enforcer::removeSession);
    connect(m_logind.get(), &platform::LogindSessions::changed, this, [this](const platform::LoginSession &session) {
        if (SessionGuard *guard = guardFor(session.id))
            guard->sessionChanged(session);
    });
    connect(m_logind.get(), &platform::LogindSessions::unlockRequested, this, [this](const QString &id) {
        if (SessionGuard *guard = guardFor(id))
            guard->unlockRequested();
    });
    connect(m_logind.get(), &platform::LogindSessions::ready, this, &Enforcer::ready);
    connect(m_logind.get(), &platform::LogindSessions::failed, this, [this](const Error &error) {
        m_logindProblem = error.message;
        Q_EMIT audited(QStringLiteral("logind_unavailable"), {}, {}, error.message, {});
        Q_EMIT ready();
    });
    m_logind->start();

    // Every process on the machine, not only the session user's: a program
    // started through su, sudo or another login still counts for its session.
    platform::LinuxProcessWatcher::Options watching;
    watching.procRoot = m_options.procRoot;
    watching.ownProcessesOnly = false;
    m_processes = std::make_unique<platform::LinuxProcessWatcher>(watching);
    connect(m_processes.get(), &platform::ProcessWatcher::processStarted, this, &Enforcer::processStarted);
    connect(m_processes.get(), &platform::ProcessWatcher::problem, this,
        [this](const QString &message) { Q_EMIT audited(QStringLiteral("watcher_problem"), {}, {}, message, {}); });
    configureWatchers();
}

void Enforcer::startMachineWatchers()
{
    m_machine = std::make_unique<MachineWatchers>(
        MachineWatchers::Options {m_options.procRoot, m_options.devRoot}, [this] { return followedSessions(); });
    connect(m_machine.get(), &MachineWatchers::pathTouched, this, [this](const QString &id, const QString &path) {
        if (SessionGuard *guard = guardFor(id))
            guard->pathTouched(path);
    });
    connect(m_machine.get(), &MachineWatchers::deviceInUse, this, [this](const QString &id, policy::SensitiveDevice device) {
        if (SessionGuard *guard = guardFor(id))
            guard->deviceInUse(device);
    });
    connect(m_machine.get(), &MachineWatchers::problem, this,
        [this](const QString &message) { Q_EMIT audited(QStringLiteral("watcher_problem"), {}, {}, message, {}); });
    // Once the sessions are read: a device in use then counts for its holder's session.
    connect(this, &Enforcer::ready, m_machine.get(), &MachineWatchers::start);
}

void Enforcer::configureWatchers()
{
    const bool usable = m_policy && m_policy->hasPolicy();
    if (m_machine)
        m_machine->configure(usable ? m_policy->policy().triggers.sensitivePaths : QStringList(),
            usable ? m_policy->policy().triggers.sensitiveDevices : QList<policy::SensitiveDevice>());
    if (!m_processes)
        return;
    const QStringList apps = usable ? m_policy->policy().triggers.sensitiveApps : QStringList();
    // By name as before, and by the installed program's content, so that a renamed copy is known too.
    m_processes->setIdentities(platform::identifyPrograms(apps, platform::programSearchPath()));
    m_processes->setNames(apps);
}

void Enforcer::processStarted(const QString &entry, qint64 pid)
{
    // The logind session of its cgroup (".../session-ID.scope"); else every session of its owner.
    for (const QString &id : sessionsOfProcess(m_options.procRoot, pid, followedSessions()))
        if (SessionGuard *guard = guardFor(id))
            guard->processStarted(entry);
}

QList<platform::LoginSession> Enforcer::followedSessions() const
{
    QList<platform::LoginSession> sessions;
    for (const auto &[id, guard] : m_guards)
        sessions << guard->session();
    return sessions;
}

SessionGuard *Enforcer::guardFor(const QString &id) const
{
    const auto it = m_guards.find(id);
    return it == m_guards.end() ? nullptr : it->second.get();
}

QList<SessionGuard *> Enforcer::guardsOfUser(const QString &user) const
{
    QList<SessionGuard *> guards;
    for (const auto &[id, guard] : m_guards)
        if (guard->session().user == user)
            guards << guard.get();
    return guards;
}

Status Enforcer::saveUsers() const
{
    policy::EngineState users;
    users.users = m_users;
    return store::writeStateFile(usersFile(), users.toJson());
}

QString Enforcer::usersFile() const
{
    return QDir(m_options.stateDir).filePath(QStringLiteral("engine-users.json"));
}

QString Enforcer::sessionFile(const QString &id) const
{
    return QDir(m_options.stateDir).filePath(QStringLiteral("sessions/%1.json").arg(id));
}

policy::EngineState Enforcer::restoredState(const platform::LoginSession &session) const
{
    policy::EngineState state;
    // Every user's record (counters, lockouts, last 2FA) outlives their sessions.
    state.users = m_users;
    const auto saved = readJsonFile(sessionFile(session.id));
    if (!saved)
        return state;
    // Ids start again after a reboot: only the same session's start time makes it the same session.
    if (saved->value(QLatin1String("started_us")).toString() != QString::number(session.startedUs))
        return state;
    auto engine = policy::EngineState::fromJson(saved->value(QLatin1String("engine")).toObject());
    if (!engine) {
        // A damaged file must not unlock: the session starts locked.
        state.lock = policy::LockRecord {session.user, policy::Trigger::Manual, QStringLiteral("state_damaged")};
        return state;
    }
    engine->users.insert(state.users); // the users file is newer for other sessions' users
    return *engine;
}

void Enforcer::addSession(const platform::LoginSession &session)
{
    if (!session.isUserSession() || session.remote || m_guards.count(session.id))
        return;
    if (!isSafeSessionId(session.id)) {
        Q_EMIT audited(QStringLiteral("session_ignored"), session.user, session.id, QStringLiteral("unusual session id"), {});
        return;
    }
    const policy::EngineState restored = restoredState(session);
    m_usersOfGuard.insert(session.id, restored.users);
    auto guard = std::make_unique<SessionGuard>(session, currentRules(), m_clock, restored, m_options.agentTimeout);
    SessionGuard *raw = guard.get();
    connect(raw, &SessionGuard::stateChanged, this, [this, raw] { save(*raw); });
    connect(raw, &SessionGuard::audited, this,
        [this, raw](const QString &event, const QString &user, const QString &reason, const QJsonObject &extra) {
            Q_EMIT audited(event, user, raw->session().id, reason, extra);
        });
    connect(raw, &SessionGuard::adminEvent, this, [this, raw](const QString &event, const QString &user, const QString &detail) {
        queueAdminEvent(event, user, raw->session().id, detail);
    });
    connect(raw, &SessionGuard::osLockNeeded, this, [this, raw](const QString &) {
        m_logind->lock(raw->session().id, [raw = QPointer<SessionGuard>(raw)](const Status &status) {
            if (raw)
                raw->osLockResult(status);
        });
    });
    connect(raw, &SessionGuard::agentEvent, this, [this, raw](const QJsonObject &event) {
        for (auto it = m_agents.cbegin(); it != m_agents.cend(); ++it)
            if (it.value() == raw->session().id)
                const_cast<Connection *>(it.key())->send(event);
    });
    applyEnforcement(*raw);
    raw->restorePerson(restoredPerson(session));
    m_guards.emplace(session.id, std::move(guard));
    Q_EMIT audited(QStringLiteral("session_followed"), session.user, session.id, session.type, {});
    raw->begin();
    if (m_machine)
        m_machine->sessionStarted(session.id);
}

void Enforcer::removeSession(const QString &id)
{
    const auto it = m_guards.find(id);
    if (it == m_guards.end())
        return;
    Q_EMIT audited(QStringLiteral("session_ended"), it->second->session().user, id, {}, {});
    cancelSignInOfSession(id);
    m_guards.erase(it);
    m_usersOfGuard.remove(id);
    QFile::remove(sessionFile(id));
}

void Enforcer::save(const SessionGuard &guard)
{
    QJsonObject file {{QStringLiteral("started_us"), QString::number(guard.session().startedUs)},
        {QStringLiteral("engine"), guard.engineState().toJson()}};
    if (!guard.person().isEmpty())
        file.insert(QStringLiteral("person"), guard.person()); // a kiosk session's person (restoredPerson)
    Status saved = store::writeStateFile(sessionFile(guard.session().id), file);
    if (saved) {
        QMap<QString, policy::UserRecord> &before = m_usersOfGuard[guard.session().id];
        const QMap<QString, policy::UserRecord> &now = guard.engineState().users;
        for (auto it = now.cbegin(); it != now.cend(); ++it)
            if (!before.contains(it.key()) || before.value(it.key()) != it.value())
                m_users.insert(it.key(), it.value());
        before = now;
        saved = saveUsers();
    }
    if (!saved)
        Q_EMIT audited(QStringLiteral("state_not_saved"), guard.session().user, guard.session().id, saved.error().message, {});
}

} // namespace hotdesk::daemon

// The re-authentication rules of docs/decision-engine.md, evaluated on events and on the clock.
#include "decisionengine.h"

#include "serverpolicy.h"

#include <QDateTime>
#include <QDir>
#include <QJsonArray>

#include <algorithm>
#include <cmath>
#include <iterator>

namespace hotdesk::policy {

using namespace std::chrono_literals;

QString sensitiveDeviceName(SensitiveDevice device)
{
    switch (device) {
    case SensitiveDevice::Camera:
        return QStringLiteral("camera");
    case SensitiveDevice::Microphone:
        return QStringLiteral("microphone");
    }
    return QStringLiteral("unknown");
}

std::optional<SensitiveDevice> sensitiveDeviceFromName(QStringView name)
{
    if (name == u"camera")
        return SensitiveDevice::Camera;
    if (name == u"microphone")
        return SensitiveDevice::Microphone;
    return std::nullopt;
}

namespace {

constexpr std::pair<Trigger, const char16_t *> kTriggerNames[] = {
    {Trigger::FirstLogon, u"first_logon"},
    {Trigger::MaxSession, u"max_session"},
    {Trigger::Idle, u"idle"},
    {Trigger::OnUnlock, u"on_unlock"},
    {Trigger::SensitiveApp, u"sensitive_app"},
    {Trigger::SensitivePath, u"sensitive_path"},
    {Trigger::SensitiveDevice, u"sensitive_device"},
    {Trigger::Schedule, u"schedule"},
    {Trigger::Lockout, u"locked_out"},
    {Trigger::Manual, u"manual"},
};

const QString kLockedOut = QStringLiteral("locked_out");

} // namespace

QString triggerName(Trigger trigger)
{
    for (const auto &[t, name] : kTriggerNames) {
        if (t == trigger)
            return QString::fromUtf16(name);
    }
    return QStringLiteral("unknown");
}

std::optional<Trigger> triggerFromName(QStringView name)
{
    for (const auto &[t, n] : kTriggerNames) {
        if (name == QStringView(n))
            return t;
    }
    return std::nullopt;
}

QString reasonString(Trigger trigger, const QString &detail)
{
    // The path prefix stays out of the reason: reasons are aggregated on the
    // DAS events feed, and a directory name can say more than the admin wants there.
    if (trigger == Trigger::SensitiveApp || trigger == Trigger::SensitiveDevice)
        return QString(triggerName(trigger) + u':' + detail);
    return triggerName(trigger);
}

namespace {

QString isoTime(Instant t)
{
    return QDateTime::fromSecsSinceEpoch(t.time_since_epoch().count(), Qt::UTC).toString(Qt::ISODate);
}

template <class... Ts> struct Overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts> Overloaded(Ts...) -> Overloaded<Ts...>;

} // namespace

QString decisionName(const Decision &decision)
{
    static const char16_t *const names[] = {u"require_reauth", u"notify", u"lock", u"lock_out_user", u"notify_admin",
        u"require_credentials", u"offline_granted", u"offline_refused"};
    static_assert(std::size(names) == std::variant_size_v<Decision>);
    return QString::fromUtf16(names[decision.index()]);
}

QJsonObject decisionToJson(const Decision &decision)
{
    QJsonObject o = std::visit(
        Overloaded {
            [](const RequireReauth &d) {
                QJsonObject j {{QStringLiteral("user"), d.user}, {QStringLiteral("reason"), d.reason()}};
                if (!d.detail.isEmpty())
                    j.insert(QStringLiteral("detail"), d.detail);
                if (!d.acrValues.isEmpty())
                    j.insert(QStringLiteral("acr_values"), QJsonArray::fromStringList(d.acrValues));
                return j;
            },
            [](const Notify &d) {
                return QJsonObject {{QStringLiteral("user"), d.user}, {QStringLiteral("reason"), triggerName(d.trigger)},
                    {QStringLiteral("at"), isoTime(d.at)}, {QStringLiteral("minutes"), d.minutes}};
            },
            [](const Lock &d) {
                return QJsonObject {{QStringLiteral("user"), d.user}, {QStringLiteral("reason"), d.reason}};
            },
            [](const LockOutUser &d) {
                return QJsonObject {{QStringLiteral("user"), d.user}, {QStringLiteral("until"), isoTime(d.until)},
                    {QStringLiteral("attempts"), d.attempts}};
            },
            [](const NotifyAdmin &d) {
                return QJsonObject {
                    {QStringLiteral("event"), d.event}, {QStringLiteral("user"), d.user}, {QStringLiteral("detail"), d.detail}};
            },
            [](const RequireCredentials &d) {
                return QJsonObject {{QStringLiteral("user"), d.user}};
            },
            [](const OfflineGranted &d) {
                return QJsonObject {{QStringLiteral("user"), d.user}, {QStringLiteral("uses_left"), d.usesLeft},
                    {QStringLiteral("reason"), d.reason}};
            },
            [](const OfflineRefused &d) {
                return QJsonObject {{QStringLiteral("user"), d.user}, {QStringLiteral("why"), d.why}};
            },
        },
        decision);
    o.insert(QStringLiteral("decision"), decisionName(decision));
    return o;
}

// ---- state (de)serialization ---------------------------------------------

namespace {

constexpr int kStateVersion = 1;
// 9999-12-31: far enough, and exact in a double.
constexpr double kMaxSeconds = 253402300799.0;

tl::unexpected<Error> damaged(const QString &member, const QString &problem)
{
    return fail(ErrorCode::Malformed,
        QStringLiteral("the re-authentication state is damaged (\"%1\" %2); the agent starts locked, "
                       "and the next successful sign-in writes a new state")
            .arg(member, problem));
}

qint64 seconds(Instant t)
{
    return t.time_since_epoch().count();
}

Result<Instant> instantOf(const QJsonValue &v, const QString &member)
{
    const double d = v.toDouble(-1);
    if (!v.isDouble() || d < 0 || d > kMaxSeconds || std::floor(d) != d)
        return damaged(member, QStringLiteral("is not a time in whole seconds since 1970"));
    return Instant(std::chrono::seconds(qint64(d)));
}

Status onlyMembers(const QJsonObject &o, std::initializer_list<const char *> names, const QString &where)
{
    for (auto it = o.begin(); it != o.end(); ++it) {
        const bool known = std::any_of(names.begin(), names.end(), [&](const char *n) { return it.key() == QLatin1String(n); });
        if (!known)
            return damaged(where.isEmpty() ? it.key() : QString(where + u'.' + it.key()), QStringLiteral("is not known"));
    }
    return {};
}

Result<QString> stringOf(const QJsonObject &o, const char *name, const QString &where, bool allowEmpty)
{
    const QJsonValue v = o.value(QLatin1String(name));
    if (!v.isString() || (!allowEmpty && v.toString().isEmpty()))
        return damaged(QString(where + u'.' + QLatin1String(name)),
            allowEmpty ? QStringLiteral("is not a string") : QStringLiteral("is not a non-empty string"));
    return v.toString();
}

// Reads an optional time member into `out`.
Status optionalInstant(const QJsonObject &o, const char *name, const QString &where, std::optional<Instant> &out)
{
    const QJsonValue v = o.value(QLatin1String(name));
    if (v.isUndefined())
        return {};
    auto t = instantOf(v, where.isEmpty() ? QString(QLatin1String(name)) : QString(where + u'.' + QLatin1String(name)));
    if (!t)
        return tl::unexpected(t.error());
    out = *t;
    return {};
}

Result<UserRecord> userRecordOf(const QJsonValue &value, const QString &where)
{
    if (!value.isObject())
        return damaged(where, QStringLiteral("is not an object"));
    const QJsonObject o = value.toObject();
    if (auto ok = onlyMembers(o, {"last_success", "failures", "failed_since_success", "locked_out_until", "offline_uses"}, where);
        !ok)
        return tl::unexpected(ok.error());
    UserRecord r;
    if (auto ok = optionalInstant(o, "last_success", where, r.lastSuccess); !ok)
        return tl::unexpected(ok.error());
    if (auto ok = optionalInstant(o, "locked_out_until", where, r.lockedOutUntil); !ok)
        return tl::unexpected(ok.error());
    const QJsonValue failures = o.value(QLatin1String("failures"));
    if (!failures.isUndefined()) {
        if (!failures.isArray() || failures.toArray().size() > 100)
            return damaged(QString(where + u".failures"), QStringLiteral("is not an array of at most 100 times"));
        for (const QJsonValue &f : failures.toArray()) {
            auto t = instantOf(f, QString(where + u".failures"));
            if (!t)
                return tl::unexpected(t.error());
            r.failures.append(*t);
        }
        if (!std::is_sorted(r.failures.begin(), r.failures.end()))
            return damaged(QString(where + u".failures"), QStringLiteral("is not in time order"));
    }
    const QJsonValue failed = o.value(QLatin1String("failed_since_success"));
    if (!failed.isUndefined() && !failed.isBool())
        return damaged(QString(where + u".failed_since_success"), QStringLiteral("is not true or false"));
    r.failedSinceSuccess = failed.toBool(false);
    const QJsonValue uses = o.value(QLatin1String("offline_uses"));
    if (!uses.isUndefined() && (!uses.isDouble() || uses.toDouble() != uses.toInt(-1) || uses.toInt() < 0))
        return damaged(QString(where + u".offline_uses"), QStringLiteral("is not a whole number >= 0"));
    r.offlineUses = uses.toInt(0);
    return r;
}

} // namespace

QJsonObject EngineState::toJson() const
{
    QJsonObject o {{QStringLiteral("version"), kStateVersion}};
    if (session) {
        QJsonObject s {{QStringLiteral("user"), session->user}, {QStringLiteral("id"), session->id},
            {QStringLiteral("started"), seconds(session->started)}};
        if (session->verified)
            s.insert(QStringLiteral("verified"), seconds(*session->verified));
        o.insert(QStringLiteral("session"), s);
    }
    if (lock)
        o.insert(QStringLiteral("lock"),
            QJsonObject {{QStringLiteral("user"), lock->user}, {QStringLiteral("trigger"), triggerName(lock->trigger)},
                {QStringLiteral("detail"), lock->detail}});
    QJsonObject u;
    for (auto it = users.begin(); it != users.end(); ++it) {
        const UserRecord &r = it.value();
        QJsonObject j;
        if (r.lastSuccess)
            j.insert(QStringLiteral("last_success"), seconds(*r.lastSuccess));
        if (!r.failures.isEmpty()) {
            QJsonArray f;
            for (Instant t : r.failures)
                f.append(seconds(t));
            j.insert(QStringLiteral("failures"), f);
        }
        if (r.failedSinceSuccess)
            j.insert(QStringLiteral("failed_since_success"), true);
        if (r.lockedOutUntil)
            j.insert(QStringLiteral("locked_out_until"), seconds(*r.lockedOutUntil));
        if (r.offlineUses)
            j.insert(QStringLiteral("offline_uses"), r.offlineUses);
        u.insert(it.key(), j);
    }
    o.insert(QStringLiteral("users"), u);
    if (lastScheduleFired)
        o.insert(QStringLiteral("last_schedule_fired"), seconds(*lastScheduleFired));
    if (notifiedMaxSession)
        o.insert(QStringLiteral("notified_max_session"), seconds(*notifiedMaxSession));
    if (notifiedSchedule)
        o.insert(QStringLiteral("notified_schedule"), seconds(*notifiedSchedule));
    return o;
}

Result<EngineState> EngineState::fromJson(const QJsonObject &o)
{
    if (auto ok = onlyMembers(
            o, {"version", "session", "lock", "users", "last_schedule_fired", "notified_max_session", "notified_schedule"}, {});
        !ok)
        return tl::unexpected(ok.error());
    if (o.value(QLatin1String("version")).toInt(-1) != kStateVersion || !o.value(QLatin1String("version")).isDouble())
        return damaged(QStringLiteral("version"), QStringLiteral("is not %1").arg(kStateVersion));
    EngineState state;
    const QJsonValue session = o.value(QLatin1String("session"));
    if (!session.isUndefined()) {
        const QString where = QStringLiteral("session");
        if (!session.isObject())
            return damaged(where, QStringLiteral("is not an object"));
        const QJsonObject s = session.toObject();
        if (auto ok = onlyMembers(s, {"user", "id", "started", "verified"}, where); !ok)
            return tl::unexpected(ok.error());
        SessionRecord r;
        auto user = stringOf(s, "user", where, false);
        auto id = stringOf(s, "id", where, true);
        auto started = instantOf(s.value(QLatin1String("started")), QStringLiteral("session.started"));
        if (!user || !id || !started)
            return tl::unexpected(!user ? user.error() : !id ? id.error() : started.error());
        r.user = *user;
        r.id = *id;
        r.started = *started;
        if (auto ok = optionalInstant(s, "verified", where, r.verified); !ok)
            return tl::unexpected(ok.error());
        state.session = r;
    }
    const QJsonValue lock = o.value(QLatin1String("lock"));
    if (!lock.isUndefined()) {
        const QString where = QStringLiteral("lock");
        if (!lock.isObject())
            return damaged(where, QStringLiteral("is not an object"));
        const QJsonObject l = lock.toObject();
        if (auto ok = onlyMembers(l, {"user", "trigger", "detail"}, where); !ok)
            return tl::unexpected(ok.error());
        auto user = stringOf(l, "user", where, false);
        auto trigger = stringOf(l, "trigger", where, false);
        auto detail = stringOf(l, "detail", where, true);
        if (!user || !trigger || !detail)
            return tl::unexpected(!user ? user.error() : !trigger ? trigger.error() : detail.error());
        const auto t = triggerFromName(*trigger);
        if (!t)
            return damaged(QStringLiteral("lock.trigger"), QStringLiteral("is not a known trigger"));
        state.lock = LockRecord {*user, *t, *detail};
    }
    const QJsonValue users = o.value(QLatin1String("users"));
    if (!users.isUndefined()) {
        if (!users.isObject())
            return damaged(QStringLiteral("users"), QStringLiteral("is not an object"));
        const QJsonObject u = users.toObject();
        for (auto it = u.begin(); it != u.end(); ++it) {
            if (it.key().isEmpty())
                return damaged(QStringLiteral("users"), QStringLiteral("has an empty user name"));
            auto record = userRecordOf(it.value(), QString(u"users." + it.key()));
            if (!record)
                return tl::unexpected(record.error());
            state.users.insert(it.key(), *record);
        }
    }
    for (auto [name, field] : {std::pair {"last_schedule_fired", &state.lastScheduleFired},
             std::pair {"notified_max_session", &state.notifiedMaxSession},
             std::pair {"notified_schedule", &state.notifiedSchedule}}) {
        if (auto ok = optionalInstant(o, name, {}, *field); !ok)
            return tl::unexpected(ok.error());
    }
    return state;
}

// ---- matching --------------------------------------------------------------

namespace {

QString lastComponent(const QString &path, NameMatching names)
{
    qsizetype slash = path.lastIndexOf(u'/');
    if (names == NameMatching::Windows)
        slash = std::max(slash, path.lastIndexOf(u'\\'));
    return path.mid(slash + 1);
}

QString withoutExe(QString name)
{
    if (name.endsWith(QLatin1String(".exe"), Qt::CaseInsensitive))
        name.chop(4);
    return name;
}

// Exact: the process's name equals the entry. Windows: case-insensitive, and
// "payroll" and "payroll.exe" name the same program.
bool appMatches(const QString &entry, const QString &process, NameMatching names)
{
    const QString name = lastComponent(process, names);
    if (entry.isEmpty() || name.isEmpty())
        return false;
    if (names == NameMatching::Exact)
        return name == entry;
    return withoutExe(name).compare(withoutExe(entry), Qt::CaseInsensitive) == 0;
}

QString normalPath(QString path, NameMatching names)
{
    if (names == NameMatching::Windows)
        path.replace(u'\\', u'/');
    // Pure string work, no file system access: "a/../b" cannot dodge a prefix.
    path = QDir::cleanPath(path);
    if (names == NameMatching::Windows)
        path = path.toCaseFolded();
    return path;
}

// A prefix matches itself and what lies below it on a directory boundary:
// /srv/payroll matches /srv/payroll/a.xlsx but not /srv/payroll2.
bool pathMatches(const QString &prefix, const QString &path, NameMatching names)
{
    const QString p = normalPath(prefix, names);
    const QString x = normalPath(path, names);
    if (p.isEmpty() || x.isEmpty())
        return false;
    if (p.endsWith(u'/')) // the root, or a drive root such as c:/
        return x.startsWith(p);
    return x == p || (x.startsWith(p) && x.at(p.size()) == u'/');
}

} // namespace

// ---- the engine ------------------------------------------------------------

DecisionEngine::DecisionEngine(ReauthRules rules, const Clock &clock, EngineEnvironment environment, EngineState state)
    : m_rules(std::move(rules))
    , m_clock(clock)
    , m_env(std::move(environment))
    , m_state(std::move(state))
{
}

Instant DecisionEngine::now() const
{
    return std::chrono::floor<std::chrono::seconds>(m_clock.now());
}

bool DecisionEngine::isExempt(const QString &user) const
{
    return m_rules.failure.exemptUsers.contains(user);
}

bool DecisionEngine::lockedOutNow(const QString &user) const
{
    const auto until = lockedOutUntil(user);
    return until && now() < *until;
}

std::optional<Instant> DecisionEngine::lockedOutUntil(const QString &user) const
{
    const auto it = m_state.users.constFind(user);
    if (it == m_state.users.cend() || !it->lockedOutUntil || now() >= *it->lockedOutUntil)
        return std::nullopt;
    return it->lockedOutUntil;
}

QStringList DecisionEngine::acrFor(const QString &user) const
{
    const auto it = m_state.users.constFind(user);
    if (it == m_state.users.cend() || !it->failedSinceSuccess)
        return {};
    return m_rules.failure.alternateMethods;
}

bool DecisionEngine::countsAsAttempt(ErrorCode why)
{
    switch (why) {
    case ErrorCode::Unreachable:
    case ErrorCode::Tls:
    case ErrorCode::ServerError:
    case ErrorCode::MalformedAnswer:
    case ErrorCode::Io:
    case ErrorCode::CryptoFailure:
    case ErrorCode::Keychain:
    case ErrorCode::NotEnrolled:
    case ErrorCode::DeviceUnknown:
    case ErrorCode::PolicyInvalid:
        return false;
    default:
        return true;
    }
}

void DecisionEngine::require(QList<Decision> &out, const QString &user, Trigger trigger, const QString &detail)
{
    if (isExempt(user) || m_state.lock)
        return;
    m_state.lock = LockRecord {user, trigger, detail};
    if (lockedOutNow(user)) {
        out.append(Lock {user, kLockedOut});
        return;
    }
    out.append(RequireReauth {user, trigger, detail, acrFor(user)});
}

void DecisionEngine::requireSensitive(QList<Decision> &out, Trigger trigger, const QString &detail)
{
    if (!m_state.session)
        return;
    const auto &verified = m_state.session->verified;
    if (verified && now() - *verified < m_rules.triggers.sensitiveQuietPeriod)
        return;
    require(out, m_state.session->user, trigger, detail);
}

QList<Decision> DecisionEngine::sessionStarted(const QString &user, const QString &sessionId)
{
    QList<Decision> out;
    const Instant t = now();
    const bool resumed
        = m_state.session && !sessionId.isEmpty() && m_state.session->id == sessionId && m_state.session->user == user;
    if (!resumed)
        m_state.session = SessionRecord {user, sessionId, t, std::nullopt};
    m_idleSince = t;
    m_idleFired = false;
    if (isExempt(user)) {
        // Break-glass accounts are never asked, not even by a lock another user left behind.
        m_state.lock.reset();
        return out;
    }
    if (m_state.lock) {
        // Fail closed: the agent died (or the PC restarted) while the lock was up.
        // Whoever logs on must re-authenticate, for the reason saved.
        const LockRecord saved = *m_state.lock;
        m_state.lock.reset();
        require(out, user, saved.trigger, saved.detail);
        return out;
    }
    // An agent restart in the same session is not a logon.
    if (const auto period = m_rules.triggers.firstLogonIn; period && !resumed) {
        const auto it = m_state.users.constFind(user);
        const std::optional<Instant> last = it == m_state.users.cend() ? std::nullopt : it->lastSuccess;
        bool needed = !last;
        if (last && *period == std::chrono::days(1)) {
            const auto day = [this](Instant i) { return QDateTime::fromSecsSinceEpoch(seconds(i), m_env.timeZone).date(); };
            needed = day(*last) != day(t);
        } else if (last) {
            needed = t - *last >= *period;
        }
        if (needed)
            require(out, user, Trigger::FirstLogon);
    }
    evaluateTimers(out);
    return out;
}

QList<Decision> DecisionEngine::screenUnlocked(const QString &user)
{
    QList<Decision> out;
    if (!m_state.session)
        m_state.session = SessionRecord {user, {}, now(), std::nullopt};
    if (!m_state.lock)
        m_state.session->user = user;
    m_idleSince = now();
    m_idleFired = false;
    if (m_rules.triggers.onUnlock)
        require(out, user, Trigger::OnUnlock);
    return out;
}

QList<Decision> DecisionEngine::idleTimeIs(std::chrono::seconds idle)
{
    QList<Decision> out;
    const Instant since = now() - std::max(idle, 0s);
    // A later start than the one known means there was input in between: a
    // new idle period. A second of slack absorbs rounding in the platform's answer.
    if (!m_idleSince || since > *m_idleSince + 1s) {
        m_idleSince = since;
        m_idleFired = false;
    }
    evaluateTimers(out);
    return out;
}

QList<Decision> DecisionEngine::reauthRequested()
{
    QList<Decision> out;
    if (m_state.session)
        require(out, m_state.session->user, Trigger::Manual);
    return out;
}

QList<Decision> DecisionEngine::activity()
{
    m_idleSince = now();
    m_idleFired = false;
    return {};
}

QList<Decision> DecisionEngine::processStarted(const QString &name)
{
    QList<Decision> out;
    for (const QString &entry : m_rules.triggers.sensitiveApps) {
        if (appMatches(entry, name, m_env.names)) {
            requireSensitive(out, Trigger::SensitiveApp, entry);
            break;
        }
    }
    return out;
}

QList<Decision> DecisionEngine::pathTouched(const QString &path)
{
    QList<Decision> out;
    for (const QString &prefix : m_rules.triggers.sensitivePaths) {
        if (pathMatches(prefix, path, m_env.names)) {
            requireSensitive(out, Trigger::SensitivePath, prefix);
            break;
        }
    }
    return out;
}

QList<Decision> DecisionEngine::deviceInUse(SensitiveDevice device)
{
    QList<Decision> out;
    if (m_rules.triggers.sensitiveDevices.contains(device))
        requireSensitive(out, Trigger::SensitiveDevice, sensitiveDeviceName(device));
    return out;
}

QList<Decision> DecisionEngine::tick()
{
    QList<Decision> out;
    evaluateTimers(out);
    return out;
}

std::optional<Instant> DecisionEngine::maxSessionDeadline() const
{
    if (!m_rules.triggers.maxSession || !m_state.session)
        return std::nullopt;
    return m_state.session->anchor() + *m_rules.triggers.maxSession;
}

std::optional<Instant> DecisionEngine::occurrenceOn(QDate date, QTime at) const
{
    const int secondsOfDay = at.hour() * 3600 + at.minute() * 60;
    // A time skipped by a daylight saving change fires at the first minute
    // after the gap; a repeated time fires once (Qt picks one of the two).
    for (int s = secondsOfDay; s < 86400 && s <= secondsOfDay + 3 * 3600; s += 60) {
        const QDateTime dt(date, QTime::fromMSecsSinceStartOfDay(s * 1000), m_env.timeZone);
        if (dt.isValid())
            return Instant(std::chrono::seconds(dt.toSecsSinceEpoch()));
    }
    return std::nullopt;
}

std::optional<Instant> DecisionEngine::latestOccurrence(Instant at) const
{
    const QDate today = QDateTime::fromSecsSinceEpoch(seconds(at), m_env.timeZone).date();
    std::optional<Instant> best;
    for (const ScheduleEntry &entry : m_rules.triggers.schedule) {
        for (int back = 0; back <= 7; ++back) {
            const QDate date = today.addDays(-back);
            if (!entry.days.contains(Qt::DayOfWeek(date.dayOfWeek())))
                continue;
            const auto occ = occurrenceOn(date, entry.at);
            if (occ && *occ <= at) {
                if (!best || *occ > *best)
                    best = occ;
                break;
            }
        }
    }
    return best;
}

std::optional<Instant> DecisionEngine::nextOccurrence(Instant after) const
{
    const QDate today = QDateTime::fromSecsSinceEpoch(seconds(after), m_env.timeZone).date();
    std::optional<Instant> best;
    for (const ScheduleEntry &entry : m_rules.triggers.schedule) {
        for (int ahead = 0; ahead <= 8; ++ahead) {
            const QDate date = today.addDays(ahead);
            if (!entry.days.contains(Qt::DayOfWeek(date.dayOfWeek())))
                continue;
            const auto occ = occurrenceOn(date, entry.at);
            if (occ && *occ > after) {
                if (!best || *occ < *best)
                    best = occ;
                break;
            }
        }
    }
    return best;
}

// The latest occurrence that has come and is still owed: after the session's
// logon or last re-authentication, and not fired before (restarts included).
std::optional<Instant> DecisionEngine::pendingScheduleOccurrence() const
{
    if (!m_state.session || m_rules.triggers.schedule.isEmpty())
        return std::nullopt;
    const auto occ = latestOccurrence(now());
    if (!occ || *occ <= m_state.session->anchor())
        return std::nullopt;
    if (m_state.lastScheduleFired && *occ <= *m_state.lastScheduleFired)
        return std::nullopt;
    return occ;
}

void DecisionEngine::evaluateTimers(QList<Decision> &out)
{
    if (!m_state.session || m_state.lock || isExempt(m_state.session->user))
        return;
    const QString user = m_state.session->user;
    const Instant t = now();
    const auto &triggers = m_rules.triggers;
    if (triggers.idle && m_idleSince && !m_idleFired && t - *m_idleSince >= *triggers.idle) {
        m_idleFired = true;
        require(out, user, Trigger::Idle);
        return;
    }
    const auto deadline = maxSessionDeadline();
    if (deadline && t >= *deadline) {
        require(out, user, Trigger::MaxSession);
        return;
    }
    if (const auto occ = pendingScheduleOccurrence()) {
        m_state.lastScheduleFired = occ;
        require(out, user, Trigger::Schedule);
        return;
    }
    if (triggers.notifyBefore <= 0s)
        return;
    const auto minutesUntil = [t](Instant at) { return int((at - t + 59s) / 60s); };
    if (deadline && t >= *deadline - triggers.notifyBefore && m_state.notifiedMaxSession != deadline) {
        m_state.notifiedMaxSession = deadline;
        out.append(Notify {user, Trigger::MaxSession, *deadline, minutesUntil(*deadline)});
    }
    const auto next = nextOccurrence(t);
    if (next && t >= *next - triggers.notifyBefore && m_state.notifiedSchedule != next) {
        m_state.notifiedSchedule = next;
        out.append(Notify {user, Trigger::Schedule, *next, minutesUntil(*next)});
    }
}

std::optional<Instant> DecisionEngine::nextDeadline() const
{
    if (!m_state.session || m_state.lock || isExempt(m_state.session->user))
        return std::nullopt;
    std::optional<Instant> best;
    const auto consider = [&best](Instant at) {
        if (!best || at < *best)
            best = at;
    };
    const auto &triggers = m_rules.triggers;
    const bool notices = triggers.notifyBefore > 0s;
    if (triggers.idle && m_idleSince && !m_idleFired)
        consider(*m_idleSince + *triggers.idle);
    if (const auto deadline = maxSessionDeadline()) {
        consider(*deadline);
        if (notices && m_state.notifiedMaxSession != deadline)
            consider(*deadline - triggers.notifyBefore);
    }
    if (pendingScheduleOccurrence()) {
        consider(now());
    } else if (const auto next = nextOccurrence(now())) {
        consider(*next);
        if (notices && m_state.notifiedSchedule != next)
            consider(*next - triggers.notifyBefore);
    }
    return best;
}

QList<Decision> DecisionEngine::authSucceeded(const QString &user, AuthMethod method)
{
    QList<Decision> out;
    if (lockedOutNow(user)) {
        // Only another user may proceed until the lockout ends.
        out.append(Lock {user, kLockedOut});
        return out;
    }
    const Instant t = now();
    UserRecord &record = m_state.users[user];
    record.lastSuccess = t;
    record.failures.clear();
    record.failedSinceSuccess = false;
    record.lockedOutUntil.reset();
    record.offlineUses = 0;
    // Whoever proved who they are at the lock screen now owns the session.
    if (m_state.session && (m_state.lock || m_state.session->user == user)) {
        m_state.session->user = user;
        m_state.session->verified = t;
    }
    m_state.lock.reset();
    m_idleSince = t;
    m_idleFired = false;
    if (method == AuthMethod::RecoveryCode && m_rules.failure.actions.notifyAdmin)
        out.append(NotifyAdmin {QStringLiteral("recovery_code_used"), user,
            QStringLiteral("signed in with a one-time recovery code instead of the phone")});
    return out;
}

QList<Decision> DecisionEngine::authFailed(const QString &user, ErrorCode why)
{
    QList<Decision> out;
    if (!countsAsAttempt(why))
        return out;
    if (lockedOutNow(user)) {
        out.append(Lock {user, kLockedOut});
        return out;
    }
    const Instant t = now();
    const FailureRules &rules = m_rules.failure;
    UserRecord &record = m_state.users[user];
    record.lockedOutUntil.reset();
    record.failedSinceSuccess = true;
    record.failures.removeIf([&](Instant f) { return t - f >= rules.window; });
    record.failures.append(t);
    if (record.failures.size() >= std::max(1, rules.maxAttempts)) {
        const int attempts = int(record.failures.size());
        // The actions run once per max_attempts failures; counting starts again.
        record.failures.clear();
        if (rules.actions.lock) {
            record.lockedOutUntil = t + rules.window;
            if (!m_state.lock)
                m_state.lock = LockRecord {user, Trigger::Lockout, {}};
            out.append(LockOutUser {user, *record.lockedOutUntil, attempts});
        }
        if (rules.actions.requireCredentials)
            out.append(RequireCredentials {user});
        if (rules.actions.notifyAdmin)
            out.append(NotifyAdmin {QStringLiteral("too_many_failures"), user,
                QStringLiteral("%1 failed sign-ins within %2 (last: %3)")
                    .arg(attempts)
                    .arg(formatDuration(rules.window), errorCodeName(why))});
        if (rules.actions.lock)
            return out;
    }
    if (m_state.lock)
        out.append(RequireReauth {user, m_state.lock->trigger, m_state.lock->detail, acrFor(user)});
    return out;
}

QList<Decision> DecisionEngine::networkState(Network network)
{
    m_offline = network == Network::Offline;
    return {};
}

QList<Decision> DecisionEngine::offlineUnlockRequested(const QString &user)
{
    QList<Decision> out;
    const auto refuse = [&](const char *why) {
        out.append(OfflineRefused {user, QLatin1String(why)});
        return out;
    };
    if (!m_state.lock)
        return refuse("not_locked");
    // No one can claim another account offline: the grace is for the user the lock is for.
    if (m_state.lock->user != user)
        return refuse("other_user");
    if (!m_offline)
        return refuse("online");
    if (lockedOutNow(user))
        return refuse("locked_out");
    const auto &grace = m_rules.failure.offlineGrace;
    if (!grace)
        return refuse("offline_deny");
    const Instant t = now();
    UserRecord &record = m_state.users[user];
    if (!record.lastSuccess || t - *record.lastSuccess > grace->grace)
        return refuse("no_recent_2fa");
    if (record.offlineUses >= grace->maxUses)
        return refuse("grace_used_up");
    ++record.offlineUses;
    const QString reason = reasonString(m_state.lock->trigger, m_state.lock->detail);
    m_state.lock.reset();
    if (m_state.session && m_state.session->user == user)
        m_state.session->verified = t;
    out.append(OfflineGranted {user, grace->maxUses - record.offlineUses, reason});
    if (m_rules.failure.actions.notifyAdmin)
        out.append(NotifyAdmin {QStringLiteral("offline_unlock"), user,
            QStringLiteral("offline unlock %1 of %2 (%3); last 2FA %4")
                .arg(record.offlineUses)
                .arg(grace->maxUses)
                .arg(reason, isoTime(*record.lastSuccess))});
    return out;
}

} // namespace hotdesk::policy

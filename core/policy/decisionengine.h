// The re-authentication decision engine: policy rules + events in, decisions out; pure, deterministic, clock-injected.
#pragma once

#include "../clock.h"
#include "../result.h"
#include "reauthrules.h"

#include <QDate>
#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

#include <chrono>
#include <optional>
#include <variant>

namespace hotdesk::policy {

// Whole seconds since 1970 (UTC): the resolution of every time the engine keeps.
using Instant = std::chrono::sys_seconds;

// What made the engine ask for a re-authentication. The reason strings
// (reasonString) are stable: they appear in the audit log and on the DAS
// events feed (docs/decision-engine.md).
enum class Trigger {
    FirstLogon, // "first_logon"
    MaxSession, // "max_session"
    Idle, // "idle"
    OnUnlock, // "on_unlock"
    SensitiveApp, // "sensitive_app:NAME" (NAME as the policy writes it)
    SensitivePath, // "sensitive_path" (the path prefix is in the detail, never in the reason)
    SensitiveDevice, // "sensitive_device:camera" | "sensitive_device:microphone"
    Schedule, // "schedule"
    Lockout, // "locked_out": the screen was locked because the user was locked out
    Manual, // "manual": the person asked (tray menu, `hotdesk reauth`)
};

QString triggerName(Trigger trigger); // without the ":NAME" part
std::optional<Trigger> triggerFromName(QStringView name);
QString reasonString(Trigger trigger, const QString &detail);

// The person at the keyboard must prove who they are: the lock screen covers
// every screen and the agent starts flow 1 for `user`.
struct RequireReauth {
    QString user;
    Trigger trigger = Trigger::FirstLogon;
    QString detail; // the policy entry that matched (app name, path prefix, device); may be empty
    QStringList acrValues; // failure.alternate_methods once this user has failed since their last success
    QString reason() const { return reasonString(trigger, detail); }
};

// A tray notification ahead of a max_session or schedule re-authentication.
struct Notify {
    QString user;
    Trigger trigger = Trigger::MaxSession;
    Instant at; // when the re-authentication will be required
    int minutes = 0; // whole minutes until then, rounded up
};

// The lock screen stays up but `user` may not start a re-authentication.
struct Lock {
    QString user;
    QString reason; // "locked_out"
};

// failure.actions "lock": max_attempts failures within the window; until
// `until` only another user may proceed.
struct LockOutUser {
    QString user;
    Instant until;
    int attempts = 0;
};

// failure.actions "notify_admin": an event for the DAS events feed.
struct NotifyAdmin {
    QString event; // "too_many_failures" | "offline_unlock" | "recovery_code_used"
    QString user;
    QString detail;
};

// failure.actions "require_credentials": the agent has the OS ask for the account password.
struct RequireCredentials {
    QString user;
};

// An offline unlock was allowed (and must be audited); the lock is lifted.
struct OfflineGranted {
    QString user;
    int usesLeft = 0;
    QString reason; // the reason of the lock it lifted
};

// An offline unlock was refused; the lock stays.
struct OfflineRefused {
    QString user;
    QString why; // "online" | "offline_deny" | "no_recent_2fa" | "grace_used_up" | "locked_out" | "not_locked" | "other_user"
};

using Decision
    = std::variant<RequireReauth, Notify, Lock, LockOutUser, NotifyAdmin, RequireCredentials, OfflineGranted, OfflineRefused>;

// "require_reauth", "notify", "lock", "lock_out_user", "notify_admin",
// "require_credentials", "offline_granted", "offline_refused".
QString decisionName(const Decision &decision);
// One audit-log record: {"decision": name, "user": ..., ...}; times as ISO 8601 UTC.
QJsonObject decisionToJson(const Decision &decision);

enum class AuthMethod {
    TwoFactor, // flow 1: a validated ID token
    RecoveryCode, // a one-time recovery code (core/policy/recoverycodes.h)
};

enum class Network { Online, Offline };

// What the engine remembers about one user on this PC.
struct UserRecord {
    std::optional<Instant> lastSuccess; // last successful 2FA (or recovery code) on this PC
    QList<Instant> failures; // counted failures inside the window, oldest first
    bool failedSinceSuccess = false; // asks for alternate_methods on the next attempt
    std::optional<Instant> lockedOutUntil;
    int offlineUses = 0; // offline unlocks since lastSuccess

    friend bool operator==(const UserRecord &, const UserRecord &) = default;
};

struct SessionRecord {
    QString user;
    QString id; // the OS session id; the same id again means the agent restarted, not a new logon
    Instant started;
    std::optional<Instant> verified; // last success or offline unlock in this session

    Instant anchor() const { return verified && *verified > started ? *verified : started; }
    friend bool operator==(const SessionRecord &, const SessionRecord &) = default;
};

struct LockRecord {
    QString user;
    Trigger trigger = Trigger::FirstLogon;
    QString detail;

    friend bool operator==(const LockRecord &, const LockRecord &) = default;
};

// Everything the engine must not forget across an agent restart: the agent
// saves toJson() after every event that changed it, so a crash while locked
// comes back locked and a schedule does not fire twice for one occurrence.
// Idle tracking and the network state are not kept: they are re-read.
struct EngineState {
    std::optional<SessionRecord> session;
    std::optional<LockRecord> lock; // set while the lock screen must be up
    QMap<QString, UserRecord> users;
    std::optional<Instant> lastScheduleFired; // the last schedule occurrence that fired
    std::optional<Instant> notifiedMaxSession; // the max_session deadline already announced
    std::optional<Instant> notifiedSchedule; // the schedule occurrence already announced

    QJsonObject toJson() const;
    // Malformed (naming the member at fault) when the object is not what toJson writes.
    static Result<EngineState> fromJson(const QJsonObject &object);

    friend bool operator==(const EngineState &, const EngineState &) = default;
};

// Every event method returns the decisions it caused, in the order the agent
// should act on them (usually none or one). The engine does no I/O and reads
// the time only from the injected clock.
class DecisionEngine {
public:
    DecisionEngine(ReauthRules rules, const Clock &clock, EngineEnvironment environment = {}, EngineState state = {});

    const ReauthRules &rules() const { return m_rules; }
    const EngineState &state() const { return m_state; }

    // The agent started in a user's session (= a logon, unless sessionId is
    // the one in the restored state: then the agent restarted in the same session).
    QList<Decision> sessionStarted(const QString &user, const QString &sessionId = {});
    // The OS screen lock was lifted.
    QList<Decision> screenUnlocked(const QString &user);
    // The platform's current idle time (time since the last input).
    QList<Decision> idleTimeIs(std::chrono::seconds idle);
    // Input from the user now.
    QList<Decision> activity();
    QList<Decision> processStarted(const QString &name);
    QList<Decision> pathTouched(const QString &path);
    QList<Decision> deviceInUse(SensitiveDevice device);
    // The person at the keyboard asked to re-authenticate now (tray menu,
    // `hotdesk reauth`): the session's user, as for any trigger.
    QList<Decision> reauthRequested();
    // Time passed: max_session, schedule, idle and the advance notices.
    QList<Decision> tick();
    QList<Decision> authSucceeded(const QString &user, AuthMethod method = AuthMethod::TwoFactor);
    // A re-authentication of `user` failed with `why` (the flow's error code).
    // Failures of this PC or of the servers do not count as attempts (countsAsAttempt).
    QList<Decision> authFailed(const QString &user, ErrorCode why);
    QList<Decision> networkState(Network network);
    // The person at the lock screen asks to unlock while this PC is offline (failure.offline grace).
    QList<Decision> offlineUnlockRequested(const QString &user);

    // When tick() must run next (one timer, no polling); std::nullopt = only
    // events can change anything. May be in the past: call tick() at once.
    std::optional<Instant> nextDeadline() const;

    bool isLocked() const { return m_state.lock.has_value(); }
    bool isExempt(const QString &user) const;
    std::optional<Instant> lockedOutUntil(const QString &user) const;

    // Whether a failed attempt with this error counts toward max_attempts:
    // everything but transport, server and local failures (the person did nothing wrong).
    static bool countsAsAttempt(ErrorCode why);

    // The acr_values for the user's next attempt: failure.alternate_methods
    // once the user has failed since their last success, else none.
    QStringList acrFor(const QString &user) const;

private:
    Instant now() const;
    void require(QList<Decision> &out, const QString &user, Trigger trigger, const QString &detail = {});
    void evaluateTimers(QList<Decision> &out);
    void requireSensitive(QList<Decision> &out, Trigger trigger, const QString &detail);
    bool lockedOutNow(const QString &user) const;
    std::optional<Instant> maxSessionDeadline() const;
    std::optional<Instant> latestOccurrence(Instant at) const;
    std::optional<Instant> nextOccurrence(Instant after) const;
    std::optional<Instant> pendingScheduleOccurrence() const;
    std::optional<Instant> occurrenceOn(QDate date, QTime at) const;

    ReauthRules m_rules;
    const Clock &m_clock;
    EngineEnvironment m_env;
    EngineState m_state;
    bool m_offline = false;
    std::optional<Instant> m_idleSince;
    bool m_idleFired = false;
};

} // namespace hotdesk::policy

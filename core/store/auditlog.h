// The agent's audit log: one JSON object per line, appended and synced per entry, rotated by size.
#pragma once

#include "../clock.h"
#include "../result.h"

#include <QJsonObject>
#include <QLoggingCategory>
#include <QString>

namespace hotdesk::store {

// Every entry is also logged to this category (info level), so that it reaches
// journald or syslog through Qt's default message handler.
Q_DECLARE_LOGGING_CATEGORY(lcAudit)

// What the agent audits. The names (see auditEventName) are what the log
// file holds and what its readers match on, so never rename one.
enum class AuditEvent {
    ReauthRequested,
    UserSwitch,
    AgentStarted,
    StateDamaged,
    PolicyRejected,
    PolicyMissing,
    PolicyApplied,
    PlatformProblem,
    ReauthRequired,
    ReauthSoon,
    Locked,
    UserLockedOut,
    AdminNotify,
    CredentialsRequired,
    SessionLocked,
    SessionLockFailed,
    LockGrabFailed, // X11: the lock window could not grab the keyboard and the pointer
    LockRaised, // X11: the lock windows were raised again above another window
    OfflineUnlock,
    OfflineRefused,
    StateNotSaved,
    ReauthFailed,
    ReauthSucceeded,
    PcEnrolled,
    EnrollFailed,
    RecoveryCodeRefused,
    AdminNotifyFailed,
    AdminNotified,
    DaemonStarted,
    DaemonStopped,
};

QString auditEventName(AuditEvent event);

// One audited event. Callers pass no secrets (tokens, keys, activation
// passwords, recovery codes): only names, ids and stable reason codes. As a
// guard, AuditLog replaces any string that looks like a JWT with "[redacted]".
struct AuditEntry {
    QString event; // stable name: an auditEventName()
    QString user;     // who was at the keyboard, if known
    QString reason;   // a stable reason (an errorCodeName, a trigger name)
    QString deviceId; // this PC's device id with the DAS, if enrolled
    QJsonObject extra; // further fields; must not use the four names above nor "time"
};

struct AuditLogOptions {
    qint64 maxBytes = 1024 * 1024; // rotate when an entry would take the file past this
    int keepFiles = 5;             // audit.log.1 … audit.log.N are kept besides audit.log
};

// Writes to one file (docs/agent-runtime.md): {"time": RFC 3339 UTC, "event",
// "user", "reason", "device_id", …extra}. The file is created with mode 0600
// in a 0700 directory, only ever appended to, and flushed and fdatasync'ed
// after each entry so that an entry written before a crash or power loss is
// still there. When the next entry would exceed maxBytes the file becomes
// audit.log.1 (the older ones move up, the oldest beyond keepFiles is deleted).
class AuditLog {
public:
    AuditLog(QString path, const Clock &clock, AuditLogOptions options = {});

    // Linux: $XDG_STATE_HOME/hotdesk/audit.log (~/.local/state/hotdesk/audit.log):
    // the XDG base-directory spec's place for logs that persist across restarts
    // but are not user data. Elsewhere: QStandardPaths::AppLocalDataLocation + "/audit.log".
    static QString defaultPath();

    const QString &path() const { return m_path; }

    Status append(const AuditEntry &entry);

    // The record append() writes, as an object: the entry's fields and "time"
    // (RFC 3339 UTC from secondsSinceEpoch), strings that look like a JWT
    // replaced. hotdeskd's audit log writes the same records (docs/hotdeskd.md).
    static QJsonObject recordOf(const AuditEntry &entry, qint64 secondsSinceEpoch);

    // Whether text looks like a compact JWS/JWT: "eyJ" then three base64url parts.
    static bool looksLikeJwt(const QString &text);

private:
    Status rotate();

    QString m_path;
    const Clock &m_clock;
    AuditLogOptions m_options;
};

} // namespace hotdesk::store

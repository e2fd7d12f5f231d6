// The audit log file: append, sync, rotate, and the category that mirrors it.
#include "auditlog.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QStandardPaths>

#include <cerrno>
#include <cstring>

#if defined(Q_OS_UNIX)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace hotdesk::store {

QString auditEventName(AuditEvent event)
{
    switch (event) {
    case AuditEvent::ReauthRequested:
        return QStringLiteral("reauth_requested");
    case AuditEvent::UserSwitch:
        return QStringLiteral("user_switch");
    case AuditEvent::AgentStarted:
        return QStringLiteral("agent_started");
    case AuditEvent::StateDamaged:
        return QStringLiteral("state_damaged");
    case AuditEvent::PolicyRejected:
        return QStringLiteral("policy_rejected");
    case AuditEvent::PolicyMissing:
        return QStringLiteral("policy_missing");
    case AuditEvent::PolicyApplied:
        return QStringLiteral("policy_applied");
    case AuditEvent::PlatformProblem:
        return QStringLiteral("platform_problem");
    case AuditEvent::ReauthRequired:
        return QStringLiteral("reauth_required");
    case AuditEvent::ReauthSoon:
        return QStringLiteral("reauth_soon");
    case AuditEvent::Locked:
        return QStringLiteral("locked");
    case AuditEvent::UserLockedOut:
        return QStringLiteral("user_locked_out");
    case AuditEvent::AdminNotify:
        return QStringLiteral("admin_notify");
    case AuditEvent::CredentialsRequired:
        return QStringLiteral("credentials_required");
    case AuditEvent::SessionLocked:
        return QStringLiteral("session_locked");
    case AuditEvent::SessionLockFailed:
        return QStringLiteral("session_lock_failed");
    case AuditEvent::LockGrabFailed:
        return QStringLiteral("lock_grab_failed");
    case AuditEvent::LockRaised:
        return QStringLiteral("lock_raised");
    case AuditEvent::OfflineUnlock:
        return QStringLiteral("offline_unlock");
    case AuditEvent::OfflineRefused:
        return QStringLiteral("offline_refused");
    case AuditEvent::StateNotSaved:
        return QStringLiteral("state_not_saved");
    case AuditEvent::ReauthFailed:
        return QStringLiteral("reauth_failed");
    case AuditEvent::ReauthSucceeded:
        return QStringLiteral("reauth_succeeded");
    case AuditEvent::PcEnrolled:
        return QStringLiteral("pc_enrolled");
    case AuditEvent::EnrollFailed:
        return QStringLiteral("enroll_failed");
    case AuditEvent::RecoveryCodeRefused:
        return QStringLiteral("recovery_code_refused");
    case AuditEvent::AdminNotifyFailed:
        return QStringLiteral("admin_notify_failed");
    case AuditEvent::AdminNotified:
        return QStringLiteral("admin_notified");
    case AuditEvent::DaemonStarted:
        return QStringLiteral("daemon_started");
    case AuditEvent::DaemonStopped:
        return QStringLiteral("daemon_stopped");
    }
    return QStringLiteral("unknown");
}

Q_LOGGING_CATEGORY(lcAudit, "hotdesk.audit", QtInfoMsg)

namespace {

const QString kRedacted = QStringLiteral("[redacted]");

QJsonValue redacted(const QJsonValue &value)
{
    if (value.isString())
        return AuditLog::looksLikeJwt(value.toString()) ? QJsonValue(kRedacted) : value;
    if (value.isArray()) {
        QJsonArray out;
        for (const QJsonValue &v : value.toArray())
            out.append(redacted(v));
        return out;
    }
    if (value.isObject()) {
        QJsonObject out;
        const QJsonObject in = value.toObject();
        for (auto it = in.begin(); it != in.end(); ++it)
            out.insert(it.key(), redacted(it.value()));
        return out;
    }
    return value;
}

} // namespace

AuditLog::AuditLog(QString path, const Clock &clock, AuditLogOptions options)
    : m_path(std::move(path))
    , m_clock(clock)
    , m_options(options)
{
    if (m_options.keepFiles < 0)
        m_options.keepFiles = 0;
}

QString AuditLog::defaultPath()
{
#if defined(Q_OS_LINUX)
    QString state = qEnvironmentVariable("XDG_STATE_HOME");
    if (state.isEmpty() || !QDir::isAbsolutePath(state))
        state = QDir::homePath() + QStringLiteral("/.local/state");
    return state + QStringLiteral("/hotdesk/audit.log");
#else
    return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + QStringLiteral("/audit.log");
#endif
}

bool AuditLog::looksLikeJwt(const QString &text)
{
    // A JWS header is a JSON object, so its base64url starts with "eyJ" ('{"').
    static const QRegularExpression jwt(QStringLiteral("eyJ[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*"));
    return jwt.match(text).hasMatch();
}

Status AuditLog::rotate()
{
    if (m_options.keepFiles == 0)
        return QFile::remove(m_path) ? Status() : fail(ErrorCode::Io,
            QStringLiteral("cannot truncate the audit log %1; check its owner and permissions").arg(m_path));
    const auto numbered = [this](int n) -> QString { return m_path + QLatin1Char('.') + QString::number(n); };
    QFile::remove(numbered(m_options.keepFiles));
    for (int n = m_options.keepFiles - 1; n >= 1; --n) {
        if (QFile::exists(numbered(n)))
            QFile::rename(numbered(n), numbered(n + 1));
    }
    if (!QFile::rename(m_path, numbered(1)))
        return fail(ErrorCode::Io,
            QStringLiteral("cannot rotate the audit log %1; check its owner and permissions").arg(m_path));
    return {};
}

QJsonObject AuditLog::recordOf(const AuditEntry &entry, qint64 secondsSinceEpoch)
{
    QJsonObject line;
    for (auto it = entry.extra.begin(); it != entry.extra.end(); ++it)
        line.insert(it.key(), redacted(it.value()));
    line.insert(QLatin1String("time"),
        QDateTime::fromSecsSinceEpoch(secondsSinceEpoch, Qt::UTC).toString(Qt::ISODate)); // 2026-01-01T00:00:00Z
    line.insert(QLatin1String("event"), redacted(entry.event));
    line.insert(QLatin1String("user"), redacted(entry.user));
    line.insert(QLatin1String("reason"), redacted(entry.reason));
    line.insert(QLatin1String("device_id"), redacted(entry.deviceId));
    return line;
}

Status AuditLog::append(const AuditEntry &entry)
{
    const QJsonObject line = recordOf(entry, m_clock.secondsSinceEpoch());
    const QByteArray bytes = QJsonDocument(line).toJson(QJsonDocument::Compact) + '\n';

    qCInfo(lcAudit).noquote() << QString::fromUtf8(bytes.constData(), bytes.size() - 1);

    const QFileInfo info(m_path);
    // A directory we create is 0700; an existing one is the administrator's choice.
    if (!QFileInfo::exists(info.absolutePath())) {
        if (!QDir().mkpath(info.absolutePath()))
            return fail(ErrorCode::Io,
                QStringLiteral("cannot create the audit log directory %1; check its permissions").arg(info.absolutePath()));
        QFile::setPermissions(info.absolutePath(), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    }
    if (info.exists() && info.size() > 0 && info.size() + bytes.size() > m_options.maxBytes) {
        if (auto rotated = rotate(); !rotated)
            return rotated;
    }

#if defined(Q_OS_UNIX)
    // O_APPEND: concurrent writers (the agent, a command) never overwrite each other.
    const QByteArray native = QFile::encodeName(m_path);
    const int fd = ::open(native.constData(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(ErrorCode::Io,
            QStringLiteral("cannot open the audit log %1: %2; check its owner and permissions")
                .arg(m_path, QString::fromLocal8Bit(std::strerror(errno))));
    ::fchmod(fd, 0600); // a file created by hand or an older version
    qsizetype done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.constData() + done, size_t(bytes.size() - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            const int err = errno;
            ::close(fd);
            return fail(ErrorCode::Io, QStringLiteral("cannot write the audit log %1: %2; check the free disk space")
                                           .arg(m_path, QString::fromLocal8Bit(std::strerror(err))));
        }
        done += n;
    }
    const bool synced = ::fdatasync(fd) == 0;
    ::close(fd);
    if (!synced)
        return fail(ErrorCode::Io, QStringLiteral("cannot sync the audit log %1 to disk; check the disk").arg(m_path));
#else
    QFile file(m_path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Append))
        return fail(ErrorCode::Io, QStringLiteral("cannot open the audit log %1: %2; check its owner and permissions")
                                       .arg(m_path, file.errorString()));
    file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    if (file.write(bytes) != bytes.size() || !file.flush())
        return fail(ErrorCode::Io, QStringLiteral("cannot write the audit log %1: %2; check the free disk space")
                                       .arg(m_path, file.errorString()));
#endif
    return {};
}

} // namespace hotdesk::store

// hotdesk doctor against hotdeskd: one short connection to its socket, and the files the daemon and PAM read.
#include "doctordaemon.h"

#include "core/control/jsonlines.h"
#include "core/jose/strictjson.h"
#include "core/policy/policytrust.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QLocalSocket>

#include <sys/stat.h>

namespace hotdesk::cli {
namespace {

constexpr int kAnswerMs = 5000;
constexpr qsizetype kMaxLineBytes = 64 * 1024;
const QString kDaemonRemedy = QStringLiteral("see 'systemctl status hotdeskd' and 'journalctl -u hotdeskd'");

// One request, one reply line; an empty object when the daemon does not answer in time.
class DaemonAsk {
public:
    bool connect(const QString &path, QString *why)
    {
        m_socket.connectToServer(path);
        if (m_socket.waitForConnected(kAnswerMs))
            return true;
        *why = m_socket.errorString();
        return false;
    }

    QJsonObject ask(QJsonObject request)
    {
        request.insert(QStringLiteral("v"), 1);
        m_socket.write(control::encodeJsonLine(request));
        const QDeadlineTimer deadline(kAnswerMs);
        while (!m_pending.contains('\n') && m_pending.size() <= kMaxLineBytes) {
            if (m_socket.bytesAvailable() == 0 && !m_socket.waitForReadyRead(int(deadline.remainingTime())))
                return {};
            m_pending += m_socket.readAll();
        }
        const qsizetype end = m_pending.indexOf('\n');
        if (end < 0)
            return {};
        const QByteArray line = m_pending.left(end);
        m_pending.remove(0, end + 1);
        auto reply = jose::parseStrictJsonObject(line);
        return reply ? *reply : QJsonObject();
    }

private:
    QLocalSocket m_socket;
    QByteArray m_pending;
};

QJsonObject command(const char *name)
{
    return {{QStringLiteral("command"), QLatin1String(name)}};
}

QString describe(const QJsonObject &reply)
{
    if (reply.isEmpty())
        return QStringLiteral("no answer within %1 s").arg(kAnswerMs / 1000);
    return QStringLiteral("%1 (%2)").arg(
        reply.value(QLatin1String("message")).toString(), reply.value(QLatin1String("error")).toString());
}

void checkSession(const DoctorLines &lines, const QJsonObject &status, const QString &sessionId)
{
    if (status.contains(QLatin1String("problem")))
        lines.problem(QStringLiteral("hotdeskd sessions"),
            QStringLiteral("%1; it cannot follow sessions without logind")
                .arg(status.value(QLatin1String("problem")).toString()));
    if (sessionId.isEmpty()) {
        lines.note(QStringLiteral("hotdeskd follows %1 session(s) of this user; this is no desktop session (no XDG_SESSION_ID)")
                       .arg(status.value(QLatin1String("sessions")).toArray().size()));
        return;
    }
    for (const QJsonValue &value : status.value(QLatin1String("sessions")).toArray()) {
        const QJsonObject session = value.toObject();
        if (session.value(QLatin1String("id")).toString() != sessionId)
            continue;
        const QJsonObject lock = session.value(QLatin1String("lock")).toObject();
        const bool required = lock.value(QLatin1String("required")).toBool();
        lines.ok(QStringLiteral("hotdeskd follows session %1 (lock %2)")
                     .arg(sessionId,
                         required ? QStringLiteral("required: %1").arg(lock.value(QLatin1String("reason")).toString())
                                  : QStringLiteral("not required")));
        if (!session.value(QLatin1String("agent")).toBool())
            lines.problem(QStringLiteral("hotdeskd session %1").arg(sessionId),
                QStringLiteral("no Hotdesk agent is attached, so the OS lock stands in for it; the agent starts with the "
                               "desktop (/etc/xdg/autostart/hotdesk.desktop): sign out and in, or run 'hotdesk tray'"));
        else
            lines.ok(QStringLiteral("hotdeskd session %1 has its agent attached").arg(sessionId));
        return;
    }
    lines.problem(QStringLiteral("hotdeskd session %1").arg(sessionId),
        QStringLiteral("hotdeskd does not follow this session (logind's session %1 of this user); %2")
            .arg(sessionId, kDaemonRemedy));
}

void checkHealth(const DoctorLines &lines, const QJsonObject &health)
{
    if (!health.value(QLatin1String("ok")).toBool()) {
        lines.problem(QStringLiteral("hotdeskd health"),
            QStringLiteral("%1; a hotdeskd older than this hotdesk does not tell its enrollment: restart it after an upgrade "
                           "('systemctl restart hotdeskd')")
                .arg(describe(health)));
        return;
    }
    const QJsonObject enrollment = health.value(QLatin1String("enrollment")).toObject();
    if (enrollment.value(QLatin1String("enrolled")).toBool())
        lines.ok(
            QStringLiteral("hotdeskd enrolled as %1 with %2 (device key in hotdeskd's state directory)")
                .arg(enrollment.value(QLatin1String("device_id")).toString(), enrollment.value(QLatin1String("das")).toString()));
    else
        lines.problem(QStringLiteral("hotdeskd enrollment"),
            QStringLiteral("hotdeskd is not enrolled with the DAS of its policy%1; sign-ins fail with not_enrolled: an "
                           "administrator runs 'sudo hotdesk enroll --system'")
                .arg(enrollment.contains(QLatin1String("problem"))
                        ? QStringLiteral(" (%1)").arg(enrollment.value(QLatin1String("problem")).toString())
                        : QString()));
    const QJsonObject policy = health.value(QLatin1String("policy")).toObject();
    const QString file = policy.value(QLatin1String("file")).toString();
    if (policy.contains(QLatin1String("refused")))
        lines.problem(QStringLiteral("hotdeskd policy %1").arg(file),
            QStringLiteral("refused (%1): %2")
                .arg(policy.value(QLatin1String("refused")).toString(), policy.value(QLatin1String("message")).toString()));
    else if (policy.value(QLatin1String("applied")).toBool())
        lines.ok(QStringLiteral("hotdeskd applies the policy %1").arg(file));
    const QJsonValue queued = health.value(QLatin1String("event_queue"));
    if (queued.toInteger() > 0)
        lines.note(QStringLiteral("hotdeskd has %1 event(s) for the DAS waiting to be sent; they go out once the DAS is "
                                  "reachable (its audit log says why as admin_notify_delayed)")
                       .arg(queued.toInteger()));
    else if (queued.isDouble())
        lines.ok(QStringLiteral("hotdeskd has no event for the DAS waiting"));
}

} // namespace

void checkDaemon(const DoctorLines &lines, const QString &socketPath, const QString &sessionId)
{
    DaemonAsk daemon;
    QString why;
    if (!daemon.connect(socketPath, &why)) {
        lines.problem(QStringLiteral("hotdeskd"),
            QStringLiteral("its socket %1 does not answer (%2): the daemon is not running, and re-authentication is not "
                           "enforced; %3")
                .arg(socketPath, why, kDaemonRemedy));
        return;
    }
    const QJsonObject hello = daemon.ask(command("hello"));
    if (!hello.value(QLatin1String("ok")).toBool()) {
        lines.problem(QStringLiteral("hotdeskd"),
            QStringLiteral("%1 gave no hello: %2; %3").arg(socketPath, describe(hello), kDaemonRemedy));
        return;
    }
    const QString version = hello.value(QLatin1String("daemon")).toString();
    lines.ok(QStringLiteral("%1 answers on %2").arg(version, socketPath));
    if (version != QStringLiteral("hotdeskd " HOTDESK_VERSION))
        lines.problem(QStringLiteral("hotdeskd"),
            QStringLiteral("%1 runs, this hotdesk is %2: restart the daemon after an upgrade ('systemctl restart hotdeskd')")
                .arg(version, QStringLiteral(HOTDESK_VERSION)));
    const QJsonObject status = daemon.ask(command("status"));
    if (status.value(QLatin1String("ok")).toBool())
        checkSession(lines, status, sessionId);
    else
        lines.problem(QStringLiteral("hotdeskd status"), describe(status));
    checkHealth(lines, daemon.ask(command("health")));
}

void checkPolicyTrust(const DoctorLines &lines, const QString &file)
{
    const auto trusted = policy::readTrustedPolicyFile(file, 0);
    if (trusted || trusted.error().code != ErrorCode::PolicyUntrusted) {
        if (trusted)
            lines.ok(QStringLiteral("policy %1 is root's and writable by nobody else").arg(file));
        return;
    }
    QString mode;
    struct stat info { };
    if (::lstat(QFile::encodeName(file).constData(), &info) == 0)
        mode = QStringLiteral(" (owner uid %1, mode %2)").arg(info.st_uid).arg(info.st_mode & 07777, 4, 8, QLatin1Char('0'));
    lines.problem(
        QStringLiteral("policy %1").arg(file), QStringLiteral("hotdeskd refuses it%1: %2").arg(mode, trusted.error().message));
}

void checkPamProfile(const DoctorLines &lines, const QString &commonAuth, const QString &module)
{
    QFile stack(commonAuth);
    if (!stack.open(QIODevice::ReadOnly)) {
        lines.note(QStringLiteral("pam: %1 cannot be read (%2), so whether pam_hotdesk is enabled is not known")
                       .arg(commonAuth, stack.errorString()));
        return;
    }
    bool enabled = false;
    for (const QByteArray &line : stack.readAll().split('\n'))
        enabled = enabled || (!line.trimmed().startsWith('#') && line.contains("pam_hotdesk.so"));
    if (!enabled) {
        lines.note(QStringLiteral("pam: pam_hotdesk is not enabled in %1; enable it with 'pam-auth-update --enable hotdesk' "
                                  "if sign-ins by sudo, ssh or the display manager should need the phone")
                       .arg(commonAuth));
        return;
    }
    if (QFile::exists(module))
        lines.ok(QStringLiteral("pam: pam_hotdesk is enabled in %1 (%2)").arg(commonAuth, module));
    else
        lines.problem(QStringLiteral("pam"),
            QStringLiteral("%1 uses pam_hotdesk.so but %2 is missing: every sign-in through that stack fails; reinstall "
                           "libpam-hotdesk or run 'pam-auth-update --disable hotdesk'")
                .arg(commonAuth, module));
}

} // namespace hotdesk::cli

// The agent's connection to hotdeskd: attach, heartbeats, events; reconnects with a growing delay.
#include "daemonlink.h"

#include "jsonlines.h"

#include "../jose/strictjson.h"
#include "../trustoverrides.h"

#include <QFileInfo>
#include <QLocalSocket>
#include <QPointer>

#include <algorithm>

namespace hotdesk::control {
namespace {

using namespace std::chrono_literals;

constexpr std::chrono::milliseconds kMaxRetry = 10s;
// The heartbeat intervals the agent follows: what keeps it from spinning, and the most that still tells of idle time.
constexpr std::chrono::milliseconds kMinHeartbeat = 250ms;
constexpr std::chrono::milliseconds kMaxHeartbeat = 60s;
// A line from the daemon longer than this is not the daemon speaking.
constexpr qsizetype kMaxLineBytes = 64 * 1024;

} // namespace

QString defaultDaemonSocket()
{
    // Another socket could be a daemon of the user's own making: only for tests and root.
    const QString override = trustedOverrideVariable("HOTDESK_DAEMON_SOCKET");
    return override.isEmpty() ? QStringLiteral("/run/hotdesk/hotdeskd.sock") : override;
}

bool daemonInUse()
{
    return !isTestBuild() || QFileInfo::exists(defaultDaemonSocket());
}

DaemonLink::DaemonLink(Options options, IdleQuery idle, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
    , m_idle(std::move(idle))
{
    if (m_options.socketPath.isEmpty())
        m_options.socketPath = defaultDaemonSocket();
    m_heartbeat.setInterval(m_options.heartbeat);
    connect(&m_heartbeat, &QTimer::timeout, this, &DaemonLink::sendHeartbeat);
    m_retry.setSingleShot(true);
    connect(&m_retry, &QTimer::timeout, this, &DaemonLink::connectNow);
}

DaemonLink::~DaemonLink() = default;

void DaemonLink::start()
{
    if (m_options.sessionId.isEmpty()) {
        Q_EMIT unavailable(tr("this desktop session has no logind session id (XDG_SESSION_ID), so hotdeskd cannot be told "
                              "which session this agent presents"));
        return;
    }
    connectNow();
}

void DaemonLink::connectNow()
{
    if (m_socket)
        m_socket->deleteLater();
    m_socket = new QLocalSocket(this);
    m_pending.clear();
    m_written = m_answered = 0;
    m_codeReply = -1;
    m_commands.clear();
    connect(m_socket, &QLocalSocket::connected, this, [this] {
        m_awaitingAttach = true;
        write({{QStringLiteral("command"), QStringLiteral("attach")}, {QStringLiteral("session"), m_options.sessionId}});
    });
    connect(m_socket, &QLocalSocket::readyRead, this, [this, socket = m_socket] {
        m_pending += socket->readAll();
        qsizetype newline;
        while (socket == m_socket && (newline = m_pending.indexOf('\n')) >= 0) {
            const QByteArray line = m_pending.left(newline);
            m_pending.remove(0, newline + 1);
            onLine(line);
        }
        if (socket == m_socket && m_pending.size() > kMaxLineBytes)
            drop(tr("hotdeskd sent a line longer than %1 bytes").arg(kMaxLineBytes));
    });
    connect(m_socket, &QLocalSocket::errorOccurred, this, [this, socket = m_socket] {
        if (socket == m_socket)
            drop(tr("cannot reach hotdeskd at %1: %2").arg(m_options.socketPath, socket->errorString()));
    });
    connect(m_socket, &QLocalSocket::disconnected, this, [this, socket = m_socket] {
        if (socket == m_socket)
            drop(tr("hotdeskd closed the connection"));
    });
    m_socket->connectToServer(m_options.socketPath);
}

void DaemonLink::onLine(const QByteArray &line)
{
    const auto object = jose::parseStrictJsonObject(line);
    if (!object) {
        drop(tr("hotdeskd sent something that is not a JSON object: %1").arg(object.error().message));
        return;
    }
    const bool ok = object->value(QLatin1String("ok")).toBool();
    const QString error = object->value(QLatin1String("error")).toString();
    const QString message = object->value(QLatin1String("message")).toString();
    if (object->contains(QLatin1String("event"))) {
        if (object->value(QLatin1String("event")).toString() == u"recovery_code_failed")
            Q_EMIT recoveryCodeRefused(error, message);
        Q_EMIT event(*object);
        return;
    }
    const QString command = m_commands.isEmpty() ? QString() : m_commands.takeFirst();
    if (++m_answered == m_codeReply) {
        if (!ok)
            Q_EMIT recoveryCodeRefused(error, message);
        return;
    }
    if (m_awaitingAttach) {
        m_awaitingAttach = false;
        if (!ok) {
            // Refused (an agent is still there, or the daemon has not seen this session yet):
            // said, and tried again later like a lost connection.
            Q_EMIT refused(error, message);
            drop({});
            return;
        }
        m_attached = true;
        m_attachReply = *object;
        m_retryDelay = 1s;
        m_heartbeat.start(heartbeatInterval(*object));
        sendHeartbeat();
        Q_EMIT attached();
        return;
    }
    Q_EMIT answered(command, *object);
    if (!ok)
        Q_EMIT requestFailed(error, message);
}

std::chrono::milliseconds DaemonLink::heartbeatInterval(const QJsonObject &attachReply) const
{
    // The daemon's --agent-timeout decides how often it must hear from the agent; an older daemon names none.
    const double asked = attachReply.value(QLatin1String("heartbeat_ms")).toDouble(-1);
    if (asked < 0)
        return m_options.heartbeat;
    return std::clamp(std::chrono::milliseconds(qint64(asked)), kMinHeartbeat, kMaxHeartbeat);
}

void DaemonLink::sendHeartbeat()
{
    if (!m_attached)
        return;
    m_idle([this, socket = QPointer<QLocalSocket>(m_socket)](std::optional<std::chrono::milliseconds> idle) {
        if (!socket || socket != m_socket || !m_attached)
            return;
        QJsonObject heartbeat {{QStringLiteral("command"), QStringLiteral("heartbeat")}};
        if (idle)
            heartbeat.insert(QStringLiteral("idle_ms"), double(idle->count()));
        write(heartbeat);
    });
}

bool DaemonLink::sendRecoveryCode(const QString &code)
{
    if (!send({{QStringLiteral("command"), QStringLiteral("recovery_code")}, {QStringLiteral("code"), code}}))
        return false;
    m_codeReply = m_written;
    return true;
}

bool DaemonLink::send(QJsonObject request)
{
    if (!m_attached)
        return false;
    write(std::move(request));
    return true;
}

void DaemonLink::write(QJsonObject request)
{
    request.insert(QStringLiteral("v"), 1);
    ++m_written;
    m_commands.append(request.value(QLatin1String("command")).toString());
    m_socket->write(encodeJsonLine(request));
}

void DaemonLink::drop(const QString &why)
{
    m_attached = false;
    m_attachReply = {};
    m_awaitingAttach = false;
    m_heartbeat.stop();
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
        m_socket->deleteLater();
        m_socket = nullptr;
    }
    if (!why.isEmpty()) // a refusal was said already
        Q_EMIT unavailable(why);
    m_retry.start(m_retryDelay);
    m_retryDelay = std::min(m_retryDelay * 2, kMaxRetry);
}

} // namespace hotdesk::control

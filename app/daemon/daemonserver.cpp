// hotdeskd's socket: connections known by SO_PEERCRED, request lines checked and handed to the commands.
#include "daemonserver.h"

#include "core/control/jsonlines.h"
#include "core/jose/strictjson.h"

#include <QFile>
#include <QJsonArray>
#include <QLocalServer>
#include <QLocalSocket>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>

namespace hotdesk::daemon {
QJsonObject okReply(QJsonObject members)
{
    members.insert(QStringLiteral("ok"), true);
    members.insert(QStringLiteral("v"), kProtocolVersion);
    return members;
}

QJsonObject errorReply(const char *code, const QString &message)
{
    return {{QStringLiteral("ok"), false}, {QStringLiteral("v"), kProtocolVersion},
        {QStringLiteral("error"), QLatin1String(code)}, {QStringLiteral("message"), message}};
}

bool readUid(const QJsonValue &value, uid_t *uid)
{
    if (!value.isDouble())
        return false;
    const double number = value.toDouble();
    if (number < 0 || number >= 4294967295.0 || std::floor(number) != number)
        return false;
    *uid = static_cast<uid_t>(number);
    return true;
}

Connection::Connection(PeerCredentials peer, QLocalSocket *socket)
    : QObject(socket)
    , m_peer(peer)
    , m_socket(socket)
{
}

void Connection::send(const QJsonObject &event)
{
    if (m_socket->state() == QLocalSocket::ConnectedState)
        m_socket->write(control::encodeJsonLine(event));
}

void Connection::close()
{
    m_socket->disconnectFromServer();
}

QJsonObject DaemonServer::answer(Connection &connection, QByteArrayView line, bool *close) const
{
    jose::StrictJsonLimits limits;
    limits.maxDepth = 8;
    limits.maxSize = kMaxRequestBytes;
    // A CR before the newline is tolerated, nothing else around the object is.
    if (line.endsWith('\r'))
        line.chop(1);
    const auto request = jose::parseStrictJsonObject(line, limits);
    if (!request) {
        *close = true;
        return errorReply(
            "malformed", QStringLiteral("a request is one JSON object on one line: %1").arg(request.error().message));
    }
    const QJsonValue version = request->value(QLatin1String("v"));
    if (!version.isDouble()) {
        *close = true;
        return errorReply("malformed", QStringLiteral("a request names its protocol version as a number in \"v\""));
    }
    if (version.toDouble() != kProtocolVersion) {
        QJsonObject reply = errorReply(
            "unsupported_version", QStringLiteral("this hotdeskd speaks protocol version %1 only").arg(kProtocolVersion));
        reply.insert(QStringLiteral("supported"), QJsonArray {kProtocolVersion});
        return reply;
    }
    const QJsonValue command = request->value(QLatin1String("command"));
    if (!command.isString()) {
        *close = true;
        return errorReply("malformed", QStringLiteral("a request names its command as a string in \"command\""));
    }
    if (command.toString() == QLatin1String("hello"))
        return okReply({{QStringLiteral("uid"), double(connection.peer().uid)},
            {QStringLiteral("daemon"), QStringLiteral("hotdeskd " HOTDESK_VERSION)}});
    const auto handler = m_commands.constFind(command.toString());
    if (handler == m_commands.constEnd())
        return errorReply("unknown_command", QStringLiteral("hotdeskd has no command \"%1\"").arg(command.toString()));
    return (*handler)(connection, *request);
}

DaemonServer::DaemonServer(QObject *parent)
    : QObject(parent)
    , m_server(new QLocalServer(this))
{
    connect(m_server, &QLocalServer::newConnection, this, &DaemonServer::accept);
}

DaemonServer::~DaemonServer() = default;

Status DaemonServer::listen(const QString &path)
{
    // Only one daemon: connecting tells a live one from a file a killed one left.
    QLocalSocket probe;
    probe.connectToServer(path);
    if (probe.waitForConnected(500))
        return fail(ErrorCode::Io, QStringLiteral("another hotdeskd is already listening on %1; stop it first").arg(path));
    QLocalServer::removeServer(path);
    if (!m_server->listen(path))
        return fail(ErrorCode::Io,
            QStringLiteral("cannot listen on %1: %2; check that its directory exists and is writable")
                .arg(path, m_server->errorString()));
    // Connecting needs write permission on the socket; who may do what is decided per request.
    if (::chmod(QFile::encodeName(m_server->fullServerName()).constData(), 0666) != 0) {
        const int error = errno;
        m_server->close();
        return fail(ErrorCode::Io,
            QStringLiteral("cannot make %1 reachable (chmod 0666): %2").arg(path, QString::fromLocal8Bit(std::strerror(error))));
    }
    return {};
}

void DaemonServer::close()
{
    m_server->close();
}

void DaemonServer::accept()
{
    control::JsonLineLimits limits;
    limits.maxLineBytes = kMaxRequestBytes;
    limits.lineTimeoutMs = m_clientTimeoutMs;
    while (QLocalSocket *socket = m_server->nextPendingConnection()) {
        // The kernel's record of who connected, taken once: a later setuid of
        // the client does not change whom this connection speaks for.
        struct ucred credentials { };
        socklen_t size = sizeof credentials;
        if (::getsockopt(int(socket->socketDescriptor()), SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0
            || size != sizeof credentials) {
            qWarning("hotdeskd: closing a connection whose peer is unknown: %s", std::strerror(errno));
            socket->abort();
            socket->deleteLater();
            continue;
        }
        const PeerCredentials peer {credentials.uid, credentials.gid, credentials.pid};
        // One user opening connection after connection must not starve the
        // others (or the root callers) of the daemon's file descriptors.
        if (peer.uid != 0 && m_connections.value(peer.uid) >= kMaxConnectionsPerUid) {
            const QJsonObject refused = errorReply("too_many_connections",
                QStringLiteral("uid %1 already holds %2 connections; close one first").arg(peer.uid).arg(kMaxConnectionsPerUid));
            socket->write(control::encodeJsonLine(refused));
            socket->disconnectFromServer();
            connect(socket, &QLocalSocket::disconnected, socket, &QObject::deleteLater);
            continue;
        }
        ++m_connections[peer.uid];
        connect(socket, &QObject::destroyed, this, [this, uid = peer.uid] {
            if (--m_connections[uid] == 0)
                m_connections.remove(uid);
        });
        auto *connection = new Connection(peer, socket);
        connect(connection, &QObject::destroyed, this, [this, connection] { Q_EMIT disconnected(connection); });
        control::serveJsonLines(socket, limits,
            {[this, connection](QByteArrayView line) {
                 control::JsonLineReply reply;
                 reply.answer = answer(*connection, line, &reply.close);
                 reply.holdOpen = connection->takeHoldOpen();
                 return reply;
             },
                errorReply("too_large", QStringLiteral("a request line is at most %1 bytes").arg(kMaxRequestBytes)),
                errorReply("timeout", QStringLiteral("no complete request line within %1 ms").arg(m_clientTimeoutMs))});
    }
}

} // namespace hotdesk::daemon

// A plain client of hotdeskd's socket for tests, every wait bounded, and the systemd notify socket a test binds.
#pragma once

#include "childprocess.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QProcess>
#include <QProcessEnvironment>
#include <QString>

#include <cstring>
#include <memory>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace hotdesk::test {

// A Unix socket of the given type, bound to path (bind) or connected to it; its descriptor closes with it.
class UnixSocket {
public:
    UnixSocket() = default;
    UnixSocket(const UnixSocket &) = delete;
    UnixSocket &operator=(const UnixSocket &) = delete;
    ~UnixSocket()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    bool open(int type, const QString &path, bool bind)
    {
        const QByteArray native = QFile::encodeName(path);
        sockaddr_un address {};
        if (size_t(native.size()) >= sizeof address.sun_path)
            return false;
        address.sun_family = AF_UNIX;
        std::memcpy(address.sun_path, native.constData(), size_t(native.size()));
        m_fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
        const auto *generic = reinterpret_cast<sockaddr *>(&address);
        return m_fd >= 0 && (bind ? ::bind(m_fd, generic, sizeof address) : ::connect(m_fd, generic, sizeof address)) == 0;
    }
    int fd() const { return m_fd; }

private:
    int m_fd = -1;
};

// Waits until fd is readable; false when timeoutMs passes first.
inline bool readable(int fd, int timeoutMs)
{
    pollfd entry {fd, POLLIN, 0};
    return ::poll(&entry, 1, timeoutMs) == 1;
}

// What systemd listens on for sd_notify: a Unix datagram socket, here the test's.
class NotifySocket {
public:
    bool bind(const QString &path) { return m_socket.open(SOCK_DGRAM, path, true); }
    // The next datagram, or empty when none comes within timeoutMs.
    QByteArray receive(int timeoutMs)
    {
        if (!readable(m_socket.fd(), timeoutMs))
            return {};
        char buffer[4096];
        const ssize_t n = ::recv(m_socket.fd(), buffer, sizeof buffer, 0);
        return n > 0 ? QByteArray(buffer, n) : QByteArray();
    }

private:
    UnixSocket m_socket;
};

// A plain blocking client of the daemon's socket, every wait bounded.
class Client {
public:
    bool connect(const QString &path)
    {
        if (!m_socket.open(SOCK_STREAM, path, false))
            return false;
        m_fd = m_socket.fd();
        return true;
    }
    bool send(const QByteArray &bytes)
    {
        qsizetype sent = 0;
        while (sent < bytes.size()) {
            const ssize_t n = ::send(m_fd, bytes.constData() + sent, size_t(bytes.size() - sent), MSG_NOSIGNAL);
            if (n <= 0)
                return false;
            sent += n;
        }
        return true;
    }
    // The next reply line as an object; empty when none comes within timeoutMs.
    QJsonObject reply(int timeoutMs = 5000)
    {
        QElapsedTimer clock;
        clock.start();
        while (!m_pending.contains('\n')) {
            const int left = timeoutMs - int(clock.elapsed());
            if (left <= 0 || !readable(m_fd, left) || !readMore())
                return {};
        }
        const qsizetype newline = m_pending.indexOf('\n');
        const QByteArray line = m_pending.left(newline);
        m_pending.remove(0, newline + 1);
        return QJsonDocument::fromJson(line).object();
    }
    // True when the daemon closes the connection within timeoutMs (what it still sends is kept).
    bool closedByDaemon(int timeoutMs = 5000)
    {
        QElapsedTimer clock;
        clock.start();
        for (;;) {
            const int left = timeoutMs - int(clock.elapsed());
            if (left <= 0 || !readable(m_fd, left))
                return false;
            if (!readMore())
                return true;
        }
    }
    QByteArray pending() const { return m_pending; }

private:
    bool readMore()
    {
        char buffer[4096];
        const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
        if (n <= 0)
            return false; // end of stream, or reset
        m_pending.append(buffer, n);
        return true;
    }

    UnixSocket m_socket;
    int m_fd = -1;
    QByteArray m_pending;
};

inline const QByteArray kHello = "{\"v\":1,\"command\":\"hello\"}\n";

inline QString error(const QJsonObject &reply)
{
    return reply.value(QLatin1String("ok")).toBool(true) ? QString() : reply.value(QLatin1String("error")).toString();
}

// hotdeskd's test option that lets the python stand-ins for the agent (tests/daemon/agentclient.py, relayclient.py)
// attach as uid 65534: only the installed hotdesk may otherwise (app/daemon/agentprogram.h).
// The records of hotdeskd's audit log file (one JSON object per line) whose "event" is event, oldest first.
inline QList<QJsonObject> auditRecords(const QString &file, const QString &event)
{
    QList<QJsonObject> records;
    QFile log(file);
    if (!log.open(QIODevice::ReadOnly))
        return records;
    while (!log.atEnd()) {
        const QJsonObject record = QJsonDocument::fromJson(log.readLine()).object();
        if (record.value(QLatin1String("event")).toString() == event)
            records << record;
    }
    return records;
}

inline QStringList pythonAgentArguments()
{
    return {QStringLiteral("--agent-program"), QStringLiteral("/usr/bin/python3")};
}

// Starts hotdeskd (binary) with arguments, its NOTIFY_SOCKET bound at notifyPath, and the variables
// NAME=VALUE added to this process's environment; true once it says READY=1 (within 15 s).
inline bool startHotdeskd(QProcess &daemon, std::unique_ptr<NotifySocket> &notify, const QString &binary,
    const QString &notifyPath, const QStringList &arguments, const QStringList &environment)
{
    QFile::remove(notifyPath);
    notify = std::make_unique<NotifySocket>();
    if (!notify->bind(notifyPath))
        return false;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("NOTIFY_SOCKET"), notifyPath);
    for (const QString &variable : environment)
        env.insert(variable.section(QLatin1Char('='), 0, 0), variable.section(QLatin1Char('='), 1));
    daemon.setProcessEnvironment(env);
    daemon.setProcessChannelMode(QProcess::ForwardedChannels);
    dieWithTest(daemon);
    daemon.start(binary, arguments);
    return daemon.waitForStarted(10000) && notify->receive(15000).contains("READY=1");
}

} // namespace hotdesk::test

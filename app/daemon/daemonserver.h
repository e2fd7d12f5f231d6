// hotdeskd's socket: every client known by SO_PEERCRED, one versioned JSON request per line (docs/hotdeskd-protocol.md).
#pragma once

#include "core/result.h"

#include <QByteArrayView>
#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QString>

#include <functional>
#include <utility>

#include <sys/types.h>

class QLocalServer;
class QLocalSocket;

namespace hotdesk::daemon {

// The protocol versions this daemon speaks, and its line limit (newline excluded).
constexpr int kProtocolVersion = 1;
constexpr qsizetype kMaxRequestBytes = 64 * 1024;
// Open connections one non-root uid may hold: enough for an agent, a PAM
// conversation and a few status calls, too few to use up the daemon's files.
constexpr int kMaxConnectionsPerUid = 16;

// Who is at the other end, as the kernel says at connect time.
struct PeerCredentials {
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
    pid_t pid = 0;
};

// Replies as the protocol writes them: {"ok":true,"v":1, members...} and
// {"ok":false,"v":1,"error":code,"message":message}.
QJsonObject okReply(QJsonObject members = {});
QJsonObject errorReply(const char *code, const QString &message);
// A JSON number that is a whole uid (uid_t, -1 excluded: it means "no uid").
bool readUid(const QJsonValue &value, uid_t *uid);

// One accepted client: who it is as the kernel says, and a way to send it
// lines that are not replies (events, docs/hotdeskd-protocol.md). It is
// destroyed when the connection ends.
class Connection : public QObject {
    Q_OBJECT
public:
    Connection(PeerCredentials peer, QLocalSocket *socket);
    const PeerCredentials &peer() const { return m_peer; }
    // Writes one line now; a reply being answered is never split by it.
    void send(const QJsonObject &event);
    // Ends the connection after what was written.
    void close();
    // For a command that goes on working for this client (and ends by close()): the
    // client's silence from now on does not end the connection.
    void holdOpen() { m_holdOpen = true; }
    bool takeHoldOpen() { return std::exchange(m_holdOpen, false); }

private:
    PeerCredentials m_peer;
    QLocalSocket *m_socket;
    bool m_holdOpen = false;
};

// A command: the request (already checked for "v" and "command") from the
// connection, answered with okReply() or errorReply().
using Command = std::function<QJsonObject(Connection &connection, const QJsonObject &request)>;

class DaemonServer : public QObject {
    Q_OBJECT
public:
    explicit DaemonServer(QObject *parent = nullptr);
    ~DaemonServer() override;

    // Listens on path, mode 0666: anyone may connect, each request is
    // authorized by the caller's uid. A stale socket file is replaced; a live
    // daemon answering on it is an error.
    Status listen(const QString &path);
    void close();
    void setClientTimeout(int ms) { m_clientTimeoutMs = ms; }
    // Adds or replaces a command; "hello" is built in.
    void addCommand(const QString &name, Command command) { m_commands.insert(name, std::move(command)); }

    // Answers one request line from connection; close is set when the connection must end.
    QJsonObject answer(Connection &connection, QByteArrayView line, bool *close) const;

Q_SIGNALS:
    // A connection ended; it is being destroyed.
    void disconnected(hotdesk::daemon::Connection *connection);

private:
    void accept();

    QLocalServer *m_server;
    int m_clientTimeoutMs = 10000;
    QHash<uid_t, int> m_connections; // open connections by the peer's uid
    QHash<QString, Command> m_commands;
};

} // namespace hotdesk::daemon

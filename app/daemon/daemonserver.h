// hotdeskd's socket: every client known by SO_PEERCRED, one versioned JSON request per line (docs/hotdeskd-protocol.md).
#pragma once

#include "core/result.h"

#include <QByteArrayView>
#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QString>

#include <sys/types.h>

class QLocalServer;

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

// Answers one request line from peer; close is set when the connection must end.
QJsonObject answerRequest(const PeerCredentials &peer, QByteArrayView line, bool *close);

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

private:
    void accept();

    QLocalServer *m_server;
    int m_clientTimeoutMs = 10000;
    QHash<uid_t, int> m_connections; // open connections by the peer's uid
};

} // namespace hotdesk::daemon

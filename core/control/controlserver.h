// The running agent's local control socket: `hotdesk status` and `hotdesk reauth` talk to it.
#pragma once

#include "../result.h"

#include <QByteArrayView>
#include <QJsonObject>
#include <QObject>
#include <QString>

#include <functional>

class QLocalServer;
class QLocalSocket;

namespace hotdesk::control {

// What the tray shows, and what `hotdesk status` prints (stable names).
enum class AgentState { Ok, ReauthSoon, Locked, Offline, Error };
QString agentStateName(AgentState state); // "ok", "reauth_soon", "locked", "offline", "error"

struct AgentStatus {
    AgentState state = AgentState::Error;
    QString user;   // who is signed in at this PC, if known
    QString detail; // one line for people
};

// Longest request line accepted, newline excluded.
constexpr qsizetype kMaxRequestBytes = 4096;

// The socket's name for this user: $HOTDESK_CONTROL_SOCKET when set and
// honoured (tests, root: core/trustoverrides.h);
// on Linux $XDG_RUNTIME_DIR/hotdesk-<uid> when XDG_RUNTIME_DIR is set (a
// 0700 directory only this user can enter), else "hotdesk-<uid>" (Qt puts it
// in the temporary directory); on Windows the named pipe "hotdesk-<user>".
QString defaultServerName();

// One JSON object per line each way (docs/agent-runtime.md):
//   {"command":"status"} -> {"ok":true,"state":"…","user":"…","detail":"…"}
//   {"command":"reauth"} -> {"ok":true}, and reauthRequested() is emitted
//   anything else        -> {"ok":false,"error":"unknown_command"}
// A malformed line (not a JSON object with a string "command") or one longer
// than kMaxRequestBytes gets {"ok":false,"error":"malformed"|"too_large"} and
// the connection is closed; so is a connection that completes no line within
// idleTimeoutMs of connecting or of its previous line.
// The socket is accessible to this user only (QLocalServer::UserAccessOption).
class ControlServer : public QObject {
    Q_OBJECT
public:
    explicit ControlServer(QObject *parent = nullptr);
    ~ControlServer() override;

    // Starts listening. A stale socket left by a crashed agent is replaced; a
    // live agent already answering on the name is an error (ErrorCode::Io).
    Status listen(const QString &name = defaultServerName());
    QString fullServerName() const;

    // The agent sets this; until it does, status answers "error" / "starting".
    void setStatusProvider(std::function<AgentStatus()> provider) { m_statusProvider = std::move(provider); }
    void setIdleTimeout(int ms) { m_idleTimeoutMs = ms; }

Q_SIGNALS:
    void reauthRequested();

private:
    void accept();
    QJsonObject answer(QByteArrayView line, bool *close);

    QLocalServer *m_server = nullptr;
    std::function<AgentStatus()> m_statusProvider;
    int m_idleTimeoutMs = 10000;
};

} // namespace hotdesk::control

// The tray agent's line to hotdeskd: attached to its logind session, a heartbeat with the idle time, the daemon's events.
#pragma once

#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QTimer>

#include <chrono>
#include <functional>
#include <optional>

class QLocalSocket;

namespace hotdesk::control {

// hotdeskd's socket where the system unit puts it (docs/hotdeskd.md); $HOTDESK_DAEMON_SOCKET in test builds and for root.
QString defaultDaemonSocket();
// Whether hotdeskd keeps the enforcement state and makes the recovery codes: always in a release build
// (whatever the agent kept would be the user's to edit), in a test build only when the daemon's socket exists.
bool daemonInUse();

// Connects to hotdeskd, sends "attach" for the session and then a heartbeat
// with the idle time as often as the attach reply's "heartbeat_ms" asks, else
// every `heartbeat` (docs/hotdeskd-protocol.md). Lines the
// daemon sends that are events come out of event(). A connection that cannot
// be made or ends is tried again after 1 s, doubling to 10 s: the daemon
// restarts within a second under systemd.
class DaemonLink : public QObject {
    Q_OBJECT
public:
    // Asks for the session's idle time; the answer (nullopt: unknown) may come later.
    using IdleQuery = std::function<void(std::function<void(std::optional<std::chrono::milliseconds>)>)>;

    struct Options {
        QString socketPath; // empty: defaultDaemonSocket()
        QString sessionId; // logind's id of the session the agent runs in
        std::chrono::milliseconds heartbeat {3000}; // when the daemon names no interval
    };

    DaemonLink(Options options, IdleQuery idle, QObject *parent = nullptr);
    ~DaemonLink() override;

    void start();
    bool isAttached() const { return m_attached; }
    // A request line on the attached connection (e.g. {"command":"reauth"}); "v" is added.
    // False when not attached.
    bool send(QJsonObject request);
    // A recovery code typed at the lock, for hotdeskd to check ("recovery_code"). A right one ends in the
    // event "unlocked"; a refusal, as the reply or later, in recoveryCodeRefused(). False when not attached.
    bool sendRecoveryCode(const QString &code);
    const QString &socketPath() const { return m_options.socketPath; }
    // The daemon's answer to the last "attach" (the session's members, e.g. "kiosk" and "person"); empty until attached.
    const QJsonObject &attachReply() const { return m_attachReply; }

Q_SIGNALS:
    void attached();
    // Not attached (any more): why, for the tray and the log. Tried again later.
    void unavailable(const QString &why);
    // The daemon refused to attach this agent (an agent already there, a session it does not
    // follow yet); tried again later.
    void refused(const QString &error, const QString &message);
    // An event line ({"event": ...}).
    void event(const QJsonObject &event);
    // The reply to a request sent with send() (ok or not), with the request's command; before requestFailed().
    void answered(const QString &command, const QJsonObject &reply);
    // A reply that is an error, to a request sent with send().
    void requestFailed(const QString &error, const QString &message);
    // hotdeskd refused the code sendRecoveryCode() gave (error: "wrong_code", "locked_out", ...).
    void recoveryCodeRefused(const QString &error, const QString &message);

private:
    void connectNow();
    void onLine(const QByteArray &line);
    std::chrono::milliseconds heartbeatInterval(const QJsonObject &attachReply) const;
    void sendHeartbeat();
    void drop(const QString &why);
    void write(QJsonObject request);

    Options m_options;
    IdleQuery m_idle;
    QLocalSocket *m_socket = nullptr;
    QByteArray m_pending;
    bool m_attached = false;
    bool m_awaitingAttach = false;
    QTimer m_heartbeat;
    QTimer m_retry;
    std::chrono::milliseconds m_retryDelay {1000};
    // Replies come in the order of the requests: which one answers the recovery code.
    qint64 m_written = 0;
    qint64 m_answered = 0;
    qint64 m_codeReply = -1;
    QList<QString> m_commands; // the commands written and not answered yet, oldest first
    QJsonObject m_attachReply;
};

} // namespace hotdesk::control

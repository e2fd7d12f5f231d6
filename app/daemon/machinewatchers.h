// hotdeskd's watchers of the policy's sensitive paths and devices for the whole machine, and whose sessions an event is for.
#pragma once

#include "core/platform/linux/logindsessions.h"
#include "core/policy/reauthrules.h"

#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>

namespace hotdesk::platform {
class LinuxPathWatcher;
class LinuxDeviceWatcher;
} // namespace hotdesk::platform

namespace hotdesk::daemon {

// The sessions a process's doings count for: the logind session of its cgroup
// (".../session-ID.scope") if it is one of sessions, else every one of sessions
// its owner has; none when the process is gone.
QStringList sessionsOfProcess(const QString &procRoot, qint64 pid, const QList<platform::LoginSession> &sessions);
// The sessions someone sits in front of now: on a seat, and Active there.
QStringList activeSeatSessions(const QList<platform::LoginSession> &sessions);

// Runs as root, so every user's files and processes are seen and nobody in a
// session can stop it. Attribution (docs/hotdeskd.md, "Sensitive paths and
// devices"): inotify does not say which process touched a path, so a path
// counts for the seats' active sessions; a device in use counts for its
// holder's sessions (sessionsOfProcess), and for the active ones when the
// holder has none (a system service, a process already gone).
class MachineWatchers : public QObject {
    Q_OBJECT
public:
    struct Options {
        QString procRoot = QStringLiteral("/proc");
        QString devRoot = QStringLiteral("/dev"); // where cameras (video*) and snd/ live
    };
    // The sessions hotdeskd follows now (local user sessions), asked at each event.
    using SessionList = std::function<QList<platform::LoginSession>()>;

    MachineWatchers(Options options, SessionList sessions, QObject *parent = nullptr);
    ~MachineWatchers() override;

    // The policy's sensitive_paths and sensitive_devices from now on; empty lists watch nothing.
    void configure(const QStringList &paths, const QList<policy::SensitiveDevice> &devices);
    // The sessions are known (or cannot be): watching starts, so that a device
    // already in use counts for the sessions it belongs to.
    void start();
    // A session began: a device its processes took before counts for it too, as for an agent starting with it.
    void sessionStarted(const QString &id);

Q_SIGNALS:
    void pathTouched(const QString &sessionId, const QString &path);
    void deviceInUse(const QString &sessionId, hotdesk::policy::SensitiveDevice device);
    // A path or device cannot be watched (the message says what and what to do).
    void problem(const QString &message);

private:
    void apply();
    // The sessions a device held by pid counts for.
    QStringList holderSessions(qint64 pid, const QList<platform::LoginSession> &followed) const;

    Options m_options;
    SessionList m_sessions;
    bool m_started = false;
    QStringList m_wantedPaths;
    QList<policy::SensitiveDevice> m_wantedDevices;
    std::unique_ptr<platform::LinuxPathWatcher> m_paths;
    std::unique_ptr<platform::LinuxDeviceWatcher> m_devices;
};

} // namespace hotdesk::daemon

// What the policy's triggers watch on this PC: lock/unlock, idle time, program starts, files, camera and microphone.
#pragma once

#include "../result.h"

#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

class QTimer;

namespace hotdesk::platform {
Q_NAMESPACE

// What happened to a file below a sensitive path.
enum class TouchKind {
    Opened, // opened for reading or writing (a copy starts with this)
    Modified, // written to
    Written, // closed after writing
    Created,
    Deleted,
    MovedFrom, // renamed or moved away
    MovedTo, // renamed or moved here
    Unknown, // events were lost (queue overflow): something below the path may have been touched
};
Q_ENUM_NS(TouchKind)

// The policy's sensitive_devices values.
enum class DeviceKind { Camera, Microphone };
Q_ENUM_NS(DeviceKind)

// The account this process runs as (the password database, else $USER; %USERNAME% on Windows).
QString loginName();

QString touchKindName(TouchKind kind); // "opened", "modified", …
QString deviceKindName(DeviceKind kind); // "camera" | "microphone", as the policy spells them
std::optional<DeviceKind> deviceKindFromName(const QString &name);

// The logon session: its start (the agent starts with the session) and the
// desktop's screen lock. Signals report changes only; isLocked() the state.
class SessionWatcher : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;

    // Emits sessionStarted() once from the event loop (so connections made
    // right after start() see it), then looks for a source of lock events and
    // says which one it found with watching().
    virtual void start() = 0;
    virtual bool isLocked() const = 0;
    // The source of lock events: "logind", "screensaver", "none"; empty until watching().
    virtual QString backend() const = 0;
    // Has the desktop lock the session with its own locker, which asks for the
    // account password (the failure policy's "require_credentials"). done runs
    // exactly once, after the request was accepted or refused; Unsupported
    // when nothing can lock the session.
    virtual void lockSession(std::function<void(Status)> done) = 0;

Q_SIGNALS:
    void sessionStarted(const QString &user);
    // backend "none": no lock events can arrive, so on_unlock can never fire.
    void watching(const QString &backend);
    void locked();
    void unlocked();
};

// Where the idle time of the session comes from (the desktop on Linux,
// GetLastInputInfo on Windows, the HID system on macOS); tests give a fake.
class IdleSource {
public:
    virtual ~IdleSource() = default;

    using Callback = std::function<void(Result<std::chrono::milliseconds>)>;
    // Time since the last keyboard or pointer input in this session. done runs
    // exactly once, inside the call or later; ErrorCode::Unsupported when no
    // source answers.
    virtual void queryIdleTime(Callback done) = 0;
    // Which source answered last ("mutter", "screensaver", "logind", …), for diagnostics.
    virtual QString name() const = 0;
};

// Turns an IdleSource into idleReached()/activityResumed() without polling:
// while the user is active it asks again only when the threshold can first be
// reached (threshold - idle time); only while idle does it ask at a fixed,
// modest interval to notice the user coming back.
class IdleMonitor final : public QObject {
    Q_OBJECT
public:
    struct Options {
        std::chrono::milliseconds resumeCheckInterval {2000}; // while idle
        std::chrono::milliseconds retryInterval {60000}; // after the source failed
        std::chrono::milliseconds minimumDelay {250}; // never sooner than this
    };

    explicit IdleMonitor(std::unique_ptr<IdleSource> source, QObject *parent = nullptr);
    IdleMonitor(std::unique_ptr<IdleSource> source, Options options, QObject *parent = nullptr);
    ~IdleMonitor() override;

    // Zero turns the monitor off: no timer, no queries. A new threshold starts over (not idle).
    void setThreshold(std::chrono::milliseconds threshold);
    std::chrono::milliseconds threshold() const { return m_threshold; }
    bool isIdle() const { return m_idle; }

    // The idle time now, on demand (same contract as IdleSource::queryIdleTime).
    void queryIdleTime(IdleSource::Callback done);
    IdleSource &source() { return *m_source; }

    // The delay the next check was scheduled with; nullopt when none is
    // scheduled (off, or a query in flight). For tests and diagnostics.
    std::optional<std::chrono::milliseconds> scheduledDelay() const;
    // Checks at once instead of waiting for the timer.
    void checkNow();

Q_SIGNALS:
    void idleReached(std::chrono::milliseconds threshold);
    void activityResumed();
    // The idle time cannot be read (message says why and what to do); retried after retryInterval.
    void unavailable(const QString &message);

private:
    void onAnswer(quint64 generation, const Result<std::chrono::milliseconds> &idle);
    void schedule(std::chrono::milliseconds delay);
    bool emitAndStillCurrent(quint64 generation, const std::function<void()> &emitSignal);

    std::unique_ptr<IdleSource> m_source;
    Options m_options;
    QTimer *m_timer = nullptr;
    std::chrono::milliseconds m_threshold {0};
    std::chrono::milliseconds m_lastIdle {0};
    std::chrono::milliseconds m_scheduled {0};
    quint64 m_generation = 0;
    bool m_idle = false;
    bool m_failing = false;
};

// Starts of programs named in the policy's sensitive_apps.
class ProcessWatcher : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;

    // Program names as the policy writes them; an empty list stops watching
    // (no wake-ups at all). Programs already running are not reported.
    virtual void setNames(const QStringList &names) = 0;
    virtual QStringList names() const = 0;
    // How starts are noticed ("proc-connector", "proc-scan", …); empty while stopped.
    virtual QString backend() const = 0;

Q_SIGNALS:
    // name is the watched name as given to setNames().
    void processStarted(const QString &name, qint64 pid);
    void problem(const QString &message);
};

// Files opened, changed, created, moved or deleted below the policy's sensitive_paths.
class PathWatcher : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;

    // Directories (watched with everything below them, new subdirectories
    // included) or single files. A path that does not exist yet is watched
    // for from its nearest existing parent. An empty list stops watching.
    virtual void setPaths(const QStringList &paths) = 0;
    virtual QStringList paths() const = 0;

Q_SIGNALS:
    // The same path and kind is reported at most once per duplicate window.
    void touched(const QString &path, hotdesk::platform::TouchKind kind);
    // Part of a path could not be watched (message says what and what to do).
    void problem(const QString &message);
};

// A process holding a camera or microphone open.
struct DeviceUse {
    DeviceKind kind = DeviceKind::Camera;
    qint64 pid = 0;
    QString processName;

    friend bool operator==(const DeviceUse &, const DeviceUse &) = default;
};

// Camera and microphone use (the policy's sensitive_devices).
class DeviceWatcher : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;

    // The kinds to watch; empty stops watching (no wake-ups at all). Processes
    // already holding a device when watching starts are reported too: a device
    // in use is a state, not an event.
    virtual void setKinds(const QList<DeviceKind> &kinds) = 0;
    virtual QList<DeviceKind> kinds() const = 0;
    virtual QList<DeviceUse> inUse() const = 0;
    virtual QString backend() const = 0;

Q_SIGNALS:
    void deviceInUse(hotdesk::platform::DeviceKind kind, qint64 pid, const QString &processName);
    void deviceReleased(hotdesk::platform::DeviceKind kind, qint64 pid);
    void problem(const QString &message);
};

// The implementations for this operating system.
struct Platform {
    std::unique_ptr<SessionWatcher> session;
    std::unique_ptr<IdleMonitor> idle;
    std::unique_ptr<ProcessWatcher> processes;
    std::unique_ptr<PathWatcher> paths;
    std::unique_ptr<DeviceWatcher> devices;
};

// Linux: linux/ (D-Bus, /proc, inotify). Windows and macOS: windows/ and
// macos/, implemented with the packaging issue.
Platform createPlatform();

} // namespace hotdesk::platform

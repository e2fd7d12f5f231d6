// Every session logind knows, followed on the system bus: for hotdeskd, which enforces per session for the whole machine.
#pragma once

#include "../../result.h"

#include <QDBusConnection>
#include <QDBusContext>
#include <QDBusObjectPath>
#include <QHash>
#include <QObject>
#include <QString>
#include <QVariantMap>

#include <chrono>
#include <functional>
#include <optional>

#include <sys/types.h>

namespace hotdesk::platform {

// The logind session a program of the user presents: $XDG_SESSION_ID when the session started it, else the user's
// display session (logind's User.Display), the one a systemd user service such as the packaged hotdesk.service runs
// for, whose environment names no session. done runs once, later, with the id or why there is none.
void findOwnSession(const QDBusConnection &bus, std::chrono::milliseconds timeout, QObject *context,
    std::function<void(const Result<QString> &)> done);

// One logind session as hotdeskd needs it (org.freedesktop.login1.Session).
struct LoginSession {
    QString id;
    QString path; // the D-Bus object path
    uid_t uid = static_cast<uid_t>(-1);
    QString user;
    QString seat;
    QString type; // "x11", "wayland", "tty", "mir", "unspecified"
    QString sessionClass; // "user", "greeter", "lock-screen", "background"
    bool remote = false;
    bool active = false;
    bool locked = false; // LockedHint: the desktop's locker says the screen is locked
    bool idle = false; // IdleHint, where the desktop sets it
    quint64 idleSinceUs = 0; // IdleSinceHint: CLOCK_REALTIME microseconds, 0 when unknown
    quint64 startedUs = 0; // Timestamp: when the session began; ids are reused after a reboot, this is not

    // A person's graphical or text session, not a greeter or a background job.
    bool isUserSession() const { return sessionClass == QLatin1String("user"); }
    // No client of the session can hold a lock there: only the OS locker can.
    bool needsOsLock() const { return type == QLatin1String("wayland") || type == QLatin1String("mir"); }
};

// Reads the sessions once (ListSessions and each session's properties), then
// follows SessionNew/SessionRemoved and each session's PropertiesChanged and
// Unlock signal. Every call has a timeout; nothing blocks the event loop.
class LogindSessions : public QObject, protected QDBusContext {
    Q_OBJECT
public:
    struct Options {
        std::optional<QDBusConnection> bus; // nullopt: the system bus
        std::chrono::milliseconds callTimeout {3000};
    };

    explicit LogindSessions(Options options, QObject *parent = nullptr);

    // Starts following; ready() or failed() fires once. A session seen
    // afterwards fires added(); one that goes away fires removed().
    void start();
    QList<LoginSession> sessions() const { return m_sessions.values(); }
    std::optional<LoginSession> session(const QString &id) const;

    // Session.Lock: the desktop's own locker covers the session (needs root
    // on a real system). done runs once, later.
    void lock(const QString &id, std::function<void(Status)> done);

Q_SIGNALS:
    void ready();
    void failed(const hotdesk::Error &error);
    void added(const hotdesk::platform::LoginSession &session);
    void removed(const QString &id);
    // Active, LockedHint or IdleHint changed.
    void changed(const hotdesk::platform::LoginSession &session);
    // Someone asked logind to unlock the session (loginctl unlock-session).
    void unlockRequested(const QString &id);

private Q_SLOTS:
    // Slots by name: QtDBus connects remote signals only to named slots.
    // SessionNew and SessionRemoved (s id, o path); the message, as QtDBus will not pass an object path here.
    void onSessionNew(const QDBusMessage &signal);
    void onSessionRemoved(const QDBusMessage &signal);
    void onPropertiesChanged(const QString &interface, const QVariantMap &changed, const QStringList &invalidated);
    void onUnlock();

private:
    void readSession(const QString &id, const QString &path, std::function<void()> done);
    void listed(const QDBusMessage &reply);
    QString idOfPath(const QString &path) const;

    QDBusConnection m_bus;
    std::chrono::milliseconds m_timeout;
    QHash<QString, LoginSession> m_sessions; // by id
    int m_pendingReads = 0;
    bool m_ready = false;
};

// The properties of a login1 Session object as returned by Properties.GetAll.
LoginSession loginSessionFromProperties(const QString &path, const QVariantMap &properties);

} // namespace hotdesk::platform

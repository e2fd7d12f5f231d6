// SessionWatcher on Linux: logind's session on the system bus, else the desktop's screensaver on the session bus.
#pragma once

#include "../platform.h"

#include <QDBusConnection>
#include <QVariantMap>

#include <chrono>
#include <optional>

namespace hotdesk::platform {

// Order of attempts (docs/platform.md):
// 1. logind (system bus): the Session object of XDG_SESSION_ID, else of
//    "auto" (the caller's session or its user's display session); its
//    LockedHint property (set by GNOME Shell, KDE's kscreenlocker, …) and its
//    Lock/Unlock signals (loginctl lock-session / unlock-session).
// 2. The desktop's screensaver (session bus): ActiveChanged(bool) of
//    org.freedesktop.ScreenSaver and org.gnome.ScreenSaver.
// 3. None: watching("none"), and no lock events ever.
class LinuxSessionWatcher final : public SessionWatcher {
    Q_OBJECT
public:
    struct Options {
        std::optional<QDBusConnection> systemBus; // nullopt: the system bus
        std::optional<QDBusConnection> sessionBus; // nullopt: the session bus
        std::optional<QString> sessionId; // nullopt: $XDG_SESSION_ID
        QString user; // empty: the login name of this process
        std::chrono::milliseconds callTimeout {3000};
    };

    explicit LinuxSessionWatcher(QObject *parent = nullptr);
    explicit LinuxSessionWatcher(Options options, QObject *parent = nullptr);

    void start() override;
    bool isLocked() const override { return m_locked; }
    QString backend() const override { return m_backend; }
    // logind: Manager.LockSession with the session's Id; else the
    // screensaver's Lock method.
    void lockSession(std::function<void(Status)> done) override;

    // The logind session object watched (empty unless backend() is "logind").
    QString sessionPath() const { return m_sessionPath; }
    // Why logind was not used, when it was not (for hotdesk doctor).
    QString logindProblem() const { return m_logindProblem; }

private Q_SLOTS:
    // Slots by name: QtDBus connects remote signals only to named slots.
    void onLogindLock();
    void onLogindUnlock();
    void onLogindPropertiesChanged(const QString &interface, const QVariantMap &changed, const QStringList &invalidated);
    void onScreenSaverActiveChanged(bool active);

private:
    void findLogindSession(const QStringList &candidates);
    void watchLogindSession(const QString &path);
    void readLockedHint(bool announce);
    void useScreenSaver(const QString &whyNotLogind);
    void setLocked(bool locked);
    void announce(const QString &backend);

    Options m_options;
    QDBusConnection m_system;
    QDBusConnection m_session;
    QString m_sessionPath;
    QString m_logindProblem;
    QString m_backend;
    bool m_locked = false;
    bool m_started = false;
};

} // namespace hotdesk::platform

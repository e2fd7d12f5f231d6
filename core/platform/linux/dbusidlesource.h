// IdleSource on Linux: the desktop's idle time over D-Bus (GNOME's Mutter, the freedesktop screensaver, logind's IdleHint).
#pragma once

#include "../platform.h"

#include <QDBusConnection>
#include <QObject>

#include <chrono>
#include <memory>
#include <optional>

namespace hotdesk::platform {

// Order of attempts (docs/platform.md); the first that answers is asked first
// from then on, and a failure starts over from the top:
// 1. "mutter": org.gnome.Mutter.IdleMonitor GetIdletime (GNOME on X11 and
//    Wayland, the Debian 12 default desktop), milliseconds.
// 2. "screensaver": org.freedesktop.ScreenSaver GetSessionIdleTime (KDE
//    Plasma's kscreenlocker and others), milliseconds.
// 3. "logind": IdleHint and IdleSinceHintMonotonic of the logind session.
//    Coarse: the desktop sets IdleHint only after its own idle delay, so idle
//    time below that delay reads as zero.
// The X server's own idle time (MIT-SCREEN-SAVER) is not asked here: it needs
// a GUI application's X connection, which hotdesk_core does not have. The agent
// adds it after this source (ui/desktopidlesource.h, docs/platform.md).
class DBusIdleSource final : public QObject, public IdleSource {
    Q_OBJECT
public:
    struct Options {
        std::optional<QDBusConnection> sessionBus; // nullopt: the session bus
        std::optional<QDBusConnection> systemBus; // nullopt: the system bus
        std::optional<QString> sessionId; // nullopt: $XDG_SESSION_ID, else logind's "auto"
        std::chrono::milliseconds callTimeout {2000};
        // false: logind is not asked (desktopIdleSource asks the X server before it).
        bool askLogind = true;
    };

    explicit DBusIdleSource(QObject *parent = nullptr);
    explicit DBusIdleSource(Options options, QObject *parent = nullptr);

    void queryIdleTime(Callback done) override;
    QString name() const override { return m_name; }

private:
    struct Query;
    void attempt(const std::shared_ptr<Query> &query);
    void askMutter(const std::shared_ptr<Query> &query);
    void askScreenSaver(const std::shared_ptr<Query> &query);
    void askLogind(const std::shared_ptr<Query> &query);
    void failed(const std::shared_ptr<Query> &query, const QString &why);
    void succeeded(const std::shared_ptr<Query> &query, std::chrono::milliseconds idle);

    Options m_options;
    QDBusConnection m_session;
    QDBusConnection m_system;
    QString m_name;
    int m_preferred = 0;
};

} // namespace hotdesk::platform

// "Switch user" from a locked session: the display manager's login screen, never the locked session itself.
#pragma once

#include "../../result.h"

#include <QDBusConnection>
#include <QObject>
#include <QString>

#include <chrono>
#include <functional>
#include <optional>

namespace hotdesk::platform {

// Asks the display manager for its greeter on the system bus, so another
// person logs in to a session of their own while this one stays locked:
// GDM's LocalDisplayFactory.CreateTransientDisplay, else LightDM's
// Seat.SwitchToGreeter on $XDG_SEAT_PATH. done runs once, later, with the
// display manager that answered ("gdm", "lightdm") or why none did.
class GreeterSwitch : public QObject {
    Q_OBJECT
public:
    struct Options {
        std::optional<QDBusConnection> systemBus; // nullopt: the system bus
        QString seatPath; // empty: $XDG_SEAT_PATH
        std::chrono::milliseconds callTimeout {5000};
    };

    explicit GreeterSwitch(Options options, QObject *parent = nullptr);

    void switchToGreeter(std::function<void(Result<QString>)> done);

private:
    void tryLightDm(const QString &gdmError, std::function<void(Result<QString>)> done);

    QDBusConnection m_bus;
    QString m_seatPath;
    std::chrono::milliseconds m_timeout;
};

} // namespace hotdesk::platform

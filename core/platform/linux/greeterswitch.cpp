// The display manager's greeter over D-Bus: GDM first, then LightDM.
#include "greeterswitch.h"

#include "dbuscall.h"

#include <QDBusMessage>

namespace hotdesk::platform {

GreeterSwitch::GreeterSwitch(Options options, QObject *parent)
    : QObject(parent)
    , m_bus(detail::busOr(options.systemBus, QDBusConnection::SystemBus))
    , m_seatPath(options.seatPath.isEmpty() ? qEnvironmentVariable("XDG_SEAT_PATH") : options.seatPath)
    , m_timeout(options.callTimeout)
{
}

void GreeterSwitch::switchToGreeter(std::function<void(Result<QString>)> done)
{
    const auto call = QDBusMessage::createMethodCall(QStringLiteral("org.gnome.DisplayManager"),
        QStringLiteral("/org/gnome/DisplayManager/LocalDisplayFactory"), QStringLiteral("org.gnome.DisplayManager.LocalDisplayFactory"),
        QStringLiteral("CreateTransientDisplay"));
    detail::callDBus(m_bus, call, m_timeout, this, [this, done = std::move(done)](const QDBusMessage &reply) mutable {
        if (reply.type() == QDBusMessage::ReplyMessage) {
            done(QStringLiteral("gdm"));
            return;
        }
        tryLightDm(detail::describeDBusError(reply), std::move(done));
    });
}

void GreeterSwitch::tryLightDm(const QString &gdmError, std::function<void(Result<QString>)> done)
{
    if (m_seatPath.isEmpty()) {
        QMetaObject::invokeMethod(
            this,
            [gdmError, done = std::move(done)] {
                done(fail(ErrorCode::Unsupported,
                    QStringLiteral("no display manager offers a login screen here (GDM: %1; LightDM: no XDG_SEAT_PATH)")
                        .arg(gdmError)));
            },
            Qt::QueuedConnection);
        return;
    }
    const auto call = QDBusMessage::createMethodCall(QStringLiteral("org.freedesktop.DisplayManager"), m_seatPath,
        QStringLiteral("org.freedesktop.DisplayManager.Seat"), QStringLiteral("SwitchToGreeter"));
    detail::callDBus(m_bus, call, m_timeout, this, [gdmError, done = std::move(done)](const QDBusMessage &reply) {
        if (reply.type() == QDBusMessage::ReplyMessage)
            done(QStringLiteral("lightdm"));
        else
            done(fail(ErrorCode::Unsupported,
                QStringLiteral("no display manager offers a login screen here (GDM: %1; LightDM: %2)")
                    .arg(gdmError, detail::describeDBusError(reply))));
    });
}

} // namespace hotdesk::platform

// One asynchronous D-Bus call with a timeout, its reply (or error) handed to a functor on the event loop.
#pragma once

#include <QDBusConnection>
#include <QDBusError>
#include <QDBusMessage>
#include <QDBusPendingCallWatcher>
#include <QObject>

#include <chrono>
#include <functional>
#include <optional>

namespace hotdesk::platform::detail {

// done runs once with the reply or an error message (never inside the call);
// not at all if context is destroyed first. A bus that is not connected
// answers with an error too, so nothing here blocks or hangs.
inline void callDBus(const QDBusConnection &bus, const QDBusMessage &call, std::chrono::milliseconds timeout, QObject *context,
    std::function<void(const QDBusMessage &reply)> done)
{
    if (!bus.isConnected()) {
        // Qt 6.4 gives a call on such a connection a pending call that never
        // finishes, so the error is made here.
        const QString why = bus.lastError().isValid() ? bus.lastError().message() : QStringLiteral("not connected");
        QMetaObject::invokeMethod(
            context, [reply = call.createErrorReply(QDBusError::Disconnected, why), done = std::move(done)] { done(reply); },
            Qt::QueuedConnection);
        return;
    }
    auto *watcher = new QDBusPendingCallWatcher(bus.asyncCall(call, int(timeout.count())), context);
    QObject::connect(watcher, &QDBusPendingCallWatcher::finished, context, [watcher, done = std::move(done)] {
        watcher->deleteLater();
        done(watcher->reply());
    });
}

// The bus, or a connection that is certainly not connected when there is none.
inline QDBusConnection busOr(const std::optional<QDBusConnection> &given, QDBusConnection::BusType type)
{
    return given ? *given : (type == QDBusConnection::SystemBus ? QDBusConnection::systemBus() : QDBusConnection::sessionBus());
}

inline QString describeDBusError(const QDBusMessage &reply)
{
    return reply.errorName().isEmpty() ? reply.errorMessage()
                                       : QString(reply.errorName() + QStringLiteral(": ") + reply.errorMessage());
}

} // namespace hotdesk::platform::detail

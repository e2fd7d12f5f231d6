// DBusIdleSource: asks the desktop for the session's idle time, trying the known D-Bus services in order.
#include "dbusidlesource.h"

#include "dbuscall.h"

#include <QDBusArgument>
#include <QDBusObjectPath>
#include <QVariantMap>

#include <time.h>

namespace hotdesk::platform {

using std::chrono::milliseconds;

namespace {

enum Attempt { Mutter, ScreenSaverAttempt, Logind, AttemptCount };

const char *const kAttemptNames[AttemptCount] = {"mutter", "screensaver", "logind"};

milliseconds monotonicNow()
{
    timespec ts {};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return milliseconds(qint64(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000);
}

} // namespace

DBusIdleSource::DBusIdleSource(QObject *parent)
    : DBusIdleSource(Options {}, parent)
{
}

DBusIdleSource::DBusIdleSource(Options options, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
    , m_session(detail::busOr(m_options.sessionBus, QDBusConnection::SessionBus))
    , m_system(detail::busOr(m_options.systemBus, QDBusConnection::SystemBus))
{
}

// One query walks the sources in order, the one that answered last first.
struct DBusIdleSource::Query {
    QList<int> order;
    int position = 0;
    QStringList failures;
    Callback done;

    int current() const { return order.at(position); }
};

void DBusIdleSource::queryIdleTime(Callback done)
{
    auto query = std::make_shared<Query>();
    const int attempts = m_options.askLogind ? int(AttemptCount) : int(Logind);
    query->order << m_preferred;
    for (int i = 0; i < attempts; ++i) {
        if (i != m_preferred)
            query->order << i;
    }
    query->done = std::move(done);
    attempt(query);
}

void DBusIdleSource::attempt(const std::shared_ptr<Query> &query)
{
    if (query->position >= query->order.size()) {
        m_preferred = 0;
        m_name.clear();
        query->done(fail(ErrorCode::Unsupported,
            tr("The idle time of this session cannot be read (%1). The idle trigger needs GNOME, KDE Plasma or another "
               "desktop that offers org.freedesktop.ScreenSaver, or a logind session.")
                .arg(query->failures.join(QStringLiteral("; ")))));
        return;
    }
    switch (query->current()) {
    case Mutter:
        askMutter(query);
        return;
    case ScreenSaverAttempt:
        askScreenSaver(query);
        return;
    default:
        askLogind(query);
        return;
    }
}

void DBusIdleSource::failed(const std::shared_ptr<Query> &query, const QString &why)
{
    query->failures << QString(QLatin1String(kAttemptNames[query->current()]) + QStringLiteral(": ") + why);
    ++query->position;
    attempt(query);
}

void DBusIdleSource::succeeded(const std::shared_ptr<Query> &query, milliseconds idle)
{
    m_preferred = query->current();
    m_name = QLatin1String(kAttemptNames[m_preferred]);
    query->done(idle);
}

void DBusIdleSource::askMutter(const std::shared_ptr<Query> &query)
{
    auto call = QDBusMessage::createMethodCall(QStringLiteral("org.gnome.Mutter.IdleMonitor"),
        QStringLiteral("/org/gnome/Mutter/IdleMonitor/Core"), QStringLiteral("org.gnome.Mutter.IdleMonitor"),
        QStringLiteral("GetIdletime"));
    detail::callDBus(m_session, call, m_options.callTimeout, this, [this, query](const QDBusMessage &reply) {
        if (reply.type() == QDBusMessage::ReplyMessage && !reply.arguments().isEmpty()) {
            bool ok = false;
            const qulonglong ms = reply.arguments().constFirst().toULongLong(&ok);
            if (ok) {
                succeeded(query, milliseconds(qint64(ms)));
                return;
            }
        }
        failed(query, detail::describeDBusError(reply));
    });
}

void DBusIdleSource::askScreenSaver(const std::shared_ptr<Query> &query)
{
    auto call = QDBusMessage::createMethodCall(QStringLiteral("org.freedesktop.ScreenSaver"),
        QStringLiteral("/org/freedesktop/ScreenSaver"), QStringLiteral("org.freedesktop.ScreenSaver"),
        QStringLiteral("GetSessionIdleTime"));
    detail::callDBus(m_session, call, m_options.callTimeout, this, [this, query](const QDBusMessage &reply) {
        if (reply.type() == QDBusMessage::ReplyMessage && !reply.arguments().isEmpty()) {
            bool ok = false;
            const uint ms = reply.arguments().constFirst().toUInt(&ok);
            if (ok) {
                succeeded(query, milliseconds(ms));
                return;
            }
        }
        failed(query, detail::describeDBusError(reply));
    });
}

void DBusIdleSource::askLogind(const std::shared_ptr<Query> &query)
{
    const QString id = m_options.sessionId ? *m_options.sessionId : qEnvironmentVariable("XDG_SESSION_ID");
    auto call
        = QDBusMessage::createMethodCall(QStringLiteral("org.freedesktop.login1"), QStringLiteral("/org/freedesktop/login1"),
            QStringLiteral("org.freedesktop.login1.Manager"), QStringLiteral("GetSession"));
    call << (id.isEmpty() ? QStringLiteral("auto") : id);
    detail::callDBus(m_system, call, m_options.callTimeout, this, [this, query](const QDBusMessage &reply) {
        if (reply.type() != QDBusMessage::ReplyMessage || reply.arguments().isEmpty()) {
            failed(query, detail::describeDBusError(reply));
            return;
        }
        const QString path = reply.arguments().constFirst().value<QDBusObjectPath>().path();
        auto get = QDBusMessage::createMethodCall(QStringLiteral("org.freedesktop.login1"), path,
            QStringLiteral("org.freedesktop.DBus.Properties"), QStringLiteral("GetAll"));
        get << QStringLiteral("org.freedesktop.login1.Session");
        detail::callDBus(m_system, get, m_options.callTimeout, this, [this, query](const QDBusMessage &props) {
            if (props.type() != QDBusMessage::ReplyMessage || props.arguments().isEmpty()) {
                failed(query, detail::describeDBusError(props));
                return;
            }
            const QVariantMap map = qdbus_cast<QVariantMap>(props.arguments().constFirst());
            if (!map.contains(QStringLiteral("IdleHint"))) {
                failed(query, tr("the session has no IdleHint"));
                return;
            }
            if (!map.value(QStringLiteral("IdleHint")).toBool()) {
                succeeded(query, milliseconds(0));
                return;
            }
            const qint64 sinceUs = map.value(QStringLiteral("IdleSinceHintMonotonic")).toLongLong();
            const milliseconds idle = monotonicNow() - milliseconds(sinceUs / 1000);
            succeeded(query, std::max(idle, milliseconds(0)));
        });
    });
}

} // namespace hotdesk::platform

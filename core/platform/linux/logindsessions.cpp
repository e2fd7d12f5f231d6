// logind's sessions on the system bus, read once and then followed by their signals.
#include "logindsessions.h"

#include "dbuscall.h"

#include <QDBusArgument>
#include <QDBusMessage>
#include <QDBusObjectPath>
#include <QDBusVariant>

#include <unistd.h>

namespace hotdesk::platform {
namespace {

const QString kService = QStringLiteral("org.freedesktop.login1");
const QString kManagerPath = QStringLiteral("/org/freedesktop/login1");
const QString kManager = QStringLiteral("org.freedesktop.login1.Manager");
const QString kSession = QStringLiteral("org.freedesktop.login1.Session");
const QString kProperties = QStringLiteral("org.freedesktop.DBus.Properties");

// User (uo) and Seat (so): the first member of the structure.
template <typename T> T firstOfStructure(const QVariant &value)
{
    T first {};
    if (!value.canConvert<QDBusArgument>())
        return first;
    const QDBusArgument argument = value.value<QDBusArgument>();
    QDBusObjectPath path; // the second member, not needed
    argument.beginStructure();
    argument >> first >> path;
    argument.endStructure();
    return first;
}

void applyChanges(LoginSession &session, const QVariantMap &properties)
{
    const auto flag = [&](const char *name, bool &into) {
        const auto it = properties.constFind(QLatin1String(name));
        if (it != properties.constEnd())
            into = it->toBool();
    };
    flag("Active", session.active);
    flag("LockedHint", session.locked);
    flag("IdleHint", session.idle);
    flag("Remote", session.remote);
    if (const auto it = properties.constFind(QStringLiteral("IdleSinceHint")); it != properties.constEnd())
        session.idleSinceUs = it->toULongLong();
}

} // namespace

void findOwnSession(const QDBusConnection &bus, std::chrono::milliseconds timeout, QObject *context,
    std::function<void(const Result<QString> &)> done)
{
    if (const QString id = qEnvironmentVariable("XDG_SESSION_ID"); !id.isEmpty()) {
        QMetaObject::invokeMethod(
            context, [id, done = std::move(done)] { done(id); }, Qt::QueuedConnection);
        return;
    }
    auto getUser = QDBusMessage::createMethodCall(kService, kManagerPath, kManager, QStringLiteral("GetUser"));
    getUser << uint(::getuid());
    detail::callDBus(bus, getUser, timeout, context, [bus, timeout, context, done = std::move(done)](const QDBusMessage &reply) {
        if (reply.type() != QDBusMessage::ReplyMessage || reply.arguments().isEmpty()) {
            done(
                fail(ErrorCode::Io, QStringLiteral("logind does not know this user (%1)").arg(detail::describeDBusError(reply))));
            return;
        }
        auto get = QDBusMessage::createMethodCall(
            kService, reply.arguments().constFirst().value<QDBusObjectPath>().path(), kProperties, QStringLiteral("Get"));
        get << QStringLiteral("org.freedesktop.login1.User") << QStringLiteral("Display");
        detail::callDBus(bus, get, timeout, context, [done](const QDBusMessage &display) {
            const bool answered = display.type() == QDBusMessage::ReplyMessage && !display.arguments().isEmpty();
            const QString id = answered
                ? firstOfStructure<QString>(display.arguments().constFirst().value<QDBusVariant>().variant())
                : QString();
            if (id.isEmpty())
                done(fail(ErrorCode::Io,
                    QStringLiteral("logind names no display session of this user (%1)")
                        .arg(answered ? QStringLiteral("User.Display is empty") : detail::describeDBusError(display))));
            else
                done(id);
        });
    });
}

LoginSession loginSessionFromProperties(const QString &path, const QVariantMap &properties)
{
    LoginSession session;
    session.path = path;
    session.id = properties.value(QStringLiteral("Id")).toString();
    session.user = properties.value(QStringLiteral("Name")).toString();
    session.uid = firstOfStructure<uint>(properties.value(QStringLiteral("User")));
    session.seat = firstOfStructure<QString>(properties.value(QStringLiteral("Seat")));
    session.type = properties.value(QStringLiteral("Type")).toString();
    session.sessionClass = properties.value(QStringLiteral("Class")).toString();
    session.startedUs = properties.value(QStringLiteral("Timestamp")).toULongLong();
    applyChanges(session, properties);
    return session;
}

LogindSessions::LogindSessions(Options options, QObject *parent)
    : QObject(parent)
    , m_bus(detail::busOr(options.bus, QDBusConnection::SystemBus))
    , m_timeout(options.callTimeout)
{
}

std::optional<LoginSession> LogindSessions::session(const QString &id) const
{
    const auto it = m_sessions.constFind(id);
    if (it == m_sessions.constEnd())
        return std::nullopt;
    return *it;
}

void LogindSessions::start()
{
    // Subscribed before listing, so a session that starts in between is not missed.
    const bool subscribed
        = m_bus.connect(kService, kManagerPath, kManager, QStringLiteral("SessionNew"), this, SLOT(onSessionNew(QDBusMessage)))
        && m_bus.connect(
            kService, kManagerPath, kManager, QStringLiteral("SessionRemoved"), this, SLOT(onSessionRemoved(QDBusMessage)));
    if (!subscribed) {
        QMetaObject::invokeMethod(
            this,
            [this, why = m_bus.lastError().message()] {
                Q_EMIT failed(Error {ErrorCode::Io, QStringLiteral("cannot follow logind's sessions: %1").arg(why)});
            },
            Qt::QueuedConnection);
        return;
    }
    const auto call = QDBusMessage::createMethodCall(kService, kManagerPath, kManager, QStringLiteral("ListSessions"));
    detail::callDBus(m_bus, call, m_timeout, this, [this](const QDBusMessage &reply) { listed(reply); });
}

void LogindSessions::listed(const QDBusMessage &reply)
{
    if (reply.type() != QDBusMessage::ReplyMessage || reply.arguments().isEmpty()) {
        Q_EMIT failed(Error {
            ErrorCode::Io, QStringLiteral("cannot list the sessions from logind: %1").arg(detail::describeDBusError(reply))});
        return;
    }
    // a(susso): id, uid, user name, seat, object path.
    QList<std::pair<QString, QString>> found;
    const QDBusArgument list = reply.arguments().constFirst().value<QDBusArgument>();
    list.beginArray();
    while (!list.atEnd()) {
        QString id, user, seat;
        uint uid = 0;
        QDBusObjectPath path;
        list.beginStructure();
        list >> id >> uid >> user >> seat >> path;
        list.endStructure();
        found.append({id, path.path()});
    }
    list.endArray();
    m_pendingReads = int(found.size());
    if (m_pendingReads == 0) {
        m_ready = true;
        Q_EMIT ready();
        return;
    }
    for (const auto &[id, path] : std::as_const(found))
        readSession(id, path, [this] {
            if (--m_pendingReads == 0 && !m_ready) {
                m_ready = true;
                Q_EMIT ready();
            }
        });
}

void LogindSessions::readSession(const QString &id, const QString &path, std::function<void()> done)
{
    m_bus.connect(kService, path, kProperties, QStringLiteral("PropertiesChanged"), this,
        SLOT(onPropertiesChanged(QString, QVariantMap, QStringList)));
    m_bus.connect(kService, path, kSession, QStringLiteral("Unlock"), this, SLOT(onUnlock()));
    auto call = QDBusMessage::createMethodCall(kService, path, kProperties, QStringLiteral("GetAll"));
    call << kSession;
    detail::callDBus(m_bus, call, m_timeout, this, [this, id, path, done = std::move(done)](const QDBusMessage &reply) {
        if (reply.type() == QDBusMessage::ReplyMessage && !reply.arguments().isEmpty()) {
            const QVariantMap properties = qdbus_cast<QVariantMap>(reply.arguments().constFirst());
            LoginSession session = loginSessionFromProperties(path, properties);
            if (session.id.isEmpty())
                session.id = id;
            const bool known = m_sessions.contains(session.id);
            m_sessions.insert(session.id, session);
            if (known)
                Q_EMIT changed(session);
            else
                Q_EMIT added(session);
        } else {
            // A session that ended between the list and the read is simply gone.
            qWarning("hotdesk: cannot read logind session %s: %s", qPrintable(id), qPrintable(detail::describeDBusError(reply)));
        }
        done();
    });
}

namespace {

// The (id, path) of SessionNew and SessionRemoved; empty when the signal is not what logind sends.
std::pair<QString, QString> sessionOfSignal(const QDBusMessage &signal)
{
    const QVariantList arguments = signal.arguments();
    if (arguments.size() != 2 || !arguments.at(1).canConvert<QDBusObjectPath>())
        return {};
    return {arguments.at(0).toString(), arguments.at(1).value<QDBusObjectPath>().path()};
}

} // namespace

void LogindSessions::onSessionNew(const QDBusMessage &signal)
{
    const auto [id, path] = sessionOfSignal(signal);
    if (!id.isEmpty())
        readSession(id, path, [] {});
}

void LogindSessions::onSessionRemoved(const QDBusMessage &signal)
{
    const auto [id, path] = sessionOfSignal(signal);
    m_bus.disconnect(kService, path, kProperties, QStringLiteral("PropertiesChanged"), this,
        SLOT(onPropertiesChanged(QString, QVariantMap, QStringList)));
    m_bus.disconnect(kService, path, kSession, QStringLiteral("Unlock"), this, SLOT(onUnlock()));
    if (m_sessions.remove(id) > 0)
        Q_EMIT removed(id);
}

QString LogindSessions::idOfPath(const QString &path) const
{
    for (const LoginSession &session : m_sessions)
        if (session.path == path)
            return session.id;
    return {};
}

void LogindSessions::onPropertiesChanged(const QString &interface, const QVariantMap &changedProperties, const QStringList &)
{
    if (interface != kSession)
        return;
    const QString id = idOfPath(message().path());
    const auto it = m_sessions.find(id);
    if (it == m_sessions.end())
        return;
    applyChanges(*it, changedProperties);
    Q_EMIT changed(*it);
}

void LogindSessions::onUnlock()
{
    const QString id = idOfPath(message().path());
    if (!id.isEmpty())
        Q_EMIT unlockRequested(id);
}

void LogindSessions::lock(const QString &id, std::function<void(Status)> done)
{
    const auto it = m_sessions.constFind(id);
    if (it == m_sessions.constEnd()) {
        QMetaObject::invokeMethod(
            this, [done = std::move(done), id] { done(fail(ErrorCode::Io, QStringLiteral("no logind session %1").arg(id))); },
            Qt::QueuedConnection);
        return;
    }
    const auto call = QDBusMessage::createMethodCall(kService, it->path, kSession, QStringLiteral("Lock"));
    detail::callDBus(m_bus, call, m_timeout, this, [done = std::move(done), id](const QDBusMessage &reply) {
        if (reply.type() == QDBusMessage::ReplyMessage)
            done({});
        else
            done(fail(
                ErrorCode::Io, QStringLiteral("logind did not lock session %1: %2").arg(id, detail::describeDBusError(reply))));
    });
}

} // namespace hotdesk::platform

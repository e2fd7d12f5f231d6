// LinuxSessionWatcher: lock and unlock from logind, or from the desktop's screensaver when logind cannot be used.
#include "linuxsessionwatcher.h"

#include "dbuscall.h"

#include <QDBusObjectPath>
#include <QDBusVariant>
#include <QTimer>

namespace hotdesk::platform {

namespace {

const QString kLogind = QStringLiteral("org.freedesktop.login1");
const QString kLogindPath = QStringLiteral("/org/freedesktop/login1");
const QString kLogindManager = QStringLiteral("org.freedesktop.login1.Manager");
const QString kLogindSession = QStringLiteral("org.freedesktop.login1.Session");
const QString kProperties = QStringLiteral("org.freedesktop.DBus.Properties");

struct ScreenSaver {
    QString service, path, interface;
};
// The freedesktop name (KDE, Xfce, Cinnamon, …) and GNOME Shell's own.
const ScreenSaver kScreenSavers[] = {
    {QStringLiteral("org.freedesktop.ScreenSaver"), QStringLiteral("/org/freedesktop/ScreenSaver"),
        QStringLiteral("org.freedesktop.ScreenSaver")},
    {QStringLiteral("org.gnome.ScreenSaver"), QStringLiteral("/org/gnome/ScreenSaver"), QStringLiteral("org.gnome.ScreenSaver")},
};

} // namespace

LinuxSessionWatcher::LinuxSessionWatcher(QObject *parent)
    : LinuxSessionWatcher(Options {}, parent)
{
}

LinuxSessionWatcher::LinuxSessionWatcher(Options options, QObject *parent)
    : SessionWatcher(parent)
    , m_options(std::move(options))
    , m_system(detail::busOr(m_options.systemBus, QDBusConnection::SystemBus))
    , m_session(detail::busOr(m_options.sessionBus, QDBusConnection::SessionBus))
{
    if (m_options.user.isEmpty())
        m_options.user = loginName();
}

void LinuxSessionWatcher::start()
{
    if (m_started)
        return;
    m_started = true;
    // The agent starts with the logon session, so its start is the session's.
    QTimer::singleShot(0, this, [this] { Q_EMIT sessionStarted(m_options.user); });

    if (!m_system.isConnected()) {
        useScreenSaver(tr("the system bus is not reachable (%1)").arg(m_system.lastError().message()));
        return;
    }
    const QString id = m_options.sessionId ? *m_options.sessionId : qEnvironmentVariable("XDG_SESSION_ID");
    QStringList candidates;
    if (!id.isEmpty())
        candidates << id;
    candidates << QStringLiteral("auto"); // logind: the caller's session, else its user's display session
    findLogindSession(candidates);
}

void LinuxSessionWatcher::findLogindSession(const QStringList &candidates)
{
    const QString id = candidates.first();
    auto call = QDBusMessage::createMethodCall(kLogind, kLogindPath, kLogindManager, QStringLiteral("GetSession"));
    call << id;
    detail::callDBus(m_system, call, m_options.callTimeout, this, [this, candidates](const QDBusMessage &reply) {
        if (reply.type() == QDBusMessage::ReplyMessage && !reply.arguments().isEmpty()) {
            const QString path = reply.arguments().constFirst().value<QDBusObjectPath>().path();
            if (!path.isEmpty() && path != QLatin1String("/")) {
                watchLogindSession(path);
                return;
            }
        }
        const QString why = tr("logind has no session \"%1\" (%2)").arg(candidates.first(), detail::describeDBusError(reply));
        if (candidates.size() > 1)
            findLogindSession(candidates.mid(1));
        else
            useScreenSaver(why);
    });
}

void LinuxSessionWatcher::watchLogindSession(const QString &path)
{
    // QtDBus delivers remote signals only to slots named by signature.
    const bool ok = m_system.connect(kLogind, path, kLogindSession, QStringLiteral("Lock"), this, SLOT(onLogindLock()))
        && m_system.connect(kLogind, path, kLogindSession, QStringLiteral("Unlock"), this, SLOT(onLogindUnlock()))
        && m_system.connect(kLogind, path, kProperties, QStringLiteral("PropertiesChanged"), this,
            SLOT(onLogindPropertiesChanged(QString, QVariantMap, QStringList)));
    if (!ok) {
        m_system.disconnect(kLogind, path, kLogindSession, QStringLiteral("Lock"), this, SLOT(onLogindLock()));
        m_system.disconnect(kLogind, path, kLogindSession, QStringLiteral("Unlock"), this, SLOT(onLogindUnlock()));
        useScreenSaver(
            tr("cannot subscribe to the signals of logind's session %1 (%2)").arg(path, m_system.lastError().message()));
        return;
    }
    m_sessionPath = path;
    readLockedHint(true);
}

void LinuxSessionWatcher::readLockedHint(bool announceWhenDone)
{
    auto call = QDBusMessage::createMethodCall(kLogind, m_sessionPath, kProperties, QStringLiteral("Get"));
    call << kLogindSession << QStringLiteral("LockedHint");
    detail::callDBus(m_system, call, m_options.callTimeout, this, [this, announceWhenDone](const QDBusMessage &reply) {
        if (reply.type() == QDBusMessage::ReplyMessage && !reply.arguments().isEmpty()) {
            const bool lockedNow = reply.arguments().constFirst().value<QDBusVariant>().variant().toBool();
            if (announceWhenDone)
                m_locked = lockedNow; // the state at start is not a change
            else
                setLocked(lockedNow);
        }
        if (announceWhenDone)
            announce(QStringLiteral("logind"));
    });
}

void LinuxSessionWatcher::lockSession(std::function<void(Status)> done)
{
    const auto answered = [done](const QDBusMessage &reply, const QString &who) {
        if (reply.type() == QDBusMessage::ReplyMessage)
            done({});
        else
            done(fail(ErrorCode::Unsupported, tr("%1 did not lock the session (%2)").arg(who, detail::describeDBusError(reply))));
    };
    if (!m_sessionPath.isEmpty()) {
        // LockSession takes the session's id, which the object path only encodes.
        auto get = QDBusMessage::createMethodCall(kLogind, m_sessionPath, kProperties, QStringLiteral("Get"));
        get << kLogindSession << QStringLiteral("Id");
        detail::callDBus(m_system, get, m_options.callTimeout, this, [this, done, answered](const QDBusMessage &reply) {
            const QString id = reply.type() == QDBusMessage::ReplyMessage && !reply.arguments().isEmpty()
                ? reply.arguments().constFirst().value<QDBusVariant>().variant().toString()
                : QString();
            if (id.isEmpty()) {
                done(fail(ErrorCode::Unsupported,
                    tr("logind did not say which session this is (%1)").arg(detail::describeDBusError(reply))));
                return;
            }
            auto lock = QDBusMessage::createMethodCall(kLogind, kLogindPath, kLogindManager, QStringLiteral("LockSession"));
            lock << id;
            detail::callDBus(m_system, lock, m_options.callTimeout, this,
                [answered](const QDBusMessage &r) { answered(r, QStringLiteral("logind")); });
        });
        return;
    }
    if (m_backend == u"screensaver") {
        const auto &saver = kScreenSavers[0];
        auto lock = QDBusMessage::createMethodCall(saver.service, saver.path, saver.interface, QStringLiteral("Lock"));
        detail::callDBus(m_session, lock, m_options.callTimeout, this,
            [answered](const QDBusMessage &r) { answered(r, QStringLiteral("the screensaver")); });
        return;
    }
    QTimer::singleShot(0, this, [done] {
        done(fail(ErrorCode::Unsupported,
            tr("no screen locker answers on D-Bus (neither logind nor org.freedesktop.ScreenSaver), so the session cannot be locked")));
    });
}

void LinuxSessionWatcher::useScreenSaver(const QString &whyNotLogind)
{
    m_logindProblem = whyNotLogind;
    if (!m_session.isConnected()) {
        announce(QStringLiteral("none"));
        return;
    }
    bool any = false;
    for (const auto &saver : kScreenSavers) {
        // Connecting by well-known name also follows a screensaver that starts later.
        any = m_session.connect(saver.service, saver.path, saver.interface, QStringLiteral("ActiveChanged"), this,
                  SLOT(onScreenSaverActiveChanged(bool)))
            || any;
    }
    if (!any) {
        announce(QStringLiteral("none"));
        return;
    }
    const auto &saver = kScreenSavers[0];
    auto call = QDBusMessage::createMethodCall(saver.service, saver.path, saver.interface, QStringLiteral("GetActive"));
    detail::callDBus(m_session, call, m_options.callTimeout, this, [this](const QDBusMessage &reply) {
        if (reply.type() == QDBusMessage::ReplyMessage && !reply.arguments().isEmpty())
            m_locked = reply.arguments().constFirst().toBool();
        announce(QStringLiteral("screensaver"));
    });
}

void LinuxSessionWatcher::announce(const QString &backend)
{
    m_backend = backend;
    Q_EMIT watching(backend);
}

void LinuxSessionWatcher::onLogindLock()
{
    setLocked(true);
}

void LinuxSessionWatcher::onLogindUnlock()
{
    setLocked(false);
}

void LinuxSessionWatcher::onLogindPropertiesChanged(
    const QString &interface, const QVariantMap &changed, const QStringList &invalidated)
{
    if (interface != kLogindSession)
        return;
    const auto it = changed.constFind(QStringLiteral("LockedHint"));
    if (it != changed.constEnd())
        setLocked(it->toBool());
    else if (invalidated.contains(QStringLiteral("LockedHint")))
        readLockedHint(false);
}

void LinuxSessionWatcher::onScreenSaverActiveChanged(bool active)
{
    setLocked(active);
}

void LinuxSessionWatcher::setLocked(bool lockedNow)
{
    // logind's Lock signal and LockedHint, or two screensaver names, report
    // one lock twice: only changes go out.
    if (lockedNow == m_locked)
        return;
    m_locked = lockedNow;
    if (lockedNow)
        Q_EMIT locked();
    else
        Q_EMIT unlocked();
}

} // namespace hotdesk::platform

// python3-dbusmock's logind template on a private bus: the system's logind for a test or a benchmark, with its
// sessions added by the caller and every Session.Lock call it receives counted.
#pragma once

#include "childprocess.h"
#include "privatebus.h"

#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDBusObjectPath>
#include <QDBusVariant>
#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QObject>
#include <QProcess>
#include <QCoreApplication>
#include <QDeadlineTimer>

#include <unistd.h>

namespace hotdesk::test {

class LogindMock : public QObject {
    Q_OBJECT
public:
    static constexpr char kTemplate[] = "/usr/lib/python3/dist-packages/dbusmock/templates/logind.py";

    static QString sessionPath(const QString &id) { return QStringLiteral("/org/freedesktop/login1/session/") + id; }
    static bool installed() { return QFile::exists(QLatin1String(kTemplate)); }
    // Why a test of the enrolled hotdeskd on this mock cannot run here, or nothing when it can.
    static const char *missingForEnrolledDaemon()
    {
        if (::geteuid() != 0)
            return "hotdesk enroll --system and hotdeskd's state need root (CI runs the suite as root)";
        if (!installed())
            return "python3-dbusmock is not installed (./dev installs it; Debian package python3-dbusmock)";
        return nullptr;
    }

    ~LogindMock() override
    {
        if (m_mock.state() != QProcess::NotRunning) {
            m_mock.kill();
            m_mock.waitForFinished(5000);
        }
    }

    // The bus, the mock on it; false with *why when either does not come up.
    bool start(QString *why)
    {
        if (!m_bus.start(why))
            return false;
        m_connection = m_bus.connect();
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS"), m_bus.address());
        m_mock.setProcessEnvironment(env);
        m_mock.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        dieWithTest(m_mock);
        m_mock.start(QStringLiteral("/usr/bin/python3"), {QStringLiteral("-m"), QStringLiteral("dbusmock"),
                                                            QStringLiteral("--system"), QStringLiteral("--template"), QStringLiteral("logind")});
        if (!m_mock.waitForStarted(10000)
            || !waitFor([this] { return m_connection.interface()->isServiceRegistered(kLogind).value(); }, 15000)) {
            *why = QStringLiteral("python3-dbusmock's logind did not come up on the private bus");
            return false;
        }
        return true;
    }

    // Runs the event loop until done() or timeoutMs; done()'s last answer. (A benchmark has no QTest.)
    template <typename F> static bool waitFor(F done, int timeoutMs)
    {
        const QDeadlineTimer deadline(timeoutMs);
        while (!done()) {
            if (deadline.hasExpired())
                return false;
            QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
        }
        return true;
    }

    // What a process must set for the mock to be its system bus.
    QString address() const { return m_bus.address(); }
    QDBusConnection &connection() { return m_connection; }

    // A session (created by the mock with its seat and user) of the given type, announced with SessionNew as logind does.
    bool addSession(const QString &id, const QString &type, uint uid, const QString &user)
    {
        const QDBusMessage reply = mockCall(QStringLiteral("/org/freedesktop/login1"), QStringLiteral("AddSession"),
            {id, QStringLiteral("seat0"), QVariant::fromValue(uid), user, true});
        if (reply.type() != QDBusMessage::ReplyMessage) {
            qWarning("AddSession: %s", qPrintable(reply.errorMessage()));
            return false;
        }
        QDBusMessage set = QDBusMessage::createMethodCall(
            kLogind, sessionPath(id), QStringLiteral("org.freedesktop.DBus.Properties"), QStringLiteral("Set"));
        set.setArguments({kSession, QStringLiteral("Type"), QVariant::fromValue(QDBusVariant(type))});
        if (m_connection.call(set, QDBus::Block, 5000).type() != QDBusMessage::ReplyMessage)
            return false;
        m_connection.connect(kLogind, sessionPath(id), kSession, QStringLiteral("Lock"), this, SLOT(onLock(QDBusMessage)));
        return managerSignal(QStringLiteral("SessionNew"), id);
    }

    // SessionNew or SessionRemoved for session id.
    bool managerSignal(const QString &name, const QString &id)
    {
        const QVariantList arguments {QVariant::fromValue(QDBusVariant(id)),
            QVariant::fromValue(QDBusVariant(QVariant::fromValue(QDBusObjectPath(sessionPath(id)))))};
        const QDBusMessage reply = mockCall(QStringLiteral("/org/freedesktop/login1"), QStringLiteral("EmitSignal"),
            {QStringLiteral("org.freedesktop.login1.Manager"), name, QStringLiteral("so"), arguments});
        if (reply.type() != QDBusMessage::ReplyMessage)
            qWarning("EmitSignal %s: %s", qPrintable(name), qPrintable(reply.errorMessage()));
        return reply.type() == QDBusMessage::ReplyMessage;
    }

    // Session.Unlock, as `loginctl unlock-session` calls it: the mock emits the Unlock signal.
    bool unlock(const QString &id)
    {
        const QDBusMessage call = QDBusMessage::createMethodCall(kLogind, sessionPath(id), kSession, QStringLiteral("Unlock"));
        return m_connection.call(call, QDBus::Block, 5000).type() == QDBusMessage::ReplyMessage;
    }

    // Session.Lock calls the mock received for session id.
    int locks(const QString &id) const { return m_locks.value(sessionPath(id)); }
    // When the last one came, on a monotonic clock started with the mock.
    qint64 lastLockNs(const QString &id) const { return m_lastLockNs.value(sessionPath(id)); }
    qint64 nowNs() const { return m_clock.nsecsElapsed(); }

private Q_SLOTS:
    void onLock(const QDBusMessage &message)
    {
        ++m_locks[message.path()];
        m_lastLockNs[message.path()] = m_clock.nsecsElapsed();
    }

private:
    QDBusMessage mockCall(const QString &path, const QString &method, const QVariantList &arguments)
    {
        QDBusMessage call = QDBusMessage::createMethodCall(kLogind, path, QStringLiteral("org.freedesktop.DBus.Mock"), method);
        call.setArguments(arguments);
        return m_connection.call(call, QDBus::Block, 5000);
    }

    inline static const QString kLogind = QStringLiteral("org.freedesktop.login1");
    inline static const QString kSession = QStringLiteral("org.freedesktop.login1.Session");

    PrivateBus m_bus;
    QDBusConnection m_connection {QStringLiteral("none")};
    QProcess m_mock;
    QHash<QString, int> m_locks;
    QHash<QString, qint64> m_lastLockNs;
    QElapsedTimer m_clock = [] {
        QElapsedTimer clock;
        clock.start();
        return clock;
    }();
};

} // namespace hotdesk::test

// LinuxSessionWatcher against fake logind and screensaver services on a private D-Bus daemon.
#include "core/platform/linux/linuxsessionwatcher.h"

#include "privatebus.h"

#include <QDBusConnectionInterface>
#include <QDBusContext>
#include <QDBusMessage>
#include <QDBusObjectPath>
#include <QSignalSpy>
#include <QTest>

#include <memory>
#include <optional>

using namespace hotdesk;
using namespace hotdesk::platform;
using hotdesk::test::PrivateBus;

namespace {

const QString kSessionPath = QStringLiteral("/org/freedesktop/login1/session/_37");

} // namespace

class FakeLogindSession;

class FakeLogindManager : public QObject, protected QDBusContext {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.login1.Manager")
public:
    QHash<QString, QString> sessions; // id -> object path
    QStringList asked;
    QStringList lockRequests; // ids given to LockSession
    std::function<void()> lock; // what logind does then: the session emits Lock

public Q_SLOTS:
    void LockSession(const QString &id)
    {
        lockRequests << id;
        if (!sessions.contains(id)) {
            sendErrorReply(
                QStringLiteral("org.freedesktop.login1.NoSuchSession"), QStringLiteral("No session '%1' known").arg(id));
            return;
        }
        if (lock)
            lock();
    }

    QDBusObjectPath GetSession(const QString &id)
    {
        asked << id;
        if (!sessions.contains(id)) {
            sendErrorReply(
                QStringLiteral("org.freedesktop.login1.NoSuchSession"), QStringLiteral("No session '%1' known").arg(id));
            return {};
        }
        return QDBusObjectPath(sessions.value(id));
    }
};

class FakeLogindSession : public QObject {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.login1.Session")
    Q_PROPERTY(bool LockedHint READ lockedHint)
    Q_PROPERTY(QString Id READ id)
public:
    bool locked = false;
    bool lockedHint() const { return locked; }
    QString id() const { return QStringLiteral("37"); }

Q_SIGNALS:
    void Lock();
    void Unlock();
};

class FakeScreenSaver : public QObject {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.ScreenSaver")
public:
    bool active = false;
    int lockCalls = 0;

public Q_SLOTS:
    bool GetActive() { return active; }
    void Lock()
    {
        ++lockCalls;
        active = true;
        Q_EMIT ActiveChanged(true);
    }

Q_SIGNALS:
    void ActiveChanged(bool active);
};

class FakeGnomeScreenSaver : public QObject {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.gnome.ScreenSaver")
public:
    bool active = false;

public Q_SLOTS:
    bool GetActive() { return active; }

Q_SIGNALS:
    void ActiveChanged(bool active);
};

class TestSessionWatcher : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<PrivateBus> m_bus;
    QDBusConnection m_services {QString()};
    QDBusConnection m_client {QString()};
    std::unique_ptr<FakeLogindManager> m_manager;
    std::unique_ptr<FakeLogindSession> m_session;
    std::unique_ptr<FakeScreenSaver> m_saver;
    std::unique_ptr<FakeGnomeScreenSaver> m_gnomeSaver;

    void registerLogind()
    {
        QVERIFY(m_services.registerObject(
            QStringLiteral("/org/freedesktop/login1"), m_manager.get(), QDBusConnection::ExportAllSlots));
        QVERIFY(m_services.registerObject(
            kSessionPath, m_session.get(), QDBusConnection::ExportAllSignals | QDBusConnection::ExportAllProperties));
        QVERIFY(m_services.registerService(QStringLiteral("org.freedesktop.login1")));
    }

    void registerScreenSavers()
    {
        QVERIFY(m_services.registerObject(QStringLiteral("/org/freedesktop/ScreenSaver"), m_saver.get(),
            QDBusConnection::ExportAllSlots | QDBusConnection::ExportAllSignals));
        QVERIFY(m_services.registerService(QStringLiteral("org.freedesktop.ScreenSaver")));
        QVERIFY(m_services.registerObject(QStringLiteral("/org/gnome/ScreenSaver"), m_gnomeSaver.get(),
            QDBusConnection::ExportAllSlots | QDBusConnection::ExportAllSignals));
        QVERIFY(m_services.registerService(QStringLiteral("org.gnome.ScreenSaver")));
    }

    // Starts the watcher and waits until it watches; then a round trip on its
    // connection makes sure the bus has its signal subscriptions.
    void startAndWait(LinuxSessionWatcher &watcher, const QString &expectedBackend)
    {
        QSignalSpy watching(&watcher, &SessionWatcher::watching);
        watcher.start();
        QVERIFY(watching.wait(10000));
        QCOMPARE(watching.constFirst().constFirst().toString(), expectedBackend);
        QCOMPARE(watcher.backend(), expectedBackend);
        if (m_client.isConnected())
            QVERIFY(m_client.interface()->isServiceRegistered(QStringLiteral("org.freedesktop.DBus")).value());
    }

    void sendLockedHint(bool locked)
    {
        auto signal = QDBusMessage::createSignal(
            kSessionPath, QStringLiteral("org.freedesktop.DBus.Properties"), QStringLiteral("PropertiesChanged"));
        signal << QStringLiteral("org.freedesktop.login1.Session") << QVariantMap {{QStringLiteral("LockedHint"), locked}}
               << QStringList();
        QVERIFY(m_services.send(signal));
    }

    LinuxSessionWatcher::Options options(const QDBusConnection &system, const QDBusConnection &session) const
    {
        LinuxSessionWatcher::Options o;
        o.systemBus = system;
        o.sessionBus = session;
        o.sessionId = QStringLiteral("37");
        o.user = QStringLiteral("alice");
        return o;
    }

private Q_SLOTS:
    void init()
    {
        m_bus = std::make_unique<PrivateBus>();
        QString why;
        QVERIFY2(m_bus->start(&why), qPrintable(why));
        m_services = m_bus->connect();
        m_client = m_bus->connect();
        QVERIFY(m_services.isConnected());
        QVERIFY(m_client.isConnected());
        m_manager = std::make_unique<FakeLogindManager>();
        m_manager->sessions.insert(QStringLiteral("37"), kSessionPath);
        m_session = std::make_unique<FakeLogindSession>();
        m_manager->lock = [this] { Q_EMIT m_session->Lock(); };
        m_saver = std::make_unique<FakeScreenSaver>();
        m_gnomeSaver = std::make_unique<FakeGnomeScreenSaver>();
    }

    void cleanup()
    {
        m_manager.reset();
        m_session.reset();
        m_saver.reset();
        m_gnomeSaver.reset();
        m_services = QDBusConnection(QString());
        m_client = QDBusConnection(QString());
        m_bus.reset();
    }

    void sessionStartsWithTheAgentAndNoBusIsNoHang()
    {
        LinuxSessionWatcher watcher(options(PrivateBus::nowhere(), PrivateBus::nowhere()));
        QSignalSpy started(&watcher, &SessionWatcher::sessionStarted);
        QSignalSpy watching(&watcher, &SessionWatcher::watching);
        watcher.start();
        QVERIFY(started.wait(10000) || started.size() == 1);
        QCOMPARE(started.size(), 1);
        QCOMPARE(started.constFirst().constFirst().toString(), QStringLiteral("alice"));
        QVERIFY(watching.size() == 1 || watching.wait(10000));
        QCOMPARE(watching.constFirst().constFirst().toString(), QStringLiteral("none"));
        QVERIFY(!watcher.isLocked());
        QVERIFY(watcher.logindProblem().contains(QStringLiteral("system bus")));
    }

    void defaultUserIsTheLoginName()
    {
        LinuxSessionWatcher::Options o = options(PrivateBus::nowhere(), PrivateBus::nowhere());
        o.user.clear();
        LinuxSessionWatcher watcher(o);
        QSignalSpy started(&watcher, &SessionWatcher::sessionStarted);
        watcher.start();
        QVERIFY(started.wait(10000));
        QVERIFY(!started.constFirst().constFirst().toString().isEmpty());
    }

    void logindLockedHintAndSignals()
    {
        registerLogind();
        registerScreenSavers(); // present, but logind comes first
        LinuxSessionWatcher watcher(options(m_client, m_client));
        QSignalSpy locked(&watcher, &SessionWatcher::locked);
        QSignalSpy unlocked(&watcher, &SessionWatcher::unlocked);
        startAndWait(watcher, QStringLiteral("logind"));
        QCOMPARE(watcher.sessionPath(), kSessionPath);
        QCOMPARE(m_manager->asked, QStringList {QStringLiteral("37")});

        // The desktop's locker sets LockedHint.
        sendLockedHint(true);
        QVERIFY(locked.wait(10000));
        QVERIFY(watcher.isLocked());
        // loginctl unlock-session, then lock-session.
        Q_EMIT m_session->Unlock();
        QVERIFY(unlocked.wait(10000));
        QVERIFY(!watcher.isLocked());
        Q_EMIT m_session->Lock();
        QVERIFY(locked.wait(10000));
        QCOMPARE(locked.size(), 2);
        // The screensaver is not listened to while logind is used (else this
        // would unlock, and the LockedHint below lock again), and the same
        // lock seen again (LockedHint after the Lock signal) is not a new one.
        Q_EMIT m_saver->ActiveChanged(false);
        sendLockedHint(true);
        sendLockedHint(false);
        QVERIFY(unlocked.wait(10000));
        QCOMPARE(locked.size(), 2);
        QCOMPARE(unlocked.size(), 2);
    }

    void logindStateAtStartIsNotAChange()
    {
        m_session->locked = true;
        registerLogind();
        LinuxSessionWatcher watcher(options(m_client, m_client));
        QSignalSpy locked(&watcher, &SessionWatcher::locked);
        QSignalSpy unlocked(&watcher, &SessionWatcher::unlocked);
        startAndWait(watcher, QStringLiteral("logind"));
        QVERIFY(watcher.isLocked());
        QCOMPARE(locked.size(), 0);
        sendLockedHint(false);
        QVERIFY(unlocked.wait(10000));
        QCOMPARE(locked.size(), 0);
    }

    void unknownSessionIdFallsBackToAuto()
    {
        m_manager->sessions.clear();
        m_manager->sessions.insert(QStringLiteral("auto"), kSessionPath);
        registerLogind();
        LinuxSessionWatcher::Options o = options(m_client, m_client);
        o.sessionId = QStringLiteral("99");
        LinuxSessionWatcher watcher(o);
        startAndWait(watcher, QStringLiteral("logind"));
        QCOMPARE(m_manager->asked, (QStringList {QStringLiteral("99"), QStringLiteral("auto")}));
        QCOMPARE(watcher.sessionPath(), kSessionPath);
    }

    void logindLocksTheSession()
    {
        registerLogind();
        LinuxSessionWatcher watcher(options(m_client, m_client));
        startAndWait(watcher, QStringLiteral("logind"));
        QSignalSpy locked(&watcher, &SessionWatcher::locked);
        std::optional<Status> done;
        watcher.lockSession([&](Status s) { done = s; });
        QTRY_VERIFY_WITH_TIMEOUT(done.has_value(), 10000);
        QVERIFY2(done->has_value(), done->has_value() ? "" : qPrintable(done->error().message));
        // By the session's id (read from its object), as logind's LockSession wants it.
        QCOMPARE(m_manager->lockRequests, QStringList {QStringLiteral("37")});
        // logind's Lock signal may come before or after the method's reply.
        QTRY_COMPARE_WITH_TIMEOUT(locked.size(), 1, 10000);
        QVERIFY(watcher.isLocked());
    }

    void screenSaverLocksTheSession()
    {
        registerScreenSavers();
        LinuxSessionWatcher watcher(options(PrivateBus::nowhere(), m_client));
        startAndWait(watcher, QStringLiteral("screensaver"));
        QSignalSpy locked(&watcher, &SessionWatcher::locked);
        std::optional<Status> done;
        watcher.lockSession([&](Status s) { done = s; });
        QTRY_VERIFY_WITH_TIMEOUT(done.has_value(), 10000);
        QVERIFY(done->has_value());
        QCOMPARE(m_saver->lockCalls, 1);
        QTRY_COMPARE_WITH_TIMEOUT(locked.size(), 1, 10000);
    }

    void nothingCanLockTheSession()
    {
        LinuxSessionWatcher watcher(options(PrivateBus::nowhere(), PrivateBus::nowhere()));
        watcher.start(); // without any bus it knows at once
        QTRY_COMPARE_WITH_TIMEOUT(watcher.backend(), QStringLiteral("none"), 10000);
        std::optional<Status> done;
        watcher.lockSession([&](Status s) { done = s; });
        QTRY_VERIFY_WITH_TIMEOUT(done.has_value(), 10000);
        QVERIFY(!done->has_value());
        QCOMPARE(done->error().code, ErrorCode::Unsupported);
    }

    void noLogindFallsBackToTheScreenSaver()
    {
        // A bus without org.freedesktop.login1 stands for a system bus without logind.
        registerScreenSavers();
        LinuxSessionWatcher watcher(options(m_client, m_client));
        QSignalSpy locked(&watcher, &SessionWatcher::locked);
        QSignalSpy unlocked(&watcher, &SessionWatcher::unlocked);
        startAndWait(watcher, QStringLiteral("screensaver"));
        QVERIFY(watcher.logindProblem().contains(QStringLiteral("logind has no session")));
        Q_EMIT m_saver->ActiveChanged(true);
        QVERIFY(locked.wait(10000));
        QVERIFY(watcher.isLocked());
        Q_EMIT m_saver->ActiveChanged(false);
        QVERIFY(unlocked.wait(10000));
        QVERIFY(!watcher.isLocked());
        QCOMPARE(locked.size(), 1);
    }

    void noSystemBusFallsBackToTheScreenSaver()
    {
        registerScreenSavers();
        m_saver->active = true;
        LinuxSessionWatcher watcher(options(PrivateBus::nowhere(), m_client));
        QSignalSpy locked(&watcher, &SessionWatcher::locked);
        QSignalSpy unlocked(&watcher, &SessionWatcher::unlocked);
        startAndWait(watcher, QStringLiteral("screensaver"));
        QVERIFY(watcher.isLocked()); // GetActive at start
        // GNOME Shell's own name works as well.
        Q_EMIT m_gnomeSaver->ActiveChanged(false);
        QVERIFY(unlocked.wait(10000));
        Q_EMIT m_gnomeSaver->ActiveChanged(true);
        QVERIFY(locked.wait(10000));
        QCOMPARE(unlocked.size(), 1);
    }

    void screenSaverStartingLaterIsFollowed()
    {
        LinuxSessionWatcher watcher(options(PrivateBus::nowhere(), m_client));
        QSignalSpy locked(&watcher, &SessionWatcher::locked);
        startAndWait(watcher, QStringLiteral("screensaver"));
        registerScreenSavers();
        // A round trip, so the watcher's connection has seen the new owner.
        QVERIFY(m_client.interface()->isServiceRegistered(QStringLiteral("org.freedesktop.ScreenSaver")).value());
        Q_EMIT m_saver->ActiveChanged(true);
        QVERIFY(locked.wait(10000));
    }
};

QTEST_GUILESS_MAIN(TestSessionWatcher)
#include "tst_sessionwatcher.moc"

// X11IdleSource on a real X server (Xvfb) with input faked through XTEST, and desktopIdleSource()'s D-Bus-then-X11 order.
#include "ui/desktopidlesource.h"
#include "ui/x11idlesource.h"

#include "privatebus.h"

#include <QApplication>
#include <QDBusObjectPath>
#include <QScopeGuard>
#include <QTest>

#include <xcb/xcb.h>
#include <xcb/xtest.h>

#include <memory>
#include <optional>

using namespace hotdesk;
using namespace std::chrono_literals;
using hotdesk::test::PrivateBus;
using std::chrono::milliseconds;

class FakeMutter : public QObject {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.gnome.Mutter.IdleMonitor")
public Q_SLOTS:
    qulonglong GetIdletime() { return 4242; }
};

// logind of a plain X11 desktop: a session whose IdleHint nobody sets (always false).
class FakeLogindManager : public QObject {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.login1.Manager")
public Q_SLOTS:
    QDBusObjectPath GetSession(const QString &) { return QDBusObjectPath(QStringLiteral("/org/freedesktop/login1/session/_37")); }
};

class FakeLogindSession : public QObject {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.login1.Session")
    Q_PROPERTY(bool IdleHint READ idleHint)
    Q_PROPERTY(qulonglong IdleSinceHintMonotonic READ idleSince)
public:
    bool idleHint() const { return false; }
    qulonglong idleSince() const { return 0; }
};

namespace {

// Waits (bounded) for the answer, which may come inside the call or later.
Result<milliseconds> query(platform::IdleSource &source)
{
    std::optional<Result<milliseconds>> out;
    source.queryIdleTime([&](Result<milliseconds> r) { out = std::move(r); });
    for (int i = 0; i < 1000 && !out; ++i)
        QTest::qWait(10);
    if (!out)
        qFatal("the idle source did not answer");
    return *out;
}

milliseconds idleNow(platform::IdleSource &source)
{
    auto idle = query(source);
    if (!idle)
        qFatal("no idle time: %s", qPrintable(idle.error().message));
    return *idle;
}

struct Disconnect {
    void operator()(xcb_connection_t *connection) const { xcb_disconnect(connection); }
};

// Moves the pointer by one pixel and back through XTEST, from a connection of
// its own, as a mouse on the server would. Events that QTest sends never reach
// the X server, so they would not count.
bool fakePointerInput(QString *why)
{
    std::unique_ptr<xcb_connection_t, Disconnect> connection(xcb_connect(nullptr, nullptr));
    if (xcb_connection_has_error(connection.get())) {
        *why = QStringLiteral("cannot connect to the X server at DISPLAY=") + qEnvironmentVariable("DISPLAY");
        return false;
    }
    const xcb_query_extension_reply_t *xtest = xcb_get_extension_data(connection.get(), &xcb_test_id);
    if (!xtest || !xtest->present) {
        *why = QStringLiteral("the X server has no XTEST extension");
        return false;
    }
    for (const qint16 dx : {1, -1}) {
        // detail 1: relative motion; root XCB_NONE: the screen the pointer is on.
        const xcb_void_cookie_t cookie
            = xcb_test_fake_input_checked(connection.get(), XCB_MOTION_NOTIFY, 1, XCB_CURRENT_TIME, XCB_NONE, dx, 0, 0);
        // Waiting for the check also means the server has handled the request.
        if (xcb_generic_error_t *error = xcb_request_check(connection.get(), cookie)) {
            *why = QStringLiteral("XTEST FakeInput failed with X error %1").arg(error->error_code);
            free(error);
            return false;
        }
    }
    return true;
}

} // namespace

// Runs on the xcb platform (ctest sets QT_QPA_PLATFORM=xcb); onlyOnX11 runs offscreen too.
class TestX11Idle : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void idleTimeIsReadable()
    {
        ui::X11IdleSource source;
        auto idle = query(source);
        QVERIFY2(idle, qPrintable(idle ? QString() : idle.error().message));
        QVERIFY(*idle >= 0ms);
        QCOMPARE(source.name(), QStringLiteral("x11"));
    }

    // Without input the idle time only grows.
    void idleTimeGrowsWithoutInput()
    {
        ui::X11IdleSource source;
        const milliseconds first = idleNow(source);
        milliseconds last = first;
        bool monotonic = true;
        const auto grown = [&] {
            const milliseconds now = idleNow(source);
            monotonic = monotonic && now >= last;
            last = now;
            return now > first;
        };
        QTRY_VERIFY_WITH_TIMEOUT(grown(), 10000);
        QVERIFY2(monotonic, "the idle time went back without input");
    }

    // Input on the X server (XTEST) starts the idle time over.
    void inputStartsTheIdleTimeOver()
    {
        ui::X11IdleSource source;
        // Some idle time to lose first; the server started moments ago.
        QTRY_VERIFY_WITH_TIMEOUT(idleNow(source) >= 500ms, 10000);
        const milliseconds before = idleNow(source);
        QString why;
        QVERIFY2(fakePointerInput(&why), qPrintable(why));
        QTRY_VERIFY_WITH_TIMEOUT(idleNow(source) < before, 5000);
    }

    // In a Wayland session the X server is Xwayland, which does not see input
    // to Wayland windows: the source refuses rather than report such a time.
    void waylandSessionIsRefused()
    {
        const QByteArray saved = qgetenv("XDG_SESSION_TYPE");
        const auto restore = qScopeGuard([&] {
            if (saved.isNull())
                qunsetenv("XDG_SESSION_TYPE");
            else
                qputenv("XDG_SESSION_TYPE", saved);
        });
        qputenv("XDG_SESSION_TYPE", "wayland");
        ui::X11IdleSource source;
        auto idle = query(source);
        QVERIFY(!idle);
        QCOMPARE(idle.error().code, ErrorCode::Unsupported);
        QVERIFY2(idle.error().message.contains(QLatin1String("Xwayland")), qPrintable(idle.error().message));
    }

    // The agent's source: D-Bus first; with nothing answering there (a bus
    // without desktop services, or no bus at all) the X server answers, and is
    // asked first from then on.
    void chainFallsBackToX11_data()
    {
        QTest::addColumn<bool>("busExists");
        QTest::newRow("private bus without desktop services") << true;
        QTest::newRow("no session or system bus") << false;
    }
    void chainFallsBackToX11()
    {
        QFETCH(bool, busExists);
        PrivateBus bus;
        platform::DBusIdleSource::Options options;
        options.sessionId = QStringLiteral("37");
        if (busExists) {
            QString why;
            QVERIFY2(bus.start(&why), qPrintable(why));
            options.sessionBus = bus.connect();
            options.systemBus = bus.connect();
        } else {
            options.sessionBus = PrivateBus::nowhere();
            options.systemBus = PrivateBus::nowhere();
        }
        auto source = ui::desktopIdleSource(options);
        auto idle = query(*source);
        QVERIFY2(idle, qPrintable(idle ? QString() : idle.error().message));
        QCOMPARE(source->name(), QStringLiteral("x11"));

        // Asked first now: the answer comes inside the call, no D-Bus round trip before it.
        std::optional<Result<milliseconds>> second;
        source->queryIdleTime([&](Result<milliseconds> r) { second = std::move(r); });
        QVERIFY(second.has_value());
        QVERIFY(second->has_value());
        QCOMPARE(source->name(), QStringLiteral("x11"));
    }

    // A desktop service on D-Bus comes before the X server.
    void chainAsksDBusFirst()
    {
        PrivateBus bus;
        QString why;
        QVERIFY2(bus.start(&why), qPrintable(why));
        QDBusConnection services = bus.connect();
        FakeMutter mutter;
        QVERIFY(services.registerObject(
            QStringLiteral("/org/gnome/Mutter/IdleMonitor/Core"), &mutter, QDBusConnection::ExportAllSlots));
        QVERIFY(services.registerService(QStringLiteral("org.gnome.Mutter.IdleMonitor")));
        platform::DBusIdleSource::Options options;
        options.sessionBus = bus.connect();
        options.systemBus = bus.connect();
        auto source = ui::desktopIdleSource(options);
        auto idle = query(*source);
        QVERIFY2(idle, qPrintable(idle ? QString() : idle.error().message));
        QCOMPARE(*idle, 4242ms);
        QCOMPARE(source->name(), QStringLiteral("mutter"));

        // Mutter goes away: the X server answers.
        QVERIFY(services.unregisterService(QStringLiteral("org.gnome.Mutter.IdleMonitor")));
        idle = query(*source);
        QVERIFY2(idle, qPrintable(idle ? QString() : idle.error().message));
        QCOMPARE(source->name(), QStringLiteral("x11"));
    }

    // logind's IdleHint, which plain X11 desktops never set, does not hide the
    // X server's idle time: the X server is asked before logind (its "not
    // idle" sent in the agent's heartbeat kept hotdeskd's idle trigger from firing).
    void logindComesAfterTheXServer()
    {
        PrivateBus bus;
        QString why;
        QVERIFY2(bus.start(&why), qPrintable(why));
        QDBusConnection services = bus.connect();
        FakeLogindManager manager;
        FakeLogindSession session;
        QVERIFY(services.registerObject(QStringLiteral("/org/freedesktop/login1"), &manager, QDBusConnection::ExportAllSlots));
        QVERIFY(services.registerObject(
            QStringLiteral("/org/freedesktop/login1/session/_37"), &session, QDBusConnection::ExportAllProperties));
        QVERIFY(services.registerService(QStringLiteral("org.freedesktop.login1")));
        platform::DBusIdleSource::Options options;
        options.sessionBus = bus.connect();
        options.systemBus = bus.connect();
        options.sessionId = QStringLiteral("37");
        auto source = ui::desktopIdleSource(options);
        auto idle = query(*source);
        QVERIFY2(idle, qPrintable(idle ? QString() : idle.error().message));
        // Without an X server (the offscreen run) logind is the one left.
        QCOMPARE(source->name(),
            QGuiApplication::platformName() == QLatin1String("xcb") ? QStringLiteral("x11") : QStringLiteral("logind"));
    }

    // Run on xcb and (by tst_x11idle_offscreen) on the offscreen platform:
    // there the source says why it cannot answer, and so does the chain.
    void onlyOnX11()
    {
        ui::X11IdleSource source;
        auto idle = query(source);
        if (QGuiApplication::platformName() == QLatin1String("xcb")) {
            QVERIFY2(idle, qPrintable(idle ? QString() : idle.error().message));
            return;
        }
        QVERIFY(!idle);
        QCOMPARE(idle.error().code, ErrorCode::Unsupported);
        QVERIFY2(idle.error().message.contains(QGuiApplication::platformName()), qPrintable(idle.error().message));

        platform::DBusIdleSource::Options options;
        options.sessionBus = PrivateBus::nowhere();
        options.systemBus = PrivateBus::nowhere();
        auto chain = ui::desktopIdleSource(options);
        auto none = query(*chain);
        QVERIFY(!none);
        QCOMPARE(none.error().code, ErrorCode::Unsupported);
        // Both reasons, the D-Bus one first.
        const QString message = none.error().message;
        const qsizetype dbus = message.indexOf(QLatin1String("mutter:"));
        const qsizetype x11 = message.indexOf(idle.error().message);
        QVERIFY2(dbus >= 0 && x11 > dbus, qPrintable(message));
        QCOMPARE(chain->name(), QString());
    }
};

QTEST_MAIN(TestX11Idle)
#include "tst_x11idle.moc"

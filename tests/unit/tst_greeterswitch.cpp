// platform::GreeterSwitch against a display manager on a private bus: GDM's transient display, LightDM's
// SwitchToGreeter, neither.
#include "core/platform/linux/greeterswitch.h"

#include <QDBusConnection>
#include <QDBusObjectPath>
#include <QTest>

#include "privatebus.h"

using namespace hotdesk;

class FakeGdm : public QObject {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.gnome.DisplayManager.LocalDisplayFactory")
public:
    int calls = 0;
public Q_SLOTS:
    QDBusObjectPath CreateTransientDisplay()
    {
        ++calls;
        return QDBusObjectPath(QStringLiteral("/org/gnome/DisplayManager/Displays/1"));
    }
};

class FakeLightDmSeat : public QObject {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.DisplayManager.Seat")
public:
    int calls = 0;
public Q_SLOTS:
    void SwitchToGreeter() { ++calls; }
};

class TestGreeterSwitch : public QObject {
    Q_OBJECT
private:
    // Runs one switch on a connection of its own to bus; the outcome.
    static Result<QString> switchOn(const QDBusConnection &bus, const QString &seatPath)
    {
        platform::GreeterSwitch greeter({bus, seatPath, std::chrono::milliseconds(3000)});
        std::optional<Result<QString>> outcome;
        greeter.switchToGreeter([&outcome](Result<QString> result) { outcome = std::move(result); });
        if (!QTest::qWaitFor([&outcome] { return outcome.has_value(); }, 10000))
            return fail(ErrorCode::Timeout, QStringLiteral("no answer"));
        return *outcome;
    }

    // LightDM's seat object on a connection of its own.
    static bool serveLightDm(test::PrivateBus &bus, FakeLightDmSeat &seat)
    {
        QDBusConnection connection = bus.connect();
        return connection.registerObject(QStringLiteral("/org/freedesktop/DisplayManager/Seat0"), &seat, QDBusConnection::ExportAllSlots)
            && connection.registerService(QStringLiteral("org.freedesktop.DisplayManager"));
    }

private Q_SLOTS:
    void gdmFirst()
    {
        test::PrivateBus bus;
        QString why;
        QVERIFY2(bus.start(&why), qPrintable(why));
        QDBusConnection gdmConnection = bus.connect();
        FakeGdm gdm;
        QVERIFY(gdmConnection.registerObject(
            QStringLiteral("/org/gnome/DisplayManager/LocalDisplayFactory"), &gdm, QDBusConnection::ExportAllSlots));
        QVERIFY(gdmConnection.registerService(QStringLiteral("org.gnome.DisplayManager")));
        // LightDM is there too: GDM answers first, LightDM is not asked.
        FakeLightDmSeat seat;
        QVERIFY(serveLightDm(bus, seat));

        const auto result = switchOn(bus.connect(), QStringLiteral("/org/freedesktop/DisplayManager/Seat0"));
        QVERIFY2(result, qPrintable(result ? QString() : result.error().message));
        QCOMPARE(*result, QStringLiteral("gdm"));
        QCOMPARE(gdm.calls, 1);
        QCOMPARE(seat.calls, 0);
    }

    void lightDmWithoutGdm()
    {
        test::PrivateBus bus;
        QString why;
        QVERIFY2(bus.start(&why), qPrintable(why));
        FakeLightDmSeat seat;
        QVERIFY(serveLightDm(bus, seat));

        const auto result = switchOn(bus.connect(), QStringLiteral("/org/freedesktop/DisplayManager/Seat0"));
        QVERIFY2(result, qPrintable(result ? QString() : result.error().message));
        QCOMPARE(*result, QStringLiteral("lightdm"));
        QCOMPARE(seat.calls, 1);
    }

    void noDisplayManager_data()
    {
        QTest::addColumn<QString>("seatPath");
        QTest::newRow("no seat path") << QString();
        QTest::newRow("LightDM absent") << QStringLiteral("/org/freedesktop/DisplayManager/Seat0");
    }

    void noDisplayManager()
    {
        QFETCH(QString, seatPath);
        test::PrivateBus bus;
        QString why;
        QVERIFY2(bus.start(&why), qPrintable(why));
        qputenv("XDG_SEAT_PATH", "");
        const auto result = switchOn(bus.connect(), seatPath);
        QVERIFY(!result);
        QCOMPARE(result.error().code, ErrorCode::Unsupported);
        QVERIFY2(result.error().message.contains(QLatin1String("GDM:")), qPrintable(result.error().message));
        QVERIFY2(result.error().message.contains(QLatin1String("LightDM:")), qPrintable(result.error().message));
    }
};

QTEST_GUILESS_MAIN(TestGreeterSwitch)
#include "tst_greeterswitch.moc"

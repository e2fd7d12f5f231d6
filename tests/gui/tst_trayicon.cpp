// The tray: state -> icon, tooltip and status line; the menu emits requests; an absent tray is retried by timer.
#include "ui/trayicon.h"
#include "ui/translations.h"

#include <QAction>
#include <QApplication>
#include <QFile>
#include <QIcon>
#include <QMenu>
#include <QPalette>
#include <QSignalSpy>
#include <QSystemTrayIcon>
#include <QTest>

using namespace hotdesk;
using control::AgentState;
using ui::DesktopIntegration;

Q_DECLARE_METATYPE(hotdesk::control::AgentState)

namespace {

std::function<bool()> noTray()
{
    return [] { return false; };
}

} // namespace

class TestTrayIcon : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void everyIconExistsAndRenders()
    {
        for (AgentState state : {AgentState::Ok, AgentState::ReauthSoon, AgentState::Locked, AgentState::Offline, AgentState::Error}) {
            for (bool dark : {false, true}) {
                const QString path = DesktopIntegration::iconPath(state, dark);
                QVERIFY2(QFile::exists(path), qPrintable(path));
                const QIcon icon(path);
                QVERIFY2(!icon.pixmap(22, 22).isNull(), qPrintable(path));
            }
        }
        QVERIFY(DesktopIntegration::iconPath(AgentState::Locked, false) != DesktopIntegration::iconPath(AgentState::Locked, true));
        QVERIFY(DesktopIntegration::iconPath(AgentState::Locked, false) != DesktopIntegration::iconPath(AgentState::Ok, false));
    }

    void panelLightness()
    {
        QPalette light;
        light.setColor(QPalette::Window, QColor(QStringLiteral("#f0f0f0")));
        QPalette dark;
        dark.setColor(QPalette::Window, QColor(QStringLiteral("#202225")));
        QVERIFY(!DesktopIntegration::isDarkPanel(light));
        QVERIFY(DesktopIntegration::isDarkPanel(dark));
    }

    void iconFollowsThePalette()
    {
        const QPalette saved = QApplication::palette();
        DesktopIntegration tray(nullptr, noTray());
        tray.setState(AgentState::Ok);
        QPalette dark = saved;
        dark.setColor(QPalette::Window, QColor(QStringLiteral("#202225")));
        QApplication::setPalette(dark);
        QCOMPARE(tray.iconPath(), QStringLiteral(":/icons/tray-ok-dark.svg"));
        QPalette light = saved;
        light.setColor(QPalette::Window, QColor(QStringLiteral("#f5f5f5")));
        QApplication::setPalette(light);
        QCOMPARE(tray.iconPath(), QStringLiteral(":/icons/tray-ok-light.svg"));
        QApplication::setPalette(saved);
    }

    void stateMapping_data()
    {
        QTest::addColumn<AgentState>("state");
        QTest::addColumn<QString>("user");
        QTest::addColumn<QString>("detail");
        QTest::addColumn<QString>("iconName");
        QTest::addColumn<QString>("status");
        QTest::addColumn<QString>("toolTip");
        QTest::newRow("ok") << AgentState::Ok << QStringLiteral("alice") << QString() << QStringLiteral("tray-ok-")
                            << QStringLiteral("Signed in as alice") << QStringLiteral("Hotdesk: Signed in as alice");
        QTest::newRow("ok, nobody") << AgentState::Ok << QString() << QString() << QStringLiteral("tray-ok-")
                                    << QStringLiteral("Hotdesk is protecting this PC")
                                    << QStringLiteral("Hotdesk: Hotdesk is protecting this PC");
        QTest::newRow("reauth soon") << AgentState::ReauthSoon << QStringLiteral("alice") << QStringLiteral("in 5 minutes")
                                     << QStringLiteral("tray-reauth_soon-") << QStringLiteral("alice must re-authenticate soon")
                                     << QStringLiteral("Hotdesk: alice must re-authenticate soon\nin 5 minutes");
        QTest::newRow("locked") << AgentState::Locked << QStringLiteral("bob") << QString() << QStringLiteral("tray-locked-")
                                << QStringLiteral("Locked until bob signs in again")
                                << QStringLiteral("Hotdesk: Locked until bob signs in again");
        QTest::newRow("offline") << AgentState::Offline << QStringLiteral("bob") << QString() << QStringLiteral("tray-offline-")
                                 << QStringLiteral("Offline: the authentication server cannot be reached")
                                 << QStringLiteral("Hotdesk: Offline: the authentication server cannot be reached");
        QTest::newRow("error") << AgentState::Error << QString() << QStringLiteral("policy invalid")
                               << QStringLiteral("tray-error-") << QStringLiteral("Hotdesk has a problem; see the audit log")
                               << QStringLiteral("Hotdesk: Hotdesk has a problem; see the audit log\npolicy invalid");
    }
    void stateMapping()
    {
        QFETCH(AgentState, state);
        QFETCH(QString, user);
        QFETCH(QString, detail);
        QFETCH(QString, iconName);
        QFETCH(QString, status);
        QFETCH(QString, toolTip);
        DesktopIntegration tray(nullptr, noTray());
        tray.setState(state, user, detail);
        QCOMPARE(tray.state(), state);
        QVERIFY2(tray.iconPath().startsWith(QStringLiteral(":/icons/") + iconName), qPrintable(tray.iconPath()));
        QCOMPARE(tray.statusText(), status);
        QCOMPARE(tray.statusAction()->text(), status);
        QVERIFY(!tray.statusAction()->isEnabled());
        QCOMPARE(tray.toolTip(), toolTip);
    }

    void menuEmitsRequests()
    {
        DesktopIntegration tray(nullptr, noTray());
        QSignalSpy reauth(&tray, &DesktopIntegration::reauthRequested);
        QSignalSpy enroll(&tray, &DesktopIntegration::enrollRequested);
        QSignalSpy audit(&tray, &DesktopIntegration::openAuditLogRequested);
        QSignalSpy about(&tray, &DesktopIntegration::aboutRequested);

        const QList<QAction *> actions = tray.menu()->actions();
        QCOMPARE(actions.first(), tray.statusAction());
        QVERIFY(actions.contains(tray.reauthAction()));
        QCOMPARE(tray.reauthAction()->text(), QStringLiteral("Re-authenticate now"));
        QCOMPARE(tray.enrollAction()->text(), QStringLiteral("Enroll this PC…"));
        QCOMPARE(tray.auditLogAction()->text(), QStringLiteral("Open audit log"));
        QCOMPARE(tray.aboutAction()->text(), QStringLiteral("About Hotdesk"));

        tray.reauthAction()->trigger();
        QCOMPARE(reauth.count(), 1);
        QCOMPARE(enroll.count() + audit.count() + about.count(), 0);
        tray.enrollAction()->trigger();
        QCOMPARE(enroll.count(), 1);
        tray.auditLogAction()->trigger();
        QCOMPARE(audit.count(), 1);
        tray.aboutAction()->trigger();
        QCOMPARE(about.count(), 1);
        QCOMPARE(reauth.count(), 1);
    }

    void absentTrayIsRetriedByTimer()
    {
        int checks = 0;
        bool available = false;
        DesktopIntegration tray(nullptr, [&] {
            ++checks;
            return available;
        });
        QVERIFY(tray.isWaitingForTray());
        QVERIFY(!tray.isTrayShown());
        QCOMPARE(checks, 1);
        tray.notify(QStringLiteral("Hotdesk"), QStringLiteral("Re-authentication in 5 minutes"));

        tray.setRetryInterval(20);
        QTRY_VERIFY(checks >= 3); // it keeps checking, one check per interval
        QVERIFY(tray.isWaitingForTray());
        available = true;
        QTRY_VERIFY(!tray.isWaitingForTray());
        const int after = checks;
        QTest::qWait(100);
        QCOMPARE(checks, after); // no more checks once the tray is there
    }

    void followsTheLanguage()
    {
        DesktopIntegration tray(nullptr, noTray());
        tray.setState(AgentState::Locked, QStringLiteral("bob"));
        QVERIFY(ui::installTranslations(QLocale(QLocale::German, QLocale::Germany)));
        QCOMPARE(tray.reauthAction()->text(), QStringLiteral("Jetzt erneut anmelden"));
        QCOMPARE(tray.statusText(), QStringLiteral("Gesperrt, bis sich bob erneut anmeldet"));
        QCOMPARE(tray.statusAction()->text(), tray.statusText());
        ui::installTranslations(QLocale(QLocale::English));
        QCOMPARE(tray.reauthAction()->text(), QStringLiteral("Re-authenticate now"));
    }

    void realAvailabilityDecides()
    {
        DesktopIntegration tray;
        QCOMPARE(tray.isWaitingForTray(), !QSystemTrayIcon::isSystemTrayAvailable());
    }
};

QTEST_MAIN(TestTrayIcon)
#include "tst_trayicon.moc"

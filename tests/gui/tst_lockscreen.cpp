// The lock screen on two screens: it covers both, ignores Esc and Alt+F4, is usable by keyboard, and lifts only for a completed flow.
#include "ui/lockscreen.h"
#include "ui/translations.h"

#include <QAbstractButton>
#include <QJsonArray>
#include <QJsonObject>
#include <QApplication>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScreen>
#include <QSignalSpy>
#include <QTest>
#include <qpa/qplatformnativeinterface.h>

using namespace hotdesk;

namespace {

flow::FlowResult validatedFor(const QString &user, const QString &sharedId)
{
    flow::FlowResult r;
    r.user = user;
    r.sharedId = sharedId;
    r.idToken.subject = sharedId;
    return r;
}

// The offscreen platform's screen configuration, which it changes at run time
// as if monitors were plugged in or out (its native interface's
// "configuration" and "setConfiguration" functions).
QJsonObject screenConfiguration()
{
    QPlatformNativeInterface *native = QGuiApplication::platformNativeInterface();
    auto get = reinterpret_cast<QJsonObject (*)(QPlatformNativeInterface *)>(native->nativeResourceForIntegration("configuration"));
    return get ? get(native) : QJsonObject();
}

bool setScreenConfiguration(const QJsonObject &configuration)
{
    QPlatformNativeInterface *native = QGuiApplication::platformNativeInterface();
    auto set = reinterpret_cast<void (*)(const QJsonObject &, QPlatformNativeInterface *)>(
        native->nativeResourceForIntegration("setConfiguration"));
    if (!set)
        return false;
    set(configuration, native);
    return true;
}

ui::LockInfo aliceInfo()
{
    ui::LockInfo info;
    info.user = QStringLiteral("alice");
    info.reason = QStringLiteral("You have been away for 15 minutes.");
    info.attemptsLeft = 4;
    info.helpText = QStringLiteral("Service desk: 1234");
    return info;
}

} // namespace

class TestLockScreen : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        // tests/data/two-screens.json through the offscreen platform's configfile.
        QCOMPARE(QGuiApplication::screens().size(), 2);
    }

    void coversEveryScreen()
    {
        ui::LockScreen lock;
        lock.lock(aliceInfo());
        QVERIFY(lock.isLocked());
        QCOMPARE(lock.windows().size(), 2);
        int primaries = 0;
        for (ui::LockWindow *w : lock.windows()) {
            QVERIFY(w->isVisible());
            QCOMPARE(w->geometry(), w->lockedScreen()->geometry());
            QVERIFY(w->windowFlags() & Qt::WindowStaysOnTopHint);
            QVERIFY(w->windowFlags() & Qt::FramelessWindowHint);
            primaries += w->isPrimary() ? 1 : 0;
        }
        QCOMPARE(primaries, 1);
        QCOMPARE(lock.primaryWindow()->lockedScreen(), QGuiApplication::primaryScreen());
        // Locking again does not stack windows.
        lock.lock(aliceInfo());
        QCOMPARE(lock.windows().size(), 2);
        // No X server (offscreen, as on Wayland): nothing is grabbed, nothing is said about grabs.
        QSignalSpy held(&lock, &ui::LockScreen::grabbed);
        QSignalSpy failed(&lock, &ui::LockScreen::grabFailed);
        QTest::qWait(300);
        QCOMPARE(lock.grabState(), ui::LockScreen::GrabState::Unsupported);
        QCOMPARE(held.size() + failed.size(), 0);
    }

    void coversAScreenPluggedInWhileLocked()
    {
        const QJsonObject twoScreens = screenConfiguration();
        QCOMPARE(twoScreens.value(QLatin1String("screens")).toArray().size(), 2);
        QJsonObject threeScreens = twoScreens;
        QJsonArray screens = twoScreens.value(QLatin1String("screens")).toArray();
        screens.append(QJsonObject {{QStringLiteral("name"), QStringLiteral("plugged")}, {QStringLiteral("x"), 1824},
            {QStringLiteral("y"), 0}, {QStringLiteral("width"), 640}, {QStringLiteral("height"), 480}});
        threeScreens.insert(QStringLiteral("screens"), screens);

        ui::LockScreen lock;
        lock.lock(aliceInfo());
        QCOMPARE(lock.windows().size(), 2);
        // A projector plugged in while locked is covered at once.
        QVERIFY(setScreenConfiguration(threeScreens));
        QTRY_COMPARE(QGuiApplication::screens().size(), 3);
        QTRY_COMPARE(lock.windows().size(), 3);
        bool covered = false;
        for (ui::LockWindow *w : lock.windows()) {
            if (w->lockedScreen()->name() == u"plugged") {
                covered = true;
                QVERIFY(w->isVisible());
                QVERIFY(!w->isPrimary());
                QCOMPARE(w->geometry(), QRect(1824, 0, 640, 480));
            }
        }
        QVERIFY(covered);
        // Unplugged again: its window goes, the others stay.
        QVERIFY(setScreenConfiguration(twoScreens));
        QTRY_COMPARE(lock.windows().size(), 2);
        QVERIFY(lock.isLocked());
        QVERIFY(lock.primaryWindow());

        // Unlocked, a new screen gets no lock window.
        QVERIFY(lock.unlock(validatedFor(QStringLiteral("alice"), QStringLiteral("s-1"))));
        QVERIFY(setScreenConfiguration(threeScreens));
        QTRY_COMPARE(QGuiApplication::screens().size(), 3);
        QTest::qWait(50);
        QVERIFY(lock.windows().isEmpty());
        QVERIFY(setScreenConfiguration(twoScreens));
        QTRY_COMPARE(QGuiApplication::screens().size(), 2);
    }

    void saysWhoWhyAndWhomToCall()
    {
        ui::LockScreen lock;
        lock.lock(aliceInfo());
        ui::LockWindow *w = lock.primaryWindow();
        QVERIFY(w->headline()->text().contains(QLatin1String("alice")));
        QCOMPARE(w->detail()->text(), QStringLiteral("You have been away for 15 minutes."));
        const QList<QLabel *> labels = w->findChildren<QLabel *>();
        const bool attempts = std::any_of(labels.begin(), labels.end(),
            [](QLabel *l) { return l->isVisible() && l->text() == QLatin1String("Attempts left: 4"); });
        const bool help = std::any_of(labels.begin(), labels.end(),
            [](QLabel *l) { return l->isVisible() && l->text() == QLatin1String("Service desk: 1234"); });
        QVERIFY(attempts);
        QVERIFY(help);
        QVERIFY(w->switchUserButton()->text().contains(QLatin1String("Not alice?")));
        // The other screen points to the sign-in.
        for (ui::LockWindow *other : lock.windows()) {
            if (!other->isPrimary()) {
                QVERIFY(!other->signInButton()->isVisible());
                QCOMPARE(other->detail()->text(), QStringLiteral("Sign in on the main screen to continue."));
            }
        }
    }

    void escapeAltF4AndCloseDoNotDismiss()
    {
        ui::LockScreen lock;
        lock.lock(aliceInfo());
        for (ui::LockWindow *w : lock.windows()) {
            QTest::keyClick(w, Qt::Key_Escape);
            QTest::keyClick(w, Qt::Key_F4, Qt::AltModifier);
            QVERIFY(!w->close());
            QVERIFY(w->isVisible());
        }
        QVERIFY(lock.isLocked());
        QCOMPARE(lock.windows().size(), 2);
    }

    void liftsOnlyForACompletedFlowOfThatUser()
    {
        ui::LockScreen lock;
        QSignalSpy unlocked(&lock, &ui::LockScreen::unlocked);
        lock.lock(aliceInfo());
        QVERIFY(!lock.unlock(flow::FlowResult {}));
        QVERIFY(!lock.unlock(validatedFor(QStringLiteral("mallory"), QStringLiteral("s-1"))));
        flow::FlowResult wrongSubject = validatedFor(QStringLiteral("alice"), QStringLiteral("s-1"));
        wrongSubject.idToken.subject = QStringLiteral("s-2");
        QVERIFY(!lock.unlock(wrongSubject));
        QVERIFY(lock.isLocked());
        QCOMPARE(unlocked.count(), 0);
        QVERIFY(lock.unlock(validatedFor(QStringLiteral("alice@corp.example"), QStringLiteral("s-1"))));
        QVERIFY(!lock.isLocked());
        QCOMPARE(unlocked.count(), 1);
        QVERIFY(lock.windows().isEmpty());
    }

    void aLockHeldForTheDaemonLiftsOnlyByItsWord()
    {
        ui::LockScreen lock;
        QSignalSpy unlocked(&lock, &ui::LockScreen::unlocked);
        lock.lock(aliceInfo());
        lock.holdForDaemon(true);
        // The agent's own proofs, each good enough without the hold, are refused.
        QVERIFY(!lock.unlock(validatedFor(QStringLiteral("alice"), QStringLiteral("s-1"))));
        policy::OfflineGranted grant;
        grant.user = QStringLiteral("alice");
        QVERIFY(!lock.unlockOffline(grant));
        store::RecoveryCodeAccepted code;
        code.user = QStringLiteral("alice");
        QVERIFY(!lock.unlockWithRecoveryCode(code));
        QVERIFY(!lock.unlockValidatedByDaemon(QStringLiteral("mallory")));
        QVERIFY(lock.isLocked());
        QCOMPARE(unlocked.count(), 0);
        QVERIFY(lock.unlockValidatedByDaemon(QStringLiteral("alice")));
        QVERIFY(!lock.isLocked());
        QVERIFY(!lock.isHeldForDaemon());
        QCOMPARE(unlocked.count(), 1);
    }

    void theAccountPasswordIsHiddenAndTakenAsTyped()
    {
        ui::LockScreen lock;
        QSignalSpy passwords(&lock, &ui::LockScreen::accountPasswordEntered);
        QSignalSpy codes(&lock, &ui::LockScreen::recoveryCodeEntered);
        lock.lock(aliceInfo());
        lock.askForCode(ui::CodeKind::AccountPassword, QStringLiteral("password:"));
        QLineEdit *field = nullptr;
        for (QLineEdit *edit : lock.primaryWindow()->findChildren<QLineEdit *>())
            if (edit->isVisibleTo(lock.primaryWindow()) && edit->accessibleName() == u"password:")
                field = edit;
        QVERIFY(field);
        QCOMPARE(field->echoMode(), QLineEdit::Password);
        field->setText(QStringLiteral(" pass word "));
        QTest::keyClick(field, Qt::Key_Return);
        QCOMPARE(passwords.count(), 1);
        QCOMPARE(passwords.at(0).at(0).toString(), QStringLiteral("alice"));
        QCOMPARE(passwords.at(0).at(1).toString(), QStringLiteral(" pass word "));
        QCOMPARE(codes.count(), 0);
        QVERIFY(field->text().isEmpty());
        // The same field asks for a recovery code in the clear again.
        lock.askForCode(ui::CodeKind::RecoveryCode, QStringLiteral("code:"));
        QCOMPARE(field->echoMode(), QLineEdit::Normal);
    }

    void usableByKeyboardAlone()
    {
        ui::LockScreen lock;
        QSignalSpy signIn(&lock, &ui::LockScreen::signInRequested);
        QSignalSpy switchUser(&lock, &ui::LockScreen::switchUserRequested);
        lock.lock(aliceInfo());
        ui::LockWindow *w = lock.primaryWindow();
        QApplication::setActiveWindow(w);
        QTest::keyClick(w->signInButton(), Qt::Key_Space);
        QCOMPARE(signIn.count(), 1);
        QCOMPARE(signIn.at(0).at(0).toString(), QStringLiteral("alice"));
        QTest::keyClick(w->switchUserButton(), Qt::Key_Space);
        QVERIFY(w->switchUserEdit()->isVisible());
        QTest::keyClicks(w->switchUserEdit(), QStringLiteral("bob"));
        QTest::keyClick(w->switchUserEdit(), Qt::Key_Return);
        QCOMPARE(switchUser.count(), 1);
        QCOMPARE(switchUser.at(0).at(0).toString(), QStringLiteral("bob"));
        // While a sign-in runs, Cancel is there and Sign in is not.
        lock.setStatus(QStringLiteral("Approve on your phone."), true);
        QVERIFY(w->cancelButton()->isEnabled());
        QVERIFY(!w->signInButton()->isEnabled());
    }

    void speaksGerman()
    {
        QVERIFY(ui::installTranslations(QLocale(QLocale::German, QLocale::Germany)));
        ui::LockScreen lock;
        lock.lock(aliceInfo());
        ui::LockWindow *w = lock.primaryWindow();
        QCOMPARE(w->windowTitle(), QStringLiteral("Hotdesk: Dieser PC ist gesperrt"));
        QCOMPARE(w->headline()->text(), QStringLiteral("alice, bitte melden Sie sich erneut an"));
        QCOMPARE(w->signInButton()->text(), QStringLiteral("&Anmelden"));
        QCOMPARE(w->switchUserButton()->text(), QStringLiteral("Nicht alice? Benutzer &wechseln"));
        QCOMPARE(w->signInButton()->accessibleName(), QStringLiteral("Erneut anmelden"));
        const QList<QLabel *> labels = w->findChildren<QLabel *>();
        QVERIFY(std::any_of(labels.begin(), labels.end(),
            [](QLabel *l) { return l->text() == QStringLiteral("Verbleibende Versuche: 4"); }));
        for (ui::LockWindow *other : lock.windows()) {
            if (!other->isPrimary())
                QCOMPARE(other->detail()->text(), QStringLiteral("Melden Sie sich am Hauptbildschirm an, um fortzufahren."));
        }
        // And back: English needs no translation file.
        QVERIFY(!ui::installTranslations(QLocale(QLocale::English, QLocale::UnitedStates)));
        QCoreApplication::sendPostedEvents();
        QCOMPARE(w->signInButton()->text(), QStringLiteral("&Sign in"));
    }

    void everyControlHasAnAccessibleName()
    {
        ui::LockScreen lock;
        lock.lock(aliceInfo());
        for (ui::LockWindow *w : lock.windows()) {
            for (QWidget *control : w->findChildren<QWidget *>()) {
                if (qobject_cast<QAbstractButton *>(control) || qobject_cast<QLineEdit *>(control))
                    QVERIFY2(!control->accessibleName().isEmpty(), control->metaObject()->className());
            }
        }
    }
};

QTEST_MAIN(TestLockScreen)
#include "tst_lockscreen.moc"

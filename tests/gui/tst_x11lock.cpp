// The lock screen's hold on an X11 session (ui/x11lockguard.h) on Xvfb: another X client (a connection of the test's
// own) cannot grab the keyboard or the pointer while the lock is up, the lock says it is held only with both grabs,
// retries and then fails when another client holds one, raises itself again above a window mapped over it, and
// its windows are on every workspace.
#include "ui/lockscreen.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>

#include <xcb/xcb.h>

#include <cstdlib>
#include <cstring>
#include <memory>

using namespace hotdesk;
using GrabState = ui::LockScreen::GrabState;

namespace {

flow::FlowResult validatedFor(const QString &user, const QString &sharedId)
{
    flow::FlowResult r;
    r.user = user;
    r.sharedId = sharedId;
    r.idToken.subject = sharedId;
    return r;
}

ui::LockInfo info()
{
    ui::LockInfo i;
    i.user = QStringLiteral("alice");
    i.reason = QStringLiteral("test");
    return i;
}

struct FreeReply {
    void operator()(void *reply) const { std::free(reply); }
};
template <typename T> using ReplyPtr = std::unique_ptr<T, FreeReply>;

// Another program on the same X server: a connection of its own.
class OtherClient {
public:
    OtherClient()
        : m_connection(xcb_connect(nullptr, nullptr))
    {
        m_root = xcb_setup_roots_iterator(xcb_get_setup(m_connection)).data->root;
    }
    ~OtherClient() { xcb_disconnect(m_connection); }
    bool ok() const { return !xcb_connection_has_error(m_connection); }
    xcb_connection_t *connection() const { return m_connection; }
    xcb_window_t root() const { return m_root; }

    int grabKeyboard()
    {
        ReplyPtr<xcb_grab_keyboard_reply_t> r(xcb_grab_keyboard_reply(m_connection,
            xcb_grab_keyboard(m_connection, 0, m_root, XCB_CURRENT_TIME, XCB_GRAB_MODE_ASYNC, XCB_GRAB_MODE_ASYNC), nullptr));
        return r ? r->status : -1;
    }
    int grabPointer()
    {
        ReplyPtr<xcb_grab_pointer_reply_t> r(xcb_grab_pointer_reply(m_connection,
            xcb_grab_pointer(m_connection, 0, m_root, XCB_EVENT_MASK_BUTTON_PRESS, XCB_GRAB_MODE_ASYNC, XCB_GRAB_MODE_ASYNC,
                XCB_NONE, XCB_NONE, XCB_CURRENT_TIME),
            nullptr));
        return r ? r->status : -1;
    }
    void ungrab()
    {
        xcb_ungrab_keyboard(m_connection, XCB_CURRENT_TIME);
        xcb_ungrab_pointer(m_connection, XCB_CURRENT_TIME);
        sync();
    }
    // A window over the whole screen, override-redirect (as a menu or a popup) or a normal one.
    xcb_window_t mapWindow(bool overrideRedirect)
    {
        const xcb_window_t window = xcb_generate_id(m_connection);
        const quint32 values[] = {overrideRedirect ? 1u : 0u};
        xcb_create_window(m_connection, XCB_COPY_FROM_PARENT, window, m_root, 0, 0, 800, 600, 0, XCB_WINDOW_CLASS_INPUT_OUTPUT,
            XCB_COPY_FROM_PARENT, XCB_CW_OVERRIDE_REDIRECT, values);
        xcb_map_window(m_connection, window);
        sync();
        return window;
    }
    void raise(xcb_window_t window)
    {
        const quint32 above = XCB_STACK_MODE_ABOVE;
        xcb_configure_window(m_connection, window, XCB_CONFIG_WINDOW_STACK_MODE, &above);
        sync();
    }
    void unmap(xcb_window_t window)
    {
        xcb_unmap_window(m_connection, window);
        sync();
    }
    int mapState(xcb_window_t window)
    {
        ReplyPtr<xcb_get_window_attributes_reply_t> r(
            xcb_get_window_attributes_reply(m_connection, xcb_get_window_attributes(m_connection, window), nullptr));
        return r ? r->map_state : -1;
    }
    // The root's children, bottom to top.
    QList<xcb_window_t> stacking()
    {
        ReplyPtr<xcb_query_tree_reply_t> tree(xcb_query_tree_reply(m_connection, xcb_query_tree(m_connection, m_root), nullptr));
        QList<xcb_window_t> out;
        if (tree) {
            const xcb_window_t *children = xcb_query_tree_children(tree.get());
            for (int i = 0; i < xcb_query_tree_children_length(tree.get()); ++i)
                out << children[i];
        }
        return out;
    }
    xcb_atom_t atom(const char *name)
    {
        ReplyPtr<xcb_intern_atom_reply_t> r(
            xcb_intern_atom_reply(m_connection, xcb_intern_atom(m_connection, 0, quint16(std::strlen(name)), name), nullptr));
        return r ? r->atom : xcb_atom_t(XCB_ATOM_NONE);
    }
    QList<quint32> property(xcb_window_t window, const char *name)
    {
        ReplyPtr<xcb_get_property_reply_t> r(xcb_get_property_reply(
            m_connection, xcb_get_property(m_connection, 0, window, atom(name), XCB_GET_PROPERTY_TYPE_ANY, 0, 64), nullptr));
        QList<quint32> out;
        if (r && r->format == 32) {
            const auto *values = static_cast<const quint32 *>(xcb_get_property_value(r.get()));
            for (int i = 0; i < xcb_get_property_value_length(r.get()) / 4; ++i)
                out << values[i];
        }
        return out;
    }

private:
    // A round trip: the server has handled every request before it.
    void sync() { std::free(xcb_get_input_focus_reply(m_connection, xcb_get_input_focus(m_connection), nullptr)); }

    xcb_connection_t *m_connection;
    xcb_window_t m_root = 0;
};

// The highest position of a lock window in the stacking order.
qsizetype topLockWindow(const QList<xcb_window_t> &stacking, const ui::LockScreen &lock)
{
    qsizetype top = -1;
    for (ui::LockWindow *w : lock.windows())
        top = std::max(top, stacking.indexOf(xcb_window_t(w->winId())));
    return top;
}

} // namespace

class TestX11Lock : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        if (!qApp->nativeInterface<QNativeInterface::QX11Application>())
            QSKIP("needs Qt on X11 (QT_QPA_PLATFORM=xcb); ./dev test runs it on Xvfb");
    }

    void theLockHoldsKeyboardAndPointer()
    {
        OtherClient other;
        QVERIFY(other.ok());
        ui::LockScreen lock;
        QCOMPARE(lock.grabState(), GrabState::Released);
        QSignalSpy held(&lock, &ui::LockScreen::grabbed);
        QSignalSpy failed(&lock, &ui::LockScreen::grabFailed);
        lock.lock(info());
        // Not held before the window is shown and the server granted both.
        QCOMPARE(lock.grabState(), GrabState::Grabbing);
        QTRY_COMPARE(held.size(), 1);
        QCOMPARE(lock.grabState(), GrabState::Held);
        QCOMPARE(failed.size(), 0);
        QCOMPARE(other.grabKeyboard(), int(XCB_GRAB_STATUS_ALREADY_GRABBED));
        QCOMPARE(other.grabPointer(), int(XCB_GRAB_STATUS_ALREADY_GRABBED));

        // On every workspace, above the others, full screen (EWMH).
        const xcb_atom_t sticky = other.atom("_NET_WM_STATE_STICKY");
        const xcb_atom_t above = other.atom("_NET_WM_STATE_ABOVE");
        const xcb_atom_t fullscreen = other.atom("_NET_WM_STATE_FULLSCREEN");
        for (ui::LockWindow *w : lock.windows()) {
            const auto id = xcb_window_t(w->winId());
            QCOMPARE(other.property(id, "_NET_WM_DESKTOP"), QList<quint32> {0xFFFFFFFF});
            const QList<quint32> states = other.property(id, "_NET_WM_STATE");
            QVERIFY2(states.contains(sticky) && states.contains(above) && states.contains(fullscreen),
                qPrintable(QStringLiteral("%1 states").arg(states.size())));
        }

        // Unlocked, the grabs are let go.
        QVERIFY(lock.unlock(validatedFor(QStringLiteral("alice"), QStringLiteral("s-1"))));
        QCOMPARE(lock.grabState(), GrabState::Released);
        QCOMPARE(other.grabKeyboard(), int(XCB_GRAB_STATUS_SUCCESS));
        QCOMPARE(other.grabPointer(), int(XCB_GRAB_STATUS_SUCCESS));
        other.ungrab();
        QCOMPARE(held.size(), 1);
    }

    void heldOnlyOnceBothAreGranted()
    {
        OtherClient other;
        QVERIFY(other.ok());
        // Another program holds the pointer for a moment (a menu, a drag).
        QCOMPARE(other.grabPointer(), int(XCB_GRAB_STATUS_SUCCESS));
        ui::LockScreen lock;
        QSignalSpy held(&lock, &ui::LockScreen::grabbed);
        QSignalSpy failed(&lock, &ui::LockScreen::grabFailed);
        lock.lock(info());
        QTest::qWait(700);
        QCOMPARE(held.size(), 0);
        QCOMPARE(lock.grabState(), GrabState::Grabbing);
        // It lets go: the next try gets both.
        other.ungrab();
        QTRY_COMPARE(held.size(), 1);
        QCOMPARE(failed.size(), 0);
        QCOMPARE(lock.grabState(), GrabState::Held);
        QCOMPARE(other.grabPointer(), int(XCB_GRAB_STATUS_ALREADY_GRABBED));
        QVERIFY(lock.unlock(validatedFor(QStringLiteral("alice"), QStringLiteral("s-1"))));
    }

    void aGrabHeldElsewhereFailsTheLock()
    {
        OtherClient other;
        QVERIFY(other.ok());
        QCOMPARE(other.grabKeyboard(), int(XCB_GRAB_STATUS_SUCCESS));
        ui::LockScreen lock;
        lock.setGrabRetries(5, 100);
        QSignalSpy held(&lock, &ui::LockScreen::grabbed);
        QSignalSpy failed(&lock, &ui::LockScreen::grabFailed);
        QElapsedTimer timer;
        timer.start();
        lock.lock(info());
        QTRY_COMPARE(failed.size(), 1);
        // It tried again over the retries before it gave up.
        QVERIFY2(timer.elapsed() >= 350, qPrintable(QString::number(timer.elapsed())));
        const QString why = failed.first().first().toString();
        QVERIFY2(why.contains(QLatin1String("keyboard: another program holds it")), qPrintable(why));
        QCOMPARE(held.size(), 0);
        QCOMPARE(lock.grabState(), GrabState::Failed);
        // The pointer it had is let go, for the OS lock to take; the lock windows stay.
        QCOMPARE(other.grabPointer(), int(XCB_GRAB_STATUS_SUCCESS));
        QVERIFY(lock.isLocked());
        QVERIFY(lock.primaryWindow()->isVisible());
        // Showing the lock again (new text) does not start the grabs again.
        lock.setInfo(info());
        lock.lock(info());
        QTest::qWait(300);
        QCOMPARE(held.size(), 0);
        other.ungrab();
        QVERIFY(lock.unlock(validatedFor(QStringLiteral("alice"), QStringLiteral("s-1"))));
        QCOMPARE(lock.grabState(), GrabState::Released);
    }

    void aWindowAboveIsCoveredAgain_data()
    {
        QTest::addColumn<bool>("overrideRedirect");
        QTest::newRow("override-redirect") << true;
        QTest::newRow("normal window") << false;
    }

    void aWindowAboveIsCoveredAgain()
    {
        QFETCH(bool, overrideRedirect);
        OtherClient other;
        QVERIFY(other.ok());
        ui::LockScreen lock;
        QSignalSpy held(&lock, &ui::LockScreen::grabbed);
        QSignalSpy raised(&lock, &ui::LockScreen::raisedAgain);
        lock.lock(info());
        QTRY_COMPARE(held.size(), 1);
        QCOMPARE(raised.size(), 0);

        const xcb_window_t intruder = other.mapWindow(overrideRedirect);
        QVERIFY(other.stacking().contains(intruder));
        QTRY_VERIFY(raised.size() >= 1);
        QTRY_VERIFY(topLockWindow(other.stacking(), lock) > other.stacking().indexOf(intruder));
        // Raised above the lock again (a restack, no new map): covered again, and said once a second at most.
        const qsizetype before = raised.size();
        for (int i = 0; i < 5; ++i) {
            other.raise(intruder);
            QTRY_VERIFY(topLockWindow(other.stacking(), lock) > other.stacking().indexOf(intruder));
        }
        QVERIFY2(raised.size() <= before + 1, qPrintable(QString::number(raised.size() - before)));
        const qsizetype burst = raised.size();
        QTest::qWait(1100);
        other.raise(intruder);
        QTRY_VERIFY(topLockWindow(other.stacking(), lock) > other.stacking().indexOf(intruder));
        QTRY_COMPARE(raised.size(), burst + 1);
        QVERIFY2(raised.last().first().toString().contains(QLatin1String("more time(s) since the last")),
            qPrintable(raised.last().first().toString()));
        QCOMPARE(lock.grabState(), GrabState::Held);
        QCOMPARE(other.grabKeyboard(), int(XCB_GRAB_STATUS_ALREADY_GRABBED));
        QCOMPARE(other.grabPointer(), int(XCB_GRAB_STATUS_ALREADY_GRABBED));
        QCOMPARE(held.size(), 1);

        xcb_destroy_window(other.connection(), intruder);
        xcb_flush(other.connection());
        QVERIFY(lock.unlock(validatedFor(QStringLiteral("alice"), QStringLiteral("s-1"))));
    }

    // The OS lock is asked to lock the session: its locker gets the grabs; afterwards the lock takes them again.
    void theGrabsAreLetGoForTheOsLock()
    {
        OtherClient other;
        QVERIFY(other.ok());
        ui::LockScreen lock;
        QSignalSpy held(&lock, &ui::LockScreen::grabbed);
        QSignalSpy raised(&lock, &ui::LockScreen::raisedAgain);
        lock.lock(info());
        QTRY_COMPARE(held.size(), 1);
        lock.suspendGrabs();
        QCOMPARE(lock.grabState(), GrabState::Suspended);
        QCOMPARE(other.grabKeyboard(), int(XCB_GRAB_STATUS_SUCCESS));
        QCOMPARE(other.grabPointer(), int(XCB_GRAB_STATUS_SUCCESS));
        // The locker's window above the lock stays there; showing the lock again does not grab.
        const xcb_window_t locker = other.mapWindow(true);
        lock.lock(info());
        QTest::qWait(300);
        QCOMPARE(raised.size(), 0);
        QVERIFY(topLockWindow(other.stacking(), lock) < other.stacking().indexOf(locker));
        xcb_destroy_window(other.connection(), locker);
        other.ungrab();
        lock.resumeGrabs();
        QTRY_COMPARE(held.size(), 2);
        QCOMPARE(lock.grabState(), GrabState::Held);
        QCOMPARE(other.grabKeyboard(), int(XCB_GRAB_STATUS_ALREADY_GRABBED));
        QVERIFY(lock.unlock(validatedFor(QStringLiteral("alice"), QStringLiteral("s-1"))));
    }

    // Another client unmaps the lock window (as a window manager leaving a workspace would): X ends the grab, the
    // lock maps its window again and grabs again.
    void anUnmappedLockWindowComesBack()
    {
        OtherClient other;
        QVERIFY(other.ok());
        ui::LockScreen lock;
        QSignalSpy held(&lock, &ui::LockScreen::grabbed);
        QSignalSpy raised(&lock, &ui::LockScreen::raisedAgain);
        lock.lock(info());
        QTRY_COMPARE(held.size(), 1);
        const auto window = xcb_window_t(lock.primaryWindow()->winId());
        QCOMPARE(other.mapState(window), int(XCB_MAP_STATE_VIEWABLE));
        other.unmap(window);
        QTRY_VERIFY(raised.size() >= 1);
        QTRY_COMPARE(other.mapState(window), int(XCB_MAP_STATE_VIEWABLE));
        // Held again only once the server granted both again.
        QTRY_COMPARE(held.size(), 2);
        QCOMPARE(lock.grabState(), GrabState::Held);
        QCOMPARE(other.grabKeyboard(), int(XCB_GRAB_STATUS_ALREADY_GRABBED));
        QCOMPARE(other.grabPointer(), int(XCB_GRAB_STATUS_ALREADY_GRABBED));
        QVERIFY(lock.unlock(validatedFor(QStringLiteral("alice"), QStringLiteral("s-1"))));
    }
};

QTEST_MAIN(TestX11Lock)
#include "tst_x11lock.moc"

// The lock screen's hold on an X11 session: keyboard and pointer grabs, every workspace, staying on top.
#pragma once

#include <QAbstractNativeEventFilter>
#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QTimer>
#include <QWidget>

#include <functional>

namespace hotdesk::ui {

// Holds the keyboard and the pointer for the lock windows, over Qt's own X
// connection, and keeps them on top:
// - start() grabs both (xcb_grab_keyboard, xcb_grab_pointer on the first lock
//   window, owner_events on so the lock windows get their input as usual) and
//   checks the server's answer. Another client's grab (a menu, a drag, a
//   screen locker) or a window not yet shown makes it try again every
//   retryInterval, up to `attempts` times; then failed() says why and any grab
//   it got is let go, so that the OS lock can take its own. held() comes only
//   once the server granted both (and again after grabs lost to an unmap).
// - It follows the root window's children (SubstructureNotify): a window that
//   maps or is raised above the lock windows makes it raise them again and
//   grab again (raisedAgain(), at most once a second); a lock window that another client unmapped
//   (which ends the grab) is mapped and grabbed again.
// - makeSticky() puts a lock window on every workspace (EWMH
//   _NET_WM_STATE_STICKY, _NET_WM_DESKTOP 0xFFFFFFFF) and above the others.
// create() gives nullptr where Qt does not run on X11 (Wayland, offscreen):
// there no client can hold the session, and hotdeskd uses the OS lock.
class X11LockGuard final : public QObject, public QAbstractNativeEventFilter {
    Q_OBJECT
public:
    // The lock windows; the first one takes the grabs.
    using WindowList = std::function<QList<QWidget *>()>;

    static X11LockGuard *create(WindowList windows, QObject *parent);
    ~X11LockGuard() override;

    void setRetries(int attempts, int intervalMs);
    void start();
    // Lets the grabs go and stops following other windows.
    void stop();
    bool isHeld() const { return m_held; }
    bool isActive() const { return m_active; }
    // Call when the lock windows changed (a screen came or went): grabs again
    // on the (new) first window.
    void windowsChanged();

    // Sets the EWMH hints on a window's native window: before it is shown as
    // properties, once it is shown also as requests to the window manager.
    static void makeSticky(QWidget *window);

    bool nativeEventFilter(const QByteArray &eventType, void *message, qintptr *result) override;

Q_SIGNALS:
    void held();
    void failed(const QString &why);
    void raisedAgain(const QString &why);

private:
    X11LockGuard(WindowList windows, QObject *parent);
    void attempt();
    // One grab of both; empty when the server granted both, else why not.
    QString grabOnce();
    void ungrab();
    void followRoot(bool follow);
    bool isLockWindow(quint32 window) const;
    // The root's children that hold the lock windows: the windows themselves, or a window manager's frames.
    QSet<quint32> lockTopLevels() const;
    // Maps the lock windows that another client unmapped; whether there was one.
    bool mapLockWindows();
    // A viewable window that is not a lock window, stacked above the highest lock window.
    bool somethingAbove();
    void reassert(const QString &why);

    WindowList m_windows;
    QTimer m_retry;
    QTimer m_check;
    QString m_checkWhy;
    int m_attempts = 20;
    int m_intervalMs = 100;
    int m_attemptsLeft = 0;
    bool m_active = false;
    bool m_held = false;
    bool m_addedRootMask = false;
    quint32 m_root = 0;
    QElapsedTimer m_lastRaisedSaid;
    int m_raisedUnsaid = 0;
};

} // namespace hotdesk::ui

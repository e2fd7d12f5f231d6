// X11LockGuard: keyboard and pointer grabs for the lock windows, EWMH hints, re-raising over other windows.
#include "x11lockguard.h"

#include "x11connection.h"

#include <QGuiApplication>
#include <QLoggingCategory>
#include <QWindow>

#include <xcb/xcb.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace hotdesk::ui {

namespace {

Q_LOGGING_CATEGORY(lcLockGuard, "hotdesk.lockguard")

using x11::qtConnection;
using x11::ReplyPtr;

xcb_atom_t atom(xcb_connection_t *connection, const char *name)
{
    ReplyPtr<xcb_intern_atom_reply_t> reply(
        xcb_intern_atom_reply(connection, xcb_intern_atom(connection, 0, quint16(std::strlen(name)), name), nullptr));
    return reply ? reply->atom : xcb_atom_t(XCB_ATOM_NONE);
}

QString grabStatusText(quint8 status)
{
    switch (status) {
    case XCB_GRAB_STATUS_ALREADY_GRABBED:
        return QStringLiteral("another program holds it");
    case XCB_GRAB_STATUS_FROZEN:
        return QStringLiteral("another program's grab froze it");
    case XCB_GRAB_STATUS_NOT_VIEWABLE:
        return QStringLiteral("the lock window is not shown");
    case XCB_GRAB_STATUS_INVALID_TIME:
        return QStringLiteral("the X server refused the grab's time");
    default:
        return QStringLiteral("X grab status %1").arg(status);
    }
}

// The EWMH client message that asks a running window manager for a change.
void askWindowManager(
    xcb_connection_t *connection, xcb_window_t root, xcb_window_t window, xcb_atom_t type, std::initializer_list<quint32> data)
{
    xcb_client_message_event_t event;
    std::memset(&event, 0, sizeof event);
    event.response_type = XCB_CLIENT_MESSAGE;
    event.format = 32;
    event.window = window;
    event.type = type;
    int i = 0;
    for (const quint32 value : data)
        event.data.data32[i++] = value;
    xcb_send_event(connection, 0, root, XCB_EVENT_MASK_SUBSTRUCTURE_NOTIFY | XCB_EVENT_MASK_SUBSTRUCTURE_REDIRECT,
        reinterpret_cast<const char *>(&event));
}

} // namespace

X11LockGuard *X11LockGuard::create(WindowList windows, QObject *parent)
{
    if (!qtConnection())
        return nullptr;
    return new X11LockGuard(std::move(windows), parent);
}

X11LockGuard::X11LockGuard(WindowList windows, QObject *parent)
    : QObject(parent)
    , m_windows(std::move(windows))
{
    xcb_connection_t *connection = qtConnection();
    m_root = xcb_setup_roots_iterator(xcb_get_setup(connection)).data->root;
    m_retry.setSingleShot(true);
    connect(&m_retry, &QTimer::timeout, this, &X11LockGuard::attempt);
    // Events come in bursts (a window maps, is configured, raised): one look after them.
    m_check.setInterval(0);
    m_check.setSingleShot(true);
    connect(&m_check, &QTimer::timeout, this, [this] {
        const QString why = m_checkWhy;
        m_checkWhy.clear();
        reassert(why);
    });
    qGuiApp->installNativeEventFilter(this);
}

X11LockGuard::~X11LockGuard()
{
    stop();
    if (qGuiApp)
        qGuiApp->removeNativeEventFilter(this);
}

void X11LockGuard::setRetries(int attempts, int intervalMs)
{
    m_attempts = std::max(1, attempts);
    m_intervalMs = std::max(0, intervalMs);
}

void X11LockGuard::start()
{
    if (m_active)
        return;
    m_active = true;
    m_held = false;
    followRoot(true);
    m_attemptsLeft = m_attempts;
    attempt();
}

void X11LockGuard::stop()
{
    if (!m_active)
        return;
    m_active = false;
    m_retry.stop();
    m_check.stop();
    ungrab();
    followRoot(false);
    m_held = false;
}

void X11LockGuard::windowsChanged()
{
    if (!m_active)
        return;
    // A new first window: the grab was on a window that may be gone.
    if (!m_retry.isActive())
        m_attemptsLeft = m_attempts;
    m_retry.start(0);
}

void X11LockGuard::attempt()
{
    if (!m_active)
        return;
    const QString why = grabOnce();
    if (why.isEmpty()) {
        const bool wasHeld = m_held;
        m_held = true;
        if (!wasHeld) {
            qCInfo(lcLockGuard, "the lock holds the keyboard and the pointer");
            Q_EMIT held();
        }
        return;
    }
    if (--m_attemptsLeft > 0) {
        qCDebug(lcLockGuard) << "grab refused, trying again:" << why;
        m_retry.start(m_intervalMs);
        return;
    }
    // Whatever was granted goes back: the OS lock must be able to grab.
    ungrab();
    followRoot(false);
    m_active = false;
    m_held = false;
    qCWarning(lcLockGuard) << "the lock could not grab the keyboard and the pointer:" << why;
    Q_EMIT failed(why);
}

QString X11LockGuard::grabOnce()
{
    xcb_connection_t *connection = qtConnection();
    const QList<QWidget *> windows = m_windows();
    QWidget *first = windows.isEmpty() ? nullptr : windows.constFirst();
    if (!connection)
        return QStringLiteral("the connection to the X server is gone");
    if (!first || !first->windowHandle() || !first->windowHandle()->isExposed())
        return QStringLiteral("the lock window is not shown yet");
    const auto window = xcb_window_t(first->winId());
    const auto keyboardCookie
        = xcb_grab_keyboard(connection, 1, window, XCB_CURRENT_TIME, XCB_GRAB_MODE_ASYNC, XCB_GRAB_MODE_ASYNC);
    const auto pointerCookie = xcb_grab_pointer(connection, 1, window,
        XCB_EVENT_MASK_BUTTON_PRESS | XCB_EVENT_MASK_BUTTON_RELEASE | XCB_EVENT_MASK_POINTER_MOTION | XCB_EVENT_MASK_ENTER_WINDOW
            | XCB_EVENT_MASK_LEAVE_WINDOW,
        XCB_GRAB_MODE_ASYNC, XCB_GRAB_MODE_ASYNC, XCB_NONE, XCB_NONE, XCB_CURRENT_TIME);
    ReplyPtr<xcb_grab_keyboard_reply_t> keyboard(xcb_grab_keyboard_reply(connection, keyboardCookie, nullptr));
    ReplyPtr<xcb_grab_pointer_reply_t> pointer(xcb_grab_pointer_reply(connection, pointerCookie, nullptr));
    QStringList problems;
    if (!keyboard)
        problems << QStringLiteral("keyboard: the X server did not answer");
    else if (keyboard->status != XCB_GRAB_STATUS_SUCCESS)
        problems << QStringLiteral("keyboard: ") + grabStatusText(keyboard->status);
    if (!pointer)
        problems << QStringLiteral("pointer: the X server did not answer");
    else if (pointer->status != XCB_GRAB_STATUS_SUCCESS)
        problems << QStringLiteral("pointer: ") + grabStatusText(pointer->status);
    return problems.join(QStringLiteral("; "));
}

void X11LockGuard::ungrab()
{
    if (xcb_connection_t *connection = qtConnection()) {
        xcb_ungrab_keyboard(connection, XCB_CURRENT_TIME);
        xcb_ungrab_pointer(connection, XCB_CURRENT_TIME);
        xcb_flush(connection);
    }
}

void X11LockGuard::followRoot(bool follow)
{
    xcb_connection_t *connection = qtConnection();
    if (!connection || follow == m_addedRootMask)
        return;
    // Qt selects its own events on the root window: ours are added to them, and taken away again.
    ReplyPtr<xcb_get_window_attributes_reply_t> attributes(
        xcb_get_window_attributes_reply(connection, xcb_get_window_attributes(connection, m_root), nullptr));
    if (!attributes)
        return;
    const quint32 mine = XCB_EVENT_MASK_SUBSTRUCTURE_NOTIFY;
    if (follow && (attributes->your_event_mask & mine))
        return; // already selected by Qt: nothing to add, nothing to take away later
    const quint32 mask = follow ? (attributes->your_event_mask | mine) : (attributes->your_event_mask & ~mine);
    xcb_change_window_attributes(connection, m_root, XCB_CW_EVENT_MASK, &mask);
    xcb_flush(connection);
    m_addedRootMask = follow;
}

bool X11LockGuard::isLockWindow(quint32 window) const
{
    const QList<QWidget *> windows = m_windows();
    for (QWidget *w : windows) {
        if (w->testAttribute(Qt::WA_WState_Created) && quint32(w->winId()) == window)
            return true;
    }
    return false;
}

bool X11LockGuard::mapLockWindows()
{
    xcb_connection_t *connection = qtConnection();
    bool mapped = false;
    const QList<QWidget *> windows = m_windows();
    for (QWidget *w : windows) {
        if (!w->testAttribute(Qt::WA_WState_Created) || !w->isVisible())
            continue;
        const auto id = xcb_window_t(w->winId());
        ReplyPtr<xcb_get_window_attributes_reply_t> attributes(
            xcb_get_window_attributes_reply(connection, xcb_get_window_attributes(connection, id), nullptr));
        if (attributes && attributes->map_state == XCB_MAP_STATE_UNMAPPED) {
            xcb_map_window(connection, id);
            mapped = true;
        }
    }
    return mapped;
}

QSet<quint32> X11LockGuard::lockTopLevels() const
{
    xcb_connection_t *connection = qtConnection();
    QSet<quint32> out;
    const QList<QWidget *> windows = m_windows();
    for (QWidget *w : windows) {
        if (!w->testAttribute(Qt::WA_WState_Created))
            continue;
        // A window manager puts each window into a frame of its own: the root's child is the frame.
        auto window = xcb_window_t(w->winId());
        for (int depth = 0; depth < 8; ++depth) {
            ReplyPtr<xcb_query_tree_reply_t> tree(xcb_query_tree_reply(connection, xcb_query_tree(connection, window), nullptr));
            if (!tree || tree->parent == m_root || tree->parent == XCB_NONE)
                break;
            window = tree->parent;
        }
        out.insert(window);
    }
    return out;
}

bool X11LockGuard::somethingAbove()
{
    xcb_connection_t *connection = qtConnection();
    if (!connection)
        return false;
    const QSet<quint32> mine = lockTopLevels();
    ReplyPtr<xcb_query_tree_reply_t> tree(xcb_query_tree_reply(connection, xcb_query_tree(connection, m_root), nullptr));
    if (!tree)
        return false;
    const xcb_window_t *children = xcb_query_tree_children(tree.get());
    // Bottom to top: look from the top down to the first lock window.
    for (int i = xcb_query_tree_children_length(tree.get()) - 1; i >= 0; --i) {
        if (mine.contains(children[i]))
            return false;
        ReplyPtr<xcb_get_window_attributes_reply_t> attributes(
            xcb_get_window_attributes_reply(connection, xcb_get_window_attributes(connection, children[i]), nullptr));
        if (attributes && attributes->map_state == XCB_MAP_STATE_VIEWABLE)
            return true;
    }
    return false;
}

void X11LockGuard::reassert(const QString &why)
{
    xcb_connection_t *connection = qtConnection();
    if (!m_active || !connection)
        return;
    const bool remapped = mapLockWindows();
    // Unmapping the grab window ended the grabs: not held until they are granted again.
    if (remapped)
        m_held = false;
    if (remapped || somethingAbove()) {
        const QList<QWidget *> windows = m_windows();
        // The first window last, so that it ends on top.
        for (qsizetype i = windows.size() - 1; i >= 0; --i) {
            if (!windows[i]->testAttribute(Qt::WA_WState_Created))
                continue;
            const quint32 above = XCB_STACK_MODE_ABOVE;
            xcb_configure_window(connection, xcb_window_t(windows[i]->winId()), XCB_CONFIG_WINDOW_STACK_MODE, &above);
        }
        xcb_flush(connection);
        // A program that raises itself over and over is covered every time, but said at most once a second.
        if (m_lastRaisedSaid.isValid() && m_lastRaisedSaid.elapsed() < 1000) {
            ++m_raisedUnsaid;
        } else {
            const QString said
                = m_raisedUnsaid == 0 ? why : QStringLiteral("%1; %2 more time(s) since the last").arg(why).arg(m_raisedUnsaid);
            m_raisedUnsaid = 0;
            m_lastRaisedSaid.start();
            qCInfo(lcLockGuard) << "lock windows raised again:" << said;
            Q_EMIT raisedAgain(said);
        }
    }
    // Grabbing again is harmless while the grab is held and takes it back when it was lost.
    if (!m_retry.isActive()) {
        m_attemptsLeft = m_attempts;
        attempt();
    }
}

bool X11LockGuard::nativeEventFilter(const QByteArray &eventType, void *message, qintptr *)
{
    if (!m_active || eventType != "xcb_generic_event_t")
        return false;
    const auto *event = static_cast<const xcb_generic_event_t *>(message);
    QString why;
    switch (event->response_type & 0x7f) {
    case XCB_MAP_NOTIFY: {
        const auto *map = reinterpret_cast<const xcb_map_notify_event_t *>(event);
        if (map->event == m_root && !isLockWindow(map->window))
            why = QStringLiteral("another window was mapped");
        else if (isLockWindow(map->window))
            why = QStringLiteral("a lock window was mapped again");
        break;
    }
    case XCB_UNMAP_NOTIFY: {
        // Another client unmapped a lock window (which ends a grab on it): it is mapped and grabbed again.
        const auto *unmap = reinterpret_cast<const xcb_unmap_notify_event_t *>(event);
        if (unmap->event == m_root && isLockWindow(unmap->window))
            why = QStringLiteral("a lock window was unmapped");
        break;
    }
    case XCB_CONFIGURE_NOTIFY: {
        const auto *configure = reinterpret_cast<const xcb_configure_notify_event_t *>(event);
        if (configure->event == m_root && !isLockWindow(configure->window))
            why = QStringLiteral("another window was restacked");
        break;
    }
    case XCB_CIRCULATE_NOTIFY: {
        const auto *circulate = reinterpret_cast<const xcb_circulate_notify_event_t *>(event);
        if (circulate->event == m_root && !isLockWindow(circulate->window))
            why = QStringLiteral("another window was raised");
        break;
    }
    default:
        break;
    }
    if (!why.isEmpty()) {
        if (m_checkWhy.isEmpty())
            m_checkWhy = why;
        m_check.start();
    }
    return false;
}

void X11LockGuard::makeSticky(QWidget *window)
{
    xcb_connection_t *connection = qtConnection();
    if (!connection || !window)
        return;
    const auto id = xcb_window_t(window->winId());
    const xcb_window_t root = xcb_setup_roots_iterator(xcb_get_setup(connection)).data->root;
    const xcb_atom_t state = atom(connection, "_NET_WM_STATE");
    const xcb_atom_t desktop = atom(connection, "_NET_WM_DESKTOP");
    const xcb_atom_t sticky = atom(connection, "_NET_WM_STATE_STICKY");
    const xcb_atom_t above = atom(connection, "_NET_WM_STATE_ABOVE");
    const xcb_atom_t fullscreen = atom(connection, "_NET_WM_STATE_FULLSCREEN");
    const quint32 allDesktops = 0xFFFFFFFF;
    xcb_change_property(connection, XCB_PROP_MODE_REPLACE, id, desktop, XCB_ATOM_CARDINAL, 32, 1, &allDesktops);
    if (!window->isVisible()) {
        // A window not yet mapped: its initial state, which Qt adds its own states to when it shows it.
        const xcb_atom_t states[] = {sticky, above, fullscreen};
        xcb_change_property(connection, XCB_PROP_MODE_APPEND, id, state, XCB_ATOM_ATOM, 32, 3, states);
    } else {
        // _NET_WM_STATE_ADD (1), from a normal application (1).
        askWindowManager(connection, root, id, state, {1, sticky, above, 1, 0});
        askWindowManager(connection, root, id, state, {1, fullscreen, 0, 1, 0});
        askWindowManager(connection, root, id, desktop, {allDesktops, 1, 0, 0, 0});
    }
    xcb_flush(connection);
}

} // namespace hotdesk::ui

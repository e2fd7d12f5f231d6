// X11IdleSource: the X server's idle time from the MIT-SCREEN-SAVER extension.
#include "x11idlesource.h"

#include "x11connection.h"

#include <QGuiApplication>

#include <xcb/screensaver.h>
#include <xcb/xcb.h>

#include <cstdlib>
#include <memory>

namespace hotdesk::ui {

namespace {

using x11::qtConnection;
using x11::ReplyPtr;

// Xwayland: the session says so, or (Xwayland 23.1 and later) the server does.
bool isXwayland(xcb_connection_t *connection)
{
    if (qEnvironmentVariable("XDG_SESSION_TYPE") == QLatin1String("wayland") || !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"))
        return true;
    static const char kName[] = "XWAYLAND";
    ReplyPtr<xcb_query_extension_reply_t> reply(
        xcb_query_extension_reply(connection, xcb_query_extension(connection, sizeof kName - 1, kName), nullptr));
    return reply && reply->present;
}

} // namespace

std::optional<Error> X11IdleSource::unusable()
{
    if (m_checked)
        return m_unusable;
    // The two answers that are not kept: the application may exist at the next
    // query, and a broken connection ends the application anyway.
    if (!qGuiApp) {
        return Error {ErrorCode::Unsupported,
            tr("The X server's idle time can be read only by a graphical application; this program has none.")};
    }
    xcb_connection_t *connection = qtConnection();
    if (connection && xcb_connection_has_error(connection))
        return Error {ErrorCode::Io, tr("The connection to the X server is broken, so its idle time cannot be read.")};

    m_checked = true;
    if (!connection) {
        m_unusable = Error {ErrorCode::Unsupported,
            tr("The X server's idle time can be read only when the agent runs on X11; it runs on the \"%1\" platform.")
                .arg(QGuiApplication::platformName())};
    } else if (isXwayland(connection)) {
        m_unusable = Error {ErrorCode::Unsupported,
            tr("This is a Wayland session: its X server (Xwayland) sees only the input of X11 programs, so its idle "
               "time is not used. The idle trigger needs a Wayland desktop that tells the idle time over D-Bus, such "
               "as GNOME or KDE Plasma.")};
    } else if (const xcb_query_extension_reply_t *ext = xcb_get_extension_data(connection, &xcb_screensaver_id);
               !ext || !ext->present) {
        m_unusable = Error {ErrorCode::Unsupported,
            tr("The X server does not offer the MIT-SCREEN-SAVER extension, so its idle time cannot be read.")};
    } else {
        m_root = xcb_setup_roots_iterator(xcb_get_setup(connection)).data->root;
    }
    return m_unusable;
}

void X11IdleSource::queryIdleTime(Callback done)
{
    if (auto why = unusable()) {
        done(tl::unexpected<Error>(std::move(*why)));
        return;
    }
    xcb_connection_t *connection = qtConnection();
    if (!connection) { // the application is gone (shutting down)
        done(fail(ErrorCode::Io, tr("The connection to the X server is broken, so its idle time cannot be read.")));
        return;
    }
    xcb_generic_error_t *error = nullptr;
    ReplyPtr<xcb_screensaver_query_info_reply_t> reply(
        xcb_screensaver_query_info_reply(connection, xcb_screensaver_query_info(connection, m_root), &error));
    ReplyPtr<xcb_generic_error_t> errorOwner(error);
    if (!reply) {
        done(fail(ErrorCode::Io,
            error ? tr("The X server refused to tell its idle time (X error %1).").arg(error->error_code)
                  : tr("The connection to the X server is broken, so its idle time cannot be read.")));
        return;
    }
    done(std::chrono::milliseconds(reply->ms_since_user_input));
}

} // namespace hotdesk::ui

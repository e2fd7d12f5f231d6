// IdleSource for plain X11 desktops and Xvfb: the X server's own idle time (MIT-SCREEN-SAVER), over Qt's X connection.
#pragma once

#include "core/platform/platform.h"

#include <QCoreApplication>

#include <optional>

namespace hotdesk::ui {

// Asks the X server for the time since the last keyboard or pointer input
// (xcb_screensaver_query_info's ms_since_user_input): what X11 desktops
// without a D-Bus idle service (Xfce without its screensaver, window managers
// alone, kiosk sessions, Xvfb) still have. It lives here, not in core, because
// it needs the X connection of a QGuiApplication on the xcb platform; core
// links no GUI library.
//
// ErrorCode::Unsupported when there is no such connection (Qt runs on Wayland
// or offscreen), under Xwayland (whose server sees only the input of X11
// programs, so a user typing into Wayland windows would look idle), and when
// the server lacks the extension. One synchronous round trip to the X server
// per query, answered inside the call, as Qt's own X requests are.
class X11IdleSource final : public platform::IdleSource {
    Q_DECLARE_TR_FUNCTIONS(hotdesk::ui::X11IdleSource)
public:
    void queryIdleTime(Callback done) override;
    QString name() const override { return QStringLiteral("x11"); }

private:
    // Looks once (the display does not change while the process runs) whether
    // this server can be asked; the reason when not.
    std::optional<Error> unusable();

    bool m_checked = false;
    std::optional<Error> m_unusable;
    quint32 m_root = 0; // any root window names the server; idle time is server-wide
};

} // namespace hotdesk::ui

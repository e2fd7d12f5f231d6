// desktopIdleSource(): the desktop's D-Bus services, then X11 when built with it, then logind.
#include "desktopidlesource.h"

#include "core/platform/fallbackidlesource.h"

#ifdef HOTDESK_WITH_X11_IDLE
#include "x11idlesource.h"
#endif

#include <vector>

namespace hotdesk::ui {

std::unique_ptr<platform::IdleSource> desktopIdleSource(platform::DBusIdleSource::Options dbus)
{
    std::vector<std::unique_ptr<platform::IdleSource>> sources;
#ifdef HOTDESK_WITH_X11_IDLE
    // The desktop's services first: Mutter answers on Wayland, where the X
    // server (Xwayland) would not know about input to Wayland windows. Then
    // the X server, and logind's IdleHint last: plain X11 desktops never set
    // it, and its "not idle" would hide the X server's real idle time (which
    // the agent's heartbeat gives hotdeskd).
    platform::DBusIdleSource::Options services = dbus;
    services.askLogind = false;
    sources.push_back(std::make_unique<platform::DBusIdleSource>(std::move(services)));
    sources.push_back(std::make_unique<X11IdleSource>());
#endif
    sources.push_back(std::make_unique<platform::DBusIdleSource>(std::move(dbus)));
    return std::make_unique<platform::FallbackIdleSource>(std::move(sources));
}

} // namespace hotdesk::ui

// desktopIdleSource(): D-Bus, then X11 when built with it.
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
    // D-Bus first: Mutter answers on Wayland, where the X server (Xwayland)
    // would not know about input to Wayland windows.
    sources.push_back(std::make_unique<platform::DBusIdleSource>(std::move(dbus)));
#ifdef HOTDESK_WITH_X11_IDLE
    sources.push_back(std::make_unique<X11IdleSource>());
#endif
    return std::make_unique<platform::FallbackIdleSource>(std::move(sources));
}

} // namespace hotdesk::ui

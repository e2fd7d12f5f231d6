// The idle time source the agent uses on this desktop: the desktop's D-Bus services first, the X server second, logind last.
#pragma once

#include "core/platform/linux/dbusidlesource.h"
#include "core/platform/platform.h"

#include <memory>

namespace hotdesk::ui {

// Linux: a FallbackIdleSource of DBusIdleSource (GNOME's Mutter, the
// freedesktop screensaver; works on Wayland too), when built with
// libxcb-screensaver X11IdleSource (plain X11 desktops without those
// services, Xvfb), and logind's IdleHint last (which plain X11 desktops do
// not set). The X11 part needs the QGuiApplication to exist by the first
// query. dbus chooses the buses (tests use a private one).
std::unique_ptr<platform::IdleSource> desktopIdleSource(platform::DBusIdleSource::Options dbus = {});

} // namespace hotdesk::ui

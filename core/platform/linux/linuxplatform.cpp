// createPlatform() on Linux: D-Bus for the session and idle time, /proc and inotify for the watchers.
#include "../platform.h"

#include "dbusidlesource.h"
#include "linuxdevicewatcher.h"
#include "linuxpathwatcher.h"
#include "linuxprocesswatcher.h"
#include "linuxsessionwatcher.h"

namespace hotdesk::platform {

Platform createPlatform()
{
    Platform platform;
    platform.session = std::make_unique<LinuxSessionWatcher>();
    platform.idle = std::make_unique<IdleMonitor>(std::make_unique<DBusIdleSource>());
    platform.processes = std::make_unique<LinuxProcessWatcher>();
    platform.paths = std::make_unique<LinuxPathWatcher>();
    platform.devices = std::make_unique<LinuxDeviceWatcher>();
    return platform;
}

} // namespace hotdesk::platform

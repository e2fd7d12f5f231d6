// The one place hotdeskd calls libsystemd.
#include "systemdnotify.h"

#include <systemd/sd-daemon.h>

#include <cstring>

namespace hotdesk::daemon {

void notifySystemd(const QString &state)
{
    const int result = ::sd_notify(0, state.toUtf8().constData());
    if (result < 0)
        qWarning("hotdeskd: cannot notify systemd (%s): %s", qPrintable(state.section(QLatin1Char('\n'), 0, 0)),
            std::strerror(-result));
}

} // namespace hotdesk::daemon

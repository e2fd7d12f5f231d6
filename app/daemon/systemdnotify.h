// Tells systemd (Type=notify) how the service is doing; nothing happens outside systemd.
#pragma once

#include <QString>

namespace hotdesk::daemon {

// sd_notify(3) with state lines such as "READY=1"; a no-op when NOTIFY_SOCKET is unset.
void notifySystemd(const QString &state);

} // namespace hotdesk::daemon

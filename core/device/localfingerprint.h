// What this PC can say about itself without a display: machine id, operating system, agent version.
#pragma once

#include "../das/fingerprint.h"
#include "../result.h"

namespace hotdesk::device {

// /etc/machine-id (or /var/lib/dbus/machine-id) on Linux; MachineGuid and
// IOPlatformUUID on the other platforms when those are built.
Result<QString> machineId();

// Name and version of the operating system: /etc/os-release NAME and
// VERSION_ID on Linux, QSysInfo elsewhere.
std::pair<QString, QString> operatingSystem();

// The fingerprint's display-independent part. The caller adds the screens
// (QScreen, a GUI matter) and the browser engine (when built with WebEngine).
Result<das::Fingerprint> baseFingerprint(const QString &agentVersion);

} // namespace hotdesk::device

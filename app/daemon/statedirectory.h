// The daemon's state directory: created private, and refused when anyone else could reach into it.
#pragma once

#include "core/result.h"

#include <QString>

namespace hotdesk::daemon {

// Creates the directory with mode 0700 when it is missing (its parents as
// needed), then requires a real directory (not a symbolic link) owned by this
// process's effective uid with no group or other permission bits. Anything
// else is an error naming the path, its owner and its mode: the daemon keeps
// enforcement state there, and a directory someone else can write is state
// someone else can change.
Status prepareStateDirectory(const QString &path);

} // namespace hotdesk::daemon

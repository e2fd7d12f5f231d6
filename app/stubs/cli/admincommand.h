// "hotdesk-stubs admin ...": administration of a running deployment.
#pragma once

#include <QStringList>

namespace hotdesk::stubs::cli {

// args: the arguments after "admin"; returns the exit code (0 done, 1 failed, 2 usage).
int runAdminCommand(const QStringList &args);

} // namespace hotdesk::stubs::cli

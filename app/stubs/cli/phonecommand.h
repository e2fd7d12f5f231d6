// "hotdesk-stubs phone ...": plays a user's phone against the push provider.
#pragma once

#include <QStringList>

namespace hotdesk::stubs::cli {

// args: the arguments after "phone"; returns the exit code (0 done, 1 failed, 2 usage).
int runPhoneCommand(const QStringList &args);

} // namespace hotdesk::stubs::cli

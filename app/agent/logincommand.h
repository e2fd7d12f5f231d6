// "hotdesk login": one complete re-authentication (DESIGN.md flow 1, with 2 and 4 as needed) from the command line.
#pragma once

#include <QStringList>

namespace hotdesk::cli {

enum class BrowserMode { Embedded, System, Print };

// args: the arguments after "login"; returns the exit code.
int runLogin(const QStringList &args);
// Which application object "login" needs: a GUI one for the embedded browser.
bool loginNeedsGui(const QStringList &args);

} // namespace hotdesk::cli

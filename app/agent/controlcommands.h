// "hotdesk status" and "hotdesk reauth": ask the running agent over its control socket.
#pragma once

#include <QStringList>

namespace hotdesk::cli {

// args: the arguments after "status" / "reauth"; returns the exit code.
int runStatus(const QStringList &args);
int runReauth(const QStringList &args);

} // namespace hotdesk::cli

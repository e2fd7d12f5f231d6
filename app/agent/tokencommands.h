// "hotdesk token verify" and "hotdesk jws verify".
#pragma once

#include <QStringList>

namespace hotdesk::cli {

// args: the arguments after "token verify" / "jws verify"; returns the exit code.
int runTokenVerify(const QStringList &args);
int runJwsVerify(const QStringList &args);

} // namespace hotdesk::cli

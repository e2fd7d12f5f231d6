// "hotdesk enroll": an administrator enrolls this PC with a DAS (DESIGN flow 3).
#pragma once

#include <QStringList>

namespace hotdesk::cli {

// args: the arguments after "enroll"; returns the exit code.
int runEnroll(const QStringList &args);

} // namespace hotdesk::cli

// "hotdesk policy check FILE": the administrator's check of a policy file before it is deployed.
#pragma once

#include <QStringList>

namespace hotdesk::cli {

// args: the arguments after "policy check". 0 and "FILE: valid" on stderr when
// the file is a valid policy; 2 and one "FILE:LINE:COL: message" line per
// problem on stdout (sorted by position), or "FILE: message" when it cannot be read.
int runPolicyCheck(const QStringList &args);

} // namespace hotdesk::cli

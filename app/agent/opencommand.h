// "hotdesk open URL": a resource the enterprise gateway guards, with a Hotdesk sign-in when it asks for one (DESIGN.md flow 5).
#pragma once

#include <QStringList>

namespace hotdesk::cli {

struct AgentEnvironment;

// args: the arguments after "open"; returns the exit code.
int runOpen(const QStringList &args, const AgentEnvironment &environment);

} // namespace hotdesk::cli

// "hotdesk doctor": is this PC able to re-authenticate under its policy?
#pragma once

#include <QStringList>

namespace hotdesk::cli {

struct AgentEnvironment;

// args: the arguments after "doctor"; 0 when every check passed, 1 with one line per problem on stdout.
int runDoctor(const QStringList &args, const AgentEnvironment &environment);

} // namespace hotdesk::cli

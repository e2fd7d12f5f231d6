// "hotdesk login": one complete re-authentication (DESIGN.md flow 1, with 2 and 4 as needed) from the command line.
#pragma once

#include <QStringList>

namespace hotdesk::cli {

struct AgentEnvironment;

// args: the arguments after "login"; returns the exit code.
int runLogin(const QStringList &args, const AgentEnvironment &environment);

// "hotdesk recovery-codes [--user U]": after a sign-in with the phone, a new
// set of one-time recovery codes for U, printed once, hashed in the keychain.
int runRecoveryCodes(const QStringList &args, const AgentEnvironment &environment);

} // namespace hotdesk::cli

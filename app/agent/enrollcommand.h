// "hotdesk enroll": an administrator enrolls this PC with a DAS (DESIGN flow 3).
#pragma once

#include "core/das/enroller.h"
#include "core/result.h"

#include <QStringList>

#include <functional>

namespace hotdesk::flow {
class AuthorizationFrontend;
}

namespace hotdesk::cli {

struct AgentEnvironment;

class AgentContext;

// args: the arguments after "enroll"; returns the exit code.
int runEnroll(const QStringList &args, const AgentEnvironment &environment);

// An administrator's secret as given on the command line: the value itself,
// or for "-" the first line of standard input (which keeps it out of the
// process list and the shell history) without surrounding whitespace.
Result<QByteArray> readAdminSecret(const QString &given);

// SignIn: secret is the ID token of an administrator's sign-in, signIn the DAS's id of it.
enum class EnrollSecret { AdminToken, Activation, SignIn };

// Flow 3 with the context's HTTP client, keychain and state: the device key
// goes to the keychain, the record to the state. Progress goes to stderr
// ("hotdesk: STEP"). done runs exactly once.
void enrollThisPc(AgentContext &context, const das::EnrollTarget &target, EnrollSecret kind, const QByteArray &secret,
    std::function<void(Result<store::EnrollmentRecord>)> done, const QString &signIn = {});

// Flow 3 with an administrator's own sign-in instead of a token: admin signs
// in through frontend at target's DAS (no device token; the PC is not
// enrolled), and that sign-in buys the activation. done runs exactly once.
void enrollByAdminSignIn(AgentContext &context, const das::EnrollTarget &target, flow::AuthorizationFrontend &frontend,
    const QString &admin, std::function<void(Result<store::EnrollmentRecord>)> done);

} // namespace hotdesk::cli

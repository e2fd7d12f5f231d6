// hotdesk login.
#include "logincommand.h"

#include "agentcontext.h"
#include "cli.h"
#include "daemonrecoverycodes.h"
#include "flowrunner.h"

#include "core/platform/platform.h"
#include "core/policy/policy.h"
#include "core/store/recoverycodestore.h"

#include <QCommandLineParser>
#include <QJsonDocument>

namespace hotdesk::cli {

namespace {

// What a command that signs someone in holds while it runs: the agent's
// context and the frontend that shows the identity provider's page.
struct SignInSetup {
    std::unique_ptr<AgentContext> context;
    std::unique_ptr<flow::AuthorizationFrontend> frontend;
};

Result<SignInSetup> prepareSignIn(
    const QString &policyFile, const QString &stateDir, const AgentEnvironment &environment, BrowserMode mode)
{
    auto context = AgentContext::create(policyFile, stateDir, environment);
    if (!context)
        return tl::unexpected(context.error());
    auto frontend = makeFrontend(mode, **context);
    if (!frontend)
        return tl::unexpected(frontend.error());
    return SignInSetup {std::move(*context), std::move(*frontend)};
}

} // namespace

int runLogin(const QStringList &args, const AgentEnvironment &environment)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Re-authenticates a user: the DAS signs an authorization request, the identity\n"
        "provider asks the user's phone, and the returned ID token is validated.\n"
        "On success the validated claims are printed as JSON on standard output."));
    parser.addHelpOption();
    const QCommandLineOption user(QStringLiteral("user"), QStringLiteral("The user who signs in (alice or alice@corp.example)."), QStringLiteral("U"));
    const QCommandLineOption browser(QStringLiteral("browser"),
        QStringLiteral("embedded (a window of Hotdesk, the default), system (the default browser and a loopback "
                       "redirect) or print (prints 'open: URL' and waits on the loopback redirect)."),
        QStringLiteral("MODE"), QStringLiteral("embedded"));
    const QCommandLineOption recognition(QStringLiteral("recognition"),
        QStringLiteral("When the DAS does not recognize this PC: approval (ask an administrator and wait, the "
                       "default), code (a one-time code is sent to the user, who types it here) or none (fail)."),
        QStringLiteral("HOW"), policy::unrecognizedDeviceOptionName(policy::UnrecognizedDevice::Approval));
    CommonOptions common;
    parser.addOptions({user, browser, recognition});
    common.addTo(parser);

    const QString command = QStringLiteral("login");
    if (auto done = parseCommandLine(parser, command, args))
        return *done;
    if (!parser.isSet(user) || parser.value(user).trimmed().isEmpty())
        return usageError(QStringLiteral("--user is required"), command);
    if (!parser.positionalArguments().isEmpty())
        return usageError(QStringLiteral("unexpected argument '%1'").arg(parser.positionalArguments().constFirst()), command);
    auto mode = browserMode(parser.value(browser));
    if (!mode)
        return usageError(mode.error().message, command);

    auto setup = prepareSignIn(common.policyFile(parser), common.stateDirectory(parser, environment), environment, *mode);
    if (!setup)
        return reject(setup.error());
    AgentContext &ctx = *setup->context;

    flow::FlowOptions options;
    options.user = parser.value(user);
    const auto how = policy::unrecognizedDeviceFromOptionName(parser.value(recognition));
    if (!how)
        return usageError(QStringLiteral("--recognition takes %1").arg(policy::unrecognizedDeviceOptionNames()), command);
    options.unrecognizedDevice = *how;

    return runUntilDone([&](std::function<void(int)> done) {
        runSignIn(ctx, *setup->frontend, options, [done](Result<flow::FlowResult> result) {
            if (!result) {
                done(reject(result.error()));
                return;
            }
            printOut(QJsonDocument(result->idToken.claims()).toJson(QJsonDocument::Indented));
            done(ExitOk);
        });
    });
}

int runRecoveryCodes(const QStringList &args, const AgentEnvironment &environment)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Makes a new set of one-time recovery codes for a user of this PC, after the user\n"
                       "has signed in with the phone. A recovery code unlocks the lock screen once, for\n"
                       "when the phone is lost; the policy must allow them (failure.recovery_codes).\n"
                       "The codes are printed once on standard output, one per line; only their\n"
                       "Argon2id hashes are kept, by hotdeskd (root only). A new set replaces the old one.\n"
                       "hotdeskd signs in the user of the desktop session (--session, else $XDG_SESSION_ID)."));
    parser.addHelpOption();
    const QCommandLineOption user(QStringLiteral("user"),
        QStringLiteral("The user, as the lock screen names them (default: the account running this command)."),
        QStringLiteral("U"));
    const QCommandLineOption browser(QStringLiteral("browser"),
        QStringLiteral("How the user signs in first: embedded (the default), system or print."), QStringLiteral("MODE"),
        QStringLiteral("embedded"));
    const QCommandLineOption session(QStringLiteral("session"),
        QStringLiteral("The desktop session whose user gets the codes (its logind id; default: $XDG_SESSION_ID)."),
        QStringLiteral("ID"));
    CommonOptions common;
    parser.addOptions({user, browser, session});
    common.addTo(parser);

    const QString command = QStringLiteral("recovery-codes");
    if (auto done = parseCommandLine(parser, command, args))
        return *done;
    if (!parser.positionalArguments().isEmpty())
        return usageError(QStringLiteral("unexpected argument '%1'").arg(parser.positionalArguments().constFirst()), command);
    auto mode = browserMode(parser.value(browser));
    if (!mode)
        return usageError(mode.error().message, command);
    if (recoveryCodesThroughDaemon()) {
        // The daemon keeps the hashes, out of the user's reach, and signs in the session's user itself.
        if (parser.isSet(user))
            printErr(QStringLiteral("hotdesk: --user is not used: hotdeskd makes the codes for the user of the session"));
        return runDaemonRecoveryCodes({parser.isSet(session) ? parser.value(session) : qEnvironmentVariable("XDG_SESSION_ID"),
            *mode, common.policyFile(parser), environment.screenshotFile});
    }
    const QString who = parser.isSet(user) ? parser.value(user).trimmed() : platform::loginName();
    if (who.isEmpty())
        return usageError(QStringLiteral("--user is required (the account name is not known)"), command);

    const QString policyFile = common.policyFile(parser);
    auto rules = policy::loadPolicy(policyFile);
    if (!rules)
        return reject(rules.error());
    if (!rules->failure.recoveryCodes.enabled)
        return reject(Error{ErrorCode::PolicyInvalid,
            QStringLiteral("the policy %1 does not allow recovery codes (failure.recovery_codes.enabled)").arg(policyFile)});
    auto setup = prepareSignIn(policyFile, common.stateDirectory(parser, environment), environment, *mode);
    if (!setup)
        return reject(setup.error());
    AgentContext &ctx = *setup->context;

    flow::FlowOptions options;
    options.user = who;
    options.unrecognizedDevice = policy::UnrecognizedDevice::Deny;
    const int count = rules->failure.recoveryCodes.count;
    store::RecoveryCodeStore codes(ctx.secrets(), ctx.random());
    return runUntilDone([&](std::function<void(int)> done) {
        // Proving who one is comes first: the codes are as good as the phone.
        runSignIn(ctx, *setup->frontend, options, [&, done](Result<flow::FlowResult> result) {
            if (!result) {
                done(reject(result.error()));
                return;
            }
            printErr(QStringLiteral("%1 signed in; making %2 recovery codes…").arg(result->user).arg(count));
            codes.generate(who, count, [who, done](Result<QStringList> made) {
                if (!made) {
                    done(reject(made.error()));
                    return;
                }
                printErr(QStringLiteral("Recovery codes for %1. Each unlocks this PC's lock screen once. Keep them "
                                        "somewhere safe, away from the phone; they are not shown again.").arg(who));
                printOut((made->join(QLatin1Char('\n')) + QLatin1Char('\n')).toUtf8());
                done(ExitOk);
            });
        });
    });
}

} // namespace hotdesk::cli

// hotdesk login.
#include "logincommand.h"

#include "agentcontext.h"
#include "cli.h"
#include "flowrunner.h"

#include <QCommandLineParser>
#include <QJsonDocument>

namespace hotdesk::cli {

int runLogin(const QStringList &args)
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
        QStringLiteral("HOW"), QStringLiteral("approval"));
    CommonOptions common;
    parser.addOptions({user, browser, recognition});
    common.addTo(parser);

    const QString command = QStringLiteral("login");
    if (!parser.parse(QStringList{QStringLiteral("hotdesk login")} + args))
        return usageError(parser.errorText(), command);
    if (parser.isSet(QStringLiteral("help"))) {
        printOut(parser.helpText().toUtf8());
        return ExitOk;
    }
    if (!parser.isSet(user) || parser.value(user).trimmed().isEmpty())
        return usageError(QStringLiteral("--user is required"), command);
    if (!parser.positionalArguments().isEmpty())
        return usageError(QStringLiteral("unexpected argument '%1'").arg(parser.positionalArguments().constFirst()), command);
    auto mode = browserMode(parser.value(browser));
    if (!mode)
        return usageError(mode.error().message, command);

    auto context = AgentContext::create(common.policyFile(parser), common.stateDirectory(parser));
    if (!context)
        return reject(context.error());
    AgentContext &ctx = **context;

    auto frontend = makeFrontend(*mode, ctx);
    if (!frontend)
        return reject(frontend.error());

    flow::FlowOptions options;
    options.user = parser.value(user);
    const QString how = parser.value(recognition);
    if (how == u"approval")
        options.recognition = flow::Recognition::Approval;
    else if (how == u"code")
        options.recognition = flow::Recognition::OneTimeCode;
    else if (how == u"none")
        options.recognition = flow::Recognition::None;
    else
        return usageError(QStringLiteral("--recognition takes approval, code or none"), command);

    return runUntilDone([&](std::function<void(int)> done) {
        runSignIn(ctx, **frontend, options, [done](Result<flow::FlowResult> result) {
            if (!result) {
                done(reject(result.error()));
                return;
            }
            printOut(QJsonDocument(result->idToken.claims).toJson(QJsonDocument::Indented));
            done(ExitOk);
        });
    });
}

} // namespace hotdesk::cli

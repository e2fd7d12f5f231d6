// hotdesk login.
#include "logincommand.h"

#include "agentcontext.h"
#include "cli.h"
#include "devicefingerprint.h"
#include "systembrowser.h"
#if HOTDESK_HAVE_WEBENGINE
#include "embeddedfrontend.h"
#endif

#include "core/flow/reauthflow.h"

#include <QCommandLineParser>
#include <QJsonDocument>

namespace hotdesk::cli {

namespace {

Result<BrowserMode> browserMode(const QString &name)
{
    if (name == u"embedded")
        return BrowserMode::Embedded;
    if (name == u"system")
        return BrowserMode::System;
    if (name == u"print")
        return BrowserMode::Print;
    return fail(ErrorCode::Unsupported, QStringLiteral("--browser takes embedded, system or print"));
}

} // namespace

bool loginNeedsGui(const QStringList &args)
{
    // The default is the embedded browser.
    const qsizetype i = args.indexOf(QStringLiteral("--browser"));
    const QString mode = i >= 0 ? args.value(i + 1) : QString();
    for (const QString &arg : args) {
        if (arg.startsWith(QLatin1String("--browser=")))
            return arg.mid(10) == u"embedded";
    }
    return i < 0 || mode == u"embedded";
}

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
    const QCommandLineOption noApproval(QStringLiteral("no-approval"),
        QStringLiteral("When the DAS does not recognize this PC, fail instead of asking an administrator."));
    CommonOptions common;
    parser.addOptions({user, browser, noApproval});
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

    std::unique_ptr<flow::AuthorizationFrontend> frontend;
    switch (*mode) {
    case BrowserMode::Print:
        frontend = std::make_unique<flow::LoopbackFrontend>([](const QUrl &url) -> Status {
            printOut("open: " + url.toEncoded() + '\n');
            return {};
        });
        break;
    case BrowserMode::System:
        frontend = std::make_unique<flow::LoopbackFrontend>([](const QUrl &url) -> Status {
            printErr(QStringLiteral("hotdesk: opening the sign-in page in your browser"));
            return openInSystemBrowser(url);
        });
        break;
    case BrowserMode::Embedded:
#if HOTDESK_HAVE_WEBENGINE
    {
        auto embedded = makeEmbeddedFrontend(ctx.http().trust(), ctx.servers().idpIssuer);
        if (!embedded)
            return reject(embedded.error());
        frontend = std::move(*embedded);
        break;
    }
#else
        return reject(Error{ErrorCode::Unsupported,
            QStringLiteral("this build has no embedded browser; use --browser system or --browser print")});
#endif
    }

    flow::FlowOptions options;
    options.user = parser.value(user);
    options.requestApproval = !parser.isSet(noApproval);

    return runUntilDone([&](std::function<void(int)> done) {
        ctx.loadCredential([&, done](Status loaded) {
            if (!loaded) {
                done(reject(loaded.error()));
                return;
            }
            auto *reauth = new flow::ReauthFlow(ctx.servers(), ctx.http(), *ctx.das(), ctx.provider(), ctx.state(),
                *frontend, localFingerprint, ctx.clock(), ctx.random(), &ctx);
            QObject::connect(reauth, &flow::ReauthFlow::progress, reauth,
                [](flow::Step, const QString &message) { printErr(QStringLiteral("hotdesk: %1").arg(message)); });
            QObject::connect(reauth, &flow::ReauthFlow::approvalRequested, reauth, [](const QString &id) {
                printErr(QStringLiteral("hotdesk: approval request %1 is waiting for an administrator").arg(id));
            });
            QObject::connect(reauth, &flow::ReauthFlow::failed, reauth, [done](const Error &error) { done(reject(error)); });
            QObject::connect(reauth, &flow::ReauthFlow::succeeded, reauth, [done](const flow::FlowResult &result) {
                printErr(QStringLiteral("hotdesk: %1 signed in; the ID token is valid").arg(result.user));
                printOut(QJsonDocument(result.idToken.claims).toJson(QJsonDocument::Indented));
                done(ExitOk);
            });
            reauth->start(options);
        });
    });
}

} // namespace hotdesk::cli

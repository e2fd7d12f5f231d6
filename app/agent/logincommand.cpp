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
#include <QTimer>

#include <cstdio>
#include <optional>

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

// One line typed by the user; nullopt at the end of input.
std::optional<QString> readLineFromStdin()
{
    char buffer[256];
    if (!std::fgets(buffer, sizeof buffer, stdin))
        return std::nullopt;
    return QString::fromLocal8Bit(buffer).trimmed();
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
            QObject::connect(reauth, &flow::ReauthFlow::oneTimeCodeNeeded, reauth,
                [reauth](int digits, qint64, int attemptsLeft) {
                    // Read after the signal returns, so the prompt never blocks inside the flow.
                    QTimer::singleShot(0, reauth, [reauth, digits, attemptsLeft] {
                        printErr(QStringLiteral("hotdesk: enter the %1-digit code (%2 attempt(s) left): ")
                                     .arg(digits)
                                     .arg(attemptsLeft));
                        const std::optional<QString> code = readLineFromStdin();
                        if (code)
                            reauth->provideOneTimeCode(*code);
                        else
                            reauth->cancel();
                    });
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

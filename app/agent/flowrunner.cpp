// The sign-in frontends and the flow run shared by the commands that sign a user in.
#include "flowrunner.h"

#include "agentcontext.h"
#include "core/das/dasclient.h"
#include "cli.h"
#include "devicefingerprint.h"
#include "systembrowser.h"
#if HOTDESK_HAVE_WEBENGINE
#include "embeddedfrontend.h"
#endif

#include <QTimer>

#include <cstdio>
#include <optional>

namespace hotdesk::cli {

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

bool browserNeedsGui(const QStringList &args)
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

Result<std::unique_ptr<flow::AuthorizationFrontend>> makeFrontend(BrowserMode mode, AgentContext &context)
{
    return makeFrontend(mode, context.http().trust(), context.servers().idpIssuer, context.environment().screenshotFile);
}

Result<std::unique_ptr<flow::AuthorizationFrontend>> makeFrontend(
    BrowserMode mode, const net::TlsTrust &trust, const QString &issuer, const QString &screenshotFile)
{
    switch (mode) {
    case BrowserMode::Print:
        return std::make_unique<flow::LoopbackFrontend>([](const QUrl &url) -> Status {
            printOut("open: " + url.toEncoded() + '\n');
            return {};
        });
    case BrowserMode::System:
        return std::make_unique<flow::LoopbackFrontend>([](const QUrl &url) -> Status {
            printErr(QStringLiteral("hotdesk: opening the sign-in page in your browser"));
            return openInSystemBrowser(url);
        });
    case BrowserMode::Embedded:
#if HOTDESK_HAVE_WEBENGINE
        return makeEmbeddedFrontend(trust, issuer, screenshotFile);
#else
        Q_UNUSED(trust);
        Q_UNUSED(issuer);
        Q_UNUSED(screenshotFile);
        return fail(ErrorCode::Unsupported,
            QStringLiteral("this build has no embedded browser; use --browser system or --browser print"));
#endif
    }
    return fail(ErrorCode::Unsupported, QStringLiteral("--browser takes embedded, system or print"));
}

namespace {

// One line typed by the user; nullopt at the end of input.
std::optional<QString> readLineFromStdin()
{
    char buffer[256];
    if (!std::fgets(buffer, sizeof buffer, stdin))
        return std::nullopt;
    return QString::fromLocal8Bit(buffer).trimmed();
}

void startFlow(AgentContext &ctx, das::DasClient &das, flow::AuthorizationFrontend &frontend,
    const flow::FlowOptions &options, std::function<void(Result<flow::FlowResult>)> done)
{
    auto *reauth = new flow::ReauthFlow(ctx.servers(), ctx.http(), das, ctx.provider(), ctx.state(), frontend,
        localFingerprint, ctx.clock(), ctx.random(), &ctx);
    QObject::connect(reauth, &flow::ReauthFlow::progress, reauth,
        [](flow::Step, const QString &message) { printErr(QStringLiteral("hotdesk: %1").arg(message)); });
    QObject::connect(reauth, &flow::ReauthFlow::approvalRequested, reauth, [](const QString &id) {
        printErr(QStringLiteral("hotdesk: approval request %1 is waiting for an administrator").arg(id));
    });
    QObject::connect(reauth, &flow::ReauthFlow::oneTimeCodeNeeded, reauth,
        [reauth](int digits, qint64, int attemptsLeft) {
            // Read after the signal returns, so the prompt never blocks inside the flow.
            QTimer::singleShot(0, reauth, [reauth, digits, attemptsLeft] {
                printErr(QStringLiteral("hotdesk: enter the %1-digit code (%2 attempt(s) left): ").arg(digits).arg(attemptsLeft));
                const std::optional<QString> code = readLineFromStdin();
                if (code)
                    reauth->provideOneTimeCode(*code);
                else
                    reauth->cancel();
            });
        });
    QObject::connect(reauth, &flow::ReauthFlow::failed, reauth, [done](const Error &error) { done(tl::unexpected(error)); });
    QObject::connect(reauth, &flow::ReauthFlow::succeeded, reauth, [done](const flow::FlowResult &result) {
        printErr(QStringLiteral("hotdesk: %1 signed in; the ID token is valid").arg(result.user));
        done(result);
    });
    reauth->start(options);
}

} // namespace

void runSignIn(AgentContext &context, flow::AuthorizationFrontend &frontend, const flow::FlowOptions &options,
    std::function<void(Result<flow::FlowResult>)> done)
{
    if (context.das()) {
        startFlow(context, *context.das(), frontend, options, std::move(done));
        return;
    }
    context.loadCredential([&context, &frontend, options, done = std::move(done)](Status loaded) {
        if (!loaded) {
            done(tl::unexpected(loaded.error()));
            return;
        }
        startFlow(context, *context.das(), frontend, options, done);
    });
}

void runAdminSignIn(AgentContext &context, das::DasClient &das, flow::AuthorizationFrontend &frontend,
    const QString &admin, std::function<void(Result<flow::FlowResult>)> done)
{
    flow::FlowOptions options;
    options.user = admin;
    options.unrecognizedDevice = policy::UnrecognizedDevice::Deny;
    options.administratorSignIn = true;
    startFlow(context, das, frontend, options, std::move(done));
}

} // namespace hotdesk::cli

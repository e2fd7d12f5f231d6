// hotdesk open: GET the resource; on the gateway's 401 with rel="install", activate this PC if needed, sign in, and GET again
// with the access token.
#include "opencommand.h"

#include "agentcontext.h"
#include "cli.h"
#include "enrollcommand.h"
#include "flowrunner.h"

#include "core/das/enroller.h"
#include "core/net/httpclient.h"
#include "core/net/linkheader.h"
#include "core/platform/platform.h"

#include <QCommandLineParser>
#include <QHostAddress>

#include <optional>

namespace hotdesk::cli {
namespace {

// The whole answer is held in memory before it goes to stdout.
constexpr qint64 kMaxResourceBytes = 16 * 1024 * 1024;

bool isLoopback(const QUrl &url)
{
    const QHostAddress address(url.host());
    return url.host() == u"localhost" || (!address.isNull() && address.isLoopback());
}

// An absolute https URL; http only on loopback, where nothing crosses a network.
Result<QUrl> resourceUrl(const QString &given)
{
    const QUrl url(given, QUrl::StrictMode);
    if (!url.isValid() || url.isRelative() || url.host().isEmpty())
        return fail(ErrorCode::Malformed, QStringLiteral("'%1' is not an absolute https URL").arg(given));
    if (url.scheme() == u"https" || (url.scheme() == u"http" && isLoopback(url)))
        return url;
    if (url.scheme() == u"http")
        return fail(
            ErrorCode::Unsupported, QStringLiteral("%1: plain http is allowed only on loopback; use https").arg(url.toString()));
    return fail(ErrorCode::Unsupported, QStringLiteral("%1: hotdesk open takes https URLs").arg(url.toString()));
}

QString shown(const QUrl &url)
{
    // Encoded: a server's Link target cannot put control characters on the terminal.
    return QString::fromLatin1(url.toEncoded(QUrl::RemoveUserInfo));
}

// Why an answer that is not a success ends the command: a refusal (401,
// 403), a redirect (never followed: the URL is what the user asked for), or
// something the server got wrong.
Error refusalOf(const net::HttpResponse &answer, bool sentToken)
{
    if (answer.status >= 300 && answer.status < 400) {
        const QByteArray location = answer.header("Location");
        const QString where
            = location.isEmpty() ? QStringLiteral("elsewhere") : shown(answer.url.resolved(QUrl::fromEncoded(location)));
        return Error {ErrorCode::Unsupported,
            QStringLiteral("%1, a redirect to %2; hotdesk open does not follow redirects: open that address instead")
                .arg(net::describeAnswer(answer), where)};
    }
    if (answer.status == 401 || answer.status == 403) {
        return Error {ErrorCode::AccessDenied,
            sentToken ? QStringLiteral("%1 even with the access token of this sign-in; ask the administrator of the "
                                       "resource whether this user may open it")
                            .arg(net::describeAnswer(answer))
                      : QStringLiteral("%1 and offers no Hotdesk sign-in; the resource needs another kind of access")
                            .arg(net::describeAnswer(answer))};
    }
    return Error {ErrorCode::ServerError,
        QStringLiteral("%1; check the address, or try again later if the server is failing").arg(net::describeAnswer(answer))};
}

// One "hotdesk open": the steps run one after another on the event loop.
class OpenRun {
public:
    OpenRun(AgentContext &context, QUrl url, BrowserMode mode, flow::FlowOptions options, std::optional<QByteArray> adminToken)
        : m_ctx(context)
        , m_url(std::move(url))
        , m_mode(mode)
        , m_options(std::move(options))
        , m_adminToken(std::move(adminToken))
    {
    }

    // done runs once, with the exit code.
    void start(std::function<void(int)> done)
    {
        m_done = std::move(done);
        fetch({}, [this](const net::HttpResponse &answer) {
            if (answer.isSuccess())
                return deliver(answer);
            const auto install = installLinkOf(answer);
            if (answer.status != 401 || !install)
                return m_done(reject(refusalOf(answer, false)));
            activate(*install);
        });
    }

private:
    static std::optional<QUrl> installLinkOf(const net::HttpResponse &answer)
    {
        for (const net::WebLink &link : net::linksOf(answer)) {
            if (link.hasRel(u"install"))
                return link.target;
        }
        return std::nullopt;
    }

    void fetch(const QByteArray &accessToken, std::function<void(const net::HttpResponse &)> next)
    {
        net::HttpRequest request = net::HttpRequest::get(m_url);
        request.maxResponseBytes = kMaxResourceBytes;
        if (!accessToken.isEmpty())
            request.withHeader("Authorization", "Bearer " + accessToken);
        m_ctx.http().send(request, [this, next = std::move(next)](Result<net::HttpResponse> answer) {
            if (!answer)
                return m_done(reject(answer.error()));
            next(*answer);
        });
    }

    void deliver(const net::HttpResponse &answer)
    {
        printOut(answer.body);
        m_done(ExitOk);
    }

    // The gateway offers Hotdesk; it is installed here, so what remains is to
    // activate this PC (when it is not yet) and to sign in.
    void activate(const QUrl &site)
    {
        m_site = shown(site);
        printErr(QStringLiteral("hotdesk: %1 is protected by Hotdesk: it opens after a two-factor sign-in").arg(shown(m_url)));
        printErr(QStringLiteral("hotdesk: the gateway offers to install Hotdesk from %1; Hotdesk is installed here, so "
                                "what remains is to activate this PC and sign %2 in")
                     .arg(m_site, m_options.user));
        // The access token would open every resource of the gateway: only one the administrator names may have it.
        if (!policy::isGatewayOrigin(m_ctx.servers(), m_url)) {
            return m_done(reject(Error {ErrorCode::Unsupported,
                QStringLiteral("the policy %1 does not list %2 among servers.gateways, so Hotdesk does not send it an "
                               "access token; ask the administrator to add the gateway to the policy")
                    .arg(m_ctx.policy().sourceFile,
                        shown(m_url.adjusted(QUrl::RemovePath | QUrl::RemoveQuery | QUrl::RemoveFragment)))}));
        }
        // Before enrolling: an activation is not spent on a PC that cannot show the sign-in page.
        auto frontend = makeFrontend(m_mode, m_ctx);
        if (!frontend)
            return m_done(reject(frontend.error()));
        m_frontend = std::move(*frontend);
        m_ctx.loadCredential([this](Status loaded) {
            if (loaded)
                return signIn();
            if (loaded.error().code != ErrorCode::NotEnrolled)
                return m_done(reject(loaded.error()));
            if (!m_adminToken) {
                return m_done(reject(Error {ErrorCode::NotEnrolled,
                    QStringLiteral("%1. To open %2 this PC must be activated first: an administrator runs 'hotdesk "
                                   "enroll', or 'hotdesk open' again with --admin-token TOKEN|-. The gateway's Hotdesk "
                                   "distribution site is %3")
                        .arg(loaded.error().message, shown(m_url), m_site)}));
            }
            enroll();
        });
    }

    void enroll()
    {
        auto target = das::enrollTargetFor(m_ctx.policy());
        if (!target)
            return m_done(reject(target.error()));
        printErr(QStringLiteral("hotdesk: this PC is not enrolled with %1; enrolling it with the administrator token")
                     .arg(das::DasClient::audienceOf(target->dasUrl)));
        enrollThisPc(m_ctx, *target, EnrollSecret::AdminToken, *m_adminToken, [this](Result<store::EnrollmentRecord> enrolled) {
            if (!enrolled)
                return m_done(reject(enrolled.error()));
            printErr(QStringLiteral("hotdesk: enrolled %1 with %2").arg(enrolled->deviceId, enrolled->dasUrl));
            m_ctx.loadCredential([this](Status loaded) {
                if (!loaded)
                    return m_done(reject(loaded.error()));
                signIn();
            });
        });
    }

    void signIn()
    {
        runSignIn(m_ctx, *m_frontend, m_options, [this](Result<flow::FlowResult> result) {
            if (!result)
                return m_done(reject(result.error()));
            printErr(QStringLiteral("hotdesk: opening %1 with the access token").arg(shown(m_url)));
            fetch(result->accessToken, [this](const net::HttpResponse &answer) {
                if (answer.isSuccess())
                    return deliver(answer);
                m_done(reject(refusalOf(answer, true)));
            });
        });
    }

    AgentContext &m_ctx;
    QUrl m_url;
    BrowserMode m_mode;
    flow::FlowOptions m_options;
    std::optional<QByteArray> m_adminToken;
    std::function<void(int)> m_done;
    QString m_site;
    std::unique_ptr<flow::AuthorizationFrontend> m_frontend;
};

} // namespace

int runOpen(const QStringList &args, const AgentEnvironment &environment)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Opens a resource of the enterprise gateway and prints it on standard output. When the gateway\n"
                       "asks for a Hotdesk sign-in (401 with a rel=\"install\" link), this PC is enrolled if it is not yet\n"
                       "(with --admin-token), the user signs in as 'hotdesk login' does, and the resource is fetched again\n"
                       "with the identity provider's access token."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("URL"), QStringLiteral("The resource (https; http only on loopback)."));
    const QCommandLineOption user(QStringLiteral("user"),
        QStringLiteral("The user who signs in (default: the name of the account running hotdesk)."), QStringLiteral("U"));
    const QCommandLineOption browser(QStringLiteral("browser"),
        QStringLiteral("embedded (a window of Hotdesk, the default), system (the default browser and a loopback "
                       "redirect) or print (prints 'open: URL' and waits on the loopback redirect)."),
        QStringLiteral("MODE"), QStringLiteral("embedded"));
    const QCommandLineOption adminToken(QStringLiteral("admin-token"),
        QStringLiteral("When this PC is not enrolled yet: an administrator token of the DAS to enroll it with, or - "
                       "for the first line of standard input."),
        QStringLiteral("TOKEN|-"));
    CommonOptions common;
    parser.addOptions({user, browser, adminToken});
    common.addTo(parser);

    const QString command = QStringLiteral("open");
    if (!parser.parse(QStringList {QStringLiteral("hotdesk open")} + args))
        return usageError(parser.errorText(), command);
    if (parser.isSet(QStringLiteral("help"))) {
        QString help = parser.helpText();
        // QCommandLineParser names the executable; the command is what people type.
        help.replace(0, help.indexOf(u'\n'), QStringLiteral("Usage: hotdesk open [options] URL"));
        printOut(help.toUtf8());
        return ExitOk;
    }
    const QStringList positional = parser.positionalArguments();
    if (positional.size() != 1)
        return usageError(positional.isEmpty() ? QStringLiteral("give the URL to open")
                                               : QStringLiteral("unexpected argument '%1'").arg(positional.value(1)),
            command);
    auto url = resourceUrl(positional.constFirst());
    if (!url)
        return usageError(url.error().message, command);
    auto mode = browserMode(parser.value(browser));
    if (!mode)
        return usageError(mode.error().message, command);
    const QString userName = parser.isSet(user) ? parser.value(user).trimmed() : platform::loginName();
    if (userName.isEmpty())
        return usageError(parser.isSet(user) ? QStringLiteral("--user is empty")
                                             : QStringLiteral("cannot tell this account's user name; give --user"),
            command);
    std::optional<QByteArray> token;
    if (parser.isSet(adminToken)) {
        auto secret = readAdminSecret(parser.value(adminToken));
        if (!secret)
            return reject(secret.error());
        if (secret->isEmpty())
            return usageError(QStringLiteral("the administrator token is empty"), command);
        token = *secret;
    }

    auto context = AgentContext::create(common.policyFile(parser), common.stateDirectory(parser, environment), environment);
    if (!context)
        return reject(context.error());

    flow::FlowOptions options;
    options.user = userName;
    // Declared after the context, so destroyed before it; the context's HTTP
    // client drops whatever callback into the run might still be pending.
    OpenRun run(**context, *url, *mode, options, token);
    return runUntilDone([&](std::function<void(int)> done) { run.start(std::move(done)); });
}

} // namespace hotdesk::cli

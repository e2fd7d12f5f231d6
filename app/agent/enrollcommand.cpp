// "hotdesk enroll": flow 3 from the command line, with the device key going to the OS keychain.
#include "enrollcommand.h"

#include "agentcontext.h"
#include "cli.h"
#include "core/das/dasclient.h"
#include "core/platform/platform.h"
#include "core/policy/serverpolicy.h"
#include "core/store/agentstate.h"
#include "core/store/secretstore.h"
#include "core/trustoverrides.h"
#include "flowrunner.h"

#include <QCommandLineParser>
#include <QFile>

#ifdef Q_OS_UNIX
#include "core/store/filesecretstore.h"

#include <unistd.h>
#endif

namespace hotdesk::cli {

Result<QByteArray> readAdminSecret(const QString &given)
{
    if (given != u"-")
        return given.toUtf8();
    QFile in;
    if (!in.open(stdin, QIODevice::ReadOnly))
        return fail(ErrorCode::Io, QStringLiteral("cannot read standard input"));
    return in.readLine(64 * 1024).trimmed();
}

void enrollThisPc(AgentContext &context, const das::EnrollTarget &target, EnrollSecret kind, const QByteArray &secret,
    std::function<void(Result<store::EnrollmentRecord>)> done, const QString &signIn)
{
    auto *enroller
        = new das::Enroller(context.http(), context.secrets(), context.state(), context.clock(), context.random(), &context);
    QObject::connect(enroller, &das::Enroller::progress, enroller,
        [](const QString &step) { printErr(QStringLiteral("hotdesk: %1").arg(step)); });
    auto finished = [enroller, done = std::move(done)](Result<store::EnrollmentRecord> result) {
        enroller->deleteLater();
        done(std::move(result));
    };
    switch (kind) {
    case EnrollSecret::Activation:
        enroller->enrollWithActivation(target, secret, finished);
        break;
    case EnrollSecret::SignIn:
        enroller->enrollWithSignIn(target, signIn, secret, finished);
        break;
    case EnrollSecret::AdminToken:
        enroller->enroll(target, secret, finished);
        break;
    }
}

void enrollByAdminSignIn(AgentContext &context, const das::EnrollTarget &target, flow::AuthorizationFrontend &frontend,
    const QString &admin, std::function<void(Result<store::EnrollmentRecord>)> done)
{
    // Not enrolled with this DAS yet (or about to be again), so no device token:
    // the one DAS enrolled with, asked plainly.
    auto *plainDas = new das::DasClient(
        context.http(), QList<QUrl> {target.dasUrl}, das::DeviceCredential {}, context.clock(), context.random(), &context);
    auto finished = [plainDas, done = std::move(done)](Result<store::EnrollmentRecord> result) {
        plainDas->deleteLater();
        done(std::move(result));
    };
    runAdminSignIn(context, *plainDas, frontend, admin, [&context, target, finished](Result<flow::FlowResult> signedIn) {
        if (!signedIn)
            return finished(tl::unexpected(signedIn.error()));
        enrollThisPc(context, target, EnrollSecret::SignIn, signedIn->rawIdToken, finished, signedIn->adminSignIn);
    });
}

namespace {

// The options of "hotdesk enroll".
struct EnrollOptions {
    QCommandLineOption policy {QStringLiteral("policy"),
        QStringLiteral("The policy file (default: %1). Honoured for root and in test builds only.")
            .arg(policy::defaultPolicyFile()),
        QStringLiteral("FILE")};
    QCommandLineOption das {QStringLiteral("das"),
        QStringLiteral("The DAS to enroll with (default: the policy's first DAS URL)."), QStringLiteral("URL")};
    QCommandLineOption token {QStringLiteral("admin-token"),
        QStringLiteral("An administrator token of the DAS, or - for the first line of standard input "
                       "(default: $HOTDESK_ADMIN_TOKEN)."),
        QStringLiteral("TOKEN|-")};
    QCommandLineOption activation {QStringLiteral("activation"),
        QStringLiteral("An activation the administrator obtained from the DAS, instead of a token; - for the first "
                       "line of standard input."),
        QStringLiteral("JWT|-")};
    QCommandLineOption device {QStringLiteral("device-id"),
        QStringLiteral("This PC's id at the DAS (default: the id of an earlier enrollment there, or the host name "
                       "with a random suffix)."),
        QStringLiteral("ID")};
    QCommandLineOption state {QStringLiteral("state-dir"),
        QStringLiteral("Where the agent keeps its state (default: $HOTDESK_STATE_DIR, or %1; honoured for root and in "
                       "test builds only). With --system: hotdeskd's state directory (default: /var/lib/hotdesk).")
            .arg(store::AgentState::defaultDirectory()),
        QStringLiteral("DIR")};
    QCommandLineOption system {QStringLiteral("system"),
        QStringLiteral("Enroll this PC for hotdeskd, the system service (needs root): the enrollment goes to its state "
                       "directory and the device key into a root-only file there, not into the OS keychain.")};
    QCommandLineOption admin {QStringLiteral("admin-user"),
        QStringLiteral("Without a token or an activation: the administrator who signs in at the identity provider and "
                       "approves on their phone (default: the user running this command)."),
        QStringLiteral("NAME")};
    QCommandLineOption browser {QStringLiteral("browser"),
        QStringLiteral("Where that sign-in happens: embedded (default), system or print."), QStringLiteral("MODE")};

    void addTo(QCommandLineParser &parser) const
    {
        parser.addOptions({policy, das, token, activation, admin, browser, device, state, system});
    }
};

// What the command line asks for, checked.
struct EnrollRequest {
    std::optional<QUrl> das;
    bool withActivation = false;
    // Neither a token nor an activation: the administrator signs in themselves.
    bool signIn = false;
    QByteArray secret; // the token or the activation, without signIn
    QString admin; // with signIn
    BrowserMode browser = BrowserMode::Embedded;
};

// A value, or the exit code of a command that is already done (a usage error, a rejection).
template <typename T> using OrExit = tl::expected<T, int>;

const QString kCommand = QStringLiteral("enroll");

// Parses the command line and prints --help: an exit code when the command is done.
std::optional<int> parseEnrollCommandLine(QCommandLineParser &parser, const EnrollOptions &options, const QStringList &args)
{
    parser.setApplicationDescription(
        QStringLiteral("Enrolls this PC with a Device Authentication Server: asks the DAS for an activation\n"
                       "with an administrator token, checks it against the activation keys the policy pins,\n"
                       "runs the SPAKE2 key exchange and registers a new device key, whose private half goes\n"
                       "to the OS keychain (with --system, as root: to hotdeskd's state directory, a file only\n"
                       "root can read). Prints 'enrolled DEVICE_ID with DAS_URL' on success.\n"
                       "Without a token or an activation, the administrator signs in at the identity provider\n"
                       "and approves on their phone; the DAS checks that they hold its admin role."));
    parser.addHelpOption();
    options.addTo(parser);
    if (!parser.parse(QStringList {QStringLiteral("hotdesk enroll")} + args))
        return usageError(parser.errorText(), kCommand);
    if (parser.isSet(QStringLiteral("help"))) {
        QString help = parser.helpText();
        // QCommandLineParser names the executable; the command is what people type.
        help.replace(0, help.indexOf(u'\n'), QStringLiteral("Usage: hotdesk enroll [options]"));
        printOut(help.toUtf8());
        return ExitOk;
    }
    if (!parser.positionalArguments().isEmpty())
        return usageError(QStringLiteral("enroll takes no arguments besides its options"), kCommand);
    if (parser.isSet(options.token) && parser.isSet(options.activation))
        return usageError(QStringLiteral("give --admin-token or --activation, not both"), kCommand);
    return std::nullopt;
}

OrExit<std::optional<QUrl>> dasUrl(const QCommandLineParser &parser, const EnrollOptions &options)
{
    if (!parser.isSet(options.das))
        return std::optional<QUrl>();
    const QUrl url(parser.value(options.das), QUrl::StrictMode);
    if (!url.isValid() || url.host().isEmpty() || (url.scheme() != u"https" && url.scheme() != u"http"))
        return tl::unexpected(usageError(QStringLiteral("--das takes the DAS's https URL"), kCommand));
    return std::optional<QUrl>(url);
}

// Which secret buys the activation: a token, an activation, or the administrator's own sign-in.
OrExit<EnrollRequest> readEnrollRequest(
    const QCommandLineParser &parser, const EnrollOptions &options, const AgentEnvironment &environment)
{
    EnrollRequest request;
    auto url = dasUrl(parser, options);
    if (!url)
        return tl::unexpected(url.error());
    request.das = *url;
    request.withActivation = parser.isSet(options.activation);
    const QString given = request.withActivation ? parser.value(options.activation)
        : parser.isSet(options.token)            ? parser.value(options.token)
                                                 : environment.adminToken;
    request.signIn = given.isEmpty() && !parser.isSet(options.token);
    if ((parser.isSet(options.admin) || parser.isSet(options.browser)) && !request.signIn)
        return tl::unexpected(usageError(
            QStringLiteral("--admin-user and --browser are for signing in; leave them out with a token or an activation"),
            kCommand));
    if (given.isEmpty() && parser.isSet(options.token))
        return tl::unexpected(usageError(QStringLiteral("the administrator token is empty"), kCommand));
    if (request.signIn) {
        request.admin = parser.isSet(options.admin) ? parser.value(options.admin).trimmed() : platform::loginName();
        if (request.admin.isEmpty())
            return tl::unexpected(
                usageError(QStringLiteral("name the administrator who signs in with --admin-user NAME"), kCommand));
        if (parser.isSet(options.browser)) {
            auto mode = browserMode(parser.value(options.browser));
            if (!mode)
                return tl::unexpected(usageError(mode.error().message, kCommand));
            request.browser = *mode;
        }
        return request;
    }
    auto secret = readAdminSecret(given);
    if (!secret)
        return tl::unexpected(reject(secret.error()));
    request.secret = *secret;
    if (request.secret.isEmpty())
        return tl::unexpected(usageError(request.withActivation ? QStringLiteral("the activation is empty")
                                                                : QStringLiteral("the administrator token is empty"),
            kCommand));
    return request;
}

// An empty --state-dir counts as none given.
QString stateDirectory(const QCommandLineParser &parser, const EnrollOptions &options, const AgentEnvironment &environment)
{
    const QString stateDir = overrideOption(parser, options.state).value_or(QString());
    return stateDir.isEmpty() ? environment.stateDir() : stateDir;
}

// With --system: hotdeskd's state directory, checked (and created) as the
// daemon would, after the caller proved to be root; the enrollment goes there
// and the device key into its secrets/, never into a keychain.
Result<QString> systemStateDirectory(const QCommandLineParser &parser, const EnrollOptions &options)
{
#ifdef Q_OS_UNIX
    const QString given = parser.value(options.state);
    const QString dir = given.isEmpty() ? QString::fromLatin1(store::kDaemonStateDirectory) : given;
    if (auto ok = store::preparePrivateDirectory(dir, QStringLiteral("state directory")); !ok)
        return tl::unexpected(ok.error());
    return dir;
#else
    Q_UNUSED(parser);
    Q_UNUSED(options);
    return fail(ErrorCode::Unsupported, QStringLiteral("hotdesk enroll --system is for hotdeskd, which runs on Linux"));
#endif
}

// hotdeskd's files belong to root: anyone else is refused before anything is read or sent.
Status checkRoot()
{
#ifdef Q_OS_UNIX
    if (::geteuid() == 0)
        return {};
#endif
    return fail(ErrorCode::AccessDenied,
        QStringLiteral("enrolling this PC needs root: run sudo hotdesk enroll --system with the same options"));
}

// Runs flow 3 as the request says and prints the enrollment.
int enroll(AgentContext &ctx, const das::EnrollTarget &target, const EnrollRequest &request)
{
    std::optional<store::EnrollmentRecord> enrolled;
    auto recorded = [&enrolled](std::function<void(int)> done) {
        return [&enrolled, done](Result<store::EnrollmentRecord> result) {
            if (!result) {
                done(reject(result.error()));
                return;
            }
            enrolled = *result;
            done(ExitOk);
        };
    };
    int exitCode = ExitOk;
    if (request.signIn) {
        auto frontend = makeFrontend(request.browser, ctx);
        if (!frontend)
            return reject(frontend.error());
        printErr(QStringLiteral("hotdesk: %1 signs in to enroll this PC; approve on your phone").arg(request.admin));
        exitCode = runUntilDone(
            [&](std::function<void(int)> done) { enrollByAdminSignIn(ctx, target, **frontend, request.admin, recorded(done)); });
    } else {
        exitCode = runUntilDone([&](std::function<void(int)> done) {
            enrollThisPc(ctx, target, request.withActivation ? EnrollSecret::Activation : EnrollSecret::AdminToken,
                request.secret, recorded(done));
        });
    }
    if (exitCode != ExitOk)
        return exitCode;
    printOut(QStringLiteral("enrolled %1 with %2\n").arg(enrolled->deviceId, enrolled->dasUrl).toUtf8());
    return ExitOk;
}

} // namespace

int runEnroll(const QStringList &args, const AgentEnvironment &environment)
{
    QCommandLineParser parser;
    const EnrollOptions options;
    if (auto done = parseEnrollCommandLine(parser, options, args))
        return *done;
    // A release build enrolls for hotdeskd only: no device key in a keychain the user can read.
    const bool system = enrollsForDaemon(parser.isSet(options.system), isTestBuild());
    if (auto root = system ? checkRoot() : Status(); !root)
        return reject(root.error());
    auto request = readEnrollRequest(parser, options, environment);
    if (!request)
        return request.error();
    auto stateDir
        = system ? systemStateDirectory(parser, options) : Result<QString>(stateDirectory(parser, options, environment));
    if (!stateDir)
        return reject(stateDir.error());
    const QString policyFile = overrideOption(parser, options.policy).value_or(policy::defaultPolicyFile());
    auto context = AgentContext::create(policyFile, *stateDir, environment);
    if (!context)
        return reject(context.error());
    AgentContext &ctx = **context;
#ifdef Q_OS_UNIX
    if (system)
        ctx.setSecretStore(std::make_unique<store::FileSecretStore>(store::daemonSecretDirectory(*stateDir)));
#endif
    auto target = das::enrollTargetFor(ctx.policy(), request->das);
    if (!target)
        return reject(target.error());
    target->deviceId = parser.value(options.device);
    if (!target->expectedDasUrl)
        printErr(QStringLiteral("hotdesk: note: %1 is not among the DAS URLs of %2; the agent will use this enrollment "
                                "only once the policy lists the DAS")
                     .arg(das::DasClient::audienceOf(target->dasUrl), ctx.policy().sourceFile));
    const int exitCode = enroll(ctx, *target, *request);
    if (exitCode == ExitOk && system)
        printErr(QStringLiteral("hotdesk: the device key is in %1, readable by root only: hotdeskd signs with it, and "
                                "neither the tray agent nor any reply or log ever holds it")
                     .arg(store::daemonSecretDirectory(*stateDir)));
    return exitCode;
}

} // namespace hotdesk::cli

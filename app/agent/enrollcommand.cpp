// "hotdesk enroll": flow 3 from the command line, with the device key going to the OS keychain.
#include "enrollcommand.h"

#include "agentcontext.h"
#include "cli.h"
#include "flowrunner.h"
#include "core/das/dasclient.h"
#include "core/policy/serverpolicy.h"
#include "core/store/agentstate.h"
#include "core/store/secretstore.h"

#include <QCommandLineParser>
#include <QFile>

namespace hotdesk::cli {

namespace {

// Who runs this command, as the OS knows them.
QString currentLoginName()
{
    QString name = qEnvironmentVariable("USER");
    if (name.isEmpty())
        name = qEnvironmentVariable("USERNAME"); // Windows
    return name.trimmed();
}

} // namespace

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

int runEnroll(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Enrolls this PC with a Device Authentication Server: asks the DAS for an activation\n"
                       "with an administrator token, checks it against the activation keys the policy pins,\n"
                       "runs the SPAKE2 key exchange and registers a new device key, whose private half goes\n"
                       "to the OS keychain. Prints 'enrolled DEVICE_ID with DAS_URL' on success.\n"
                       "Without a token or an activation, the administrator signs in at the identity provider\n"
                       "and approves on their phone; the DAS checks that they hold its admin role."));
    parser.addHelpOption();
    const QCommandLineOption policyOption(QStringLiteral("policy"),
        QStringLiteral("The policy file (default: %1).").arg(policy::defaultPolicyFile()), QStringLiteral("FILE"));
    const QCommandLineOption dasOption(QStringLiteral("das"),
        QStringLiteral("The DAS to enroll with (default: the policy's first DAS URL)."), QStringLiteral("URL"));
    const QCommandLineOption tokenOption(QStringLiteral("admin-token"),
        QStringLiteral("An administrator token of the DAS, or - for the first line of standard input "
                       "(default: $HOTDESK_ADMIN_TOKEN)."),
        QStringLiteral("TOKEN|-"));
    const QCommandLineOption activationOption(QStringLiteral("activation"),
        QStringLiteral("An activation the administrator obtained from the DAS, instead of a token; - for the first "
                       "line of standard input."),
        QStringLiteral("JWT|-"));
    const QCommandLineOption deviceOption(QStringLiteral("device-id"),
        QStringLiteral("This PC's id at the DAS (default: the id of an earlier enrollment there, or the host name "
                       "with a random suffix)."),
        QStringLiteral("ID"));
    const QCommandLineOption stateOption(QStringLiteral("state-dir"),
        QStringLiteral("Where the agent keeps its state (default: $HOTDESK_STATE_DIR, or %1).")
            .arg(store::AgentState::defaultDirectory()),
        QStringLiteral("DIR"));
    const QCommandLineOption adminOption(QStringLiteral("admin-user"),
        QStringLiteral("Without a token or an activation: the administrator who signs in at the identity provider and "
                       "approves on their phone (default: the user running this command)."),
        QStringLiteral("NAME"));
    const QCommandLineOption browserOption(QStringLiteral("browser"),
        QStringLiteral("Where that sign-in happens: embedded (default), system or print."), QStringLiteral("MODE"));
    parser.addOptions({policyOption, dasOption, tokenOption, activationOption, adminOption, browserOption, deviceOption,
        stateOption});

    const QString command = QStringLiteral("enroll");
    if (!parser.parse(QStringList {QStringLiteral("hotdesk enroll")} + args))
        return usageError(parser.errorText(), command);
    if (parser.isSet(QStringLiteral("help"))) {
        QString help = parser.helpText();
        // QCommandLineParser names the executable; the command is what people type.
        help.replace(0, help.indexOf(u'\n'), QStringLiteral("Usage: hotdesk enroll [options]"));
        printOut(help.toUtf8());
        return ExitOk;
    }
    if (!parser.positionalArguments().isEmpty())
        return usageError(QStringLiteral("enroll takes no arguments besides its options"), command);
    if (parser.isSet(tokenOption) && parser.isSet(activationOption))
        return usageError(QStringLiteral("give --admin-token or --activation, not both"), command);

    std::optional<QUrl> das;
    if (parser.isSet(dasOption)) {
        const QUrl url(parser.value(dasOption), QUrl::StrictMode);
        if (!url.isValid() || url.host().isEmpty() || (url.scheme() != u"https" && url.scheme() != u"http"))
            return usageError(QStringLiteral("--das takes the DAS's https URL"), command);
        das = url;
    }
    const bool withActivation = parser.isSet(activationOption);
    const QString given = withActivation ? parser.value(activationOption)
        : parser.isSet(tokenOption)      ? parser.value(tokenOption)
                                         : qEnvironmentVariable("HOTDESK_ADMIN_TOKEN");
    // Neither a token nor an activation: the administrator signs in themselves.
    const bool signIn = given.isEmpty() && !parser.isSet(tokenOption);
    if ((parser.isSet(adminOption) || parser.isSet(browserOption)) && !signIn)
        return usageError(
            QStringLiteral("--admin-user and --browser are for signing in; leave them out with a token or an activation"),
            command);
    if (given.isEmpty() && parser.isSet(tokenOption))
        return usageError(QStringLiteral("the administrator token is empty"), command);
    QByteArray secretInput;
    QString admin;
    BrowserMode browser = BrowserMode::Embedded;
    if (signIn) {
        admin = parser.isSet(adminOption) ? parser.value(adminOption).trimmed() : currentLoginName();
        if (admin.isEmpty())
            return usageError(QStringLiteral("name the administrator who signs in with --admin-user NAME"), command);
        if (parser.isSet(browserOption)) {
            auto mode = browserMode(parser.value(browserOption));
            if (!mode)
                return usageError(mode.error().message, command);
            browser = *mode;
        }
    } else {
        auto secret = readAdminSecret(given);
        if (!secret)
            return reject(secret.error());
        secretInput = *secret;
        if (secretInput.isEmpty())
            return usageError(
                withActivation ? QStringLiteral("the activation is empty") : QStringLiteral("the administrator token is empty"),
                command);
    }
    const QString policyFile = parser.isSet(policyOption) ? parser.value(policyOption) : policy::defaultPolicyFile();
    QString stateDir = parser.value(stateOption);
    if (stateDir.isEmpty())
        stateDir = qEnvironmentVariable("HOTDESK_STATE_DIR");
    if (stateDir.isEmpty())
        stateDir = store::AgentState::defaultDirectory();
    auto context = AgentContext::create(policyFile, stateDir);
    if (!context)
        return reject(context.error());
    AgentContext &ctx = **context;
    auto target = das::enrollTargetFor(ctx.policy(), das);
    if (!target)
        return reject(target.error());
    target->deviceId = parser.value(deviceOption);
    if (!target->expectedDasUrl)
        printErr(QStringLiteral("hotdesk: note: %1 is not among the DAS URLs of %2; the agent will use this enrollment "
                                "only once the policy lists the DAS")
                     .arg(das::DasClient::audienceOf(target->dasUrl), ctx.policy().sourceFile));

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
    if (signIn) {
        auto frontend = makeFrontend(browser, ctx);
        if (!frontend)
            return reject(frontend.error());
        printErr(QStringLiteral("hotdesk: %1 signs in to enroll this PC; approve on your phone").arg(admin));
        exitCode = runUntilDone([&](std::function<void(int)> done) {
            enrollByAdminSignIn(ctx, *target, **frontend, admin, recorded(done));
        });
    } else {
        exitCode = runUntilDone([&](std::function<void(int)> done) {
            enrollThisPc(ctx, *target, withActivation ? EnrollSecret::Activation : EnrollSecret::AdminToken, secretInput,
                recorded(done));
        });
    }
    if (exitCode != ExitOk)
        return exitCode;
    printOut(QStringLiteral("enrolled %1 with %2\n").arg(enrolled->deviceId, enrolled->dasUrl).toUtf8());
    return ExitOk;
}

} // namespace hotdesk::cli

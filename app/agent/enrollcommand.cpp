// "hotdesk enroll": flow 3 from the command line, with the device key going to the OS keychain.
#include "enrollcommand.h"

#include "agentcontext.h"
#include "cli.h"
#include "core/policy/serverpolicy.h"
#include "core/store/agentstate.h"
#include "core/store/secretstore.h"

#include <QCommandLineParser>
#include <QFile>

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
    std::function<void(Result<store::EnrollmentRecord>)> done)
{
    auto *enroller
        = new das::Enroller(context.http(), context.secrets(), context.state(), context.clock(), context.random(), &context);
    QObject::connect(enroller, &das::Enroller::progress, enroller,
        [](const QString &step) { printErr(QStringLiteral("hotdesk: %1").arg(step)); });
    auto finished = [enroller, done = std::move(done)](Result<store::EnrollmentRecord> result) {
        enroller->deleteLater();
        done(std::move(result));
    };
    if (kind == EnrollSecret::Activation)
        enroller->enrollWithActivation(target, secret, finished);
    else
        enroller->enroll(target, secret, finished);
}

int runEnroll(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Enrolls this PC with a Device Authentication Server: asks the DAS for an activation\n"
                       "with an administrator token, checks it against the activation keys the policy pins,\n"
                       "runs the SPAKE2 key exchange and registers a new device key, whose private half goes\n"
                       "to the OS keychain. Prints 'enrolled DEVICE_ID with DAS_URL' on success."));
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
    parser.addOptions({policyOption, dasOption, tokenOption, activationOption, deviceOption, stateOption});

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
    if (given.isEmpty())
        return usageError(
            QStringLiteral("give the administrator token with --admin-token TOKEN|- or $HOTDESK_ADMIN_TOKEN"), command);
    auto secret = readAdminSecret(given);
    if (!secret)
        return reject(secret.error());
    const QByteArray secretInput = *secret;
    if (secretInput.isEmpty())
        return usageError(
            withActivation ? QStringLiteral("the activation is empty") : QStringLiteral("the administrator token is empty"),
            command);

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
    const int exitCode = runUntilDone([&](std::function<void(int)> done) {
        enrollThisPc(ctx, *target, withActivation ? EnrollSecret::Activation : EnrollSecret::AdminToken, secretInput,
            [&enrolled, done](Result<store::EnrollmentRecord> result) {
                if (!result) {
                    done(reject(result.error()));
                    return;
                }
                enrolled = *result;
                done(ExitOk);
            });
    });
    if (exitCode != ExitOk)
        return exitCode;
    printOut(QStringLiteral("enrolled %1 with %2\n").arg(enrolled->deviceId, enrolled->dasUrl).toUtf8());
    return ExitOk;
}

} // namespace hotdesk::cli

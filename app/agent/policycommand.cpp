// hotdesk policy check: every problem of a policy file, in the format editors and CI logs understand.
#include "policycommand.h"

#include "cli.h"

#include "core/policy/policytrust.h"
#include "core/policy/policyvalidator.h"
#include "core/policy/serverpolicy.h"

#include <QCommandLineParser>
#include <QFile>
#include <QFileInfo>

#include <optional>

namespace hotdesk::cli {

namespace {

constexpr qint64 kMaxPolicyBytes = 1024 * 1024;

// The file's bytes, or why they cannot be had (without the file name: the caller prefixes it).
Result<QByteArray> readInput(const QString &file)
{
    QFile f;
    if (file == QLatin1String("-")) {
        if (!f.open(stdin, QIODevice::ReadOnly))
            return fail(ErrorCode::Io, QStringLiteral("cannot read standard input"));
    } else {
        f.setFileName(file);
        if (QFileInfo(file).isDir())
            return fail(ErrorCode::Io, QStringLiteral("is a folder; name the policy file in it"));
        if (!f.open(QIODevice::ReadOnly))
            return fail(ErrorCode::Io, QStringLiteral("cannot be read: %1").arg(f.errorString()));
    }
    QByteArray bytes = f.read(kMaxPolicyBytes + 1);
    if (bytes.size() > kMaxPolicyBytes)
        return fail(ErrorCode::TooLarge, QStringLiteral("is larger than 1 MiB; a policy is a small JSON document"));
    return bytes;
}

// The trust verdict (policytrust.h): whether the agent and hotdeskd would
// accept this file where they read the policy. When it is trusted, the bytes
// checked become the ones validated.
struct TrustVerdict {
    std::optional<bool> trusted; // nullopt: standard input, or the file could not be opened again
    QStringList lines; // for standard error
};

TrustVerdict checkTrust(const QString &file, QByteArray &bytes)
{
    if (file == QLatin1String("-"))
        return {};
    auto checked = policy::readTrustedPolicyFile(file, 0);
    if (checked) {
        bytes = *checked;
        return {true,
            {QStringLiteral("%1: trusted: owned by root, and neither it nor a folder above it can be changed by anyone else")
                    .arg(file)}};
    }
    if (checked.error().code != ErrorCode::PolicyUntrusted)
        return {std::nullopt, {QStringLiteral("%1: trust not checked: %2").arg(file, checked.error().message)}};
    return {false,
        {checked.error().message,
            QStringLiteral("%1: the agent and hotdeskd refuse an untrusted policy at %2")
                .arg(file, policy::defaultPolicyFile())}};
}

} // namespace

int runPolicyCheck(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Checks a policy file against the policy schema and the rules beyond it\n"
                       "(docs/policy.md). Prints FILE:LINE:COL: message for each problem and exits 2;\n"
                       "exits 0 when the file is a valid policy. Also says whether the file is trusted:\n"
                       "owned by root, and neither it nor a folder above it writable by anyone else."));
    const QCommandLineOption requireTrusted(QStringLiteral("require-trusted"),
        QStringLiteral("Exit 2 also when the file is not trusted (not root's, or writable by others; docs/policy.md), "
                       "as the agent and hotdeskd would refuse it at %1.")
            .arg(policy::defaultPolicyFile()));
    parser.addOption(requireTrusted);
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("The policy file, or - for standard input."));
    const QString command = QStringLiteral("policy check");
    if (auto done = parseCommandLine(parser, command, args))
        return *done;
    const QStringList files = parser.positionalArguments();
    if (files.size() != 1)
        return usageError(QStringLiteral("name one policy file"), command);
    const QString file = files.constFirst();
    const QString label = file == QLatin1String("-") ? QStringLiteral("<stdin>") : file;

    if (file == QLatin1String("-") && parser.isSet(requireTrusted))
        return usageError(QStringLiteral("--require-trusted needs a file; standard input has no owner to check"), command);

    auto bytes = readInput(file);
    if (!bytes) {
        printOut(QStringLiteral("%1: %2\n").arg(label, bytes.error().message).toUtf8());
        return ExitUsage;
    }
    const TrustVerdict trust = checkTrust(file, *bytes);
    const QList<policy::PolicyProblem> problems = policy::validatePolicy(*bytes);
    if (problems.isEmpty())
        printErr(QStringLiteral("%1: valid").arg(label));
    else
        printOut(policy::formatProblems(label, problems).toUtf8());
    for (const QString &line : trust.lines)
        printErr(line);
    if (!problems.isEmpty())
        return ExitUsage; // DESIGN.md: 2 for an invalid policy
    return parser.isSet(requireTrusted) && trust.trusted != true ? int(ExitUsage) : int(ExitOk);
}

} // namespace hotdesk::cli

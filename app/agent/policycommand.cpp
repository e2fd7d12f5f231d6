// hotdesk policy check: every problem of a policy file, in the format editors and CI logs understand.
#include "policycommand.h"

#include "cli.h"

#include "core/policy/policyvalidator.h"

#include <QCommandLineParser>
#include <QFile>
#include <QFileInfo>

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

} // namespace

int runPolicyCheck(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Checks a policy file against the policy schema and the rules beyond it\n"
                       "(docs/policy.md). Prints FILE:LINE:COL: message for each problem and exits 2;\n"
                       "exits 0 when the file is a valid policy."));
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

    auto bytes = readInput(file);
    if (!bytes) {
        printOut(QStringLiteral("%1: %2\n").arg(label, bytes.error().message).toUtf8());
        return ExitUsage;
    }
    const QList<policy::PolicyProblem> problems = policy::validatePolicy(*bytes);
    if (!problems.isEmpty()) {
        printOut(policy::formatProblems(label, problems).toUtf8());
        return ExitUsage; // DESIGN.md: 2 for an invalid policy
    }
    printErr(QStringLiteral("%1: valid").arg(label));
    return ExitOk;
}

} // namespace hotdesk::cli

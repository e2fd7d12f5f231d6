// Shared plumbing of the command-line commands: exit codes, output, reading inputs.
#pragma once

#include "core/result.h"

#include <QByteArray>
#include <QCommandLineParser>
#include <QString>
#include <QStringList>

#include <optional>

namespace hotdesk::cli {

// Stable exit codes (DESIGN.md): scripts rely on them.
enum Exit : int {
    ExitOk = 0,
    ExitRejected = 1,
    ExitUsage = 2,
};

void printOut(const QByteArray &bytes);
void printErr(const QString &line); // appends a newline

// The value of an option that overrides what the agent trusts (--policy,
// --state-dir): only where core/trustoverrides.h allows it; an option given
// but not honoured is reported on stderr and counts as not given.
std::optional<QString> overrideOption(const QCommandLineParser &parser, const QCommandLineOption &option);

// Prints "rejected: CODE" and the human explanation on stderr; returns ExitRejected.
int reject(const Error &error);
// Prints the problem and a hint to use --help on stderr; returns ExitUsage.
int usageError(const QString &problem, const QString &command);
// Parses "hotdesk COMMAND ARGS": an exit code when the command is done already
// (a usage error, or --help printed), std::nullopt when it goes on.
std::optional<int> parseCommandLine(QCommandLineParser &parser, const QString &command, const QStringList &args);

// Reads TOKEN or, for "-", all of standard input; surrounding whitespace is dropped.
Result<QByteArray> readTokenArgument(const QString &argument);

// Reads a local file, or fetches an https:// URL (http:// only on loopback)
// with a timeout; at most maxBytes.
Result<QByteArray> readFileOrUrl(const QString &location, qsizetype maxBytes, int timeoutMs = 10000);

} // namespace hotdesk::cli

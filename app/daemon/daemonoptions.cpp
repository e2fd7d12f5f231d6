// hotdeskd's options: --socket, --state-dir, --client-timeout, --policy, --agent-timeout, --pam-confdir,
// --agent-program, --dev-root, --version, --help.
#include "daemonoptions.h"

#include "core/trustoverrides.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <optional>

namespace hotdesk::daemon {
namespace {

// systemd may list several directories separated by colons; the unit names one.
QString systemdDirectory(const char *variable, const QString &fallback)
{
    const QString value = qEnvironmentVariable(variable);
    const QString first = value.section(QLatin1Char(':'), 0, 0);
    return first.isEmpty() ? fallback : first;
}

// Ends the command line with exit code 2 and message on stderr.
ParsedCommandLine usageError(const QString &message)
{
    ParsedCommandLine parsed;
    parsed.exit = true;
    parsed.exitCode = 2;
    parsed.output = message;
    return parsed;
}

// A positive number of milliseconds from option into *ms; false when the value is something else.
bool readMilliseconds(const QCommandLineParser &parser, const QCommandLineOption &option, int *ms)
{
    if (!parser.isSet(option))
        return true;
    bool ok = false;
    const int value = parser.value(option).toInt(&ok);
    if (!ok || value <= 0)
        return false;
    *ms = value;
    return true;
}

// Every option hotdeskd knows, with its help text.
struct OptionSet {
    QCommandLineOption help;
    QCommandLineOption version;
    QCommandLineOption socket;
    QCommandLineOption stateDir;
    QCommandLineOption clientTimeout;
    QCommandLineOption policy;
    QCommandLineOption agentTimeout;
    QCommandLineOption pamConfDir;
    QCommandLineOption agentProgram;
    QCommandLineOption devRoot;
};

// The daemon's own texts (QCoreApplication's translation context "hotdeskd").
QString translated(const char *text)
{
    return QCoreApplication::translate("hotdeskd", text);
}

OptionSet declareOptions()
{
    return OptionSet {
        QCommandLineOption({QStringLiteral("h"), QStringLiteral("help")}, translated("Show this help and exit.")),
        QCommandLineOption(QStringLiteral("version"), translated("Show the version and exit.")),
        QCommandLineOption(QStringLiteral("socket"),
            translated("The socket clients connect to (default: %1).")
                .arg(QStringLiteral("$RUNTIME_DIRECTORY/hotdeskd.sock, /run/hotdesk/hotdeskd.sock")),
            QStringLiteral("path")),
        QCommandLineOption(QStringLiteral("state-dir"),
            translated("Where the service keeps its state (default: %1); owned by this user, mode 0700.")
                .arg(QStringLiteral("$STATE_DIRECTORY, /var/lib/hotdesk")),
            QStringLiteral("dir")),
        QCommandLineOption(QStringLiteral("client-timeout"),
            translated("Close a connection that completes no request line within this time (default: %1).")
                .arg(kDefaultClientTimeoutMs),
            QStringLiteral("ms")),
        QCommandLineOption(QStringLiteral("policy"),
            translated("The policy file (default: %1); owned by root, writable by root only.")
                .arg(QStringLiteral("/etc/hotdesk/policy.json")),
            QStringLiteral("file")),
        QCommandLineOption(QStringLiteral("agent-timeout"),
            translated("An attached agent that sends nothing for this long is missing: the OS lock takes over (default: %1).")
                .arg(kDefaultAgentTimeoutMs),
            QStringLiteral("ms")),
        QCommandLineOption(QStringLiteral("pam-confdir"),
            translated("Test builds only: read the PAM service hotdesk-offline from this directory instead of /etc/pam.d."),
            QStringLiteral("dir")),
        QCommandLineOption(QStringLiteral("agent-program"),
            translated(
                "Test builds only: this program may attach as a session's agent instead of the installed hotdesk (repeatable)."),
            QStringLiteral("file")),
        QCommandLineOption(QStringLiteral("dev-root"),
            translated("Test builds only: look for cameras and microphones in this directory instead of /dev."),
            QStringLiteral("dir")),
    };
}

// --help, --version, or an argument that is no option: what to print instead of running; nullopt to run.
std::optional<ParsedCommandLine> printOnly(const QCommandLineParser &parser, const OptionSet &options)
{
    ParsedCommandLine parsed;
    parsed.exit = true;
    if (parser.isSet(options.help)) {
        parsed.output = parser.helpText();
        return parsed;
    }
    if (parser.isSet(options.version)) {
        parsed.output = QStringLiteral("hotdeskd " HOTDESK_VERSION "\n");
        return parsed;
    }
    if (!parser.positionalArguments().isEmpty())
        return usageError(
            translated("hotdeskd: unexpected argument %1; see hotdeskd --help\n").arg(parser.positionalArguments().constFirst()));
    return std::nullopt;
}

// The options a build for real PCs refuses; the error for the first one given, nullopt when none is.
std::optional<ParsedCommandLine> refuseTestOnlyOptions(const QCommandLineParser &parser, const OptionSet &options)
{
    if (isTestBuild())
        return std::nullopt;
    // Another PAM configuration decides whose password counts.
    if (parser.isSet(options.pamConfDir))
        return usageError(translated("hotdeskd: --pam-confdir is for test builds only; this one uses /etc/pam.d\n"));
    // Another program attached as the agent could hold the lock by showing nothing.
    if (parser.isSet(options.agentProgram))
        return usageError(
            translated("hotdeskd: --agent-program is for test builds only; only the installed hotdesk may attach\n"));
    // Stand-in device nodes would hide the real cameras and microphones.
    if (parser.isSet(options.devRoot))
        return usageError(translated("hotdeskd: --dev-root is for test builds only; this one watches /dev\n"));
    return std::nullopt;
}

// The files and directories, each given or its default (systemd's directories first).
void readPaths(const QCommandLineParser &parser, const OptionSet &options, DaemonOptions &into)
{
    into.socketPath = parser.isSet(options.socket)
        ? parser.value(options.socket)
        : systemdDirectory("RUNTIME_DIRECTORY", QStringLiteral("/run/hotdesk")) + QStringLiteral("/hotdeskd.sock");
    into.stateDir = parser.isSet(options.stateDir) ? parser.value(options.stateDir)
                                                   : systemdDirectory("STATE_DIRECTORY", QStringLiteral("/var/lib/hotdesk"));
    into.logsDir = systemdDirectory("LOGS_DIRECTORY", QStringLiteral("/var/log/hotdesk"));
    into.pamConfDir = parser.value(options.pamConfDir);
    into.agentPrograms = parser.values(options.agentProgram);
    if (parser.isSet(options.devRoot))
        into.devRoot = parser.value(options.devRoot);
    into.policyFile = parser.isSet(options.policy) ? parser.value(options.policy) : QStringLiteral("/etc/hotdesk/policy.json");
}

// The timeouts; the error for the first one that is not a positive number of milliseconds, nullopt when all are.
std::optional<ParsedCommandLine> readTimeouts(const QCommandLineParser &parser, const OptionSet &options, DaemonOptions &into)
{
    for (const auto &[option, ms] :
        {std::pair {&options.clientTimeout, &into.clientTimeoutMs}, std::pair {&options.agentTimeout, &into.agentTimeoutMs}})
        if (!readMilliseconds(parser, *option, ms))
            return usageError(translated("hotdeskd: --%1 takes a positive number of milliseconds, not %2\n")
                                  .arg(option->names().constFirst(), parser.value(*option)));
    // A heartbeat no sooner than --client-timeout would drop every agent.
    if (heartbeatMsFor(into.agentTimeoutMs) >= into.clientTimeoutMs)
        return usageError(translated("hotdeskd: --agent-timeout %1 asks agents for a heartbeat every %2 ms, but a connection "
                                     "silent for --client-timeout %3 ms is closed; lower the one or raise the other\n")
                              .arg(into.agentTimeoutMs)
                              .arg(heartbeatMsFor(into.agentTimeoutMs))
                              .arg(into.clientTimeoutMs));
    return std::nullopt;
}

} // namespace

ParsedCommandLine parseCommandLine(const QStringList &arguments)
{
    const OptionSet options = declareOptions();
    QCommandLineParser parser;
    parser.setApplicationDescription(translated("Hotdesk's system service; its clients are the tray agent and the PAM module."));
    parser.addOptions({options.help, options.version, options.socket, options.stateDir, options.clientTimeout, options.policy,
        options.agentTimeout, options.pamConfDir, options.agentProgram, options.devRoot});
    if (!parser.parse(arguments))
        return usageError(translated("hotdeskd: %1; see hotdeskd --help\n").arg(parser.errorText()));
    if (auto printed = printOnly(parser, options))
        return *printed;
    if (auto refused = refuseTestOnlyOptions(parser, options))
        return *refused;
    ParsedCommandLine parsed;
    readPaths(parser, options, parsed.options);
    if (auto invalid = readTimeouts(parser, options, parsed.options))
        return *invalid;
    return parsed;
}

} // namespace hotdesk::daemon

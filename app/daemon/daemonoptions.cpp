// hotdeskd's options: --socket, --state-dir, --client-timeout, --policy, --agent-timeout, --pam-confdir,
// --agent-program, --dev-root, --version, --help.
#include "daemonoptions.h"

#include "core/trustoverrides.h"

#include <QCommandLineParser>
#include <QCoreApplication>

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

} // namespace

ParsedCommandLine parseCommandLine(const QStringList &arguments)
{
    ParsedCommandLine parsed;
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QCoreApplication::translate("hotdeskd", "Hotdesk's system service; its clients are the tray agent and the PAM module."));
    const QCommandLineOption help(
        {QStringLiteral("h"), QStringLiteral("help")}, QCoreApplication::translate("hotdeskd", "Show this help and exit."));
    const QCommandLineOption version(
        QStringLiteral("version"), QCoreApplication::translate("hotdeskd", "Show the version and exit."));
    const QCommandLineOption socket(QStringLiteral("socket"),
        QCoreApplication::translate("hotdeskd", "The socket clients connect to (default: %1).")
            .arg(QStringLiteral("$RUNTIME_DIRECTORY/hotdeskd.sock, /run/hotdesk/hotdeskd.sock")),
        QStringLiteral("path"));
    const QCommandLineOption stateDir(QStringLiteral("state-dir"),
        QCoreApplication::translate("hotdeskd", "Where the service keeps its state (default: %1); owned by this user, mode 0700.")
            .arg(QStringLiteral("$STATE_DIRECTORY, /var/lib/hotdesk")),
        QStringLiteral("dir"));
    const QCommandLineOption clientTimeout(QStringLiteral("client-timeout"),
        QCoreApplication::translate(
            "hotdeskd", "Close a connection that completes no request line within this time (default: 10000)."),
        QStringLiteral("ms"));
    const QCommandLineOption policy(QStringLiteral("policy"),
        QCoreApplication::translate("hotdeskd", "The policy file (default: %1); owned by root, writable by root only.")
            .arg(QStringLiteral("/etc/hotdesk/policy.json")),
        QStringLiteral("file"));
    const QCommandLineOption agentTimeout(QStringLiteral("agent-timeout"),
        QCoreApplication::translate(
            "hotdeskd", "An attached agent that sends nothing for this long is missing: the OS lock takes over (default: 15000)."),
        QStringLiteral("ms"));
    const QCommandLineOption pamConfDir(QStringLiteral("pam-confdir"),
        QCoreApplication::translate(
            "hotdeskd", "Test builds only: read the PAM service hotdesk-offline from this directory instead of /etc/pam.d."),
        QStringLiteral("dir"));
    const QCommandLineOption agentProgram(QStringLiteral("agent-program"),
        QCoreApplication::translate("hotdeskd",
            "Test builds only: this program may attach as a session's agent instead of the installed hotdesk (repeatable)."),
        QStringLiteral("file"));
    const QCommandLineOption devRoot(QStringLiteral("dev-root"),
        QCoreApplication::translate(
            "hotdeskd", "Test builds only: look for cameras and microphones in this directory instead of /dev."),
        QStringLiteral("dir"));
    parser.addOptions({help, version, socket, stateDir, clientTimeout, policy, agentTimeout, pamConfDir, agentProgram, devRoot});

    if (!parser.parse(arguments))
        return usageError(QCoreApplication::translate("hotdeskd", "hotdeskd: %1; see hotdeskd --help\n").arg(parser.errorText()));
    if (parser.isSet(help)) {
        parsed.exit = true;
        parsed.output = parser.helpText();
        return parsed;
    }
    if (parser.isSet(version)) {
        parsed.exit = true;
        parsed.output = QStringLiteral("hotdeskd " HOTDESK_VERSION "\n");
        return parsed;
    }
    if (!parser.positionalArguments().isEmpty())
        return usageError(QCoreApplication::translate("hotdeskd", "hotdeskd: unexpected argument %1; see hotdeskd --help\n")
                              .arg(parser.positionalArguments().constFirst()));

    DaemonOptions &options = parsed.options;
    options.socketPath = parser.isSet(socket)
        ? parser.value(socket)
        : systemdDirectory("RUNTIME_DIRECTORY", QStringLiteral("/run/hotdesk")) + QStringLiteral("/hotdeskd.sock");
    options.stateDir = parser.isSet(stateDir) ? parser.value(stateDir)
                                              : systemdDirectory("STATE_DIRECTORY", QStringLiteral("/var/lib/hotdesk"));
    options.logsDir = systemdDirectory("LOGS_DIRECTORY", QStringLiteral("/var/log/hotdesk"));
    // Another PAM configuration decides whose password counts: never in a build for real PCs.
    if (parser.isSet(pamConfDir) && !isTestBuild())
        return usageError(QCoreApplication::translate(
            "hotdeskd", "hotdeskd: --pam-confdir is for test builds only; this one uses /etc/pam.d\n"));
    options.pamConfDir = parser.value(pamConfDir);
    // Another program attached as the agent could hold the lock by showing nothing: never in a build for real PCs.
    if (parser.isSet(agentProgram) && !isTestBuild())
        return usageError(QCoreApplication::translate(
            "hotdeskd", "hotdeskd: --agent-program is for test builds only; only the installed hotdesk may attach\n"));
    options.agentPrograms = parser.values(agentProgram);
    // Stand-in device nodes would hide the real cameras and microphones.
    if (parser.isSet(devRoot) && !isTestBuild())
        return usageError(
            QCoreApplication::translate("hotdeskd", "hotdeskd: --dev-root is for test builds only; this one watches /dev\n"));
    if (parser.isSet(devRoot))
        options.devRoot = parser.value(devRoot);
    options.policyFile = parser.isSet(policy) ? parser.value(policy) : QStringLiteral("/etc/hotdesk/policy.json");
    for (const auto &[option, into] :
        {std::pair {&clientTimeout, &options.clientTimeoutMs}, std::pair {&agentTimeout, &options.agentTimeoutMs}})
        if (!readMilliseconds(parser, *option, into))
            return usageError(
                QCoreApplication::translate("hotdeskd", "hotdeskd: --%1 takes a positive number of milliseconds, not %2\n")
                    .arg(option->names().constFirst(), parser.value(*option)));
    return parsed;
}

} // namespace hotdesk::daemon

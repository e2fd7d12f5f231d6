// hotdeskd's command line, with the directories systemd hands it as defaults.
#pragma once

#include "core/result.h"

#include <QString>
#include <QStringList>

#include <algorithm>

namespace hotdesk::daemon {

// An agent that sends nothing for --agent-timeout is missing; it is asked to heartbeat every third of it, so one
// late or lost heartbeat is not a missing agent. A connection silent for --client-timeout is closed.
constexpr int kDefaultAgentTimeoutMs = 9000;
constexpr int kDefaultClientTimeoutMs = 10000;
constexpr qint64 heartbeatMsFor(qint64 agentTimeoutMs)
{
    return std::max<qint64>(agentTimeoutMs / 3, 1);
}

struct DaemonOptions {
    QString socketPath;
    QString stateDir;
    QString logsDir; // $LOGS_DIRECTORY, else /var/log/hotdesk: the audit log's directory
    int clientTimeoutMs = kDefaultClientTimeoutMs;
    QString policyFile; // the administrator's policy
    int agentTimeoutMs = kDefaultAgentTimeoutMs;
    QString pamConfDir; // --pam-confdir (test builds only): PAM service files instead of /etc/pam.d
    QStringList agentPrograms; // --agent-program (test builds only): who may attach; empty: the installed agent
    QString devRoot = QStringLiteral("/dev"); // --dev-root (test builds only): the device nodes the watchers follow
};

// What parsing asks main() to do: run, or print text and exit with a code.
struct ParsedCommandLine {
    DaemonOptions options;
    bool exit = false;
    int exitCode = 0;
    QString output; // for stdout when exitCode is 0, else for stderr
};

// Defaults: $RUNTIME_DIRECTORY/hotdeskd.sock and $STATE_DIRECTORY when systemd
// sets them (RuntimeDirectory=, StateDirectory=), else /run/hotdesk/hotdeskd.sock
// and /var/lib/hotdesk; the policy: /etc/hotdesk/policy.json.
ParsedCommandLine parseCommandLine(const QStringList &arguments);

} // namespace hotdesk::daemon

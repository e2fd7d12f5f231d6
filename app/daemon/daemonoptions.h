// hotdeskd's command line, with the directories systemd hands it as defaults.
#pragma once

#include "core/result.h"

#include <QString>
#include <QStringList>

namespace hotdesk::daemon {

struct DaemonOptions {
    QString socketPath;
    QString stateDir;
    QString logsDir; // $LOGS_DIRECTORY, else /var/log/hotdesk: the audit log's directory
    int clientTimeoutMs = 10000;
    QString policyFile; // the administrator's policy
    int agentTimeoutMs = 9000; // an attached agent silent this long is missing; it heartbeats every third of it
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

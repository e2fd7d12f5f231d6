// Which program may attach as a session's agent: the installed tray agent, known by the file it runs, not by its name.
#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <sys/types.h>

namespace hotdesk::daemon {

// What attach learned about the program behind a connection.
struct AgentProgram {
    bool allowed = false;
    QString program; // what procRoot/PID/exe names; empty when it cannot be read
    QString why; // for people, when not allowed
};

// The program procRoot/PID/exe runs must be the very file (same device and
// inode) at one of the allowed paths, a regular file owned by root that
// neither group nor others may write. A name, a copy or a link the user made
// elsewhere is not it. pid 0 (unknown) is never allowed.
AgentProgram checkAgentProgram(pid_t pid, const QStringList &allowed, const QByteArray &procRoot = QByteArrayLiteral("/proc"));

// The installed tray agent: HOTDESK_AGENT_PROGRAM as the build configured it (the install prefix's bin/hotdesk).
QString installedAgentProgram();

} // namespace hotdesk::daemon

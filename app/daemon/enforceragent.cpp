// Who may attach as a session's agent: only the installed tray agent, so that no other program of the user holds the lock by
// showing nothing.
#include "agentprogram.h"
#include "daemonserver.h"
#include "enforcer.h"
#include "sessionguard.h"

#include <QFile>

namespace hotdesk::daemon {

std::optional<QJsonObject> Enforcer::refuseUnknownAgent(const Connection &connection, SessionGuard &guard)
{
    // Root could stop hotdeskd itself: checking its program would add nothing.
    if (connection.peer().uid == 0)
        return std::nullopt;
    const QStringList allowed
        = m_options.agentPrograms.isEmpty() ? QStringList {installedAgentProgram()} : m_options.agentPrograms;
    const AgentProgram program = checkAgentProgram(connection.peer().pid, allowed, QFile::encodeName(m_options.procRoot));
    if (program.allowed)
        return std::nullopt;
    guard.agentRefused({{QStringLiteral("uid"), double(connection.peer().uid)}, {QStringLiteral("pid"), connection.peer().pid},
        {QStringLiteral("program"), program.program}, {QStringLiteral("message"), program.why}});
    return errorReply(
        "forbidden", QStringLiteral("only the Hotdesk agent may attach to session %1: %2").arg(guard.session().id, program.why));
}

} // namespace hotdesk::daemon

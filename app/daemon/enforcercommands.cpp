// The socket commands of the enforcer: status, attach, heartbeat, reauth (docs/hotdeskd-protocol.md).
#include "daemonserver.h"
#include "enforcer.h"
#include "sessionguard.h"

#include "core/policy/policystore.h"

#include <QJsonArray>

#include <algorithm>
#include <cmath>

namespace hotdesk::daemon {
namespace {

QJsonObject forbiddenSession(const Connection &connection, const QString &id)
{
    return errorReply("forbidden",
        QStringLiteral("uid %1 may act for its own sessions only; session %2 is not one").arg(connection.peer().uid).arg(id));
}

} // namespace

void Enforcer::serve(DaemonServer &server)
{
    server.addCommand(QStringLiteral("status"),
        [this](Connection &connection, const QJsonObject &request) { return status(connection, request); });
    server.addCommand(QStringLiteral("attach"),
        [this](Connection &connection, const QJsonObject &request) { return attach(connection, request); });
    server.addCommand(QStringLiteral("heartbeat"),
        [this](Connection &connection, const QJsonObject &request) { return heartbeat(connection, request); });
    server.addCommand(QStringLiteral("reauth"),
        [this](Connection &connection, const QJsonObject &request) { return reauth(connection, request); });
    serveSignIn(server);
    serveOffline(server);
    servePam(server);
    serveRecovery(server);
    connect(&server, &DaemonServer::disconnected, this, &Enforcer::disconnected);
}

QJsonObject Enforcer::status(const Connection &asker, const QJsonObject &request) const
{
    uid_t uid = asker.peer().uid;
    if (request.contains(QLatin1String("uid")) && !readUid(request.value(QLatin1String("uid")), &uid))
        return errorReply("bad_request", QStringLiteral("\"uid\" must be a whole number from 0 to 4294967294"));
    // A user sees their own sessions only; root sees everyone's.
    if (asker.peer().uid != 0 && uid != asker.peer().uid)
        return errorReply("forbidden",
            QStringLiteral("uid %1 may ask about its own sessions only, not about uid %2")
                .arg(QString::number(asker.peer().uid), QString::number(uid)));
    QJsonArray sessions;
    bool locked = false;
    for (const auto &[id, guard] : m_guards) {
        if (guard->session().uid != uid)
            continue;
        sessions.append(guard->toJson());
        locked = locked || guard->lockRequired();
    }
    QString state = QStringLiteral("unknown");
    if (m_logindProblem.isEmpty())
        state = sessions.isEmpty() ? QStringLiteral("no_session")
            : locked               ? QStringLiteral("locked")
                                   : QStringLiteral("unlocked");
    QJsonObject reply {
        {QStringLiteral("uid"), double(uid)}, {QStringLiteral("state"), state}, {QStringLiteral("sessions"), sessions}};
    if (!m_logindProblem.isEmpty())
        reply.insert(QStringLiteral("problem"), m_logindProblem);
    if (!m_policy || !m_policy->hasPolicy())
        reply.insert(QStringLiteral("policy_problem"), m_policy ? m_policy->reason() : QStringLiteral("not read yet"));
    return okReply(reply);
}

std::variant<SessionGuard *, QJsonObject> Enforcer::sessionOf(const Connection &connection, const QJsonObject &request) const
{
    QString id = m_agents.value(&connection);
    const QJsonValue given = request.value(QLatin1String("session"));
    if (!given.isUndefined()) {
        if (!given.isString() || given.toString().isEmpty())
            return errorReply("bad_request", QStringLiteral("\"session\" must be a logind session id"));
        id = given.toString();
    }
    if (id.isEmpty())
        return errorReply("bad_request", QStringLiteral("name the session in \"session\" (its logind id, $XDG_SESSION_ID)"));
    SessionGuard *guard = guardFor(id);
    // An unknown session and another user's are told apart only for root.
    if (!guard)
        return connection.peer().uid == 0
            ? errorReply("no_such_session", QStringLiteral("hotdeskd follows no session %1").arg(id))
            : forbiddenSession(connection, id);
    if (connection.peer().uid != 0 && guard->session().uid != connection.peer().uid)
        return forbiddenSession(connection, id);
    return guard;
}

QJsonObject Enforcer::attach(Connection &connection, const QJsonObject &request)
{
    const auto found = sessionOf(connection, request);
    if (const auto *refusal = std::get_if<QJsonObject>(&found))
        return *refusal;
    SessionGuard *guard = std::get<SessionGuard *>(found);
    if (auto refused = refuseUnknownAgent(connection, *guard))
        return *refused;
    const QString id = guard->session().id;
    if (m_agents.value(&connection) == id)
        return errorReply("bad_request", QStringLiteral("this connection is already the agent of session %1").arg(id));
    for (auto it = m_agents.cbegin(); it != m_agents.cend(); ++it)
        if (it.value() == id)
            return errorReply("busy", QStringLiteral("session %1 already has an agent").arg(id));
    if (m_agents.contains(&connection))
        return errorReply("bad_request", QStringLiteral("this connection is already the agent of another session"));
    m_agents.insert(&connection, id);
    // The lock event (if one is due) goes out after this reply.
    guard->agentAttached();
    QJsonObject reply = guard->toJson();
    reply.insert(QStringLiteral("heartbeat_ms"), double(heartbeatMsFor(m_options.agentTimeout.count())));
    return okReply(reply);
}

QJsonObject Enforcer::heartbeat(Connection &connection, const QJsonObject &request)
{
    SessionGuard *guard = guardFor(m_agents.value(&connection));
    if (!guard)
        return errorReply("not_attached", QStringLiteral("only an attached agent sends heartbeats; send \"attach\" first"));
    // Without "idle_ms" the agent cannot tell (e.g. on Wayland): its presence counts, the idle time comes from logind.
    const QJsonValue idle = request.value(QLatin1String("idle_ms"));
    const double ms = idle.toDouble(-1);
    if (!idle.isUndefined() && (!idle.isDouble() || ms < 0 || ms > 1e12 || std::floor(ms) != ms))
        return errorReply("bad_request", QStringLiteral("\"idle_ms\" must be a whole number of milliseconds"));
    guard->agentHeartbeat(idle.isUndefined() ? std::nullopt : std::optional(std::chrono::milliseconds(qint64(ms))));
    return okReply({{QStringLiteral("lock"), guard->toJson().value(QLatin1String("lock"))}});
}

QJsonObject Enforcer::reauth(Connection &connection, const QJsonObject &request)
{
    const auto found = sessionOf(connection, request);
    if (const auto *refusal = std::get_if<QJsonObject>(&found))
        return *refusal;
    SessionGuard *guard = std::get<SessionGuard *>(found);
    guard->reauthRequested();
    return okReply(guard->toJson());
}

void Enforcer::disconnected(Connection *connection)
{
    signInClientGone(connection);
    pushClientGone(connection);
    const QString id = m_agents.take(connection);
    if (SessionGuard *guard = guardFor(id))
        guard->agentDetached(QStringLiteral("agent_disconnected"));
}

} // namespace hotdesk::daemon

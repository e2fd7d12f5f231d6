// The offline unlock: the policy's offline grace and the account password, checked through PAM (docs/hotdeskd.md).
#include "daemonserver.h"
#include "enforcer.h"
#include "passwordcheck.h"
#include "sessionguard.h"

namespace hotdesk::daemon {
namespace {

// A password longer than this is no one's (and no reason to hand PAM a megabyte).
constexpr qsizetype kMaxPasswordChars = 512;

QString refusalMessage(const QString &why)
{
    if (why == u"online")
        return QStringLiteral("the servers were reachable at the last sign-in: sign in with the phone");
    if (why == u"offline_deny")
        return QStringLiteral("the policy allows no offline unlock (failure.offline mode deny)");
    if (why == u"no_recent_2fa")
        return QStringLiteral("the last sign-in with the phone is longer ago than the policy's offline grace");
    if (why == u"grace_used_up")
        return QStringLiteral("the offline unlocks allowed until the next sign-in with the phone are used up");
    if (why == u"locked_out")
        return QStringLiteral("the user is locked out after too many failed attempts");
    if (why == u"policy_unusable")
        return QStringLiteral("there is no usable policy");
    return QStringLiteral("the policy does not allow it now (%1)").arg(why);
}

QJsonObject offlineRefused(const QString &why)
{
    QJsonObject reply = errorReply("offline_refused", refusalMessage(why));
    reply.insert(QStringLiteral("why"), why);
    return reply;
}

} // namespace

void Enforcer::serveOffline(DaemonServer &server)
{
    server.addCommand(QStringLiteral("offline_unlock"),
        [this](Connection &connection, const QJsonObject &request) { return offlineUnlock(connection, request); });
}

void Enforcer::queueAdminEvent(const QString &event, const QString &user, const QString &session, const QString &detail)
{
    Q_EMIT audited(QStringLiteral("admin_event"), user, session, event, {{QStringLiteral("detail"), detail}});
    Q_EMIT adminEvent(event, user, session, detail);
}

std::variant<SessionGuard *, QJsonObject> Enforcer::offlineSessionOf(
    const Connection &connection, const QJsonObject &request) const
{
    auto found = sessionOf(connection, request);
    if (std::holds_alternative<QJsonObject>(found) || connection.peer().uid == 0)
        return found;
    // The person at the session's lock screen asks through its agent; another client of the same uid does not.
    const QString id = std::get<SessionGuard *>(found)->session().id;
    if (m_agents.value(&connection) != id)
        return errorReply("not_attached",
            QStringLiteral("only the attached agent of session %1 (or root naming it) may ask for an offline unlock").arg(id));
    return found;
}

QJsonObject Enforcer::offlineUnlock(Connection &connection, const QJsonObject &request)
{
    const auto found = offlineSessionOf(connection, request);
    if (const auto *refusal = std::get_if<QJsonObject>(&found))
        return *refusal;
    SessionGuard *guard = std::get<SessionGuard *>(found);
    const QString id = guard->session().id;
    const QJsonValue given = request.value(QLatin1String("password"));
    if (!given.isString() || given.toString().isEmpty() || given.toString().size() > kMaxPasswordChars
        || given.toString().contains(QChar(0)))
        return errorReply("bad_request",
            QStringLiteral("\"password\" must be the account password, 1 to %1 characters").arg(kMaxPasswordChars));
    if (!guard->lockRequired())
        return errorReply("not_locked", QStringLiteral("session %1 is not locked: there is nothing to unlock").arg(id));
    if (m_offlineChecks.contains(id))
        return errorReply("busy", QStringLiteral("a password for session %1 is being checked").arg(id));
    const QJsonObject caller {{QStringLiteral("uid"), double(connection.peer().uid)}};
    // The engine first: no password is tried when the policy's grace does not allow an offline unlock.
    if (const QString why = guard->offlineUnlockRefusal(); !why.isEmpty()) {
        Q_EMIT audited(QStringLiteral("offline_unlock_refused"), guard->session().user, id, why, caller);
        return offlineRefused(why);
    }
    m_offlineChecks.insert(id);
    Q_EMIT audited(QStringLiteral("offline_unlock_started"), guard->session().user, id, {}, caller);
    QString text = given.toString();
    QByteArray password = text.toUtf8();
    wipe(text);
    // Whose session it is names the account; a client never does.
    m_passwords->check(guard->session().user, std::move(password),
        [this, id, client = QPointer<Connection>(&connection)](
            const PasswordOutcome &outcome) { offlineChecked(id, client, outcome); });
    return okReply({{QStringLiteral("session"), id}, {QStringLiteral("checking"), true}});
}

void Enforcer::offlineChecked(const QString &sessionId, const QPointer<Connection> &client, const PasswordOutcome &outcome)
{
    m_offlineChecks.remove(sessionId);
    SessionGuard *guard = guardFor(sessionId);
    if (!guard)
        return; // the session ended meanwhile
    QJsonObject failed {
        {QStringLiteral("event"), QStringLiteral("offline_unlock_failed")}, {QStringLiteral("session"), sessionId}};
    switch (outcome.verdict) {
    case PasswordVerdict::Accepted:
        if (const QString why = guard->offlineUnlockVerified(); !why.isEmpty()) {
            failed.insert(QStringLiteral("error"), QStringLiteral("offline_refused"));
            failed.insert(QStringLiteral("why"), why);
            failed.insert(QStringLiteral("message"), refusalMessage(why));
            break;
        }
        // The session's agent heard "unlocked" from the guard; root asking for it hears it here.
        if (client && m_agents.value(client.data()) != sessionId)
            client->send({{QStringLiteral("event"), QStringLiteral("unlocked")}, {QStringLiteral("session"), sessionId},
                {QStringLiteral("reason"), QStringLiteral("offline")}});
        return;
    case PasswordVerdict::Rejected:
        guard->offlineUnlockFailed(outcome.detail);
        failed.insert(QStringLiteral("error"), QStringLiteral("wrong_password"));
        failed.insert(QStringLiteral("message"), QStringLiteral("the password is not the account's"));
        break;
    case PasswordVerdict::Unavailable:
    case PasswordVerdict::TimedOut:
        // Not the person's doing: no attempt counted, the lock stays.
        Q_EMIT audited(QStringLiteral("offline_unlock_unavailable"), guard->session().user, sessionId, outcome.detail, {});
        failed.insert(QStringLiteral("error"), QStringLiteral("unavailable"));
        failed.insert(QStringLiteral("message"), QStringLiteral("the password could not be checked: %1").arg(outcome.detail));
        break;
    }
    if (client)
        client->send(failed);
}

} // namespace hotdesk::daemon

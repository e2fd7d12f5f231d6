// Recovery codes kept by hotdeskd (docs/hotdeskd.md, "Recovery codes"): made after a sign-in the daemon validated,
// typed at the lock, checked here against Argon2id hashes in root-only files.
#include "daemonserver.h"
#include "enforcer.h"
#include "sessionguard.h"

#include "core/policy/policy.h"
#include "core/policy/policystore.h"
#include "core/store/filesecretstore.h"
#include "core/store/recoverycodestore.h"
#include "core/username.h"

#include <QDir>
#include <QJsonArray>

namespace hotdesk::daemon {
namespace {

// A code is 8 symbols; what a person may type around them (spaces, a hyphen) stays far below this.
constexpr qsizetype kMaxCodeChars = 64;

QJsonObject codeFailed(const QString &session, const char *error, const QString &message)
{
    return {{QStringLiteral("event"), QStringLiteral("recovery_code_failed")}, {QStringLiteral("session"), session},
        {QStringLiteral("error"), QLatin1String(error)}, {QStringLiteral("message"), message}};
}

} // namespace

void Enforcer::serveRecovery(DaemonServer &server)
{
    server.addCommand(QStringLiteral("recovery_code"),
        [this](Connection &connection, const QJsonObject &request) { return recoveryCode(connection, request); });
}

store::RecoveryCodeStore &Enforcer::recoveryCodes()
{
    if (!m_codes) {
        // One root-only file per user (0600, written atomically) in a 0700 directory of the state directory.
        m_codeFiles
            = std::make_unique<store::FileSecretStore>(QDir(m_options.stateDir).filePath(QStringLiteral("recovery-codes")));
        m_codes = std::make_unique<store::RecoveryCodeStore>(*m_codeFiles, m_random);
    }
    return *m_codes;
}

std::optional<QJsonObject> Enforcer::recoveryCodesRefusal(const SessionGuard &guard) const
{
    if (!m_policy || !m_policy->hasPolicy())
        return errorReply("unavailable", QStringLiteral("there is no usable policy, so there are no recovery codes"));
    if (!m_policy->policy().failure.recoveryCodes.enabled)
        return errorReply("recovery_codes_disabled",
            QStringLiteral("the policy does not allow recovery codes (failure.recovery_codes.enabled)"));
    if (guard.userLockedOut())
        return errorReply("locked_out",
            QStringLiteral("%1 is locked out after too many failed attempts; try again later or ask an administrator")
                .arg(guard.session().user));
    if (m_codeUsers.contains(canonicalUserName(guard.session().user)))
        return errorReply("busy", QStringLiteral("the recovery codes of %1 are being made or checked").arg(guard.session().user));
    return std::nullopt;
}

QJsonObject Enforcer::recoveryCode(Connection &connection, const QJsonObject &request)
{
    const auto found = sessionOf(connection, request);
    if (const auto *refusal = std::get_if<QJsonObject>(&found))
        return *refusal;
    SessionGuard *guard = std::get<SessionGuard *>(found);
    const QString id = guard->session().id;
    // The person at the session's lock types it into its agent; another client of the same uid does not.
    if (connection.peer().uid != 0 && m_agents.value(&connection) != id)
        return errorReply("not_attached",
            QStringLiteral("only the attached agent of session %1 (or root naming it) may give a recovery code").arg(id));
    const QJsonValue given = request.value(QLatin1String("code"));
    if (!given.isString() || given.toString().isEmpty() || given.toString().size() > kMaxCodeChars
        || given.toString().contains(QChar(0)))
        return errorReply(
            "bad_request", QStringLiteral("\"code\" must be a recovery code, 1 to %1 characters").arg(kMaxCodeChars));
    if (const auto refusal = recoveryCodesRefusal(*guard))
        return *refusal;
    if (!guard->lockRequired())
        return errorReply("not_locked", QStringLiteral("session %1 is not locked: there is nothing to unlock").arg(id));
    const QString user = canonicalUserName(guard->session().user);
    m_codeUsers.insert(user);
    Q_EMIT audited(QStringLiteral("recovery_code_checking"), guard->session().user, id, {},
        {{QStringLiteral("uid"), double(connection.peer().uid)}});
    // Whose session it is names the user; a client never does.
    recoveryCodes().consume(guard->session().user, given.toString(),
        [this, id, user, client = QPointer<Connection>(&connection)](Result<store::RecoveryCodeAccepted> outcome) {
            m_codeUsers.remove(user);
            recoveryCodeChecked(id, client, outcome);
        });
    return okReply({{QStringLiteral("session"), id}, {QStringLiteral("checking"), true}});
}

void Enforcer::recoveryCodeChecked(
    const QString &sessionId, const QPointer<Connection> &client, const Result<store::RecoveryCodeAccepted> &outcome)
{
    SessionGuard *guard = guardFor(sessionId);
    if (!guard)
        return; // the session ended meanwhile
    QJsonObject failed;
    if (outcome) {
        // The policy may have changed while the hashes were checked: its word now counts (the code is used up).
        const bool allowed = m_policy && m_policy->hasPolicy() && m_policy->policy().failure.recoveryCodes.enabled;
        const QString why = allowed ? guard->recoveryCodeAccepted(outcome->remaining) : QStringLiteral("recovery_codes_disabled");
        if (why.isEmpty()) {
            // The session's agent heard "unlocked" from the guard; root asking for it hears it here.
            if (client && m_agents.value(client.data()) != sessionId)
                client->send({{QStringLiteral("event"), QStringLiteral("unlocked")}, {QStringLiteral("session"), sessionId},
                    {QStringLiteral("reason"), QStringLiteral("recovery_code")}});
            return;
        }
        failed = codeFailed(sessionId, "not_applied", QStringLiteral("the code was right but the lock stays: %1").arg(why));
    } else if (outcome.error().code == ErrorCode::AccessDenied) {
        guard->recoveryCodeRefused(QStringLiteral("wrong_code"), true);
        failed = codeFailed(
            sessionId, "wrong_code", QStringLiteral("that is not an unused recovery code of %1").arg(guard->session().user));
    } else if (outcome.error().code == ErrorCode::NotEnrolled) {
        guard->recoveryCodeRefused(QStringLiteral("no_codes"), false);
        failed = codeFailed(sessionId, "no_codes", outcome.error().message);
    } else {
        // Not the person's doing (a damaged file, a busy store): not counted, the lock stays.
        guard->recoveryCodeRefused(outcome.error().codeName(), false);
        failed = codeFailed(
            sessionId, "unavailable", QStringLiteral("the recovery code could not be checked: %1").arg(outcome.error().message));
    }
    if (client)
        client->send(failed);
}

void Enforcer::makeRecoveryCodes(const QString &signInId, const SessionGuard &guard, Connection *client)
{
    const auto signInFailed = [signInId](const QString &error, const QString &message) {
        return QJsonObject {{QStringLiteral("event"), QStringLiteral("sign_in_failed")}, {QStringLiteral("sign_in"), signInId},
            {QStringLiteral("error"), error}, {QStringLiteral("message"), message}};
    };
    const QString user = guard.session().user;
    const QString session = guard.session().id;
    if (!client) {
        // Nobody is left to show the codes to: the old set stays.
        Q_EMIT audited(QStringLiteral("recovery_codes_not_made"), user, session, QStringLiteral("client_gone"), {});
        return;
    }
    if (const auto refusal = recoveryCodesRefusal(guard)) {
        client->send(
            signInFailed(refusal->value(QLatin1String("error")).toString(), refusal->value(QLatin1String("message")).toString()));
        return;
    }
    const int count = m_policy->policy().failure.recoveryCodes.count;
    m_codeUsers.insert(canonicalUserName(user));
    recoveryCodes().generate(
        user, count, [this, user, session, signInId, signInFailed, to = QPointer<Connection>(client)](Result<QStringList> made) {
            m_codeUsers.remove(canonicalUserName(user));
            if (!made) {
                Q_EMIT audited(QStringLiteral("recovery_codes_not_made"), user, session, made.error().codeName(),
                    {{QStringLiteral("message"), made.error().message}});
                if (to)
                    to->send(signInFailed(made.error().codeName(), made.error().message));
                return;
            }
            // The new set replaced the old one; the plain codes go to this connection once and are kept nowhere.
            Q_EMIT audited(QStringLiteral("recovery_codes_issued"), user, session, {},
                {{QStringLiteral("count"), made->size()}, {QStringLiteral("sign_in"), signInId}});
            if (to)
                to->send({{QStringLiteral("event"), QStringLiteral("recovery_codes")}, {QStringLiteral("sign_in"), signInId},
                    {QStringLiteral("session"), session}, {QStringLiteral("user"), user},
                    {QStringLiteral("codes"), QJsonArray::fromStringList(*made)}});
        });
}

} // namespace hotdesk::daemon

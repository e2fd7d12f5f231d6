// A SessionGuard under the policy's enforcement member: shared kiosk accounts, whose person changes by sign-in, and the OS lock
// always.
#include "sessionguard.h"

namespace hotdesk::daemon {

void SessionGuard::setEnforcement(bool kiosk, bool alwaysOsLock)
{
    m_kiosk = kiosk;
    if (alwaysOsLock != m_alwaysOsLock)
        m_osLockAsked = false; // the next enforce() decides again
    m_alwaysOsLock = alwaysOsLock;
}

QJsonObject SessionGuard::withKiosk(QJsonObject object) const
{
    if (!m_kiosk)
        return object;
    object.insert(QStringLiteral("kiosk"), true);
    object.insert(QStringLiteral("person"), m_person);
    // One person's lockout leaves the others free to sign in (DecisionEngine::authSucceeded).
    if (object.contains(QLatin1String("sign_in")))
        object.insert(QStringLiteral("sign_in"), bool(m_rules));
    return object;
}

void SessionGuard::personSignedIn(const QString &signInId, const QString &person, const QJsonObject &proof)
{
    QJsonObject record = proof;
    record.insert(QStringLiteral("sign_in"), signInId);
    record.insert(QStringLiteral("account"), m_session.user);
    record.insert(QStringLiteral("previous_person"), m_person);
    networkIs(false);
    // The engine makes whoever proved who they are at the lock the session's user (SessionRecord::user).
    if (m_rules)
        handle(m_engine->authSucceeded(person, policy::AuthMethod::TwoFactor));
    if (lockRequired()) {
        Q_EMIT audited(QStringLiteral("reauth_not_applied"), person, lockReason(), record);
        enforce(QStringLiteral("sign_in"));
        return;
    }
    const QString before = m_person;
    m_person = person;
    Q_EMIT audited(QStringLiteral("reauth_succeeded"), person, QStringLiteral("two_factor"), record);
    if (before != person) {
        Q_EMIT audited(QStringLiteral("person_switched"), m_session.user, QStringLiteral("two_factor"),
            {{QStringLiteral("account"), m_session.user}, {QStringLiteral("from"), before}, {QStringLiteral("to"), person},
                {QStringLiteral("sign_in"), signInId}});
        Q_EMIT stateChanged(); // the session's file keeps the person
    }
    Q_EMIT agentEvent({{QStringLiteral("event"), QStringLiteral("unlocked")}, {QStringLiteral("session"), m_session.id},
        {QStringLiteral("reason"), QStringLiteral("sign_in")}, {QStringLiteral("person"), person}});
}

void SessionGuard::personSignInFailed(const QString &signInId, const QString &person, const Error &error)
{
    Q_EMIT audited(QStringLiteral("reauth_failed"), person, error.codeName(),
        {{QStringLiteral("sign_in"), signInId}, {QStringLiteral("message"), error.message},
            {QStringLiteral("counted"), policy::DecisionEngine::countsAsAttempt(error.code)},
            {QStringLiteral("account"), m_session.user}, {QStringLiteral("current_person"), m_person}});
    if (error.code != ErrorCode::Cancelled)
        networkIs(error.code == ErrorCode::Unreachable || error.code == ErrorCode::Timeout);
    // Counted for the person who tried: one person's failures do not lock the ward's account for everyone.
    handle(m_engine->authFailed(person, error.code));
    enforce(QStringLiteral("sign_in_failed"));
}

void SessionGuard::agentRefused(const QJsonObject &detail)
{
    Q_EMIT audited(QStringLiteral("agent_refused"), m_session.user, QStringLiteral("not_the_agent"), detail);
    // Nothing holds the lock but the OS: ask logind again, in case the desktop's lock was lifted meanwhile.
    if (!m_agentPresent)
        m_osLockAsked = false;
    enforce(QStringLiteral("agent_refused"));
}

} // namespace hotdesk::daemon

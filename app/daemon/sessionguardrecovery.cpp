// A session's lock lifted by one of its user's recovery codes, checked by the Enforcer (enforcerrecovery.cpp).
#include "sessionguard.h"

namespace hotdesk::daemon {

QString SessionGuard::recoveryCodeAccepted(int codesLeft)
{
    const QJsonObject record {{QStringLiteral("codes_left"), codesLeft}};
    // Without usable rules the engine is not asked: only a valid policy lifts policy_unusable.
    if (m_rules)
        handle(m_engine->authSucceeded(m_session.user, policy::AuthMethod::RecoveryCode));
    if (lockRequired()) {
        Q_EMIT audited(QStringLiteral("reauth_not_applied"), m_session.user, lockReason(), record);
        enforce(QStringLiteral("recovery_code"));
        return lockReason();
    }
    Q_EMIT audited(QStringLiteral("reauth_succeeded"), m_session.user, QStringLiteral("recovery_code"), record);
    Q_EMIT agentEvent({{QStringLiteral("event"), QStringLiteral("unlocked")}, {QStringLiteral("session"), m_session.id},
        {QStringLiteral("reason"), QStringLiteral("recovery_code")}});
    return {};
}

void SessionGuard::recoveryCodeRefused(const QString &why, bool counted)
{
    Q_EMIT audited(QStringLiteral("recovery_code_refused"), m_session.user, why, {{QStringLiteral("counted"), counted}});
    if (!counted)
        return;
    // A wrong code is a failed attempt: guessing codes runs into failure.max_attempts.
    handle(m_engine->authFailed(m_session.user, ErrorCode::AccessDenied));
    if (m_agentPresent && lockRequired() && userLockedOut())
        Q_EMIT agentEvent(lockEvent());
    enforce(QStringLiteral("recovery_code_refused"));
}

} // namespace hotdesk::daemon

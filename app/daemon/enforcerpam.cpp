// pam_hotdesk.so's request (docs/pam.md): who may ask for whom, the policy's pam section, and the audit of every attempt.
#include "daemonserver.h"
#include "enforcer.h"
#include "pamgate.h"
#include "sessionguard.h"

#include "core/policy/policystore.h"

namespace hotdesk::daemon {
namespace {

QString messageFor(const QString &result)
{
    if (result == u"locked_out")
        return QStringLiteral("Too many failed sign-ins: wait, or ask the help desk.");
    if (result == u"unavailable")
        return QStringLiteral("The phone sign-in is not available on this PC now. Ask your administrator.");
    return {};
}

} // namespace

void Enforcer::servePam(DaemonServer &server)
{
    server.addCommand(QStringLiteral("pam_authenticate"),
        [this](Connection &connection, const QJsonObject &request) { return pamAuthenticate(connection, request); });
}

QJsonObject Enforcer::pamAuthenticate(Connection &connection, const QJsonObject &request)
{
    auto read = readPamRequest(request);
    if (auto *refusal = std::get_if<QJsonObject>(&read))
        return *refusal;
    const PamRequest &pam = std::get<PamRequest>(read);
    const QJsonObject where {{QStringLiteral("service"), pam.service}, {QStringLiteral("tty"), pam.tty},
        {QStringLiteral("rhost"), pam.rhost}, {QStringLiteral("uid"), double(connection.peer().uid)}};
    const auto answer = [&](const QString &result, const QString &why) {
        QJsonObject extra = where;
        extra.insert(QStringLiteral("result"), result);
        Q_EMIT audited(QStringLiteral("pam_attempt"), pam.user, {}, why, extra);
        QJsonObject reply {{QStringLiteral("result"), result}};
        if (const QString message = messageFor(result); !message.isEmpty())
            reply.insert(QStringLiteral("message"), message);
        return okReply(reply);
    };
    const auto refuse = [&](const char *error, const QString &message) {
        QJsonObject extra = where;
        extra.insert(QStringLiteral("result"), QLatin1String(error));
        Q_EMIT audited(QStringLiteral("pam_attempt"), pam.user, {}, message, extra);
        return errorReply(error, message);
    };

    const std::optional<Account> account = lookUpAccount(pam.user);
    // A caller that is not root (a screen locker running as the user) may ask for its own user only.
    if (connection.peer().uid != 0 && (!account || account->uid != connection.peer().uid))
        return refuse("forbidden",
            QStringLiteral("uid %1 may authenticate its own user only, not %2").arg(connection.peer().uid).arg(pam.user));
    if (!account)
        return refuse("no_such_user", QStringLiteral("no account %1 on this PC").arg(pam.user));
    if (!m_policy || !m_policy->hasPolicy())
        return answer(QStringLiteral("unavailable"),
            QStringLiteral("no usable policy: %1").arg(m_policy ? m_policy->reason() : QStringLiteral("not read yet")));

    const auto now = std::chrono::time_point_cast<std::chrono::seconds>(m_clock.now());
    const auto record = m_users.constFind(pam.user);
    bool lockRequired = false;
    for (const auto &[id, guard] : m_guards)
        lockRequired = lockRequired || (guard->session().user == pam.user && guard->lockRequired());
    const PamDecision decision
        = decidePam(pam, m_policy->policy(), *account, record == m_users.constEnd() ? nullptr : &*record, lockRequired, now);
    if (decision.verdict != PamVerdict::Push)
        return answer(pamResultName(decision.verdict), decision.why);
    // The push itself (OpenID CIBA through the DAS and the IdP) is not built yet: covered users fail closed.
    return answer(QStringLiteral("unavailable"), QStringLiteral("the push sign-in (CIBA) is not built into this hotdeskd"));
}

} // namespace hotdesk::daemon

// pam_hotdesk.so's request (docs/pam.md): who may ask for whom, the policy's pam section, and the audit of every attempt.
#include "daemonserver.h"
#include "enforcer.h"
#include "pamgate.h"
#include "pushservice.h"
#include "sessionguard.h"

#include "core/policy/policystore.h"

#include <algorithm>

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

// The services where a person unlocks a session: a display manager's or a screen locker's.
bool liftsSessionLocks(const QString &service)
{
    static const QStringList unlockServices {QStringLiteral("gdm-password"), QStringLiteral("lightdm"),
        QStringLiteral("kde"), QStringLiteral("xscreensaver")};
    return unlockServices.contains(service);
}

// Only the phone's refusal and a token that did not validate are "denied"; the servers or this PC failing is
// "unavailable"; neither is a way in.
QString pushResultOf(const Error &error)
{
    switch (error.code) {
    case ErrorCode::Expired:
        return QStringLiteral("expired");
    case ErrorCode::Unreachable:
    case ErrorCode::Tls:
    case ErrorCode::Timeout:
    case ErrorCode::Cancelled:
    case ErrorCode::Io:
    case ErrorCode::ServerError:
    case ErrorCode::MalformedAnswer:
    case ErrorCode::Unsupported:
    case ErrorCode::NotEnrolled:
    case ErrorCode::DeviceUnknown:
    case ErrorCode::DeviceUnrecognized:
    case ErrorCode::Keychain:
    case ErrorCode::CryptoFailure:
    case ErrorCode::PolicyInvalid:
    case ErrorCode::PolicyUntrusted:
        return QStringLiteral("unavailable");
    default:
        return QStringLiteral("denied");
    }
}

QString pushMessage(const QString &result)
{
    if (result == u"expired")
        return QStringLiteral("The sign-in was not approved in time.");
    if (result == u"denied")
        return QStringLiteral("The sign-in was refused.");
    return QStringLiteral("The phone sign-in could not be completed. Try again, or ask your administrator.");
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
    const QList<SessionGuard *> sessions = guardsOfUser(pam.user);
    const bool lockRequired
        = std::any_of(sessions.begin(), sessions.end(), [](const SessionGuard *guard) { return guard->lockRequired(); });
    const PamDecision decision
        = decidePam(pam, m_policy->policy(), *account, record == m_users.constEnd() ? nullptr : &*record, lockRequired, now);
    if (decision.verdict != PamVerdict::Push)
        return answer(pamResultName(decision.verdict), decision.why);
    if (!m_push)
        return answer(QStringLiteral("unavailable"), QStringLiteral("no push sign-in: %1").arg(m_signInProblem));
    const QStringList acr = sessions.isEmpty() ? QStringList() : sessions.last()->acrForUser();
    const auto started = m_push->start(
        pam.user, acr, std::chrono::duration_cast<std::chrono::seconds>(m_policy->policy().servers.approvalTimeout));
    if (!started)
        return answer(QStringLiteral("unavailable"), started.error().message);
    m_pushes.insert(*started, RunningPush {&connection, pam.user, pam.service, where, pam.offlineFailMode});
    // The module waits in silence for the phone; the push's end closes the connection.
    connection.holdOpen();
    QJsonObject extra = where;
    extra.insert(QStringLiteral("push"), *started);
    Q_EMIT audited(QStringLiteral("pam_push_started"), pam.user, {}, decision.why, extra);
    return okReply({{QStringLiteral("push"), *started}});
}

void Enforcer::rebuildPush()
{
    // A new policy ends the pushes under the old one; their modules hear "unavailable".
    const auto running = m_pushes.keys();
    for (const QString &id : running)
        if (m_push)
            m_push->cancel(id);
    m_push.reset();
    if (!m_policy || !m_policy->hasPolicy())
        return;
    auto settings = signInSettings(m_policy->policy(), m_options.stateDir);
    if (!settings)
        return; // rebuildSignIn audits why
    m_push = std::make_unique<PushService>(*settings, flow::FingerprintSource {}, m_clock, m_random);
    connect(m_push.get(), &PushService::numberReady, this, &Enforcer::pushNumberReady);
    connect(m_push.get(), &PushService::succeeded, this, &Enforcer::pushSucceeded);
    connect(m_push.get(), &PushService::failed, this, &Enforcer::pushFailed);
}

void Enforcer::pushNumberReady(const QString &pushId, const QString &number, qint64 expiresIn)
{
    const RunningPush running = m_pushes.value(pushId);
    if (!running.client)
        return;
    const qint64 minutes = std::max<qint64>(1, (expiresIn + 59) / 60);
    running.client->send({{QStringLiteral("event"), QStringLiteral("pam_info")},
        {QStringLiteral("message"),
            QStringLiteral("Hotdesk: approve the sign-in on your phone by entering the number %1 there (within %2 min).")
                .arg(number)
                .arg(minutes)}});
}

void Enforcer::pushSucceeded(const QString &pushId, const PushResult &result)
{
    const RunningPush running = m_pushes.take(pushId);
    QJsonObject extra = running.where;
    extra.insert(QStringLiteral("result"), QStringLiteral("approved"));
    extra.insert(QStringLiteral("push"), pushId);
    if (!result.acr.isEmpty())
        extra.insert(QStringLiteral("acr"), result.acr);
    extra.insert(QStringLiteral("polls"), result.polls);
    extra.insert(QStringLiteral("poll_wait_s"), double(result.pollWaitSeconds));
    Q_EMIT audited(QStringLiteral("pam_attempt"), running.user, {}, QStringLiteral("push approved"), extra);
    // At the display manager's or a screen locker's unlock, the approval is the second factor the
    // user's locked sessions wait for; elsewhere (sudo, SSH) it lifts nothing.
    if (liftsSessionLocks(running.service)) {
        const QJsonObject proof {{QStringLiteral("push"), pushId}, {QStringLiteral("service"), running.service}};
        for (SessionGuard *guard : guardsOfUser(running.user))
            if (guard->lockRequired())
                guard->signInSucceeded(pushId, proof);
    }
    if (running.client) {
        running.client->send({{QStringLiteral("event"), QStringLiteral("pam_result")},
            {QStringLiteral("result"), QStringLiteral("approved")}});
        running.client->close();
    }
}

void Enforcer::pushFailed(const QString &pushId, const Error &error, const QString &server)
{
    const RunningPush running = m_pushes.take(pushId);
    QString result = pushResultOf(error);
    // A refusal or a token that did not validate counts toward the user's lockout, as a failed sign-in does;
    // servers that cannot be reached make the user's sessions offline for the policy's grace. A user with no
    // session here (sudo over SSH, a service) is counted all the same, in the daemon's record of the user.
    const bool counted = error.code != ErrorCode::Cancelled && policy::DecisionEngine::countsAsAttempt(error.code);
    if (error.code != ErrorCode::Cancelled) {
        const QList<SessionGuard *> guards = guardsOfUser(running.user);
        for (SessionGuard *guard : guards)
            guard->signInFailed(pushId, error);
        if (guards.isEmpty() && counted)
            countFailureWithoutSession(running.user, error);
    }
    const bool network = error.code == ErrorCode::Unreachable || error.code == ErrorCode::Timeout;
    if (network && running.offlineFailMode && offlineGraceForPush(running))
        result = QStringLiteral("offline_granted");
    QJsonObject extra = running.where;
    extra.insert(QStringLiteral("result"), result);
    extra.insert(QStringLiteral("push"), pushId);
    extra.insert(QStringLiteral("error"), error.codeName());
    if (!server.isEmpty())
        extra.insert(QStringLiteral("server"), server);
    extra.insert(QStringLiteral("counted"), counted);
    Q_EMIT audited(QStringLiteral("pam_attempt"), running.user, {}, error.message, extra);
    if (running.client) {
        QJsonObject end {{QStringLiteral("event"), QStringLiteral("pam_result")}, {QStringLiteral("result"), result}};
        if (result != u"offline_granted")
            end.insert(QStringLiteral("message"), pushMessage(result));
        running.client->send(end);
        running.client->close();
    }
}

void Enforcer::countFailureWithoutSession(const QString &user, const Error &error)
{
    const auto rules = currentRules();
    if (!rules)
        return;
    // The engine's own counting (failure.max_attempts within failure.window, the lockout, notify_admin) on the
    // user's record alone: there is no session to lock.
    policy::EngineState state;
    state.users.insert(user, m_users.value(user));
    policy::DecisionEngine engine(*rules, m_clock, policy::EngineEnvironment {}, state);
    const QList<policy::Decision> decisions = engine.authFailed(user, error.code);
    m_users.insert(user, engine.state().users.value(user));
    if (const Status saved = saveUsers(); !saved)
        Q_EMIT audited(QStringLiteral("state_not_saved"), user, {}, saved.error().message, {});
    for (const policy::Decision &decision : decisions) {
        if (const auto *notice = std::get_if<policy::NotifyAdmin>(&decision)) {
            queueAdminEvent(notice->event, user, {}, notice->detail);
            continue;
        }
        const AuditedDecision record = auditedDecision(decision);
        Q_EMIT audited(record.event, user, {}, record.reason, record.extra);
    }
}

bool Enforcer::offlineGraceForPush(const RunningPush &push)
{
    // Only at an unlock, and only as the engine allows it for a lock of the user's (failure.offline): the
    // password was checked by the stack before the module, as the daemon's own offline unlock checks it.
    bool granted = false;
    if (liftsSessionLocks(push.service))
        for (SessionGuard *guard : guardsOfUser(push.user))
            if (guard->lockRequired() && guard->offlineUnlockRefusal().isEmpty())
                granted = guard->offlineUnlockVerified().isEmpty() || granted;
    QJsonObject extra = push.where;
    extra.insert(QStringLiteral("result"), granted ? QStringLiteral("offline_granted") : QStringLiteral("unavailable"));
    Q_EMIT audited(QStringLiteral("pam_offline"), push.user, {},
        granted                               ? QStringLiteral("failure.offline grace")
            : liftsSessionLocks(push.service) ? QStringLiteral("no offline grace applies")
                                              : QStringLiteral("not an unlock service"),
        extra);
    return granted;
}

void Enforcer::pushClientGone(Connection *connection)
{
    // The module went away (conversation cancelled, process killed, its timeout): stop polling at once.
    const auto running = m_pushes.keys();
    for (const QString &id : running) {
        auto it = m_pushes.find(id);
        if (it != m_pushes.end() && (it->client == connection || !it->client)) {
            it->client = nullptr;
            if (m_push)
                m_push->cancel(id);
        }
    }
}

} // namespace hotdesk::daemon

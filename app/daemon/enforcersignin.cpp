// The enforcer's sign-ins: the socket commands that run one (docs/hotdeskd-protocol.md) and the only way a lock is lifted.
#include "daemonserver.h"
#include "enforcer.h"
#include "sessionguard.h"
#include "signinservice.h"

#include "core/policy/policy.h"
#include "core/policy/policystore.h"
#include "core/username.h"

#include <QJsonArray>
#include <QUrl>

namespace hotdesk::daemon {
namespace {

// An authorization response is a short URL (code, state, iss); anything longer is not one.
constexpr qsizetype kMaxResponseChars = 4096;
constexpr qsizetype kMaxCodeChars = 64;


QJsonObject signInEvent(const char *name, const QString &signInId, QJsonObject members = {})
{
    members.insert(QStringLiteral("event"), QLatin1String(name));
    members.insert(QStringLiteral("sign_in"), signInId);
    return members;
}

} // namespace

Result<SignInSettings> signInSettings(const policy::Policy &policy, const QString &stateDir)
{
    SignInSettings settings;
    settings.servers = policy.servers;
    settings.stateDirectory = stateDir;
    if (!policy.servers.caBundle.isEmpty()) {
        auto bundle = net::TlsTrust::fromBundle(policy.servers.caBundle);
        if (!bundle)
            return tl::unexpected(bundle.error());
        settings.trust = *bundle;
    }
    auto proxy = net::ProxySetting::parse(policy.servers.proxy);
    if (!proxy)
        return tl::unexpected(proxy.error());
    settings.proxy = *proxy;
    return settings;
}

void Enforcer::serveSignIn(DaemonServer &server)
{
    server.addCommand(QStringLiteral("sign_in"),
        [this](Connection &connection, const QJsonObject &request) { return signIn(connection, request); });
    server.addCommand(QStringLiteral("sign_in_response"),
        [this](Connection &connection, const QJsonObject &request) { return signInResponse(connection, request); });
    server.addCommand(QStringLiteral("sign_in_code"),
        [this](Connection &connection, const QJsonObject &request) { return signInCode(connection, request); });
    server.addCommand(QStringLiteral("sign_in_cancel"),
        [this](Connection &connection, const QJsonObject &request) { return signInCancel(connection, request); });
}

void Enforcer::rebuildSignIn()
{
    if (m_signIn) {
        const auto running = m_signIns.keys();
        for (const QString &id : running) {
            m_cancelledByDaemon.insert(id);
            cancelSignIn(id);
        }
    }
    m_signIn.reset();
    m_signInProblem.clear();
    rebuildPush();
    if (!m_policy || !m_policy->hasPolicy()) {
        m_signInProblem = QStringLiteral("there is no usable policy: %1").arg(m_policy ? m_policy->reason() : QString());
        return;
    }
    auto settings = signInSettings(m_policy->policy(), m_options.stateDir);
    if (!settings) {
        m_signInProblem = settings.error().message;
        Q_EMIT audited(QStringLiteral("sign_in_unavailable"), {}, {}, m_signInProblem, {});
        return;
    }
    m_signIn = std::make_unique<SignInService>(*settings, flow::FingerprintSource {}, m_clock, m_random);
    SignInService *service = m_signIn.get();
    connect(service, &SignInService::authorizationUrlReady, this, [this](const QString &id, const QUrl &url) {
        sendToSignInClient(id, signInEvent("sign_in_url", id, {{QStringLiteral("url"), url.toString(QUrl::FullyEncoded)}}));
    });
    connect(service, &SignInService::progress, this,
        [this](const QString &id, flow::Step step, const QString &message, const QString &messageId, const QStringList &args) {
            sendToSignInClient(id,
                signInEvent("sign_in_progress", id,
                    {{QStringLiteral("step"), flow::stepName(step)}, {QStringLiteral("message"), message},
                        {QStringLiteral("message_id"), messageId},
                        {QStringLiteral("message_args"), QJsonArray::fromStringList(args)}}));
        });
    connect(service, &SignInService::oneTimeCodeNeeded, this, [this](const QString &id, int digits, qint64 expiresAt, int left) {
        sendToSignInClient(id,
            signInEvent("sign_in_code_needed", id,
                {{QStringLiteral("digits"), digits}, {QStringLiteral("expires_at"), double(expiresAt)},
                    {QStringLiteral("attempts_left"), left}}));
    });
    connect(service, &SignInService::approvalRequested, this, [this](const QString &id, const QString &request) {
        sendToSignInClient(id, signInEvent("sign_in_approval_needed", id, {{QStringLiteral("request"), request}}));
    });
    connect(service, &SignInService::succeeded, this, &Enforcer::signInSucceeded);
    connect(service, &SignInService::failed, this, &Enforcer::signInFailed);
}

void Enforcer::cancelSignIn(const QString &signInId)
{
    if (m_signIn)
        (void)m_signIn->cancel(signInId); // failed(Cancelled) follows at once
}

void Enforcer::sendToSignInClient(const QString &signInId, const QJsonObject &event)
{
    if (Connection *client = m_signIns.value(signInId).client)
        client->send(event);
}

QJsonObject Enforcer::signIn(Connection &connection, const QJsonObject &request)
{
    const auto found = sessionOf(connection, request);
    if (const auto *refusal = std::get_if<QJsonObject>(&found))
        return *refusal;
    SessionGuard *guard = std::get<SessionGuard *>(found);
    const QString session = guard->session().id;
    const auto person = signInPersonOf(*guard, request);
    if (const auto *refusal = std::get_if<QJsonObject>(&person))
        return *refusal;
    // A person named in a kiosk session switches the person: the session locks first (below).
    const bool switching = request.contains(QLatin1String("person"));
    const QJsonValue purpose = request.value(QLatin1String("purpose"));
    const bool forCodes = purpose.toString() == u"recovery_codes";
    if (!purpose.isUndefined() && !forCodes && purpose.toString() != u"unlock")
        return errorReply("bad_request", QStringLiteral("\"purpose\" is \"unlock\" (the default) or \"recovery_codes\""));
    if (forCodes && switching)
        return errorReply("bad_request", QStringLiteral("recovery codes are made for the session's person, not with \"person\""));
    const QJsonValue redirect = request.value(QLatin1String("redirect_uri"));
    if (!redirect.isUndefined() && (!redirect.isString() || !flow::RelayFrontend::checkRedirectUri(redirect.toString())))
        return errorReply("bad_request",
            QStringLiteral("\"redirect_uri\" must be %1 or a loopback http://127.0.0.1:PORT/callback")
                .arg(flow::RelayFrontend::privateUseRedirectUri()));
    if (forCodes) {
        if (const auto refusal = recoveryCodesRefusal(*guard))
            return *refusal;
    } else if (!guard->lockRequired() && !switching) {
        return errorReply("not_locked", QStringLiteral("session %1 is not locked: there is nothing to sign in for").arg(session));
    }
    if (!m_signIn || !m_policy->hasPolicy())
        return errorReply("unavailable", QStringLiteral("hotdeskd cannot sign in now: %1").arg(m_signInProblem));
    const QString who = std::get<QString>(person).isEmpty() ? guard->session().user : std::get<QString>(person);
    if (std::get<QString>(person).isEmpty() ? guard->userLockedOut() : guard->personLockedOut(who))
        return errorReply("locked_out",
            QStringLiteral("%1 is locked out after too many failed sign-ins; try again later or ask an administrator").arg(who));
    if (m_signIn->signInOf(session))
        return errorReply("busy", QStringLiteral("a sign-in for session %1 is running; cancel it first").arg(session));
    if (switching && !guard->lockRequired())
        guard->reauthRequested();
    flow::FlowOptions options;
    // Whose session it is decides who signs in (in a kiosk account's: the person); the token must be theirs.
    options.user = who;
    options.acrValues = guard->acrFor(who);
    options.unrecognizedDevice = m_policy->policy().device.unrecognized;
    const auto started = m_signIn->start(
        session, options, redirect.isString() ? redirect.toString() : flow::RelayFrontend::privateUseRedirectUri());
    if (!started)
        return errorReply("unavailable", started.error().message);
    m_signIns.insert(*started, RunningSignIn {&connection, session, std::get<QString>(person), forCodes});
    Q_EMIT audited(QStringLiteral("sign_in_started"), who, session, forCodes ? QStringLiteral("recovery_codes") : QString(),
        {{QStringLiteral("sign_in"), *started}, {QStringLiteral("uid"), double(connection.peer().uid)},
            {QStringLiteral("account"), guard->session().user}});
    return okReply({{QStringLiteral("sign_in"), *started}, {QStringLiteral("session"), session}});
}

std::variant<QString, QJsonObject> Enforcer::signInOf(const Connection &connection, const QJsonObject &request) const
{
    const QJsonValue given = request.value(QLatin1String("sign_in"));
    if (!given.isString() || given.toString().isEmpty() || given.toString().size() > 64)
        return errorReply("bad_request", QStringLiteral("\"sign_in\" must be the id \"sign_in\" answered"));
    const QString id = given.toString();
    const std::optional<QString> session = m_signIn ? m_signIn->sessionOf(id) : std::nullopt;
    const SessionGuard *guard = session ? guardFor(*session) : nullptr;
    if (!guard)
        return errorReply("no_such_sign_in", QStringLiteral("no sign-in %1 is running; start a new one").arg(id));
    if (connection.peer().uid != 0 && guard->session().uid != connection.peer().uid)
        return errorReply(
            "forbidden", QStringLiteral("uid %1 may act for its own sessions' sign-ins only").arg(connection.peer().uid));
    return id;
}

QJsonObject Enforcer::signInResponse(Connection &connection, const QJsonObject &request)
{
    const auto found = signInOf(connection, request);
    if (const auto *refusal = std::get_if<QJsonObject>(&found))
        return *refusal;
    const QJsonValue url = request.value(QLatin1String("url"));
    if (!url.isString() || url.toString().isEmpty() || url.toString().size() > kMaxResponseChars)
        return errorReply("bad_request",
            QStringLiteral("\"url\" must be the redirect the browser was sent to, at most %1 characters").arg(kMaxResponseChars));
    const QUrl redirect(url.toString(), QUrl::StrictMode);
    if (!redirect.isValid())
        return errorReply("bad_request", QStringLiteral("\"url\" is not a URL"));
    const Status delivered = m_signIn->deliverAuthorizationResponse(std::get<QString>(found), redirect);
    if (!delivered) {
        if (delivered.error().code == ErrorCode::StateMismatch)
            return errorReply("not_waiting", delivered.error().message);
        return errorReply("bad_request", delivered.error().message);
    }
    // The flow checks it (state, issuer, code) and ends with sign_in_failed or unlocked.
    return okReply();
}

QJsonObject Enforcer::signInCode(Connection &connection, const QJsonObject &request)
{
    const auto found = signInOf(connection, request);
    if (const auto *refusal = std::get_if<QJsonObject>(&found))
        return *refusal;
    const QJsonValue code = request.value(QLatin1String("code"));
    if (!code.isString() || code.toString().isEmpty() || code.toString().size() > kMaxCodeChars)
        return errorReply(
            "bad_request", QStringLiteral("\"code\" must be the one-time code, at most %1 characters").arg(kMaxCodeChars));
    if (const Status given = m_signIn->provideOneTimeCode(std::get<QString>(found), code.toString()); !given)
        return errorReply("not_waiting", given.error().message);
    return okReply();
}

QJsonObject Enforcer::signInCancel(Connection &connection, const QJsonObject &request)
{
    const auto found = signInOf(connection, request);
    if (const auto *refusal = std::get_if<QJsonObject>(&found))
        return *refusal;
    cancelSignIn(std::get<QString>(found));
    return okReply();
}

void Enforcer::signInSucceeded(const QString &signInId, const SignInResult &result)
{
    SessionGuard *guard = guardFor(result.sessionId);
    const QString person = m_signIns.value(signInId).person;
    const QString expected = person.isEmpty() && guard ? guard->session().user : person;
    if (guard && !sameUser(result.user, expected)) {
        // The service checked the token against the user it was given; this is the last word that it is this session's.
        signInFailed(signInId,
            Error {ErrorCode::SubjectMismatch,
                QStringLiteral("the sign-in proved %1, not %2, who signs in to this session").arg(result.user, expected)});
        return;
    }
    const RunningSignIn running = m_signIns.take(signInId);
    Connection *client = running.client;
    m_cancelledByDaemon.remove(signInId);
    if (!guard)
        return; // the session ended meanwhile
    if (running.recoveryCodes) {
        // Proof of the phone for a new set of codes; the lock (if any) is not this sign-in's business.
        makeRecoveryCodes(signInId, *guard, client);
        return;
    }
    QJsonObject proof {{QStringLiteral("auth_time"), double(result.authTime)}};
    if (!result.acr.isEmpty())
        proof.insert(QStringLiteral("acr"), result.acr);
    if (person.isEmpty())
        guard->signInSucceeded(signInId, proof);
    else
        guard->personSignedIn(signInId, expected, proof);
    if (guard->lockRequired()) {
        if (client)
            client->send(signInEvent("sign_in_failed", signInId,
                {{QStringLiteral("error"), QStringLiteral("locked_out")},
                    {QStringLiteral("message"), QStringLiteral("the lock stays: %1").arg(guard->lockReason())}}));
        return;
    }
    // The session's agent heard "unlocked" from the guard; a client that is not its agent hears it here.
    if (client && m_agents.value(client) != guard->session().id)
        client->send({{QStringLiteral("event"), QStringLiteral("unlocked")}, {QStringLiteral("session"), guard->session().id},
            {QStringLiteral("reason"), QStringLiteral("sign_in")}});
}

void Enforcer::signInFailed(const QString &signInId, const Error &error)
{
    const RunningSignIn running = m_signIns.take(signInId);
    SessionGuard *guard = guardFor(running.session);
    if (m_cancelledByDaemon.remove(signInId)) {
        // A new policy or the session's end stopped it: not an attempt of the person's.
        if (guard)
            Q_EMIT audited(QStringLiteral("sign_in_cancelled"), guard->session().user, running.session, error.message,
                {{QStringLiteral("sign_in"), signInId}});
    } else if (guard && !running.person.isEmpty()) {
        guard->personSignInFailed(signInId, running.person, error);
    } else if (guard) {
        guard->signInFailed(signInId, error);
    }
    if (running.client)
        running.client->send(signInEvent("sign_in_failed", signInId,
            {{QStringLiteral("error"), error.codeName()}, {QStringLiteral("message"), error.message}}));
}

// A client that leaves while its sign-in runs takes it along: nobody is left to relay the response.
void Enforcer::signInClientGone(Connection *connection)
{
    QStringList owned;
    for (auto it = m_signIns.cbegin(); it != m_signIns.cend(); ++it)
        if (it->client == connection)
            owned << it.key();
    for (const QString &id : std::as_const(owned)) {
        m_signIns[id].client = nullptr;
        cancelSignIn(id);
    }
}

// The session is going: its sign-in with it, not counted.
void Enforcer::cancelSignInOfSession(const QString &sessionId)
{
    for (auto it = m_signIns.cbegin(); it != m_signIns.cend(); ++it) {
        if (it->session == sessionId) {
            const QString id = it.key();
            m_cancelledByDaemon.insert(id);
            cancelSignIn(id);
            return;
        }
    }
}

} // namespace hotdesk::daemon

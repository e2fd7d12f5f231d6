// hotdeskd's enforcement: the policy, logind's sessions, one SessionGuard each, their saved state and their agents.
#pragma once

#include "daemonoptions.h"

#include "core/clock.h"
#include "core/platform/linux/logindsessions.h"
#include "core/policy/decisionengine.h"
#include "core/policy/serverpolicy.h"
#include "core/random.h"
#include "core/result.h"

#include <QDBusConnection>
#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QString>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <variant>

namespace hotdesk::policy {
class PolicyStore;
}
namespace hotdesk::platform {
class LinuxProcessWatcher;
}
namespace hotdesk::store {
class FileSecretStore;
class RecoveryCodeStore;
struct RecoveryCodeAccepted;
} // namespace hotdesk::store

namespace hotdesk::daemon {

class Connection;
class DaemonServer;
class MachineWatchers;
class PasswordCheck;
class PushService;
struct PushResult;
struct PasswordOutcome;
class SessionGuard;
class SignInService;
struct SignInResult;

struct EnforcerOptions {
    QString stateDir; // already checked (statedirectory.h)
    QString policyFile; // the administrator's policy
    std::optional<QDBusConnection> systemBus; // nullopt: the system bus
    // An attached agent that sends nothing for this long is missing; "attach" asks for heartbeatMsFor(it).
    std::chrono::milliseconds agentTimeout {kDefaultAgentTimeoutMs};
    QString procRoot = QStringLiteral("/proc");
    QString devRoot = QStringLiteral("/dev"); // cameras and snd/ (another only in test builds)
    // PAM service files for the offline unlock's password check (test builds only); empty: /etc/pam.d.
    QString pamConfDir;
    // The programs that may attach as an agent (agentprogram.h); empty: the installed hotdesk.
    QStringList agentPrograms;
};

class Enforcer : public QObject {
    Q_OBJECT
public:
    Enforcer(EnforcerOptions options, const Clock &clock, QObject *parent = nullptr);
    ~Enforcer() override;

    // Reads the policy and starts following logind. Neither failing stops the
    // daemon: without a usable policy every session is locked; without logind
    // the status says so.
    void start();
    // Adds status, attach, heartbeat and reauth to the server.
    void serve(DaemonServer &server);

    QJsonObject status(const Connection &asker, const QJsonObject &request) const;
    QJsonObject attach(Connection &connection, const QJsonObject &request);
    QJsonObject heartbeat(Connection &connection, const QJsonObject &request);
    QJsonObject reauth(Connection &connection, const QJsonObject &request);
    // The sign-in that lifts a session's lock (enforcersignin.cpp).
    QJsonObject signIn(Connection &connection, const QJsonObject &request);
    QJsonObject signInResponse(Connection &connection, const QJsonObject &request);
    QJsonObject signInCode(Connection &connection, const QJsonObject &request);
    QJsonObject signInCancel(Connection &connection, const QJsonObject &request);
    // The lock lifted offline by the account password (enforceroffline.cpp).
    QJsonObject offlineUnlock(Connection &connection, const QJsonObject &request);
    // pam_hotdesk.so's request (enforcerpam.cpp, docs/pam.md).
    QJsonObject pamAuthenticate(Connection &connection, const QJsonObject &request);
    // A recovery code typed at the session's lock (enforcerrecovery.cpp).
    QJsonObject recoveryCode(Connection &connection, const QJsonObject &request);
    void disconnected(Connection *connection);
    // An event for the administrators (failure.actions "notify_admin"): audited and handed on as adminEvent.
    void queueAdminEvent(const QString &event, const QString &user, const QString &session, const QString &detail);
    // The servers of the policy in force (the DAS events go there); nullopt without a usable policy.
    std::optional<policy::ServerSettings> servers() const;
    // The policy's store, for "health" (healthcommand.h); null before start().
    const policy::PolicyStore *policyStore() const { return m_policy.get(); }

Q_SIGNALS:
    // logind's sessions were read (or could not be): the daemon may say READY.
    void ready();
    void audited(
        const QString &event, const QString &user, const QString &session, const QString &reason, const QJsonObject &extra);
    // A session's policy::NotifyAdmin decision, for the DAS event queue (eventsender.h).
    void adminEvent(const QString &type, const QString &user, const QString &session, const QString &detail);

private:
    void addSession(const platform::LoginSession &session);
    void removeSession(const QString &id);
    SessionGuard *guardFor(const QString &id) const;
    // The sessions of an account that hotdeskd follows, in the order of their ids.
    QList<SessionGuard *> guardsOfUser(const QString &user) const;
    std::optional<policy::ReauthRules> currentRules() const;
    // The machine-wide watchers follow the policy's sensitive programs, paths and devices.
    void configureWatchers();
    void startMachineWatchers();
    QList<platform::LoginSession> followedSessions() const;
    void processStarted(const QString &entry, qint64 pid);
    policy::EngineState restoredState(const platform::LoginSession &session) const;
    void save(const SessionGuard &guard);
    // engine-users.json: every user's record (m_users).
    Status saveUsers() const;
    QString sessionFile(const QString &id) const;
    QString usersFile() const;
    // The session named in request (or the connection's), if the caller may act for it; else an error reply.
    std::variant<SessionGuard *, QJsonObject> sessionOf(const Connection &connection, const QJsonObject &request) const;
    void serveSignIn(DaemonServer &server);
    void serveOffline(DaemonServer &server);
    void servePam(DaemonServer &server);
    // The push sign-ins of pam_hotdesk.so (enforcerpam.cpp): a PushService for the policy now in force.
    void rebuildPush();
    void pushNumberReady(const QString &pushId, const QString &number, qint64 expiresIn);
    void pushSucceeded(const QString &pushId, const PushResult &result);
    void pushFailed(const QString &pushId, const Error &error, const QString &server);
    void pushClientGone(Connection *connection);
    // A push of a user with no session here failed: counted toward failure.max_attempts in the user's record.
    void countFailureWithoutSession(const QString &user, const Error &error);
    // failmode=offline, the servers unreachable: the offline grace of the user's locked sessions; true when granted.
    struct RunningPush;
    bool offlineGraceForPush(const RunningPush &push);
    // The session the offline unlock is for: the caller's attached agent's, or root's naming it.
    std::variant<SessionGuard *, QJsonObject> offlineSessionOf(const Connection &connection, const QJsonObject &request) const;
    void offlineChecked(const QString &sessionId, const QPointer<Connection> &client, const PasswordOutcome &outcome);
    // Recovery codes (enforcerrecovery.cpp): why the session's user may not have or use them now, else {}.
    std::optional<QJsonObject> recoveryCodesRefusal(const SessionGuard &guard) const;
    void serveRecovery(DaemonServer &server);
    store::RecoveryCodeStore &recoveryCodes();
    // A validated sign-in for "recovery_codes": a new set for the session's user, sent to client only.
    void makeRecoveryCodes(const QString &signInId, const SessionGuard &guard, Connection *client);
    void recoveryCodeChecked(
        const QString &sessionId, const QPointer<Connection> &client, const Result<store::RecoveryCodeAccepted> &outcome);
    // A SignInService for the policy now in force (none without a usable one); running sign-ins are cancelled.
    void rebuildSignIn();
    void cancelSignIn(const QString &signInId);
    void signInSucceeded(const QString &signInId, const SignInResult &result);
    void signInFailed(const QString &signInId, const Error &error);
    void signInClientGone(Connection *connection);
    void cancelSignInOfSession(const QString &sessionId);
    void sendToSignInClient(const QString &signInId, const QJsonObject &event);
    // The sign-in named in request's "sign_in", if the caller may act for it; else an error reply.
    std::variant<QString, QJsonObject> signInOf(const Connection &connection, const QJsonObject &request) const;
    // attach from a program that is not the agent (agentprogram.h): the refusal, audited; nullopt when it is (enforceragent.cpp).
    std::optional<QJsonObject> refuseUnknownAgent(const Connection &connection, SessionGuard &guard);
    // The policy's enforcement member for the session: kiosk account, OS lock always (enforcerkiosk.cpp).
    void applyEnforcement(SessionGuard &guard) const;
    QString restoredPerson(const platform::LoginSession &session) const;
    // Who a sign-in of the session signs in: empty for the account's own user, else a kiosk session's person; or a refusal.
    std::variant<QString, QJsonObject> signInPersonOf(const SessionGuard &guard, const QJsonObject &request) const;

    EnforcerOptions m_options;
    const Clock &m_clock;
    std::unique_ptr<policy::PolicyStore> m_policy;
    std::unique_ptr<platform::LogindSessions> m_logind;
    std::unique_ptr<platform::LinuxProcessWatcher> m_processes;
    std::unique_ptr<MachineWatchers> m_machine; // sensitive paths and devices
    QString m_logindProblem;
    std::map<QString, std::unique_ptr<SessionGuard>> m_guards; // by logind session id
    QMap<QString, policy::UserRecord> m_users; // every user's record, as engine-users.json holds it
    // By session id: the users' records its guard started from or last saved. A guard's copy of another user's
    // record goes stale; only what the guard itself changed goes into m_users.
    QHash<QString, QMap<QString, policy::UserRecord>> m_usersOfGuard;
    QHash<const Connection *, QString> m_agents; // attached connection -> session id
    OpenSslRandom m_random;
    std::unique_ptr<SignInService> m_signIn; // null without a usable policy
    QString m_signInProblem; // why there is no m_signIn
    struct RunningSignIn {
        Connection *client = nullptr; // the connection that started it: it hears the sign-in's events
        QString session;
        QString person; // a kiosk session's person who signs in; empty: the session's own user
        bool recoveryCodes = false; // purpose "recovery_codes": a new set of codes, no lock lifted
    };
    QHash<QString, RunningSignIn> m_signIns; // by sign-in id
    QSet<QString> m_cancelledByDaemon; // not the person's doing: no attempt counted
    std::unique_ptr<PasswordCheck> m_passwords;
    std::unique_ptr<PushService> m_push; // null without a usable policy
    struct RunningPush {
        QPointer<Connection> client; // the module's connection: it hears pam_info and pam_result
        QString user;
        QString service;
        QJsonObject where; // service, tty, rhost, uid: for the audit log
        bool offlineFailMode = false; // failmode=offline: the policy's offline grace may let an unlock through
    };
    QHash<QString, RunningPush> m_pushes; // by push id
    QSet<QString> m_offlineChecks; // sessions whose password PAM is checking
    std::unique_ptr<store::FileSecretStore> m_codeFiles; // STATE/recovery-codes, root only
    std::unique_ptr<store::RecoveryCodeStore> m_codes;
    QSet<QString> m_codeUsers; // users whose codes are being made or checked: one at a time each
};

// A logind session id that is safe as a file name.
bool isSafeSessionId(const QString &id);

} // namespace hotdesk::daemon

// One logind session under the policy: its decision engine, the lock it requires, its agent, and the OS lock as backstop.
#pragma once

#include "core/clock.h"
#include "core/platform/linux/logindsessions.h"
#include "core/policy/decisionengine.h"

#include <QJsonObject>
#include <QObject>
#include <QTimer>

#include <chrono>

namespace hotdesk::daemon {

// A decision as hotdeskd audits it: the event (its name), the user it names (empty when none), its reason, and
// its other members.
struct AuditedDecision {
    QString event;
    QString user;
    QString reason;
    QJsonObject extra;
};
AuditedDecision auditedDecision(const policy::Decision &decision);

// Where the engine's decisions go: the lock is the engine's (EngineState::lock),
// the guard tells the session's agent and, when no agent can hold the lock,
// asks logind for the OS lock. It does no I/O itself: the Enforcer saves the
// state, talks to logind and writes the audit log when the guard says so.
class SessionGuard : public QObject {
    Q_OBJECT
public:
    // rules: nullopt when there is no usable policy: then the session is
    // locked ("policy_unusable") and nothing can lift it but a usable policy.
    SessionGuard(platform::LoginSession session, std::optional<policy::ReauthRules> rules, const Clock &clock,
        policy::EngineState restored, std::chrono::milliseconds agentTimeout, QObject *parent = nullptr);

    // The session is known: the engine hears of the logon (or of the agent's
    // restart in the same session, when the restored state names it).
    void begin();
    // logind's view changed (Active, LockedHint, IdleHint).
    void sessionChanged(const platform::LoginSession &now);
    // Someone asked logind to unlock the session.
    void unlockRequested();
    // The session's agent connected, reported (idle time), or went away.
    void agentAttached();
    void agentHeartbeat(std::optional<std::chrono::milliseconds> idle); // nullopt: the agent cannot tell
    void agentDetached(const QString &why);
    // The person asked for a re-authentication now.
    void reauthRequested();
    // A sensitive program (the policy's entry) started in this session.
    void processStarted(const QString &entry);
    // A file below a sensitive path was touched, or a sensitive device is in use, and counts for this session.
    void pathTouched(const QString &path);
    void deviceInUse(policy::SensitiveDevice device);
    // Another policy (or none that is usable) applies from now on.
    void policyChanged(std::optional<policy::ReauthRules> rules);
    // The OS lock that was asked for is in place, or could not be had.
    void osLockResult(const Status &status);
    // A sign-in of the session's user was validated (SignInService, the user
    // already checked): the one way a lock is lifted. proof: for the audit log.
    void signInSucceeded(const QString &signInId, const QJsonObject &proof);
    // A sign-in of the session's user failed; it counts toward lockout as the engine says.
    void signInFailed(const QString &signInId, const Error &error);
    // Offline unlock (failure.offline): the engine's verdict now, as a dry run
    // that uses nothing up; empty when it would grant, else why not
    // ("online", "offline_deny", "grace_used_up", ..., "policy_unusable").
    QString offlineUnlockRefusal() const;
    // The account password was right: the engine decides for real; empty when
    // it granted and the lock is lifted, else why not.
    QString offlineUnlockVerified();
    // The account password was wrong: a failed attempt, counted toward lockout.
    void offlineUnlockFailed(const QString &detail);
    // One of the user's recovery codes was right and is used up (sessionguardrecovery.cpp): the engine lifts
    // the lock (AuthMethod::RecoveryCode); empty when it did, else why not.
    QString recoveryCodeAccepted(int codesLeft);
    // A recovery code was refused (why: "wrong_code", "no_codes", ...); counted toward lockout when counted.
    void recoveryCodeRefused(const QString &why, bool counted);
    // Whether the last sign-in found the servers unreachable (the engine's network state).
    bool offline() const { return m_offline; }
    // The user is locked out (failure.max_attempts): no sign-in until it ends.
    bool userLockedOut() const;
    // The acr_values the user's next sign-in asks for.
    QStringList acrForUser() const { return m_engine->acrFor(m_session.user); }
    QStringList acrFor(const QString &user) const { return m_engine->acrFor(user); }

    // The policy's enforcement member (sessionguardkiosk.cpp): a shared kiosk account; the OS lock always.
    void setEnforcement(bool kiosk, bool alwaysOsLock);
    bool isKiosk() const { return m_kiosk; }
    // A kiosk session's person now using it; empty before the first person signed in.
    const QString &person() const { return m_person; }
    void restorePerson(const QString &person) { m_person = person; }
    // A kiosk session: the person's sign-in was validated (the token is theirs), or failed; counted for that person.
    void personSignedIn(const QString &signInId, const QString &person, const QJsonObject &proof);
    void personSignInFailed(const QString &signInId, const QString &person, const Error &error);
    bool personLockedOut(const QString &person) const { return m_engine->lockedOutUntil(person).has_value(); }
    // A program that is not the agent asked to attach: audited, and the OS lock asked again when a lock is required.
    void agentRefused(const QJsonObject &detail);

    const platform::LoginSession &session() const { return m_session; }
    const policy::EngineState &engineState() const { return m_engine->state(); }
    bool lockRequired() const { return !m_rules || m_engine->isLocked(); }
    QString lockReason() const;
    bool agentPresent() const { return m_agentPresent; }
    // The session as the status command shows it.
    QJsonObject toJson() const;

Q_SIGNALS:
    // The engine's state changed: save it.
    void stateChanged();
    // Ask logind for the OS lock now; why is for the audit log.
    void osLockNeeded(const QString &why);
    // A line for the session's agent ({"event": ...}).
    void agentEvent(const QJsonObject &event);
    // One audit record: what happened, to whom, why.
    void audited(const QString &event, const QString &user, const QString &reason, const QJsonObject &extra);
    // A policy::NotifyAdmin decision: an event for the administrator's feed at the DAS.
    void adminEvent(const QString &type, const QString &user, const QString &detail);

private:
    void handle(const QList<policy::Decision> &decisions);
    void handleOne(const policy::Decision &decision);
    void tick();
    void scheduleTick();
    // Tells the agent and, when none can hold the lock, asks for the OS lock.
    void enforce(const QString &cause);
    // The network as the last sign-in found it, for the engine's offline grace.
    void networkIs(bool offline);
    QJsonObject lockEvent() const;
    // A kiosk session's "kiosk" and "person" members.
    QJsonObject withKiosk(QJsonObject object) const;

    platform::LoginSession m_session;
    std::optional<policy::ReauthRules> m_rules;
    const Clock &m_clock;
    std::unique_ptr<policy::DecisionEngine> m_engine;
    std::chrono::milliseconds m_agentTimeout;
    policy::EngineState m_saved; // as last handed out by stateChanged()
    bool m_agentPresent = false;
    bool m_agentReportsIdle = false;
    bool m_offline = false; // the last sign-in could not reach the servers
    bool m_osLockAsked = false; // asked since the lock was last required or the OS was last unlocked
    bool m_kiosk = false;
    bool m_alwaysOsLock = false;
    QString m_person;
    QTimer m_tick;
    QTimer m_agentSilence;
};

} // namespace hotdesk::daemon

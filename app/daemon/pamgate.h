// Whom pam_hotdesk.so's request is for and whether the policy asks them (docs/pam.md): the request read strictly,
// the account and its groups from the system's user database, and the policy's verdict before any push.
#pragma once

#include "core/policy/decisionengine.h"
#include "core/policy/policy.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <optional>
#include <sys/types.h>
#include <variant>

namespace hotdesk::daemon {

// hotdeskd's own PAM service (the offline unlock's password): never asked for a push, or it would ask itself.
inline constexpr char kOwnPamService[] = "hotdesk-offline";

struct PamRequest {
    QString user;
    QString service;
    QString tty;
    QString rhost;
    bool offlineFailMode = false; // failmode=offline: the policy's offline grace may count
};

// The request's members checked (types, lengths, no control characters); else a bad_request reply.
std::variant<PamRequest, QJsonObject> readPamRequest(const QJsonObject &request);

struct Account {
    uid_t uid = 0;
    QStringList groups; // names of every group the user is in, the primary one too
};

// The account from the system's user database (NSS); nullopt when there is no such user.
std::optional<Account> lookUpAccount(const QString &user);

enum class PamVerdict {
    NotCovered, // another service, an exempt user, a user the policy's users and groups leave out
    Recent, // a second factor of the same user within pam.recent_sign_in
    LockedOut, // failure.max_attempts reached, the lockout still running
    Push, // ask the phone
};

struct PamDecision {
    PamVerdict verdict = PamVerdict::Push;
    QString why; // for the audit log: which rule decided
};

// The policy's answer for request; record is the user's enforcement record, if any. lockRequired: one of the
// user's sessions must re-authenticate now, which a recent second factor does not satisfy (the lock came after it).
PamDecision decidePam(const PamRequest &request, const policy::Policy &policy, const Account &account,
    const policy::UserRecord *record, bool lockRequired, policy::Instant now);

// The result names of the protocol (docs/pam.md) for a verdict decided without a push.
QString pamResultName(PamVerdict verdict);

} // namespace hotdesk::daemon

// The administrator's whole policy file as typed values (format: resources/policy.schema.json, docs/policy.md).
#pragma once

#include "../result.h"
#include "reauthrules.h"
#include "serverpolicy.h"

#include <QList>
#include <QString>
#include <QStringList>
#include <QTime>

#include <chrono>
#include <optional>

namespace hotdesk::policy {

// SensitiveDevice, ScheduleEntry and DeviceRules are the decision engine's
// types (reauthrules.h): the file and the engine speak of them the same way.

// When the person at the keyboard must re-authenticate. An absent trigger is off.
struct Triggers {
    std::optional<std::chrono::seconds> firstLogonIn; // 2FA at the first logon in each such period (P1D: each calendar day)
    std::optional<std::chrono::seconds> maxSession; // since logon or the last successful re-authentication
    std::optional<std::chrono::seconds> idle; // without keyboard or mouse input; shorter than maxSession
    bool onUnlock = false; // when the OS screen lock is lifted
    QStringList sensitiveApps; // process names
    QStringList sensitivePaths; // documents below these
    QList<SensitiveDevice> sensitiveDevices;
    QList<ScheduleEntry> schedule;
    std::chrono::seconds notifyBefore {300}; // tray warning before a scheduled or max_session re-auth; 0: none
};

enum class FailureAction { Lock, RequireCredentials, NotifyAdmin };

struct OfflinePolicy {
    enum class Mode { Deny, Grace };
    Mode mode = Mode::Deny;
    std::chrono::seconds grace {0}; // with Grace: how long after the last successful re-authentication
    int maxUses = 0; // with Grace: offline unlocks before a server must answer again (>= 1)
};


// What happens when re-authentication fails or cannot be done.
struct Failure {
    int maxAttempts = 5; // within window
    std::chrono::seconds window {3600};
    QList<FailureAction> actions {FailureAction::Lock, FailureAction::NotifyAdmin};
    QStringList alternateMethods; // acr_values offered after a failure, in order
    OfflinePolicy offline;
    QStringList exemptUsers; // break-glass accounts, never asked
    RecoveryCodeRules recoveryCodes;
    QString helpText; // for the lock screen; may be empty

    bool has(FailureAction action) const { return actions.contains(action); }
};

// The second factor in the OS's own sign-in (pam_hotdesk.so, docs/pam.md): whom and where hotdeskd asks.
struct PamRules {
    QStringList services {QStringLiteral("gdm-password"), QStringLiteral("lightdm"), QStringLiteral("login"),
        QStringLiteral("sudo"), QStringLiteral("su"), QStringLiteral("polkit-1"), QStringLiteral("sshd"), QStringLiteral("kde"),
        QStringLiteral("xscreensaver")};
    QStringList users; // with groups empty too: everyone but failure.exemptUsers
    QStringList groups;
    std::chrono::seconds recentSignIn {0}; // a 2FA of the same user this recent counts; 0: never
};

// How hotdeskd enforces the lock (the "enforcement" member).
struct Enforcement {
    bool alwaysOsLock = false; // os_lock "always": the OS lock as well as the agent's window
    QStringList kioskAccounts; // OS accounts shared by many people: a sign-in may name the person

    bool isKioskAccount(const QString &account) const { return kioskAccounts.contains(account); }
};

struct Policy {
    QString sourceFile; // where it was read from (absolute path, or a description of the managed settings)
    int version = 1;
    ServerSettings servers;
    Triggers triggers;
    Failure failure;
    DeviceRules device;
    PamRules pam;
    Enforcement enforcement;
};

// Validates the text (policyvalidator.h) and builds the model; defaults fill
// what the file leaves out. Error: PolicyInvalid, the message listing every
// problem as "SOURCE:LINE:COL: message" lines.
Result<Policy> parsePolicy(QByteArrayView json, const QString &source);

// The rules the decision engine enforces, as this policy sets them.
ReauthRules reauthRules(const Policy &policy);

// Reads and parses a policy file (at most 1 MiB). Errors: Io, PolicyInvalid.
Result<Policy> loadPolicy(const QString &file);

} // namespace hotdesk::policy

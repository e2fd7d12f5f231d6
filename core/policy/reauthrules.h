// The re-authentication rules of the policy (triggers, failure, device) as the decision engine reads them.
#pragma once

#include <QList>
#include <QString>
#include <QStringList>
#include <QTime>
#include <QTimeZone>

#include <chrono>
#include <optional>

namespace hotdesk::policy {

enum class SensitiveDevice { Camera, Microphone };

// "camera" | "microphone", as the policy and the reason strings spell them.
QString sensitiveDeviceName(SensitiveDevice device);
std::optional<SensitiveDevice> sensitiveDeviceFromName(QStringView name);

// One "schedule" entry: re-authenticate at local time `at` on each of `days`.
struct ScheduleEntry {
    QList<Qt::DayOfWeek> days;
    QTime at; // minutes only; seconds are ignored

    friend bool operator==(const ScheduleEntry &, const ScheduleEntry &) = default;
};

// policy "triggers"; an absent trigger (std::nullopt, empty list, false) is off.
struct TriggerRules {
    std::optional<std::chrono::seconds> firstLogonIn; // exactly P1D = each local calendar day
    std::optional<std::chrono::seconds> maxSession;
    std::optional<std::chrono::seconds> idle;
    bool onUnlock = false;
    QStringList sensitiveApps;
    QStringList sensitivePaths;
    QList<SensitiveDevice> sensitiveDevices;
    QList<ScheduleEntry> schedule;
    std::chrono::seconds notifyBefore {std::chrono::minutes(5)}; // 0 = no advance notice

    // Not in policy version 1: after a re-authentication, sensitive_apps,
    // sensitive_paths and sensitive_devices stay quiet this long, so that one
    // document save (open, write, rename, close) or a program that starts
    // helper processes does not lock the user out again at once.
    std::chrono::seconds sensitiveQuietPeriod {std::chrono::minutes(5)};
};

// policy failure.offline: deny (no grace), or a bounded grace.
struct OfflineGrace {
    std::chrono::seconds grace {std::chrono::hours(4)}; // since the user's last successful 2FA on this PC
    int maxUses = 3; // offline unlocks allowed between two successful 2FAs
};

struct FailureActions {
    bool lock = true; // lock the user out for `window`: only another user may proceed
    bool requireCredentials = false; // the agent asks the OS for the account password again
    bool notifyAdmin = true; // an event on the DAS events feed
};

struct RecoveryCodeRules {
    bool enabled = false;
    int count = 10;
};

// policy "failure"
struct FailureRules {
    int maxAttempts = 5;
    std::chrono::seconds window {std::chrono::hours(1)};
    FailureActions actions;
    QStringList alternateMethods; // acr_values for the re-authentication after a failure
    std::optional<OfflineGrace> offlineGrace; // std::nullopt = offline "deny"
    QStringList exemptUsers;
    RecoveryCodeRules recoveryCodes;
    QString helpText;
};

// What the agent does when the DAS does not recognize this PC (flow 4): the
// policy's device.unrecognized, and the --recognition of hotdesk login.
enum class UnrecognizedDevice {
    Approval, // ask an administrator and wait for the decision
    Code, // the DAS sends the user a one-time code out of band; the user types it here
    Deny, // fail with device_unrecognized
};

// The policy spells them "approval", "code" and "deny"; the command line says "none" for Deny.
QString unrecognizedDeviceName(UnrecognizedDevice choice);
std::optional<UnrecognizedDevice> unrecognizedDeviceFromName(QStringView name);
QString unrecognizedDeviceOptionName(UnrecognizedDevice choice);
std::optional<UnrecognizedDevice> unrecognizedDeviceFromOptionName(QStringView name);
// The command line's names as a sentence ends them: "approval, code or none".
QString unrecognizedDeviceOptionNames();

// policy "device" (read by the device recognition flow, carried here so one struct holds the policy's rules)
struct DeviceRules {
    int driftThreshold = 1;
    UnrecognizedDevice unrecognized = UnrecognizedDevice::Approval;
};

// The defaults are the policy's defaults (docs/decision-engine.md); the policy
// model fills this struct from the administrator's file.
struct ReauthRules {
    TriggerRules triggers;
    FailureRules failure;
    DeviceRules device;
};

// How names are compared on this platform.
enum class NameMatching {
    Exact, // Linux, macOS: process names and paths compare exactly
    Windows, // case-insensitive, ".exe" optional, '\' and '/' both separate directories
};

// Facts about the machine rather than the policy, injected so tests never
// depend on the machine's time zone or operating system.
struct EngineEnvironment {
    QTimeZone timeZone = QTimeZone::systemTimeZone(); // for first_logon_in P1D and schedule
    NameMatching names = nativeNameMatching();

    static NameMatching nativeNameMatching()
    {
#ifdef Q_OS_WIN
        return NameMatching::Windows;
#else
        return NameMatching::Exact;
#endif
    }
};

} // namespace hotdesk::policy

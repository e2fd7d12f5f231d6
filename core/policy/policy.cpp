// Building the typed policy from a file the validator accepted.
#include "policy.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>

namespace hotdesk::policy {

namespace {

// Only called on validated documents: a member is absent or of the schema's type.
std::optional<std::chrono::seconds> durationOf(const QJsonObject &object, const char *name)
{
    const QJsonValue v = object.value(QLatin1String(name));
    if (!v.isString())
        return std::nullopt;
    auto d = parseDuration(v.toString());
    return d ? std::optional(*d) : std::nullopt;
}

QStringList stringsOf(const QJsonObject &object, const char *name)
{
    QStringList out;
    for (const QJsonValue &v : object.value(QLatin1String(name)).toArray())
        out << v.toString();
    return out;
}

Qt::DayOfWeek dayOf(const QString &name)
{
    static const char *const names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    for (int i = 0; i < 7; ++i) {
        if (name == QLatin1String(names[i]))
            return Qt::DayOfWeek(i + 1);
    }
    return Qt::Monday; // unreachable: the schema allows only these names
}

Triggers triggersOf(const QJsonObject &t)
{
    Triggers out;
    out.firstLogonIn = durationOf(t, "first_logon_in");
    out.maxSession = durationOf(t, "max_session");
    out.idle = durationOf(t, "idle");
    out.onUnlock = t.value(QLatin1String("on_unlock")).toBool(false);
    out.sensitiveApps = stringsOf(t, "sensitive_apps");
    out.sensitivePaths = stringsOf(t, "sensitive_paths");
    for (const QString &device : stringsOf(t, "sensitive_devices"))
        out.sensitiveDevices << (device == u"camera" ? SensitiveDevice::Camera : SensitiveDevice::Microphone);
    for (const QJsonValue &entry : t.value(QLatin1String("schedule")).toArray()) {
        const QJsonObject e = entry.toObject();
        ScheduleEntry item;
        for (const QString &day : stringsOf(e, "days"))
            item.days << dayOf(day);
        item.at = QTime::fromString(e.value(QLatin1String("at")).toString(), QStringLiteral("HH:mm"));
        out.schedule << item;
    }
    out.notifyBefore = durationOf(t, "notify_before").value_or(out.notifyBefore);
    return out;
}

Failure failureOf(const QJsonObject &f)
{
    Failure out;
    out.maxAttempts = f.value(QLatin1String("max_attempts")).toInt(out.maxAttempts);
    out.window = durationOf(f, "window").value_or(out.window);
    if (f.contains(QLatin1String("actions"))) {
        out.actions.clear();
        for (const QString &action : stringsOf(f, "actions")) {
            if (action == u"lock")
                out.actions << FailureAction::Lock;
            else if (action == u"require_credentials")
                out.actions << FailureAction::RequireCredentials;
            else
                out.actions << FailureAction::NotifyAdmin;
        }
    }
    out.alternateMethods = stringsOf(f, "alternate_methods");
    const QJsonObject offline = f.value(QLatin1String("offline")).toObject();
    if (offline.value(QLatin1String("mode")).toString() == u"grace") {
        out.offline.mode = OfflinePolicy::Mode::Grace;
        out.offline.grace = durationOf(offline, "grace").value_or(std::chrono::seconds(0));
        out.offline.maxUses = offline.value(QLatin1String("max_uses")).toInt(0);
    }
    out.exemptUsers = stringsOf(f, "exempt_users");
    const QJsonObject codes = f.value(QLatin1String("recovery_codes")).toObject();
    out.recoveryCodes.enabled = codes.value(QLatin1String("enabled")).toBool(false);
    out.recoveryCodes.count = codes.value(QLatin1String("count")).toInt(out.recoveryCodes.count);
    out.helpText = f.value(QLatin1String("help_text")).toString();
    return out;
}

PamRules pamOf(const QJsonObject &p)
{
    PamRules out;
    if (p.contains(QLatin1String("services")))
        out.services = stringsOf(p, "services");
    out.users = stringsOf(p, "users");
    out.groups = stringsOf(p, "groups");
    out.recentSignIn = durationOf(p, "recent_sign_in").value_or(out.recentSignIn);
    return out;
}

DeviceRules deviceOf(const QJsonObject &d)
{
    DeviceRules out;
    out.driftThreshold = d.value(QLatin1String("drift_threshold")).toInt(out.driftThreshold);
    out.unrecognized
        = unrecognizedDeviceFromName(d.value(QLatin1String("unrecognized")).toString()).value_or(UnrecognizedDevice::Approval);
    return out;
}

Enforcement enforcementOf(const QJsonObject &e)
{
    Enforcement out;
    out.alwaysOsLock = e.value(QLatin1String("os_lock")).toString() == u"always";
    out.kioskAccounts = stringsOf(e, "kiosk_accounts");
    return out;
}

struct UnrecognizedDeviceNames {
    UnrecognizedDevice choice;
    const char *policy;
    const char *option;
};

constexpr UnrecognizedDeviceNames kUnrecognizedDeviceNames[] = {
    {UnrecognizedDevice::Approval, "approval", "approval"},
    {UnrecognizedDevice::Code, "code", "code"},
    {UnrecognizedDevice::Deny, "deny", "none"},
};

using UnrecognizedDeviceSpelling = const char *UnrecognizedDeviceNames::*;

QString nameOf(UnrecognizedDevice choice, UnrecognizedDeviceSpelling spelling)
{
    for (const auto &n : kUnrecognizedDeviceNames) {
        if (n.choice == choice)
            return QLatin1String(n.*spelling);
    }
    return {};
}

std::optional<UnrecognizedDevice> choiceNamed(QStringView name, UnrecognizedDeviceSpelling spelling)
{
    for (const auto &n : kUnrecognizedDeviceNames) {
        if (name == QLatin1String(n.*spelling))
            return n.choice;
    }
    return std::nullopt;
}

} // namespace

QString unrecognizedDeviceName(UnrecognizedDevice choice)
{
    return nameOf(choice, &UnrecognizedDeviceNames::policy);
}

std::optional<UnrecognizedDevice> unrecognizedDeviceFromName(QStringView name)
{
    return choiceNamed(name, &UnrecognizedDeviceNames::policy);
}

QString unrecognizedDeviceOptionName(UnrecognizedDevice choice)
{
    return nameOf(choice, &UnrecognizedDeviceNames::option);
}

std::optional<UnrecognizedDevice> unrecognizedDeviceFromOptionName(QStringView name)
{
    return choiceNamed(name, &UnrecognizedDeviceNames::option);
}

QString unrecognizedDeviceOptionNames()
{
    QStringList names;
    for (const auto &n : kUnrecognizedDeviceNames)
        names << QLatin1String(n.option);
    const QString last = names.takeLast();
    return QStringLiteral("%1 or %2").arg(names.join(QStringLiteral(", ")), last);
}

Result<Policy> parsePolicy(QByteArrayView json, const QString &source)
{
    auto agent = parseAgentPolicy(json, source);
    if (!agent)
        return tl::unexpected(agent.error());
    Policy policy;
    policy.sourceFile = agent->sourceFile;
    policy.version = agent->version;
    policy.servers = agent->servers;
    policy.triggers = triggersOf(agent->document.value(QLatin1String("triggers")).toObject());
    policy.failure = failureOf(agent->document.value(QLatin1String("failure")).toObject());
    policy.device = deviceOf(agent->document.value(QLatin1String("device")).toObject());
    policy.pam = pamOf(agent->document.value(QLatin1String("pam")).toObject());
    policy.enforcement = enforcementOf(agent->document.value(QLatin1String("enforcement")).toObject());
    return policy;
}

ReauthRules reauthRules(const Policy &policy)
{
    ReauthRules rules;
    const Triggers &t = policy.triggers;
    rules.triggers.firstLogonIn = t.firstLogonIn;
    rules.triggers.maxSession = t.maxSession;
    rules.triggers.idle = t.idle;
    rules.triggers.onUnlock = t.onUnlock;
    rules.triggers.sensitiveApps = t.sensitiveApps;
    rules.triggers.sensitivePaths = t.sensitivePaths;
    rules.triggers.sensitiveDevices = t.sensitiveDevices;
    rules.triggers.schedule = t.schedule;
    rules.triggers.notifyBefore = t.notifyBefore;

    const Failure &f = policy.failure;
    rules.failure.maxAttempts = f.maxAttempts;
    rules.failure.window = f.window;
    rules.failure.actions.lock = f.has(FailureAction::Lock);
    rules.failure.actions.requireCredentials = f.has(FailureAction::RequireCredentials);
    rules.failure.actions.notifyAdmin = f.has(FailureAction::NotifyAdmin);
    rules.failure.alternateMethods = f.alternateMethods;
    if (f.offline.mode == OfflinePolicy::Mode::Grace)
        rules.failure.offlineGrace = OfflineGrace {f.offline.grace, f.offline.maxUses};
    rules.failure.exemptUsers = f.exemptUsers;
    rules.failure.recoveryCodes = {f.recoveryCodes.enabled, f.recoveryCodes.count};
    rules.failure.helpText = f.helpText;
    rules.device = policy.device;
    return rules;
}

Result<Policy> loadPolicy(const QString &file)
{
    auto bytes = readPolicyFile(file);
    if (!bytes)
        return tl::unexpected(
            bytes.error().code == ErrorCode::TooLarge ? Error {ErrorCode::PolicyInvalid, bytes.error().message} : bytes.error());
    return parsePolicy(*bytes, QFileInfo(file).absoluteFilePath());
}

} // namespace hotdesk::policy

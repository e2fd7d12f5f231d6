// The policy the agent runs under: loaded from its file (and, on Windows and macOS, the managed settings), followed as the
// administrator changes it.
#pragma once

#include "policy.h"
#include "policyvalidator.h"

#include <QFileSystemWatcher>
#include <QJsonObject>
#include <QObject>
#include <QTimer>

#include <chrono>
#include <optional>

#include <sys/types.h>

class QSettings;

namespace hotdesk::policy {

// A new file replaces the policy only when it is valid as a whole; otherwise
// the last valid policy stays and policyRejected tells what is wrong with the
// new one (the agent audits it and shows it in the tray). Without any valid
// policy hasPolicy() is false and reason() says why: the agent stays locked.
class PolicyStore : public QObject {
    Q_OBJECT
public:
    // file: the --policy FILE; empty for the platform location
    // (defaultPolicyFile(), where the managed settings of Windows and macOS
    // also apply; an explicit file is read alone).
    explicit PolicyStore(const QString &file = QString(), QObject *parent = nullptr);

    // Reads the policy and starts following changes. Returns hasPolicy().
    bool start();
    // Reads the sources again now; what a change triggers after the debounce.
    void reload();

    QString file() const { return m_file; }
    bool hasPolicy() const { return m_policy.has_value(); }
    // The last valid policy; only while hasPolicy().
    const Policy &policy() const { return *m_policy; }
    // Why there is no policy, for the lock screen; empty while hasPolicy().
    QString reason() const { return m_reason; }
    // What was wrong with the last text that was rejected; empty after a valid one.
    QList<PolicyProblem> problems() const { return m_problems; }
    // The last rejection was of a file others could have changed (requireTrustedFile), not of its content.
    bool rejectedAsUntrusted() const { return m_rejectedUntrusted; }

    // Read the file only when it is trusted (policytrust.h), owned by `owner`.
    // The platform location always is (serverpolicy.h, readPolicyFile); this
    // applies the same rule to another file (tests, a daemon's own file).
    // An untrusted file counts as an unreadable one: without a valid policy
    // the agent stays locked, and a valid one in force stays.
    void requireTrustedFile(uid_t owner) { m_trustedOwner = owner; }

    // Changes come in bursts (an editor writes, renames, sets permissions):
    // they are read once this long after the last one. Default 200 ms.
    void setDebounceInterval(std::chrono::milliseconds interval) { m_debounce.setInterval(interval); }

Q_SIGNALS:
    void policyChanged(const hotdesk::policy::Policy &policy);
    void policyRejected(const QList<hotdesk::policy::PolicyProblem> &problems);

private:
    void watch();
    void accept(Policy policy);
    // untrusted: the file is there but others could have changed it (the reason says to fix it, not to install one).
    void reject(const QList<PolicyProblem> &problems, bool untrusted = false);

    QString m_file;
    bool m_managed = false; // the managed settings of the platform apply
    std::optional<uid_t> m_trustedOwner;
    std::optional<Policy> m_policy;
    QString m_reason;
    QList<PolicyProblem> m_problems;
    bool m_rejectedUntrusted = false;
    std::optional<QByteArray> m_lastText; // what the last reload read; nullopt: nothing read yet or unreadable
    QString m_lastError;
    QFileSystemWatcher m_watcher;
    QTimer m_debounce;
    QTimer m_managedPoll;
};

// The managed settings (Windows registry values from the ADMX template, a macOS
// configuration profile) as a policy object: groups and dictionaries become
// objects, and each value is converted to the type the schema gives its member
// (a registry string "true" for a boolean, a DWORD for an integer, a multi-string
// for a list, JSON text for a list of objects). Public for tests: any QSettings
// (an INI file) works.
QJsonObject managedSettingsToJson(QSettings &settings);

// The file's policy with the managed settings on top: objects are merged
// member by member, any other value is replaced.
QJsonObject mergeManagedSettings(const QJsonObject &file, const QJsonObject &managed);

} // namespace hotdesk::policy

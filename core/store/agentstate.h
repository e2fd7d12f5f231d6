// The agent's non-secret state on disk: its enrollments with DAS services and the users who have used this PC.
#pragma once

#include "../result.h"

#include <QJsonObject>
#include <QList>
#include <QString>

#include <optional>

namespace hotdesk::store {

// One enrollment with one DAS (DESIGN flow 3). The private key is not here:
// it is in the OS keychain under keyName.
struct EnrollmentRecord {
    QString dasUrl; // the activation's "iss": the audience of every device token
    QString deviceId;
    QString keyName; // the keychain entry of the device key: "device-key:" + dasUrl
    QString kid; // the RFC 7638 thumbprint of the device key, as the DAS stores it
    qint64 enrolledAt = 0; // seconds since 1970

    friend bool operator==(const EnrollmentRecord &, const EnrollmentRecord &) = default;
};

// The keychain entry that holds the device key of an enrollment with dasUrl.
QString deviceKeyName(const QString &dasUrl);

// Two small JSON files in one directory (docs/agent-enrollment.md):
// enrollments.json and users.json. Each change rewrites its file atomically
// (QSaveFile) with mode 0600 in a 0700 directory, under a lock file so that
// the tray agent and 'hotdesk enroll' do not lose each other's changes. A
// damaged file is reported (ErrorCode::Malformed, naming the file and what to
// do), never repaired behind the user's back, and never crashes the agent.
class AgentState {
public:
    explicit AgentState(QString directory);
    // QStandardPaths::AppDataLocation (~/.local/share/Hotdesk/hotdesk on Linux).
    static QString defaultDirectory();
    const QString &directory() const { return m_dir; }

    Result<QList<EnrollmentRecord>> enrollments() const;
    Result<std::optional<EnrollmentRecord>> enrollment(const QString &dasUrl) const;
    // Adds the record, or replaces the one with the same dasUrl (enrolling again).
    Status saveEnrollment(const EnrollmentRecord &record);
    Status forgetEnrollment(const QString &dasUrl);

    // The shared identifier (the IdP's id) of a user who has used this PC before.
    Result<std::optional<QString>> knownUser(const QString &name) const;
    Status rememberUser(const QString &name, const QString &sharedId);

private:
    QString filePath(const char *name) const;

    QString m_dir;
};

// Replaces path with object, atomically (a temporary file, then a rename) and
// readable by its owner alone (0600 before the first byte). Io on failure.
Status writeStateFile(const QString &path, const QJsonObject &object);

} // namespace hotdesk::store

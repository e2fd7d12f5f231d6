// Device recognition on the DAS (DESIGN flow 4): fingerprints, administrator approval, out-of-band tokens, the events feed.
#pragma once

#include "core/clock.h"
#include "core/das/fingerprint.h"
#include "core/random.h"
#include "dashttp.h"
#include "dasstore.h"

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <chrono>

namespace hotdesk::stubs::das {

inline constexpr std::chrono::seconds kApprovalLifetime {900};
inline constexpr std::chrono::seconds kOobTokenLifetime {600};
inline constexpr int kOobTokenDigits = 8;
// Tokens one user may be sent within kOobRateWindow.
inline constexpr int kOobTokensPerWindow = 3;
inline constexpr std::chrono::seconds kOobRateWindow {600};
// Wrong guesses a token survives; the last of them burns it.
inline constexpr int kOobMaxFailures = 5;
// Events one device may report within kEventRateWindow.
inline constexpr int kDeviceEventsPerWindow = 120;
inline constexpr std::chrono::seconds kEventRateWindow {600};

// A uniformly distributed string of digits (1 to 9 of them) from random:
// 32-bit draws at or above the largest multiple of 10^digits are thrown
// away, so no code is likelier than another.
Result<QString> randomDigits(RandomSource &random, int digits);

// One entry of the administrator's notification feed. source is "device" for
// what a PC reported (POST /v1/events) and "das" for what the DAS decided itself.
struct DasEvent {
    qint64 id = 0;
    qint64 at = 0;
    QString source;
    QString type;
    QString deviceId;
    QString user;
    QString detail;

    QJsonObject toJson() const;
};

Result<qint64> recordEvent(QSqlDatabase &db, const DasEvent &event);
// POST /v1/events: records what a device reports, at most kDeviceEventsPerWindow per device (then 429).
Result<Checked<qint64>> recordDeviceEvent(QSqlDatabase &db, const DasEvent &event);
// Events with an id above since, oldest first, at most limit of them.
Result<QList<DasEvent>> listEvents(QSqlDatabase &db, qint64 since, int limit);

struct ApprovalRequest {
    QString id;
    QString deviceId;
    QString user;
    hotdesk::das::Fingerprint fingerprint;
    QString status; // pending, approved, denied, expired
    qint64 createdAt = 0;
    qint64 expiresAt = 0;
    QString decidedBy;
    // Filled by pendingApprovals: the components that differ from the registered fingerprint.
    QList<hotdesk::das::FingerprintComponent> changed;
};

struct IssuedOobToken {
    QString user;
    QString file; // where the "message" went
    qint64 expiresAt = 0;
    QString message; // the outbox file's text (headers, blank line, body), for --smtp
};

// The rules of flow 4 over the DAS tables. Every call works inside the
// caller's transaction; refusals are final answers that still keep what was
// written before the decision (a counted wrong guess, an event).
class DeviceRecognition {
public:
    DeviceRecognition(const Clock &clock, RandomSource &random, QString outboxDir);

    // POST /v1/2fa-tokens: registers a device's first fingerprint, accepts and
    // stores a drift within the threshold, refuses anything else with 403
    // device-unrecognized (and the pending approval request for exactly this
    // fingerprint, as the member "approval_request"). Every outcome but an
    // identical fingerprint is an event.
    Result<Checked<void>> recognize(
        QSqlDatabase &db, const QString &deviceId, const QString &user, const hotdesk::das::Fingerprint &presented);

    // A pending request for exactly this device, user and fingerprint is
    // answered again (created = false): an agent may restart while it polls.
    Result<Checked<ApprovalRequest>> requestApproval(QSqlDatabase &db, const QString &deviceId, const QString &user,
        const hotdesk::das::Fingerprint &fingerprint, bool &created);
    // The request as a device sees it: unknown, or another device's, is 404.
    Result<Checked<ApprovalRequest>> approvalRequest(QSqlDatabase &db, const QString &deviceId, const QString &id);
    // What waits for a decision, oldest first, each with what changed since the device's registered fingerprint.
    Result<QList<ApprovalRequest>> pendingApprovals(QSqlDatabase &db);
    // An approver's decision. Nobody decides on their own request; approving
    // makes the request's fingerprint the device's registered one.
    Result<Checked<ApprovalRequest>> decide(QSqlDatabase &db, const QString &id, const AdminIdentity &approver, bool approve);

    // Sends user a one-time code for this device (the outbox file), replacing
    // any code sent to them before.
    Result<Checked<IssuedOobToken>> issueOobToken(QSqlDatabase &db, const QString &deviceId, const QString &user);
    // The code sent to user for this device; right, it registers the
    // fingerprint this device last presented with machineId.
    Result<Checked<void>> verifyOobToken(
        QSqlDatabase &db, const QString &deviceId, const QString &user, const QString &token, const QString &machineId);

    // Forgets what a device had pending when it enrolls again with a new key.
    Status forgetPending(QSqlDatabase &db, const QString &deviceId);

private:
    Status event(QSqlDatabase &db, const char *type, const QString &deviceId, const QString &user, const QString &detail);
    // A wrong one-time code: counted (the code burns at kOobMaxFailures) and logged; the refusal that answers it.
    Result<Refusal> wrongOobToken(QSqlDatabase &db, qint64 rowId, int failures, const QString &deviceId, const QString &user);
    QString outboxMessage(const QString &user, const QString &deviceId, const QString &code, qint64 expiresAt) const;
    Result<QString> writeOutbox(const QString &user, const QString &message);

    const Clock &m_clock;
    RandomSource &m_random;
    QString m_outboxDir;
    // Registered fingerprints parsed, by their stored (canonical) text: a
    // device showing its registered fingerprint is then recognized without
    // writing the presented one out as JSON.
    QHash<QString, hotdesk::das::Fingerprint> m_registered;
};

} // namespace hotdesk::stubs::das

// Flow 4 on the DAS: recognition under the drift threshold, approval requests, one-time codes and events.
#include "dasrecognition.h"

#include "core/das/enrollment.h"
#include "core/username.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QStringList>
#include <QUrl>
#include <QtEndian>

namespace hotdesk::stubs::das {
namespace {

QString compact(const QJsonObject &object)
{
    return QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Compact));
}

Result<hotdesk::das::Fingerprint> storedFingerprint(const QString &json)
{
    QJsonParseError error {};
    const QJsonDocument doc = QJsonDocument::fromJson(json.toUtf8(), &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return fail(ErrorCode::Malformed, QStringLiteral("the stored fingerprint is not a JSON object"));
    return hotdesk::das::Fingerprint::fromJson(doc.object());
}

QString componentList(const QList<hotdesk::das::FingerprintComponent> &components)
{
    QStringList names;
    for (hotdesk::das::FingerprintComponent c : components)
        names << hotdesk::das::fingerprintComponentName(c);
    return names.isEmpty() ? QStringLiteral("nothing") : names.join(QStringLiteral(", "));
}

QString isoTime(qint64 secondsSinceEpoch)
{
    return QDateTime::fromSecsSinceEpoch(secondsSinceEpoch, Qt::UTC).toString(Qt::ISODate);
}

QByteArray codeHash(const QByteArray &salt, const QString &code)
{
    return QCryptographicHash::hash(QByteArray(salt + code.toLatin1()), QCryptographicHash::Sha256);
}

// The one who asks does not approve: an approver token of "alice" or
// "alice@corp.example" decides nothing about a request of alice@corp.example.
bool isSamePerson(const QString &subject, const QString &user)
{
    const QString a = subject.trimmed();
    return namesUser(a, user) || namesUser(user, a);
}

Problem unknownApproval(const QString &id)
{
    return problem(HttpStatus::NotFound, "approval-request-unknown", "Unknown approval request",
        QStringLiteral("there is no approval request \"%1\" for this device; check the id").arg(id.left(64)));
}

const char kApprovalColumns[]
    = "SELECT id, device_id, username, fingerprint, status, created_at, expires_at, decided_by FROM das_approval_requests";

Result<ApprovalRequest> approvalFromRow(const QSqlQuery &q, qint64 now)
{
    ApprovalRequest r;
    r.id = q.value(0).toString();
    r.deviceId = q.value(1).toString();
    r.user = q.value(2).toString();
    auto fingerprint = storedFingerprint(q.value(3).toString());
    if (!fingerprint)
        return fail(ErrorCode::Io, QStringLiteral("approval request %1: %2").arg(r.id, fingerprint.error().message));
    r.fingerprint = *fingerprint;
    r.status = q.value(4).toString();
    r.createdAt = q.value(5).toLongLong();
    r.expiresAt = q.value(6).toLongLong();
    r.decidedBy = q.value(7).toString();
    // Expiry is read, not written: no sweeper has to run for a request to expire.
    if (r.status == QLatin1String("pending") && now >= r.expiresAt)
        r.status = QStringLiteral("expired");
    return r;
}

// The fingerprint a confirmed one-time code registers: the device's candidate
// with machineId, or "" when its registered fingerprint has that machine id already.
Result<Checked<QString>> vouchedFingerprint(QSqlDatabase &db, const QString &deviceId, const QString &machineId)
{
    // The code proves the user; the machine id says which fingerprint they vouch for.
    auto device
        = exec(db, QStringLiteral("SELECT fingerprint, candidate_fingerprint FROM das_devices WHERE device_id = ?"), {deviceId});
    if (!device)
        return tl::unexpected(device.error());
    if (!device->next())
        return fail(ErrorCode::Io, QStringLiteral("database: the device %1 vanished during the request").arg(deviceId));
    const QVariant registeredJson = device->value(0);
    const QVariant candidateJson = device->value(1);
    if (!candidateJson.isNull()) {
        if (auto candidate = storedFingerprint(candidateJson.toString()); candidate && candidate->machineId == machineId)
            return Checked<QString>(candidateJson.toString());
    }
    if (!registeredJson.isNull()) {
        if (auto registered = storedFingerprint(registeredJson.toString()); registered && registered->machineId == machineId)
            return Checked<QString>(QString());
    }
    return refuse<QString>(problem(HttpStatus::Conflict, "machine-unknown", "Machine not seen",
        QStringLiteral("this PC never presented the machine id \"%1\"; ask for a 2FA token first so that the DAS sees its "
                       "fingerprint, then enter the code again (it is still valid)")
            .arg(machineId.left(64))));
}

QString askForNewCode()
{
    return QStringLiteral("ask for a new code with POST /v1/oob-tokens");
}

} // namespace

Result<QString> randomDigits(RandomSource &random, int digits)
{
    if (digits < 1 || digits > 9)
        return fail(ErrorCode::Unsupported, QStringLiteral("a code has 1 to 9 digits"));
    quint64 range = 1;
    for (int i = 0; i < digits; ++i)
        range *= 10;
    const quint64 limit = (quint64(1) << 32) / range * range;
    // Each draw is rejected with a probability below 1/2, so 64 failures in a row mean a broken source.
    for (int draw = 0; draw < 64; ++draw) {
        auto bytes = random.bytes(4);
        if (!bytes)
            return tl::unexpected(bytes.error());
        if (bytes->size() != 4)
            return fail(
                ErrorCode::CryptoFailure, QStringLiteral("the random source returned %1 bytes instead of 4").arg(bytes->size()));
        const quint64 value = qFromBigEndian<quint32>(bytes->constData());
        if (value < limit)
            return QStringLiteral("%1").arg(value % range, digits, 10, QLatin1Char('0'));
    }
    return fail(ErrorCode::CryptoFailure, QStringLiteral("the random source keeps returning values out of range"));
}

QJsonObject DasEvent::toJson() const
{
    QJsonObject json {{QStringLiteral("id"), id}, {QStringLiteral("at"), at}, {QStringLiteral("source"), source},
        {QStringLiteral("type"), type}};
    if (!deviceId.isEmpty())
        json.insert(QStringLiteral("device_id"), deviceId);
    if (!user.isEmpty())
        json.insert(QStringLiteral("user"), user);
    if (!detail.isEmpty())
        json.insert(QStringLiteral("detail"), detail);
    return json;
}

Result<qint64> recordEvent(QSqlDatabase &db, const DasEvent &event)
{
    auto null = [](const QString &s) { return s.isEmpty() ? QVariant() : QVariant(s); };
    auto q = exec(db,
        QStringLiteral("INSERT INTO das_events (at, source, type, device_id, username, detail) VALUES (?, ?, ?, ?, ?, ?)"
                       " RETURNING id"),
        {event.at, event.source, event.type, null(event.deviceId), null(event.user), null(event.detail)});
    if (!q)
        return tl::unexpected(q.error());
    // RETURNING rather than lastInsertId(): PostgreSQL's driver has no last insert id for an identity column.
    if (!q->next())
        return fail(ErrorCode::Io, QStringLiteral("database: the new event has no id"));
    return q->value(0).toLongLong();
}

Result<QList<DasEvent>> listEvents(QSqlDatabase &db, qint64 since, int limit)
{
    auto q = exec(db,
        QStringLiteral(
            "SELECT id, at, source, type, device_id, username, detail FROM das_events WHERE id > ? ORDER BY id LIMIT ?"),
        {since, limit});
    if (!q)
        return tl::unexpected(q.error());
    QList<DasEvent> events;
    while (q->next())
        events.append({q->value(0).toLongLong(), q->value(1).toLongLong(), q->value(2).toString(), q->value(3).toString(),
            q->value(4).toString(), q->value(5).toString(), q->value(6).toString()});
    return events;
}

Result<Checked<qint64>> recordDeviceEvent(QSqlDatabase &db, const DasEvent &event)
{
    auto recent = exec(db,
        QStringLiteral("SELECT COUNT(*), MIN(at) FROM das_events WHERE device_id = ? AND source = 'device' AND at > ?"),
        {event.deviceId, event.at - kEventRateWindow.count()});
    if (!recent)
        return tl::unexpected(recent.error());
    // A device reporting in a loop must not drown the administrator's feed or fill the disk.
    if (recent->next() && recent->value(0).toInt() >= kDeviceEventsPerWindow) {
        Refusal refusal(problem(HttpStatus::TooManyRequests, "rate-limited", "Too many events",
            QStringLiteral("this device reported %1 events in the last %2 minutes; report fewer, or summarise them")
                .arg(kDeviceEventsPerWindow)
                .arg(kEventRateWindow.count() / 60)));
        refusal.retryAfter = recent->value(1).toLongLong() + kEventRateWindow.count() - event.at;
        return refuse<qint64>(refusal);
    }
    auto id = recordEvent(db, event);
    if (!id)
        return tl::unexpected(id.error());
    return Checked<qint64>(*id);
}

DeviceRecognition::DeviceRecognition(const Clock &clock, RandomSource &random, QString outboxDir)
    : m_clock(clock)
    , m_random(random)
    , m_outboxDir(std::move(outboxDir))
{
}

Status DeviceRecognition::event(
    QSqlDatabase &db, const char *type, const QString &deviceId, const QString &user, const QString &detail)
{
    auto id = recordEvent(
        db, DasEvent {0, m_clock.secondsSinceEpoch(), QStringLiteral("das"), QLatin1String(type), deviceId, user, detail});
    if (!id)
        return tl::unexpected(id.error());
    return {};
}

Result<Checked<void>> DeviceRecognition::recognize(
    QSqlDatabase &db, const QString &deviceId, const QString &user, const hotdesk::das::Fingerprint &presented)
{
    const qint64 now = m_clock.secondsSinceEpoch();
    auto q = exec(db, QStringLiteral("SELECT fingerprint FROM das_devices WHERE device_id = ?"), {deviceId});
    if (!q)
        return tl::unexpected(q.error());
    if (!q->next())
        return fail(ErrorCode::Io, QStringLiteral("database: the device %1 vanished during the request").arg(deviceId));
    const QVariant stored = q->value(0);
    // The common case: the registered fingerprint again.
    if (!stored.isNull()) {
        const QString storedText = stored.toString();
        auto known = m_registered.constFind(storedText);
        if (known == m_registered.cend()) {
            if (auto parsed = storedFingerprint(storedText)) {
                // Bounded: parsing one again costs little, an unbounded cache costs memory.
                if (m_registered.size() >= 10000)
                    m_registered.clear();
                known = m_registered.insert(storedText, *parsed);
            }
        }
        if (known != m_registered.cend() && *known == presented)
            return Checked<void>();
    }
    const QString presentedJson = compact(presented.toJson());
    auto store = [&](const char *eventType, const QString &detail) -> Result<Checked<void>> {
        auto r = exec(db,
            QStringLiteral("UPDATE das_devices SET fingerprint = ?, fingerprint_at = ?, candidate_fingerprint = NULL,"
                           " candidate_at = NULL WHERE device_id = ?"),
            {presentedJson, now, deviceId});
        if (!r)
            return tl::unexpected(r.error());
        if (auto ok = event(db, eventType, deviceId, user, detail); !ok)
            return tl::unexpected(ok.error());
        return Checked<void>();
    };
    // The first fingerprint a device shows after enrolling is the one it is known by.
    if (stored.isNull())
        return store(
            "fingerprint_registered", QStringLiteral("first fingerprint of this device, machine id %1").arg(presented.machineId));
    // Both sides are canonical, so the same text is the same fingerprint.
    if (stored.toString() == presentedJson)
        return Checked<void>();

    auto threshold = driftThreshold(db);
    if (!threshold)
        return tl::unexpected(threshold.error());
    auto registered = storedFingerprint(stored.toString());
    QString changes;
    hotdesk::das::FingerprintVerdict verdict = hotdesk::das::FingerprintVerdict::Unrecognized;
    if (registered) {
        verdict = hotdesk::das::recognize(*registered, presented, *threshold);
        changes = QStringLiteral("changed: %1 (drift threshold %2)")
                      .arg(componentList(hotdesk::das::changedComponents(*registered, presented)))
                      .arg(*threshold);
    } else {
        // Fail closed: an administrator can approve the PC again.
        changes = QStringLiteral("the registered fingerprint is unreadable (%1)").arg(registered.error().message);
    }
    switch (verdict) {
    case hotdesk::das::FingerprintVerdict::Identical:
        return Checked<void>();
    case hotdesk::das::FingerprintVerdict::Drifted:
        return store("fingerprint_drift_accepted", changes);
    case hotdesk::das::FingerprintVerdict::Unrecognized:
        break;
    }

    if (auto r
        = exec(db, QStringLiteral("UPDATE das_devices SET candidate_fingerprint = ?, candidate_at = ? WHERE device_id = ?"),
            {presentedJson, now, deviceId});
        !r)
        return tl::unexpected(r.error());
    if (auto ok = event(db, "device_unrecognized", deviceId, user, changes); !ok)
        return tl::unexpected(ok.error());
    auto pending = exec(db,
        QStringLiteral("SELECT id FROM das_approval_requests WHERE device_id = ? AND status = 'pending' AND expires_at > ?"
                       " AND fingerprint = ? ORDER BY created_at DESC LIMIT 1"),
        {deviceId, now, presentedJson});
    if (!pending)
        return tl::unexpected(pending.error());
    // Which components changed stays in the event for the administrator: told
    // to the device, it would guide someone imitating this PC.
    if (pending->next()) {
        const QString id = pending->value(0).toString();
        Refusal refusal(problem(HttpStatus::Forbidden, "device-unrecognized", "Device not recognized",
            QStringLiteral(
                "this PC differs from the one registered; approval request %1 awaits an administrator's decision: poll "
                "GET /v1/devices/%2/approval-requests/%1")
                .arg(id, deviceId)));
        refusal.members.insert(QStringLiteral("approval_request"), id);
        return refuse<void>(refusal);
    }
    return refuse<void>(problem(HttpStatus::Forbidden, "device-unrecognized", "Device not recognized",
        QStringLiteral(
            "this PC differs from the one registered; ask an administrator to approve it (POST "
            "/v1/devices/%1/approval-requests) or confirm it with a one-time code sent to the user (POST /v1/oob-tokens)")
            .arg(deviceId)));
}

Result<Checked<ApprovalRequest>> DeviceRecognition::requestApproval(
    QSqlDatabase &db, const QString &deviceId, const QString &user, const hotdesk::das::Fingerprint &fingerprint, bool &created)
{
    created = false;
    const qint64 now = m_clock.secondsSinceEpoch();
    const QString json = compact(fingerprint.toJson());
    // Asking again for the same thing (an agent restarted while it polled) gets the same request.
    auto q = exec(db,
        QString::fromLatin1(kApprovalColumns)
            + QStringLiteral(" WHERE device_id = ? AND username = ? AND fingerprint = ? AND status = 'pending' AND expires_at > ?"
                             " ORDER BY created_at DESC LIMIT 1"),
        {deviceId, user, json, now});
    if (!q)
        return tl::unexpected(q.error());
    if (q->next()) {
        auto existing = approvalFromRow(*q, now);
        if (!existing)
            return tl::unexpected(existing.error());
        return Checked<ApprovalRequest>(*existing);
    }
    constexpr int kMaxPending = 5;
    auto open = exec(db,
        QStringLiteral("SELECT COUNT(*), MIN(expires_at) FROM das_approval_requests WHERE device_id = ? AND status = 'pending'"
                       " AND expires_at > ?"),
        {deviceId, now});
    if (!open)
        return tl::unexpected(open.error());
    if (open->next() && open->value(0).toInt() >= kMaxPending) {
        Refusal refusal(problem(HttpStatus::TooManyRequests, "too-many-approval-requests", "Too many approval requests",
            QStringLiteral("this device has %1 approval requests waiting; wait for a decision or for one to expire")
                .arg(kMaxPending)));
        refusal.retryAfter = open->value(1).toLongLong() - now;
        return refuse<ApprovalRequest>(refusal);
    }
    auto id = randomUrlSafeString(m_random, 16);
    if (!id)
        return tl::unexpected(id.error());
    ApprovalRequest request;
    // A prefix, so that an id never starts with '-' and reads as an option on
    // the command line of "hotdesk-stubs admin approve ID".
    request.id = QStringLiteral("apr_") + QString::fromLatin1(*id);
    request.deviceId = deviceId;
    request.user = user;
    request.fingerprint = fingerprint;
    request.status = QStringLiteral("pending");
    request.createdAt = now;
    request.expiresAt = now + kApprovalLifetime.count();
    if (auto r = exec(db,
            QStringLiteral(
                "INSERT INTO das_approval_requests (id, device_id, username, fingerprint, status, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, 'pending', ?, ?)"),
            {request.id, deviceId, user, json, now, request.expiresAt});
        !r)
        return tl::unexpected(r.error());
    QString changes;
    auto registered = exec(db, QStringLiteral("SELECT fingerprint FROM das_devices WHERE device_id = ?"), {deviceId});
    if (!registered)
        return tl::unexpected(registered.error());
    if (registered->next() && !registered->value(0).isNull()) {
        if (auto before = storedFingerprint(registered->value(0).toString()))
            changes = QStringLiteral("; changed: %1").arg(componentList(hotdesk::das::changedComponents(*before, fingerprint)));
    }
    if (auto ok = event(db, "approval_requested", deviceId, user, QStringLiteral("request %1%2").arg(request.id, changes)); !ok)
        return tl::unexpected(ok.error());
    created = true;
    return Checked<ApprovalRequest>(request);
}

Result<Checked<ApprovalRequest>> DeviceRecognition::approvalRequest(QSqlDatabase &db, const QString &deviceId, const QString &id)
{
    auto q = exec(db, QString::fromLatin1(kApprovalColumns) + QStringLiteral(" WHERE id = ? AND device_id = ?"), {id, deviceId});
    if (!q)
        return tl::unexpected(q.error());
    if (!q->next())
        return refuse<ApprovalRequest>(unknownApproval(id));
    auto request = approvalFromRow(*q, m_clock.secondsSinceEpoch());
    if (!request)
        return tl::unexpected(request.error());
    return Checked<ApprovalRequest>(*request);
}

Result<QList<ApprovalRequest>> DeviceRecognition::pendingApprovals(QSqlDatabase &db)
{
    const qint64 now = m_clock.secondsSinceEpoch();
    auto q = exec(db,
        QString::fromLatin1(kApprovalColumns)
            + QStringLiteral(" WHERE status = 'pending' AND expires_at > ? ORDER BY created_at"),
        {now});
    if (!q)
        return tl::unexpected(q.error());
    QList<ApprovalRequest> requests;
    while (q->next()) {
        auto request = approvalFromRow(*q, now);
        if (!request)
            return tl::unexpected(request.error());
        requests.append(*request);
    }
    for (ApprovalRequest &request : requests) {
        auto device = exec(db, QStringLiteral("SELECT fingerprint FROM das_devices WHERE device_id = ?"), {request.deviceId});
        if (!device)
            return tl::unexpected(device.error());
        // A device without a registered fingerprint, or an unreadable one: everything is new.
        hotdesk::das::Fingerprint registered;
        if (device->next() && !device->value(0).isNull()) {
            if (auto stored = storedFingerprint(device->value(0).toString()))
                registered = *stored;
        }
        request.changed = hotdesk::das::changedComponents(registered, request.fingerprint);
    }
    return requests;
}

Result<Checked<ApprovalRequest>> DeviceRecognition::decide(
    QSqlDatabase &db, const QString &id, const AdminIdentity &approver, bool approve)
{
    const qint64 now = m_clock.secondsSinceEpoch();
    auto q = exec(db, QString::fromLatin1(kApprovalColumns) + QStringLiteral(" WHERE id = ?"), {id});
    if (!q)
        return tl::unexpected(q.error());
    if (!q->next())
        return refuse<ApprovalRequest>(unknownApproval(id));
    auto request = approvalFromRow(*q, now);
    if (!request)
        return tl::unexpected(request.error());
    const QString who = QStringLiteral("%1 (%2)").arg(approver.subject, adminRoleName(approver.role));
    if (isSamePerson(approver.subject, request->user)) {
        if (auto ok = event(db, "self_approval_refused", request->deviceId, request->user,
                QStringLiteral("request %1 by %2").arg(request->id, who));
            !ok)
            return tl::unexpected(ok.error());
        return refuse<ApprovalRequest>(problem(HttpStatus::Forbidden, "self-approval", "Self-approval refused",
            QStringLiteral("%1 asked for this approval and cannot decide on it; another approver or administrator must")
                .arg(request->user)));
    }
    if (request->status == QLatin1String("expired"))
        return refuse<ApprovalRequest>(problem(HttpStatus::Gone, "approval-expired", "Approval request expired",
            QStringLiteral("request %1 expired at %2; the PC must ask again").arg(request->id, isoTime(request->expiresAt))));
    if (request->status != QLatin1String("pending"))
        return refuse<ApprovalRequest>(problem(HttpStatus::Conflict, "approval-already-decided", "Approval already decided",
            QStringLiteral("request %1 was %2 by %3").arg(request->id, request->status, request->decidedBy)));

    request->status = approve ? QStringLiteral("approved") : QStringLiteral("denied");
    request->decidedBy = who;
    auto decided = execClaim(db,
        QStringLiteral(
            "UPDATE das_approval_requests SET status = ?, decided_at = ?, decided_by = ? WHERE id = ? AND status = 'pending'"),
        {request->status, now, who, request->id});
    if (!decided)
        return tl::unexpected(decided.error());
    if (!*decided)
        return refuse<ApprovalRequest>(problem(HttpStatus::Conflict, "approval-already-decided", "Approval already decided",
            QStringLiteral("request %1 was decided by someone else at the same moment").arg(request->id)));
    if (approve) {
        if (auto r = exec(db,
                QStringLiteral("UPDATE das_devices SET fingerprint = ?, fingerprint_at = ?, candidate_fingerprint = NULL,"
                               " candidate_at = NULL WHERE device_id = ?"),
                {compact(request->fingerprint.toJson()), now, request->deviceId});
            !r)
            return tl::unexpected(r.error());
    }
    if (auto ok = event(db, approve ? "approval_granted" : "approval_denied", request->deviceId, request->user,
            QStringLiteral("request %1 by %2").arg(request->id, who));
        !ok)
        return tl::unexpected(ok.error());
    return Checked<ApprovalRequest>(*request);
}

Result<Checked<IssuedOobToken>> DeviceRecognition::issueOobToken(QSqlDatabase &db, const QString &deviceId, const QString &user)
{
    // Two DAS processes asked at once for this user count one after the other.
    if (auto ordered = serializeFor(db, QStringLiteral("oob-tokens:") + user); !ordered)
        return tl::unexpected(ordered.error());
    const qint64 now = m_clock.secondsSinceEpoch();
    auto recent
        = exec(db, QStringLiteral("SELECT COUNT(*), MIN(created_at) FROM das_oob_tokens WHERE username = ? AND created_at > ?"),
            {user, now - kOobRateWindow.count()});
    if (!recent)
        return tl::unexpected(recent.error());
    if (recent->next() && recent->value(0).toInt() >= kOobTokensPerWindow) {
        const qint64 retryAfter = recent->value(1).toLongLong() + kOobRateWindow.count() - now;
        if (auto ok = event(db, "oob_token_rate_limited", deviceId, user,
                QStringLiteral("%1 codes within %2 s already").arg(kOobTokensPerWindow).arg(kOobRateWindow.count()));
            !ok)
            return tl::unexpected(ok.error());
        Refusal refusal(problem(HttpStatus::TooManyRequests, "rate-limited", "Too many one-time codes",
            QStringLiteral("%1 was sent %2 codes in the last %3 minutes; use the newest one or try again in %4 s")
                .arg(user)
                .arg(kOobTokensPerWindow)
                .arg(kOobRateWindow.count() / 60)
                .arg(retryAfter)));
        refusal.retryAfter = retryAfter;
        return refuse<IssuedOobToken>(refusal);
    }
    // Only the newest code counts: an older one still in someone's outbox is worthless.
    if (auto r = exec(
            db, QStringLiteral("UPDATE das_oob_tokens SET status = 'superseded' WHERE username = ? AND status = 'live'"), {user});
        !r)
        return tl::unexpected(r.error());
    auto code = randomDigits(m_random, kOobTokenDigits);
    if (!code)
        return tl::unexpected(code.error());
    auto salt = m_random.bytes(16);
    if (!salt)
        return tl::unexpected(salt.error());
    const qint64 expiresAt = now + kOobTokenLifetime.count();
    if (auto r = exec(db,
            QStringLiteral("INSERT INTO das_oob_tokens (username, device_id, salt, token_hash, status, created_at, expires_at)"
                           " VALUES (?, ?, ?, ?, 'live', ?, ?)"),
            {user, deviceId, *salt, codeHash(*salt, *code), now, expiresAt});
        !r)
        return tl::unexpected(r.error());
    // Written last: a failure rolls the stored hash back with it.
    const QString message = outboxMessage(user, deviceId, *code, expiresAt);
    auto file = writeOutbox(user, message);
    if (!file)
        return tl::unexpected(file.error());
    if (auto ok = event(
            db, "oob_token_issued", deviceId, user, QStringLiteral("one-time code sent, valid until %1").arg(isoTime(expiresAt)));
        !ok)
        return tl::unexpected(ok.error());
    return Checked<IssuedOobToken>(IssuedOobToken {user, *file, expiresAt, message});
}

Result<Checked<void>> DeviceRecognition::verifyOobToken(
    QSqlDatabase &db, const QString &deviceId, const QString &user, const QString &token, const QString &machineId)
{
    const qint64 now = m_clock.secondsSinceEpoch();
    auto q = exec(db,
        QStringLiteral("SELECT id, salt, token_hash, status, failures, expires_at FROM das_oob_tokens"
                       " WHERE username = ? AND device_id = ? ORDER BY id DESC LIMIT 1"),
        {user, deviceId});
    if (!q)
        return tl::unexpected(q.error());
    if (!q->next())
        return refuse<void>(problem(HttpStatus::Forbidden, "oob-token-invalid", "Wrong one-time code",
            QStringLiteral("no one-time code was sent to %1 for this PC; ask for one with POST /v1/oob-tokens").arg(user)));
    const qint64 rowId = q->value(0).toLongLong();
    const QByteArray salt = q->value(1).toByteArray();
    const QByteArray expected = q->value(2).toByteArray();
    const QString status = q->value(3).toString();
    const int failures = q->value(4).toInt();
    const qint64 expiresAt = q->value(5).toLongLong();
    const QString askAgain = askForNewCode();
    if (status == QLatin1String("used"))
        return refuse<void>(problem(HttpStatus::Gone, "oob-token-used", "One-time code already used",
            QStringLiteral("the newest code sent to %1 for this PC has been used; %2").arg(user, askAgain)));
    if (status == QLatin1String("burnt"))
        return refuse<void>(problem(HttpStatus::Gone, "oob-token-burnt", "One-time code locked",
            QStringLiteral("the code was entered wrongly %1 times and no longer works; %2").arg(kOobMaxFailures).arg(askAgain)));
    if (status == QLatin1String("superseded"))
        return refuse<void>(problem(HttpStatus::Gone, "oob-token-superseded", "One-time code replaced",
            QStringLiteral("a newer code was sent to %1 for another PC; %2").arg(user, askAgain)));
    if (now >= expiresAt)
        return refuse<void>(problem(HttpStatus::Gone, "oob-token-expired", "One-time code expired",
            QStringLiteral("the code expired at %1; %2").arg(isoTime(expiresAt), askAgain)));

    if (!hotdesk::das::compareMac(expected, codeHash(salt, token))) {
        auto refusal = wrongOobToken(db, rowId, failures, deviceId, user);
        if (!refusal)
            return tl::unexpected(refusal.error());
        return refuse<void>(std::move(*refusal));
    }

    auto registerJson = vouchedFingerprint(db, deviceId, machineId);
    if (!registerJson)
        return tl::unexpected(registerJson.error());
    if (!*registerJson)
        return refuse<void>(registerJson->error());
    const bool alreadyRegistered = registerJson->value().isEmpty();

    // Spent only if still live: the same code verified at the same moment elsewhere wins once.
    auto spent = execClaim(db,
        QStringLiteral("UPDATE das_oob_tokens SET status = 'used', used_at = ? WHERE id = ? AND status = 'live'"), {now, rowId});
    if (!spent)
        return tl::unexpected(spent.error());
    if (!*spent)
        return refuse<void>(problem(HttpStatus::Gone, "oob-token-used", "One-time code already used",
            QStringLiteral("the newest code sent to %1 for this PC has been used; %2").arg(user, askAgain)));
    if (!alreadyRegistered) {
        if (auto r = exec(db,
                QStringLiteral("UPDATE das_devices SET fingerprint = ?, fingerprint_at = ?, candidate_fingerprint = NULL,"
                               " candidate_at = NULL WHERE device_id = ?"),
                {registerJson->value(), now, deviceId});
            !r)
            return tl::unexpected(r.error());
    }
    if (auto ok = event(db, "device_registered", deviceId, user,
            alreadyRegistered ? QStringLiteral("one-time code confirmed; machine id %1 was registered already").arg(machineId)
                              : QStringLiteral("by one-time code; machine id %1").arg(machineId));
        !ok)
        return tl::unexpected(ok.error());
    return Checked<void>();
}

Result<Refusal> DeviceRecognition::wrongOobToken(
    QSqlDatabase &db, qint64 rowId, int failures, const QString &deviceId, const QString &user)
{
    const int total = failures + 1;
    const bool burnt = total >= kOobMaxFailures;
    // Counted in the statement, so wrong codes sent at once to several DAS processes all count.
    if (auto r = exec(db,
            QStringLiteral("UPDATE das_oob_tokens SET failures = failures + 1,"
                           " status = CASE WHEN failures + 1 >= ? THEN 'burnt' ELSE status END WHERE id = ? AND status = 'live'"),
            {kOobMaxFailures, rowId});
        !r)
        return tl::unexpected(r.error());
    if (auto ok = event(db, burnt ? "oob_token_burnt" : "oob_token_failed", deviceId, user,
            QStringLiteral("wrong one-time code, %1 of %2").arg(total).arg(kOobMaxFailures));
        !ok)
        return tl::unexpected(ok.error());
    Refusal refusal(problem(HttpStatus::Forbidden, "oob-token-invalid", "Wrong one-time code",
        burnt ? QStringLiteral("wrong code; it was the last try and the code no longer works; %1").arg(askForNewCode())
              : QStringLiteral("wrong code; %1 more wrong tries lock it").arg(kOobMaxFailures - total)));
    refusal.members.insert(QStringLiteral("attempts_left"), kOobMaxFailures - total);
    return refusal;
}

Status DeviceRecognition::forgetPending(QSqlDatabase &db, const QString &deviceId)
{
    const qint64 now = m_clock.secondsSinceEpoch();
    if (auto r = exec(db,
            QStringLiteral("UPDATE das_approval_requests SET expires_at = CASE WHEN expires_at > ? THEN ? ELSE expires_at END"
                           " WHERE device_id = ? AND status = 'pending'"),
            {now, now, deviceId});
        !r)
        return tl::unexpected(r.error());
    if (auto r
        = exec(db, QStringLiteral("UPDATE das_oob_tokens SET status = 'superseded' WHERE device_id = ? AND status = 'live'"),
            {deviceId});
        !r)
        return tl::unexpected(r.error());
    return {};
}

QString DeviceRecognition::outboxMessage(
    const QString &user, const QString &deviceId, const QString &code, qint64 expiresAt) const
{
    const qint64 now = m_clock.secondsSinceEpoch();
    return QStringLiteral("To: %1\n"
                          "Subject: Your Hotdesk one-time code\n"
                          "Date: %2\n"
                          "\n"
                          "A PC asked to be registered for you: device \"%3\".\n"
                          "Code: %4\n"
                          "It works once, until %5.\n"
                          "If you did not ask for it, do not pass it on and tell your administrator.\n")
        .arg(user, QDateTime::fromSecsSinceEpoch(now, Qt::UTC).toString(Qt::RFC2822Date), deviceId, code, isoTime(expiresAt));
}

Result<QString> DeviceRecognition::writeOutbox(const QString &user, const QString &body)
{
    if (!QDir().mkpath(m_outboxDir))
        return fail(ErrorCode::Io, QStringLiteral("cannot create the outbox %1").arg(m_outboxDir));
    const qint64 now = m_clock.secondsSinceEpoch();
    // The user name may hold '/' and the like: percent-encode all but the usual mailbox characters.
    const QString stem = QString::fromLatin1(QUrl::toPercentEncoding(user, "@.-_+")) + QLatin1Char('-')
        + QDateTime::fromSecsSinceEpoch(now, Qt::UTC).toString(QStringLiteral("yyyyMMdd'T'HHmmss'Z'"));
    // Several codes may go out within one second: the first free name wins, never overwriting another message.
    for (int n = 1; n <= 100; ++n) {
        const QString path
            = QDir(m_outboxDir).filePath((n == 1 ? stem : stem + QLatin1Char('-') + QString::number(n)) + QStringLiteral(".txt"));
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly | QIODevice::NewOnly, QFileDevice::ReadOwner | QFileDevice::WriteOwner)) {
            if (file.exists())
                continue;
            return fail(ErrorCode::Io, QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
        }
        const QByteArray bytes = body.toUtf8();
        if (file.write(bytes) != bytes.size() || !file.flush()) {
            file.remove();
            return fail(ErrorCode::Io, QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
        }
        return path;
    }
    return fail(
        ErrorCode::Io, QStringLiteral("the outbox %1 has too many messages for %2 in this second").arg(m_outboxDir, user));
}

} // namespace hotdesk::stubs::das

// The DAS's device recognition endpoints (flow 4): approval requests, their administrators' decisions, one-time codes.
#include "dasservice.h"
#include "dasservice_p.h"

#include <QJsonArray>
#include <QRegularExpression>

namespace hotdesk::stubs::das {
namespace {

// The "user" of a body, in canonical form; 404 user-unknown unless this DAS knows them.
Result<Checked<QString>> knownUser(QSqlDatabase &db, const QJsonObject &body)
{
    auto user = requireString(body, "user", 512);
    if (!user)
        return refuse<QString>(problemFor(user.error()));
    auto name = checkedUserName(*user);
    if (!name)
        return refuse<QString>(problemFor(name.error()));
    auto known = findUser(db, *name);
    if (!known)
        return tl::unexpected(known.error());
    if (!*known)
        return refuse<QString>(problem(HttpStatus::NotFound, "user-unknown", "Unknown user",
            QStringLiteral("this DAS knows no user \"%1\"; register the user first (POST /v1/users)").arg(*name)));
    return Checked<QString>(*name);
}

// A device speaks only for itself: the id in the path must be the one its token names.
QJsonObject approvalBody(const ApprovalRequest &request, qint64 now)
{
    QJsonObject body {{QStringLiteral("id"), request.id}, {QStringLiteral("status"), request.status},
        {QStringLiteral("device_id"), request.deviceId}, {QStringLiteral("user"), request.user},
        {QStringLiteral("created_at"), request.createdAt}, {QStringLiteral("expires_at"), request.expiresAt}};
    if (request.status == QLatin1String("pending"))
        body.insert(QStringLiteral("expires_in"), qMax<qint64>(0, request.expiresAt - now));
    return body;
}

} // namespace

QHttpServerResponse DasService::requestApproval(const QString &deviceId, const QHttpServerRequest &request)
{
    bool created = false;
    auto done = inTransaction<ApprovalRequest>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<ApprovalRequest>> {
        auto device = authenticateDevice(db, request, deviceId);
        if (!device || !*device)
            return passOn<ApprovalRequest>(device);
        auto body = jsonBody(request);
        if (!body)
            return refuse<ApprovalRequest>(problemFor(body.error()));
        auto fingerprint = fingerprintField(*body);
        if (!fingerprint)
            return refuse<ApprovalRequest>(fingerprint.error());
        auto user = knownUser(db, *body);
        if (!user)
            return tl::unexpected(user.error());
        if (!*user)
            return refuse<ApprovalRequest>(user->error());
        return m_recognition.requestApproval(db, deviceId, **user, *fingerprint, created);
    });
    if (!done)
        return answer(done.error());
    return jsonResponse(
        approvalBody(*done, m_context.clock->secondsSinceEpoch()), created ? HttpStatus::Created : HttpStatus::Ok);
}

QHttpServerResponse DasService::approvalStatus(const QString &deviceId, const QString &id, const QHttpServerRequest &request)
{
    auto done = inTransaction<ApprovalRequest>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<ApprovalRequest>> {
        auto device = authenticateDevice(db, request, deviceId);
        if (!device || !*device)
            return passOn<ApprovalRequest>(device);
        return m_recognition.approvalRequest(db, deviceId, id);
    });
    if (!done)
        return answer(done.error());
    return jsonResponse(approvalBody(*done, m_context.clock->secondsSinceEpoch()));
}

QHttpServerResponse DasService::adminApprovals(const QHttpServerRequest &request)
{
    auto done = inTransaction<QList<ApprovalRequest>>(
        *m_context.store, [&](QSqlDatabase &db) -> Result<Checked<QList<ApprovalRequest>>> {
            auto admin = authenticateAdmin(db, request, AdminRole::Approver);
            if (!admin)
                return tl::unexpected(admin.error());
            if (!*admin)
                return refuse<QList<ApprovalRequest>>(admin->error());
            auto pending = m_recognition.pendingApprovals(db);
            if (!pending)
                return tl::unexpected(pending.error());
            return Checked<QList<ApprovalRequest>>(*pending);
        });
    if (!done)
        return answer(done.error());
    const qint64 now = m_context.clock->secondsSinceEpoch();
    QJsonArray list;
    for (const ApprovalRequest &pending : *done) {
        QJsonObject entry = approvalBody(pending, now);
        QJsonArray changed;
        for (hotdesk::das::FingerprintComponent c : pending.changed)
            changed.append(hotdesk::das::fingerprintComponentName(c));
        entry.insert(QStringLiteral("fingerprint"), pending.fingerprint.toJson());
        entry.insert(QStringLiteral("changed"), changed);
        list.append(entry);
    }
    return jsonResponse({{QStringLiteral("approval_requests"), list}});
}

QHttpServerResponse DasService::adminDecision(const QString &id, const QHttpServerRequest &request)
{
    auto done = inTransaction<ApprovalRequest>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<ApprovalRequest>> {
        auto admin = authenticateAdmin(db, request, AdminRole::Approver);
        if (!admin)
            return tl::unexpected(admin.error());
        if (!*admin)
            return refuse<ApprovalRequest>(admin->error());
        auto body = jsonBody(request);
        if (!body)
            return refuse<ApprovalRequest>(problemFor(body.error()));
        auto decision = requireString(*body, "decision", 16);
        if (!decision || (*decision != QLatin1String("approve") && *decision != QLatin1String("deny")))
            return refuse<ApprovalRequest>(problem(HttpStatus::BadRequest, "malformed-request", "Malformed request",
                QStringLiteral("\"decision\" must be \"approve\" or \"deny\"")));
        return m_recognition.decide(db, id, **admin, *decision == QLatin1String("approve"));
    });
    if (!done)
        return answer(done.error());
    QJsonObject body = approvalBody(*done, m_context.clock->secondsSinceEpoch());
    body.insert(QStringLiteral("decided_by"), done->decidedBy);
    return jsonResponse(body);
}

void DasService::mailOobToken(const IssuedOobToken &issued)
{
    // The DAS keeps no mail address: a user named user@domain (the AD user
    // principal name, as the agent reports it) is mailed there, when the domain
    // looks like a mail domain; a bare "user" or "user@CORP" has only the outbox.
    const QString domain = issued.user.section(QLatin1Char('@'), 1);
    if (!issued.user.contains(QLatin1Char('@')) || !domain.contains(QLatin1Char('.'))) {
        qWarning("das: one-time code for %s not mailed: the user name is not a mail address (it is in the outbox)",
            qPrintable(issued.user));
        return;
    }
    m_mailer->send(issued.user, issued.message);
}

QHttpServerResponse DasService::issueOobToken(const QHttpServerRequest &request)
{
    auto done = inTransaction<IssuedOobToken>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<IssuedOobToken>> {
        auto checked = deviceRequest(db, request);
        if (!checked || !*checked)
            return passOn<IssuedOobToken>(checked);
        const DeviceRequest &sent = **checked;
        auto user = knownUser(db, sent.body);
        if (!user)
            return tl::unexpected(user.error());
        if (!*user)
            return refuse<IssuedOobToken>(user->error());
        return m_recognition.issueOobToken(db, sent.device, **user);
    });
    if (!done)
        return answer(done.error());
    // Mailed after the commit: a code that was rolled back must never reach anyone.
    if (m_mailer)
        mailOobToken(*done);
    // 202: the code is on its way to the user, through a channel the PC does not see.
    const qint64 now = m_context.clock->secondsSinceEpoch();
    return jsonResponse(
        {{QStringLiteral("user"), done->user}, {QStringLiteral("digits"), kOobTokenDigits},
            {QStringLiteral("expires_at"), done->expiresAt}, {QStringLiteral("expires_in"), done->expiresAt - now}},
        HttpStatus::Accepted);
}

QHttpServerResponse DasService::verifyOobToken(const QHttpServerRequest &request)
{
    struct Verified {
        QString deviceId;
        QString user;
    };
    auto done = inTransaction<Verified>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<Verified>> {
        auto checked = deviceRequest(db, request);
        if (!checked || !*checked)
            return passOn<Verified>(checked);
        const DeviceRequest &sent = **checked;
        auto token = requireString(sent.body, "token", 32);
        auto machineId = requireString(sent.body, "machine_id", 256);
        for (const auto *field : {&token, &machineId}) {
            if (!*field)
                return refuse<Verified>(problemFor(field->error()));
        }
        // People type codes with spaces or dashes ("1234 5678").
        QString code = *token;
        code.remove(QLatin1Char(' ')).remove(QLatin1Char('-'));
        static const QRegularExpression codeShape(QStringLiteral("^[0-9]{6,8}$"));
        if (!codeShape.match(code).hasMatch())
            return refuse<Verified>(problem(HttpStatus::BadRequest, "malformed-request", "Malformed request",
                QStringLiteral("\"token\" is the code of 6 to 8 digits sent to the user")));
        if (!hotdesk::das::isValidMachineId(*machineId))
            return refuse<Verified>(problem(HttpStatus::BadRequest, "malformed-request", "Malformed request",
                QStringLiteral("\"machine_id\" is this PC's machine id as in its fingerprint")));
        auto user = knownUser(db, sent.body);
        if (!user)
            return tl::unexpected(user.error());
        if (!*user)
            return refuse<Verified>(user->error());
        auto verified = m_recognition.verifyOobToken(db, sent.device, **user, code, *machineId);
        if (!verified)
            return tl::unexpected(verified.error());
        if (!*verified)
            return refuse<Verified>(verified->error());
        return Checked<Verified>(Verified {sent.device, **user});
    });
    if (!done)
        return answer(done.error());
    return jsonResponse({{QStringLiteral("registered"), true}, {QStringLiteral("device_id"), done->deviceId},
        {QStringLiteral("user"), done->user}});
}

} // namespace hotdesk::stubs::das

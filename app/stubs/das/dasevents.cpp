// The DAS's event log: what devices report (POST /v1/events) and what administrators read (GET /v1/admin/events).
#include "dasservice.h"
#include "dasservice_p.h"

#include <QJsonArray>
#include <QRegularExpression>
#include <QUrlQuery>

#include <limits>

namespace hotdesk::stubs::das {
namespace {

// A non-negative integer query parameter, or fallback when absent.
Checked<qint64> queryNumber(const QUrlQuery &query, const QString &name, qint64 fallback, qint64 max)
{
    if (!query.hasQueryItem(name))
        return fallback;
    bool ok = false;
    const qint64 value = query.queryItemValue(name, QUrl::FullyDecoded).toLongLong(&ok);
    if (!ok || value < 0 || value > max)
        return tl::unexpected(problem(HttpStatus::BadRequest, "malformed-request", "Malformed request",
            QStringLiteral("the query parameter \"%1\" must be a whole number from 0 to %2").arg(name).arg(max)));
    return value;
}

} // namespace

QHttpServerResponse DasService::reportEvent(const QHttpServerRequest &request)
{
    auto done = inTransaction<qint64>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<qint64>> {
        auto checked = deviceRequest(db, request);
        if (!checked || !*checked)
            return passOn<qint64>(checked);
        const DeviceRequest &sent = **checked;
        auto type = requireString(sent.body, "type", 64);
        auto user = optionalString(sent.body, "user", 512);
        auto detail = optionalString(sent.body, "detail", 2048);
        for (const auto *field : {&type, &user, &detail}) {
            if (!*field)
                return refuse<qint64>(problemFor(field->error()));
        }
        // Open-ended, so that a newer agent reports new kinds; a slug, so that feeds can filter on it.
        static const QRegularExpression typeShape(QStringLiteral("^[a-z][a-z0-9_]{0,63}$"));
        if (!typeShape.match(*type).hasMatch())
            return refuse<qint64>(problem(HttpStatus::BadRequest, "malformed-request", "Malformed request",
                QStringLiteral("\"type\" is a lower-case slug such as \"auth_failed\" or \"lockout\"")));
        QString name;
        if (!user->isEmpty()) {
            // Users that failed to sign in may be unknown here: the name is checked, not looked up.
            auto canonical = checkedUserName(*user);
            if (!canonical)
                return refuse<qint64>(problemFor(canonical.error()));
            name = *canonical;
        }
        return recordDeviceEvent(
            db, DasEvent {0, m_context.clock->secondsSinceEpoch(), QStringLiteral("device"), *type, sent.device, name, *detail});
    });
    if (!done)
        return answer(done.error());
    return jsonResponse({{QStringLiteral("id"), *done}}, HttpStatus::Created);
}

QHttpServerResponse DasService::adminEvents(const QHttpServerRequest &request)
{
    const QUrlQuery query = request.query();
    auto done = inTransaction<QList<DasEvent>>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<QList<DasEvent>>> {
        auto admin = authenticateAdmin(db, request, AdminRole::Approver);
        if (!admin)
            return tl::unexpected(admin.error());
        if (!*admin)
            return refuse<QList<DasEvent>>(admin->error());
        auto since = queryNumber(query, QStringLiteral("since"), 0, std::numeric_limits<qint64>::max());
        if (!since)
            return refuse<QList<DasEvent>>(since.error());
        auto limit = queryNumber(query, QStringLiteral("limit"), 100, 1000);
        if (!limit)
            return refuse<QList<DasEvent>>(limit.error());
        auto events = listEvents(db, *since, int(qMax<qint64>(1, *limit)));
        if (!events)
            return tl::unexpected(events.error());
        return Checked<QList<DasEvent>>(*events);
    });
    if (!done)
        return answer(done.error());
    QJsonArray events;
    for (const DasEvent &event : *done)
        events.append(event.toJson());
    QJsonObject body {{QStringLiteral("events"), events}};
    // Where the next poll starts: since=last_id.
    if (!done->isEmpty())
        body.insert(QStringLiteral("last_id"), done->constLast().id);
    return jsonResponse(body);
}

} // namespace hotdesk::stubs::das

// hotdeskd's "health": the enrollment, the policy and whether it was refused, the DAS event queue's length.
#include "healthcommand.h"

#include "daemonenrollment.h"
#include "daemonserver.h"

#include "core/das/dasclient.h"
#include "core/policy/policystore.h"
#include "core/store/agentstate.h"
#include "core/store/eventqueue.h"

#include <QJsonArray>

#include <optional>

namespace hotdesk::daemon {
namespace {

// The enrollment hotdeskd uses (chosenEnrollment). The device key itself is never read here.
QJsonObject enrollmentHealth(const HealthSources &sources, const policy::PolicyStore *store)
{
    const auto records = store::AgentState(sources.stateDir).enrollments();
    if (!records)
        return {{QStringLiteral("enrolled"), false}, {QStringLiteral("problem"), records.error().message}};
    const QList<QUrl> dasUrls = policyDasUrls(store);
    const auto found = chosenEnrollment(*records, dasUrls);
    if (!found) {
        QJsonObject reply {{QStringLiteral("enrolled"), false}};
        QJsonArray wanted;
        for (const QUrl &url : dasUrls)
            wanted.append(das::DasClient::audienceOf(url));
        if (!wanted.isEmpty())
            reply.insert(QStringLiteral("policy_das"), wanted);
        return reply;
    }
    return {{QStringLiteral("enrolled"), true}, {QStringLiteral("das"), found->dasUrl},
        {QStringLiteral("device_id"), found->deviceId}, {QStringLiteral("enrolled_at"), double(found->enrolledAt)}};
}

QJsonObject policyHealth(const HealthSources &sources, const policy::PolicyStore *store)
{
    QJsonObject reply {{QStringLiteral("file"), sources.policyFile}};
    if (!store) {
        reply.insert(QStringLiteral("applied"), false);
        reply.insert(QStringLiteral("refused"), QStringLiteral("not_read"));
        reply.insert(QStringLiteral("message"), QStringLiteral("the policy has not been read yet"));
        return reply;
    }
    reply.insert(QStringLiteral("applied"), store->hasPolicy());
    const QList<policy::PolicyProblem> problems = store->problems();
    if (store->hasPolicy() && problems.isEmpty())
        return reply;
    reply.insert(QStringLiteral("refused"),
        store->rejectedAsUntrusted() ? QStringLiteral("policy_untrusted") : QStringLiteral("policy_invalid"));
    QString message = store->hasPolicy() ? problems.constFirst().message : store->reason();
    if (store->hasPolicy())
        message += QStringLiteral(" (the last valid policy stays)");
    reply.insert(QStringLiteral("message"), message);
    return reply;
}

} // namespace

QJsonObject healthReply(const HealthSources &sources, bool forRoot)
{
    const policy::PolicyStore *store = sources.policy ? sources.policy() : nullptr;
    QJsonObject reply {{QStringLiteral("daemon"), QStringLiteral("hotdeskd " HOTDESK_VERSION)},
        {QStringLiteral("enrollment"), enrollmentHealth(sources, store)},
        {QStringLiteral("policy"), policyHealth(sources, store)}};
    if (forRoot && sources.queue) {
        if (const auto pending = sources.queue->pendingCount())
            reply.insert(QStringLiteral("event_queue"), double(*pending));
        else
            reply.insert(QStringLiteral("event_queue_problem"), pending.error().message);
    }
    return okReply(reply);
}

void serveHealth(DaemonServer &server, HealthSources sources)
{
    server.addCommand(QStringLiteral("health"),
        [sources = std::move(sources)](Connection &connection, const QJsonObject &) {
            return healthReply(sources, connection.peer().uid == 0);
        });
}

} // namespace hotdesk::daemon

// Responses for refused DAS requests.
#include "dashttp.h"

#include <QJsonDocument>

namespace hotdesk::stubs::das {

QHttpServerResponse answer(const Refusal &refusal)
{
    const Problem &p = refusal.problem;
    QHttpServerResponse response = problemResponse(p);
    if (!refusal.members.isEmpty()) {
        QJsonObject body = QJsonDocument::fromJson(response.data()).object();
        for (auto it = refusal.members.constBegin(); it != refusal.members.constEnd(); ++it) {
            // The standard members keep their meaning whatever an extension says.
            if (!body.contains(it.key()))
                body.insert(it.key(), it.value());
        }
        response = QHttpServerResponse("application/problem+json", QJsonDocument(body).toJson(QJsonDocument::Compact), p.status);
        response.setHeader("Cache-Control", "no-store");
    }
    if (p.status == HttpStatus::Unauthorized)
        response.setHeader("WWW-Authenticate",
            p.slug.contains(QLatin1String("admin")) ? QByteArrayLiteral("Bearer realm=\"hotdesk-das\"")
                                                    : QByteArrayLiteral("DeviceToken realm=\"hotdesk-das\""));
    if (refusal.retryAfter)
        response.setHeader("Retry-After", QByteArray::number(qMax<qint64>(1, *refusal.retryAfter)));
    return response;
}

void send(const std::shared_ptr<LaterResponder> &responder, QHttpServerResponse &&response)
{
    // afterRequest() does not see responses written through a responder.
    response.setHeader("X-Content-Type-Options", "nosniff");
    responder->write(response);
}

} // namespace hotdesk::stubs::das

// Asynchronous inter-role HTTPS client.
#include "serviceclient.h"

#include "core/jose/strictjson.h"

#include <QJsonDocument>
#include <QNetworkReply>

namespace hotdesk::stubs {

ServiceClient::ServiceClient(const QString &caFile, int timeoutMs, QObject *parent)
    : QObject(parent)
    , m_ssl(QSslConfiguration::defaultConfiguration())
    , m_timeoutMs(timeoutMs)
{
    m_ssl.addCaCertificates(caFile);
}

void ServiceClient::getJson(const QUrl &url, const QByteArray &bearer, Callback done)
{
    QNetworkRequest request(url);
    if (!bearer.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + bearer);
    send(request, "GET", {}, std::move(done));
}

void ServiceClient::postJson(const QUrl &url, const QJsonObject &body, const QByteArray &bearer, Callback done)
{
    QNetworkRequest request(url);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    if (!bearer.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + bearer);
    send(request, "POST", QJsonDocument(body).toJson(QJsonDocument::Compact), std::move(done));
}

void ServiceClient::send(QNetworkRequest request, const QByteArray &verb, const QByteArray &body, Callback done)
{
    request.setSslConfiguration(m_ssl);
    request.setTransferTimeout(m_timeoutMs);
    request.setRawHeader("Accept", "application/json, application/problem+json");
    QNetworkReply *reply = m_manager.sendCustomRequest(request, verb, body);
    connect(reply, &QNetworkReply::finished, this, [reply, done = std::move(done)] {
        reply->deleteLater();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (status == 0) {
            const bool timedOut = reply->error() == QNetworkReply::OperationCanceledError || reply->error() == QNetworkReply::TimeoutError;
            done(fail(timedOut ? ErrorCode::Timeout : ErrorCode::Io,
                      QStringLiteral("%1: %2").arg(reply->url().toString(QUrl::RemoveQuery), reply->errorString())));
            return;
        }
        ServiceReply out;
        out.status = status;
        out.raw = reply->readAll();
        if (auto object = jose::parseStrictJsonObject(out.raw))
            out.body = *object;
        done(out);
    });
}

} // namespace hotdesk::stubs

// A blocking HTTPS client for tests that trusts one extra CA file.
#pragma once

#include <QEventLoop>
#include <QFile>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSslConfiguration>
#include <QTimer>

namespace hotdesk::test {

struct HttpResult {
    int status = 0;
    QNetworkReply::NetworkError error = QNetworkReply::NoError;
    QByteArray body;
    QByteArray contentType;
    QList<QNetworkReply::RawHeaderPair> headers;

    QByteArray header(const QByteArray &name) const
    {
        for (const auto &[key, value] : headers) {
            if (key.compare(name, Qt::CaseInsensitive) == 0)
                return value;
        }
        return {};
    }
};

class HttpsClient {
public:
    explicit HttpsClient(const QString &caFile)
    {
        m_ssl = QSslConfiguration::defaultConfiguration();
        m_ssl.addCaCertificates(caFile);
    }

    HttpResult get(const QUrl &url) { return send(url, "GET", {}, {}); }
    HttpResult post(const QUrl &url, const QByteArray &body, const QByteArray &contentType = "application/json")
    {
        return send(url, "POST", body, contentType);
    }

    HttpResult send(const QUrl &url, const QByteArray &verb, const QByteArray &body, const QByteArray &contentType,
                    const QList<std::pair<QByteArray, QByteArray>> &headers = {})
    {
        QNetworkRequest request(url);
        request.setSslConfiguration(m_ssl);
        request.setTransferTimeout(20000);
        // Redirects are part of what the tests check: never follow them.
        request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
        if (!contentType.isEmpty())
            request.setHeader(QNetworkRequest::ContentTypeHeader, contentType);
        for (const auto &[name, value] : headers)
            request.setRawHeader(name, value);
        QNetworkReply *reply = m_manager.sendCustomRequest(request, verb, body);
        QEventLoop loop;
        QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
        loop.exec();
        HttpResult r;
        r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        r.error = reply->error();
        r.body = reply->readAll();
        r.contentType = reply->header(QNetworkRequest::ContentTypeHeader).toByteArray();
        r.headers = reply->rawHeaderPairs();
        reply->deleteLater();
        return r;
    }

private:
    QNetworkAccessManager m_manager;
    QSslConfiguration m_ssl;
};

} // namespace hotdesk::test

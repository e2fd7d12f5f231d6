// Asynchronous HTTPS calls from one companion server role to another.
#pragma once

#include "core/result.h"

#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QObject>
#include <QSslConfiguration>
#include <QUrl>

#include <functional>

namespace hotdesk::stubs {

struct ServiceReply {
    int status = 0;          // HTTP status; 0 when no answer arrived
    QJsonObject body;        // the JSON body (empty when none or not JSON)
    QByteArray raw;
};

class ServiceClient : public QObject {
    Q_OBJECT
public:
    // Trusts the system store plus caFile; every call times out after timeoutMs.
    ServiceClient(const QString &caFile, int timeoutMs = 10000, QObject *parent = nullptr);

    using Callback = std::function<void(Result<ServiceReply>)>;
    // A transport failure (refused, TLS, timeout) is an error; any HTTP answer,
    // 4xx and 5xx included, is a ServiceReply for the caller to judge.
    void getJson(const QUrl &url, const QByteArray &bearer, Callback done);
    void postJson(const QUrl &url, const QJsonObject &body, const QByteArray &bearer, Callback done);

private:
    void send(QNetworkRequest request, const QByteArray &verb, const QByteArray &body, Callback done);

    QNetworkAccessManager m_manager;
    QSslConfiguration m_ssl;
    int m_timeoutMs;
};

} // namespace hotdesk::stubs

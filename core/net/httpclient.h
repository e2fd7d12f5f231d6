// HTTPS for the agent's flows: the policy's CA bundle on top of the system store, connect and response timeouts, cancel.
#pragma once

#include "../result.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QTimer>
#include <QUrl>

#include <chrono>
#include <functional>
#include <optional>

class QNetworkReply;

namespace hotdesk::net {

struct ProxySetting;

// Who the agent trusts for TLS: the operating system's store plus the
// certificates of the policy's CA bundle. Nothing is ever trusted beyond that,
// and no certificate error is ever ignored.
class TlsTrust {
public:
    TlsTrust() = default;
    // A PEM file with one or more CA certificates; an unreadable or empty file is an error.
    static Result<TlsTrust> fromBundle(const QString &pemFile);
    const QList<QSslCertificate> &extraCertificates() const { return m_extra; }
    // The system store plus the extra certificates.
    QSslConfiguration configuration() const;

private:
    QList<QSslCertificate> m_extra;
};

struct Timeouts {
    // From the start of a request until it is on the wire (TCP and TLS done).
    std::chrono::milliseconds connect {5000};
    // From then until the whole answer has arrived.
    std::chrono::milliseconds response {15000};
};

struct HttpRequest {
    QByteArray method = "GET";
    QUrl url;
    QList<std::pair<QByteArray, QByteArray>> headers;
    QByteArray body;
    QByteArray contentType; // set with a body
    qint64 maxResponseBytes = 1024 * 1024;

    static HttpRequest get(const QUrl &url);
    static HttpRequest postJson(const QUrl &url, const QJsonObject &body);
    static HttpRequest postForm(const QUrl &url, const QList<std::pair<QString, QString>> &fields);
    HttpRequest &withHeader(const QByteArray &name, const QByteArray &value);
};

// An answer, whatever its status: judging 4xx and 5xx is the caller's business.
struct HttpResponse {
    QUrl url;
    int status = 0;
    QByteArray body;
    QList<std::pair<QByteArray, QByteArray>> headers;

    QByteArray header(QByteArrayView name) const; // case-insensitive; empty when absent
    QByteArray mediaType() const; // Content-Type without parameters, lower case
    bool isSuccess() const { return status >= 200 && status < 300; }
};

// An RFC 9457 problem document; slug is what follows "urn:hotdesk:problem:" in type.
struct Problem {
    int status = 0;
    QString type;
    QString slug;
    QString title;
    QString detail;
    QJsonObject members;
};
// The problem in an answer, when it carries one (application/problem+json with a JSON object).
std::optional<Problem> problemOf(const HttpResponse &response);
// The body as a strict JSON object (no duplicate members); anything else is
// MalformedAnswer naming what was expected from whom.
Result<QJsonObject> jsonObjectOf(const HttpResponse &response, const QString &what);
// "the DAS at URL answered 503 (title: detail)": a short description for error messages.
QString describeAnswer(const HttpResponse &response);

// One request in flight. Its callback runs exactly once, with the answer or
// with the error that stopped it (Cancelled after cancel()).
class HttpCall : public QObject {
    Q_OBJECT
public:
    void cancel();
    const QUrl &url() const { return m_url; }

private:
    friend class HttpClient;
    HttpCall(QNetworkReply *reply, const Timeouts &timeouts, qint64 maxBytes,
        std::function<void(Result<HttpResponse>)> done, QObject *parent);
    void finish(Result<HttpResponse> result);
    void onFinished();

    QNetworkReply *m_reply = nullptr;
    QUrl m_url;
    QTimer m_timer;
    qint64 m_maxBytes = 0;
    enum class Phase { Connecting, Waiting, Done } m_phase = Phase::Connecting;
    std::optional<Error> m_stopReason; // why the reply was aborted, when Hotdesk aborted it
    Timeouts m_timeouts;
    std::function<void(Result<HttpResponse>)> m_done;
};

class HttpClient : public QObject {
    Q_OBJECT
public:
    explicit HttpClient(TlsTrust trust = {}, Timeouts timeouts = {}, QObject *parent = nullptr);

    using Callback = std::function<void(Result<HttpResponse>)>;
    // Redirects are never followed: every endpoint of the protocols is exact.
    // Errors: Unreachable (no connection within the connect timeout, refused,
    // unknown host), Tls, Timeout (no complete answer within the response
    // timeout), TooLarge, Cancelled. Deleting the client drops pending
    // callbacks without calling them.
    QPointer<HttpCall> send(const HttpRequest &request, Callback done);
    // Cancels every call in flight (each callback runs with Cancelled).
    void cancelAll();

    const Timeouts &timeouts() const { return m_timeouts; }
    void setTimeouts(const Timeouts &timeouts) { m_timeouts = timeouts; }
    const TlsTrust &trust() const { return m_trust; }
    // How requests reach servers other than this PC's loopback (servers.proxy); System by default.
    void setProxy(const ProxySetting &setting);

private:
    QNetworkAccessManager m_manager;
    TlsTrust m_trust;
    QSslConfiguration m_ssl;
    Timeouts m_timeouts;
};

} // namespace hotdesk::net

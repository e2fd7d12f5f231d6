// HTTPS client of the agent's flows.
#include "httpclient.h"

#include "proxy.h"

#include "../jose/strictjson.h"

#include <QFile>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QSslError>
#include <QUrlQuery>

namespace hotdesk::net {

Result<TlsTrust> TlsTrust::fromBundle(const QString &pemFile)
{
    QFile file(pemFile);
    if (!file.open(QIODevice::ReadOnly))
        return fail(ErrorCode::Io, QStringLiteral("cannot read the CA bundle %1: %2").arg(pemFile, file.errorString()));
    const QList<QSslCertificate> certificates = QSslCertificate::fromData(file.readAll(), QSsl::Pem);
    if (certificates.isEmpty())
        return fail(ErrorCode::Malformed, QStringLiteral("the CA bundle %1 holds no PEM certificate").arg(pemFile));
    TlsTrust trust;
    trust.m_extra = certificates;
    return trust;
}

QSslConfiguration TlsTrust::configuration() const
{
    QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
    ssl.addCaCertificates(m_extra);
    ssl.setPeerVerifyMode(QSslSocket::VerifyPeer);
    return ssl;
}

HttpRequest HttpRequest::get(const QUrl &url)
{
    HttpRequest r;
    r.url = url;
    return r;
}

HttpRequest HttpRequest::postJson(const QUrl &url, const QJsonObject &body)
{
    HttpRequest r;
    r.method = "POST";
    r.url = url;
    r.body = QJsonDocument(body).toJson(QJsonDocument::Compact);
    r.contentType = "application/json";
    return r;
}

HttpRequest HttpRequest::postForm(const QUrl &url, const QList<std::pair<QString, QString>> &fields)
{
    HttpRequest r;
    r.method = "POST";
    r.url = url;
    QByteArray body;
    for (const auto &[name, value] : fields) {
        if (!body.isEmpty())
            body += '&';
        body += QUrl::toPercentEncoding(name) + '=' + QUrl::toPercentEncoding(value);
    }
    r.body = body;
    r.contentType = "application/x-www-form-urlencoded";
    return r;
}

HttpRequest &HttpRequest::withHeader(const QByteArray &name, const QByteArray &value)
{
    headers.append({name, value});
    return *this;
}

QByteArray HttpResponse::header(QByteArrayView name) const
{
    for (const auto &[key, value] : headers) {
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    }
    return {};
}

QByteArray HttpResponse::mediaType() const
{
    QByteArray type = header("Content-Type");
    const qsizetype semicolon = type.indexOf(';');
    if (semicolon >= 0)
        type.truncate(semicolon);
    return type.trimmed().toLower();
}

std::optional<Problem> problemOf(const HttpResponse &response)
{
    if (response.mediaType() != "application/problem+json")
        return std::nullopt;
    const auto object = jose::parseStrictJsonObject(response.body);
    if (!object)
        return std::nullopt;
    Problem p;
    p.status = response.status;
    p.members = *object;
    p.type = object->value(QLatin1String("type")).toString();
    p.title = object->value(QLatin1String("title")).toString();
    p.detail = object->value(QLatin1String("detail")).toString();
    static const QString prefix = QStringLiteral("urn:hotdesk:problem:");
    if (p.type.startsWith(prefix))
        p.slug = p.type.mid(prefix.size());
    return p;
}

Result<QJsonObject> jsonObjectOf(const HttpResponse &response, const QString &what)
{
    auto object = jose::parseStrictJsonObject(response.body);
    if (!object)
        return fail(ErrorCode::MalformedAnswer,
            QStringLiteral("%1 from %2 is not a JSON object (%3)")
                .arg(what, response.url.toString(QUrl::RemoveQuery | QUrl::RemoveUserInfo), object.error().message));
    return *object;
}

QString describeAnswer(const HttpResponse &response)
{
    const QString where = response.url.toString(QUrl::RemoveQuery | QUrl::RemoveUserInfo);
    if (const auto problem = problemOf(response)) {
        const QString text = problem->detail.isEmpty() ? problem->title : problem->detail;
        return QStringLiteral("%1 answered %2 %3: %4")
            .arg(where)
            .arg(response.status)
            .arg(problem->slug.isEmpty() ? problem->type : problem->slug, text);
    }
    return QStringLiteral("%1 answered %2").arg(where).arg(response.status);
}

HttpCall::HttpCall(QNetworkReply *reply, const Timeouts &timeouts, qint64 maxBytes,
    std::function<void(Result<HttpResponse>)> done, QObject *parent)
    : QObject(parent)
    , m_reply(reply)
    , m_url(reply->url())
    , m_maxBytes(maxBytes)
    , m_timeouts(timeouts)
    , m_done(std::move(done))
{
    reply->setParent(this);
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        const QString where = m_url.toString(QUrl::RemoveQuery | QUrl::RemoveUserInfo);
        if (m_phase == Phase::Connecting) {
            m_stopReason = Error{ErrorCode::Unreachable,
                QStringLiteral("no connection to %1 within %2 ms").arg(where).arg(m_timeouts.connect.count())};
        } else {
            m_stopReason = Error{ErrorCode::Timeout,
                QStringLiteral("%1 did not answer within %2 ms").arg(where).arg(m_timeouts.response.count())};
        }
        m_reply->abort();
    });
    m_timer.start(m_timeouts.connect);
    connect(reply, &QNetworkReply::requestSent, this, [this] {
        if (m_phase != Phase::Connecting)
            return;
        m_phase = Phase::Waiting;
        m_timer.start(m_timeouts.response);
    });
    connect(reply, &QNetworkReply::downloadProgress, this, [this](qint64 received, qint64 total) {
        if (m_stopReason || (received <= m_maxBytes && total <= m_maxBytes))
            return;
        m_stopReason = Error{ErrorCode::TooLarge,
            QStringLiteral("the answer of %1 exceeds %2 bytes")
                .arg(m_url.toString(QUrl::RemoveQuery | QUrl::RemoveUserInfo))
                .arg(m_maxBytes)};
        m_reply->abort();
    });
    connect(reply, &QNetworkReply::finished, this, &HttpCall::onFinished);
}

void HttpCall::cancel()
{
    if (m_phase == Phase::Done)
        return;
    if (!m_stopReason)
        m_stopReason = Error{ErrorCode::Cancelled, QStringLiteral("cancelled")};
    m_reply->abort();
}

void HttpCall::finish(Result<HttpResponse> result)
{
    if (m_phase == Phase::Done)
        return;
    m_phase = Phase::Done;
    m_timer.stop();
    auto done = std::move(m_done);
    deleteLater();
    if (done)
        done(std::move(result));
}

void HttpCall::onFinished()
{
    if (m_stopReason) {
        finish(tl::unexpected(*m_stopReason));
        return;
    }
    const QString where = m_url.toString(QUrl::RemoveQuery | QUrl::RemoveUserInfo);
    const int status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status == 0) {
        switch (m_reply->error()) {
        case QNetworkReply::SslHandshakeFailedError:
            finish(fail(ErrorCode::Tls,
                QStringLiteral("TLS with %1 failed: %2. Check the policy's CA bundle and the server's certificate.")
                    .arg(where, m_reply->errorString())));
            return;
        case QNetworkReply::TimeoutError:
            finish(fail(ErrorCode::Timeout, QStringLiteral("%1 did not answer in time").arg(where)));
            return;
        default:
            finish(fail(ErrorCode::Unreachable, QStringLiteral("cannot reach %1: %2").arg(where, m_reply->errorString())));
            return;
        }
    }
    HttpResponse response;
    response.url = m_url;
    response.status = status;
    response.body = m_reply->readAll();
    if (response.body.size() > m_maxBytes) {
        finish(fail(ErrorCode::TooLarge, QStringLiteral("the answer of %1 exceeds %2 bytes").arg(where).arg(m_maxBytes)));
        return;
    }
    for (const auto &pair : m_reply->rawHeaderPairs())
        response.headers.append({pair.first, pair.second});
    finish(std::move(response));
}

HttpClient::HttpClient(TlsTrust trust, Timeouts timeouts, QObject *parent)
    : QObject(parent)
    , m_trust(std::move(trust))
    , m_ssl(m_trust.configuration())
    , m_timeouts(timeouts)
{
    // Connections are reused between the calls of one flow; nothing is cached on disk.
    m_manager.setAutoDeleteReplies(false);
    setProxy(ProxySetting {});
}

void HttpClient::setProxy(const ProxySetting &setting)
{
    // The manager owns the factory.
    m_manager.setProxyFactory(new PolicyProxyFactory(setting));
}

QPointer<HttpCall> HttpClient::send(const HttpRequest &request, Callback done)
{
    QNetworkRequest r(request.url);
    r.setSslConfiguration(m_ssl);
    r.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    r.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    r.setAttribute(QNetworkRequest::CacheSaveControlAttribute, false);
    r.setRawHeader("Accept", "application/json, application/problem+json;q=0.9, */*;q=0.1");
    if (!request.contentType.isEmpty())
        r.setHeader(QNetworkRequest::ContentTypeHeader, request.contentType);
    for (const auto &[name, value] : request.headers)
        r.setRawHeader(name, value);
    QNetworkReply *reply = request.body.isEmpty() && request.method == "GET"
        ? m_manager.get(r)
        : m_manager.sendCustomRequest(r, request.method, request.body);
    return new HttpCall(reply, m_timeouts, request.maxResponseBytes, std::move(done), this);
}

void HttpClient::cancelAll()
{
    const auto calls = findChildren<HttpCall *>(Qt::FindDirectChildrenOnly);
    for (HttpCall *call : calls)
        call->cancel();
}

} // namespace hotdesk::net

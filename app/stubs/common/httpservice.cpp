// HTTP plumbing shared by the companion servers.
#include "httpservice.h"

#include "core/jose/strictjson.h"

#include <QJsonDocument>
#include <QSslConfiguration>
#include <QTcpServer>
#include <QTimer>
#include <QUrlQuery>

namespace hotdesk::stubs {

QHttpServerResponse problemResponse(const Problem &problem)
{
    QJsonObject body{{QStringLiteral("type"), QString(QStringLiteral("urn:hotdesk:problem:") + problem.slug)},
                     {QStringLiteral("title"), problem.title},
                     {QStringLiteral("status"), int(problem.status)}};
    if (!problem.detail.isEmpty())
        body.insert(QStringLiteral("detail"), problem.detail);
    QHttpServerResponse response("application/problem+json", QJsonDocument(body).toJson(QJsonDocument::Compact), problem.status);
    response.setHeader("Cache-Control", "no-store");
    return response;
}

QHttpServerResponse jsonResponse(const QJsonObject &body, HttpStatus status)
{
    QHttpServerResponse response("application/json", QJsonDocument(body).toJson(QJsonDocument::Compact), status);
    response.setHeader("Cache-Control", "no-store");
    return response;
}

QHttpServerResponse jsonResponse(QByteArray body, HttpStatus status)
{
    QHttpServerResponse response("application/json", std::move(body), status);
    response.setHeader("Cache-Control", "no-store");
    return response;
}

void JsonWriter::name(const char *name)
{
    if (m_out.size() > 1)
        m_out += ',';
    m_out += '"';
    m_out += name;
    m_out += "\":";
}

JsonWriter &JsonWriter::add(const char *member, QStringView value)
{
    name(member);
    m_out += '"';
    // RFC 8259 §7: the quote, the backslash and the control characters are
    // escaped; everything else is UTF-8 as it is (as QJsonDocument writes it).
    static constexpr char kHex[] = "0123456789abcdef";
    const QByteArray utf8 = value.toUtf8();
    const char *text = utf8.constData();
    qsizetype plain = 0; // where the run not yet copied starts
    for (qsizetype i = 0; i < utf8.size(); ++i) {
        const auto u = static_cast<unsigned char>(text[i]);
        if (u != '"' && u != '\\' && u >= 0x20)
            continue;
        m_out.append(text + plain, i - plain);
        plain = i + 1;
        if (u == '"' || u == '\\') {
            m_out += '\\';
            m_out += char(u);
        } else if (u == '\n') {
            m_out += "\\n";
        } else if (u == '\r') {
            m_out += "\\r";
        } else if (u == '\t') {
            m_out += "\\t";
        } else {
            m_out += "\\u00";
            m_out += kHex[u >> 4];
            m_out += kHex[u & 0xf];
        }
    }
    m_out.append(text + plain, utf8.size() - plain);
    m_out += '"';
    return *this;
}

JsonWriter &JsonWriter::add(const char *member, qint64 value)
{
    name(member);
    m_out += QByteArray::number(value);
    return *this;
}

JsonWriter &JsonWriter::add(const char *member, bool value)
{
    name(member);
    m_out += value ? "true" : "false";
    return *this;
}

JsonWriter &JsonWriter::addJson(const char *member, const QByteArray &json)
{
    name(member);
    m_out += json;
    return *this;
}

QByteArray JsonWriter::finish()
{
    m_out += '}';
    return std::exchange(m_out, QByteArray(1, '{'));
}

Problem problemFor(const Error &error)
{
    switch (error.code) {
    case ErrorCode::TooLarge:
        return {HttpStatus::PayloadTooLarge, QStringLiteral("body-too-large"), QStringLiteral("Request body too large"), error.message};
    case ErrorCode::Unsupported:
        return {HttpStatus::UnsupportedMediaType, QStringLiteral("unsupported-media-type"), QStringLiteral("Unsupported request"), error.message};
    case ErrorCode::InvalidClaim:
    case ErrorCode::Malformed:
        return {HttpStatus::BadRequest, QStringLiteral("malformed-request"), QStringLiteral("Malformed request"), error.message};
    case ErrorCode::KeyNotFound:
    case ErrorCode::BadSignature:
    case ErrorCode::AlgNotAllowed:
    case ErrorCode::Expired:
    case ErrorCode::NotYetValid:
    case ErrorCode::IssuedInFuture:
    case ErrorCode::AudienceMismatch:
    case ErrorCode::IssuerMismatch:
        return {HttpStatus::Unauthorized, QStringLiteral("invalid-token"), QStringLiteral("Invalid token"),
                QStringLiteral("%1: %2").arg(error.codeName(), error.message)};
    default:
        return {HttpStatus::InternalServerError, QStringLiteral("internal"), QStringLiteral("Internal error"), error.message};
    }
}

void answerWithFaults(const StubsContext &context, QObject *owner, QHttpServerResponse response,
                      const std::shared_ptr<LaterResponder> &responder)
{
    if (context.hasFault(QStringLiteral("500")))
        response = problemResponse({HttpStatus::InternalServerError, QStringLiteral("internal"), QStringLiteral("Internal error"),
                                    QStringLiteral("fault injected: 500")});
    else if (context.hasFault(QStringLiteral("garbage")))
        response = QHttpServerResponse("application/json", QByteArray("{\"request\": <<garbage>> \x01\xff"));
    const double slow = context.faultValue(QStringLiteral("slow")).toDouble();
    if (slow <= 0) {
        responder->write(response);
        return;
    }
    auto delayed = std::make_shared<QHttpServerResponse>(std::move(response));
    QTimer::singleShot(int(slow * 1000), owner, [responder, delayed] { responder->write(*delayed); });
}

QByteArray header(const QHttpServerRequest &request, const QByteArray &name)
{
    for (const auto &[key, value] : request.headers()) {
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    }
    return {};
}

QByteArray authorization(const QHttpServerRequest &request, const QByteArray &scheme)
{
    const QByteArray value = header(request, "Authorization").trimmed();
    const qsizetype space = value.indexOf(' ');
    if (space <= 0 || value.left(space).compare(scheme, Qt::CaseInsensitive) != 0)
        return {};
    return value.mid(space + 1).trimmed();
}

Result<QJsonObject> jsonBody(const QHttpServerRequest &request)
{
    const QByteArray body = request.body();
    if (body.size() > kMaxBodySize)
        return fail(ErrorCode::TooLarge, QStringLiteral("the body has %1 bytes; at most %2 are accepted").arg(body.size()).arg(kMaxBodySize));
    const QByteArray type = header(request, "Content-Type").split(';').constFirst().trimmed().toLower();
    if (type != "application/json" && !type.endsWith("+json"))
        return fail(ErrorCode::Unsupported, QStringLiteral("send the body as application/json"));
    auto object = jose::parseStrictJsonObject(body, {16, kMaxBodySize});
    if (!object)
        return fail(ErrorCode::Malformed, object.error().message);
    return *object;
}

Result<QList<std::pair<QString, QString>>> formBody(const QHttpServerRequest &request)
{
    const QByteArray body = request.body();
    if (body.size() > kMaxBodySize)
        return fail(ErrorCode::TooLarge, QStringLiteral("the body has %1 bytes; at most %2 are accepted").arg(body.size()).arg(kMaxBodySize));
    const QByteArray type = header(request, "Content-Type").split(';').constFirst().trimmed().toLower();
    if (type != "application/x-www-form-urlencoded")
        return fail(ErrorCode::Unsupported, QStringLiteral("send the body as application/x-www-form-urlencoded"));
    QList<std::pair<QString, QString>> out;
    // In form encoding '+' is a space; QUrlQuery leaves it alone.
    const QUrlQuery query(QString::fromUtf8(QByteArray(body).replace('+', "%20")));
    for (const auto &[name, value] : query.queryItems(QUrl::FullyDecoded)) {
        for (const auto &seen : std::as_const(out)) {
            // RFC 6749 §3.1: parameters must not be included more than once.
            if (seen.first == name)
                return fail(ErrorCode::Malformed, QStringLiteral("the parameter \"%1\" appears more than once").arg(name));
        }
        out.append({name, value});
    }
    return out;
}

Result<QString> optionalString(const QJsonObject &object, const char *name, qsizetype maxLength)
{
    const QJsonValue v = object.value(QLatin1String(name));
    if (v.isUndefined() || v.isNull())
        return QString();
    if (!v.isString())
        return fail(ErrorCode::Malformed, QStringLiteral("\"%1\" must be a string").arg(QLatin1String(name)));
    if (v.toString().size() > maxLength)
        return fail(ErrorCode::Malformed, QStringLiteral("\"%1\" is longer than %2 characters").arg(QLatin1String(name)).arg(maxLength));
    return v.toString();
}

Result<QString> requireString(const QJsonObject &object, const char *name, qsizetype maxLength)
{
    auto value = optionalString(object, name, maxLength);
    if (value && value->isEmpty())
        return fail(ErrorCode::Malformed, QStringLiteral("\"%1\" is required").arg(QLatin1String(name)));
    return value;
}

HttpService::HttpService(QString role, QObject *parent)
    : QObject(parent)
    , m_role(std::move(role))
{
    m_server.setMissingHandler([](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
        problemResponse({HttpStatus::NotFound, QStringLiteral("not-found"), QStringLiteral("Not found"),
                         QStringLiteral("no resource at %1").arg(request.url().path())})
            .write(std::move(responder));
    });
    m_server.afterRequest([](QHttpServerResponse &&response) {
        response.setHeader("X-Content-Type-Options", "nosniff");
        return std::move(response);
    });
}

HttpService::~HttpService() = default;

Result<quint16> HttpService::listen(const LocalCa &ca, const QHostAddress &address, quint16 port, const QString &publicHost)
{
    m_server.sslSetup(ca.serverCertificate(), ca.serverKey());
    const quint16 bound = m_server.listen(address, port);
    if (bound == 0)
        return fail(ErrorCode::Io, QStringLiteral("%1: cannot listen on %2:%3").arg(m_role, address.toString()).arg(port));
    m_baseUrl.setScheme(QStringLiteral("https"));
    m_baseUrl.setHost(publicHost.isEmpty() ? address.toString() : publicHost);
    m_baseUrl.setPort(bound);
    return bound;
}

} // namespace hotdesk::stubs

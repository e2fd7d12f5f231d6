// Shared HTTP plumbing of the companion servers: TLS listening, JSON bodies, RFC 9457 problems.
#pragma once

#include "core/result.h"
#include "laterresponder.h"
#include "localca.h"
#include "stubsconfig.h"

#include <QHostAddress>
#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponse>
#include <QJsonObject>
#include <QObject>
#include <QUrl>

#include <memory>

namespace hotdesk::stubs {

inline constexpr qsizetype kMaxBodySize = 64 * 1024;

using HttpStatus = QHttpServerResponse::StatusCode;

// An RFC 9457 problem. "type" is a stable URN (urn:hotdesk:problem:SLUG) that
// clients and tests switch on; title and detail are for people.
struct Problem {
    HttpStatus status = HttpStatus::BadRequest;
    QString slug;
    QString title;
    QString detail;
};

QHttpServerResponse problemResponse(const Problem &problem);
QHttpServerResponse jsonResponse(const QJsonObject &body, HttpStatus status = HttpStatus::Ok);
// The same for a body JsonWriter wrote.
QHttpServerResponse jsonResponse(QByteArray body, HttpStatus status);

// A compact JSON object written member by member in the order given, for
// what the DAS writes per 2FA request (the request object's claims, the
// answer): a QJsonObject sorts its members into a CBOR map on every insert
// and is serialized afterwards, which cost more than the ES256 signature.
// Member names are the caller's ASCII literals and are written as they are.
class JsonWriter {
public:
    JsonWriter() { m_out.reserve(512); }
    JsonWriter &add(const char *name, QStringView value);
    JsonWriter &add(const char *name, const QString &value) { return add(name, QStringView(value)); }
    JsonWriter &add(const char *name, qint64 value);
    JsonWriter &add(const char *name, bool value);
    // Would otherwise become the bool overload.
    JsonWriter &add(const char *name, const char *value) = delete;
    // A member whose value another JsonWriter finished.
    JsonWriter &addJson(const char *name, const QByteArray &json);
    QByteArray finish();

private:
    void name(const char *name);
    QByteArray m_out = QByteArray(1, '{');
};
// A problem for a core error: malformed input is 400, too large 413, and so on.
Problem problemFor(const Error &error);

// The request body as a strict JSON object: at most 64 KiB, Content-Type
// application/json (or +json), no duplicate members.
Result<QJsonObject> jsonBody(const QHttpServerRequest &request);
// Form-encoded bodies (OAuth token endpoint), at most 64 KiB, each name once.
Result<QList<std::pair<QString, QString>>> formBody(const QHttpServerRequest &request);

// Writes response, or what the context's transport faults turn it into:
// "500" a server error, "garbage" a 200 whose body is not JSON, "slow=S" the
// same answer S seconds late (docs/faults.md).
void answerWithFaults(const StubsContext &context, QObject *owner, QHttpServerResponse response,
                      const std::shared_ptr<LaterResponder> &responder);

// A request header by name, compared case-insensitively (RFC 9110 §5.1).
QByteArray header(const QHttpServerRequest &request, const QByteArray &name);
// The token of "Authorization: <scheme> <token>", or empty.
QByteArray authorization(const QHttpServerRequest &request, const QByteArray &scheme);

// Typed member access with a precise message for the problem detail.
Result<QString> requireString(const QJsonObject &object, const char *name, qsizetype maxLength = 1024);
Result<QString> optionalString(const QJsonObject &object, const char *name, qsizetype maxLength = 1024);

class HttpService : public QObject {
    Q_OBJECT
public:
    explicit HttpService(QString role, QObject *parent = nullptr);
    ~HttpService() override;

    // Listens with TLS on address:port (0 = any free port); returns the port.
    // publicHost: the host name in baseUrl() (what other hosts reach this role
    // by); empty: the address.
    Result<quint16> listen(const LocalCa &ca, const QHostAddress &address = QHostAddress::LocalHost, quint16 port = 0,
        const QString &publicHost = {});
    QUrl baseUrl() const { return m_baseUrl; }
    QString role() const { return m_role; }
    QHttpServer &server() { return m_server; }
    // The role's tables and keys, made once it listens and knows the others'
    // addresses (ServiceHost::start); nothing for a bare service.
    virtual Status prepare() { return {}; }

private:
    QString m_role;
    QHttpServer m_server;
    QUrl m_baseUrl;
};

} // namespace hotdesk::stubs

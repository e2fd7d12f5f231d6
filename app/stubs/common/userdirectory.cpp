// User names, and user provisioning: SCIM directly, or through the enterprise server.
#include "userdirectory.h"

#include "clienttokens.h"

#include "core/username.h"

#include <QJsonArray>
#include <QRegularExpression>

namespace hotdesk::stubs {
namespace {

QUrl endpoint(const QUrl &base, const QString &path, const QString &encodedQuery = {})
{
    QUrl url = base;
    QString prefix = base.path();
    while (prefix.endsWith(QLatin1Char('/')))
        prefix.chop(1);
    url.setPath(prefix + path);
    url.setQuery(encodedQuery.isEmpty() ? QString() : encodedQuery, QUrl::StrictMode);
    return url;
}

// "STATUS: detail" of a peer's error answer, for the problem the agent sees.
QString describeAnswer(const ServiceReply &reply)
{
    const QString detail = reply.body.value(QLatin1String("detail")).toString();
    return detail.isEmpty() ? QString::number(reply.status) : QStringLiteral("%1 (%2)").arg(reply.status).arg(detail.left(200));
}

Result<QString> sharedIdFrom(const QJsonValue &value, const QString &who)
{
    const QString id = value.toString();
    if (!isValidSharedId(id))
        return fail(ErrorCode::Io, QStringLiteral("%1 answered without a usable user id").arg(who));
    return id;
}

} // namespace

bool hasForbiddenNameCharacter(const QString &text)
{
    for (QChar c : text) {
        if (c.category() == QChar::Other_Control || c == QLatin1Char('"') || c == QLatin1Char('\\'))
            return true;
    }
    return false;
}

Result<QString> checkedUserName(const QString &username, const QString &domain)
{
    if (username.isEmpty() || username.size() > 256)
        return fail(ErrorCode::Malformed, QStringLiteral("the username must be 1 to 256 characters"));
    if (hasForbiddenNameCharacter(username) || username.trimmed() != username)
        return fail(ErrorCode::Malformed,
            QStringLiteral("the username contains a quote, a backslash, a control character or surrounding spaces"));
    if (domain.isEmpty())
        return hotdesk::canonicalUserName(username);
    static const QRegularExpression domainShape(QStringLiteral("^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$"));
    if (!domainShape.match(domain).hasMatch())
        return fail(ErrorCode::Malformed,
            QStringLiteral("the domain must be a DNS or NetBIOS domain name (letters, digits, '.' and '-')"));
    if (username.contains(QLatin1Char('@')))
        return fail(ErrorCode::Malformed, QStringLiteral("give the username without \"@domain\" and the domain separately"));
    return hotdesk::canonicalUserName(QString(username + QLatin1Char('@') + domain));
}

bool isValidSharedId(QStringView sharedId)
{
    if (sharedId.isEmpty() || sharedId.size() > 256)
        return false;
    for (QChar c : sharedId) {
        if (c.unicode() < 0x21 || c.unicode() > 0x7e)
            return false;
    }
    return true;
}

ScimDirectory::ScimDirectory(ServiceClient &client, QUrl idpBase, QString dataDir)
    : m_client(client)
    , m_base(std::move(idpBase))
    , m_dataDir(std::move(dataDir))
{
}

QString ScimDirectory::describe() const
{
    return QStringLiteral("the IdP's SCIM endpoint at %1").arg(endpoint(m_base, QStringLiteral("/scim/v2/Users")).toString());
}

void ScimDirectory::provision(const UserRegistration &user, Done done)
{
    auto token = readScimClientToken(m_dataDir);
    if (!token) {
        done(tl::unexpected(token.error()));
        return;
    }
    QJsonObject body {{QStringLiteral("schemas"), QJsonArray {QStringLiteral("urn:ietf:params:scim:schemas:core:2.0:User")}},
        {QStringLiteral("userName"), user.canonicalName}};
    if (!user.sid.isEmpty())
        body.insert(QStringLiteral("externalId"), user.sid);
    const QString who = describe();
    m_client.postJson(endpoint(m_base, QStringLiteral("/scim/v2/Users")), body, *token,
        [this, user, token = *token, who, done = std::move(done)](Result<ServiceReply> reply) {
            if (!reply) {
                done(fail(reply.error().code, QStringLiteral("%1 did not answer: %2").arg(who, reply.error().message)));
                return;
            }
            if (reply->status == 201 || reply->status == 200) {
                done(sharedIdFrom(reply->body.value(QLatin1String("id")), who));
                return;
            }
            // RFC 7644 §3.3: 409 means the userName is taken, here by this very user registered before.
            if (reply->status == 409) {
                lookUp(user, token, done);
                return;
            }
            done(fail(ErrorCode::Io, QStringLiteral("%1 refused to create the user: %2").arg(who, describeAnswer(*reply))));
        });
}

void ScimDirectory::lookUp(const UserRegistration &user, const QByteArray &token, Done done)
{
    const QString filter = QStringLiteral("userName eq \"%1\"").arg(user.canonicalName);
    const QString query = QStringLiteral("filter=") + QString::fromLatin1(QUrl::toPercentEncoding(filter));
    const QString who = describe();
    m_client.getJson(endpoint(m_base, QStringLiteral("/scim/v2/Users"), query), token,
        [user, who, done = std::move(done)](Result<ServiceReply> reply) {
            if (!reply) {
                done(fail(reply.error().code, QStringLiteral("%1 did not answer: %2").arg(who, reply.error().message)));
                return;
            }
            if (reply->status != 200) {
                done(fail(ErrorCode::Io, QStringLiteral("%1 could not look the user up: %2").arg(who, describeAnswer(*reply))));
                return;
            }
            for (const QJsonValue &resource : reply->body.value(QLatin1String("Resources")).toArray()) {
                const QJsonObject object = resource.toObject();
                if (sameUser(object.value(QLatin1String("userName")).toString(), user.canonicalName)) {
                    done(sharedIdFrom(object.value(QLatin1String("id")), who));
                    return;
                }
            }
            done(fail(ErrorCode::Io, QStringLiteral("%1 says %2 exists but does not list it").arg(who, user.canonicalName)));
        });
}

EnterpriseDirectory::EnterpriseDirectory(ServiceClient &client, QUrl enterpriseBase, QString dataDir)
    : m_client(client)
    , m_base(std::move(enterpriseBase))
    , m_dataDir(std::move(dataDir))
{
}

QString EnterpriseDirectory::describe() const
{
    return QStringLiteral("the enterprise server at %1").arg(endpoint(m_base, QStringLiteral("/v1/users")).toString());
}

void EnterpriseDirectory::provision(const UserRegistration &user, Done done)
{
    // Read per call: the enterprise server makes the file after the DAS has prepared.
    auto token = readEnterpriseClientToken(m_dataDir);
    if (!token) {
        done(tl::unexpected(token.error()));
        return;
    }
    const QJsonObject body {{QStringLiteral("username"), user.username}, {QStringLiteral("domain"), user.domain},
        {QStringLiteral("sid"), user.sid}, {QStringLiteral("type"), user.type}};
    const QString who = describe();
    m_client.postJson(
        endpoint(m_base, QStringLiteral("/v1/users")), body, *token, [who, done = std::move(done)](Result<ServiceReply> reply) {
            if (!reply) {
                done(fail(reply.error().code, QStringLiteral("%1 did not answer: %2").arg(who, reply.error().message)));
                return;
            }
            if (reply->status != 200 && reply->status != 201) {
                done(fail(ErrorCode::Io, QStringLiteral("%1 refused to register the user: %2").arg(who, describeAnswer(*reply))));
                return;
            }
            done(sharedIdFrom(reply->body.value(QLatin1String("shared_id")), who));
        });
}

} // namespace hotdesk::stubs

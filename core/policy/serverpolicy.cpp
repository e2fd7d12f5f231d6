// Reading the servers part of the policy.
#include "serverpolicy.h"

#include "../jose/strictjson.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>

namespace hotdesk::policy {

Result<std::chrono::seconds> parseDuration(QStringView text)
{
    static const QRegularExpression pattern(
        QStringLiteral("^P(?:(\\d{1,6})D)?(?:T(?:(\\d{1,6})H)?(?:(\\d{1,7})M)?(?:(\\d{1,9})S)?)?$"));
    const auto match = pattern.match(text.toString());
    const bool hasTime = text.contains(u'T');
    if (!match.hasMatch() || text == u"P" || text == u"PT" || (hasTime && text.endsWith(u'T')))
        return fail(ErrorCode::Malformed,
            QStringLiteral("\"%1\" is not an ISO 8601 duration such as PT15M, PT8H or P1D").arg(text.toString()));
    const qint64 days = match.capturedView(1).toLongLong();
    const qint64 hours = match.capturedView(2).toLongLong();
    const qint64 minutes = match.capturedView(3).toLongLong();
    const qint64 seconds = match.capturedView(4).toLongLong();
    return std::chrono::seconds(((days * 24 + hours) * 60 + minutes) * 60 + seconds);
}

QString formatDuration(std::chrono::seconds duration)
{
    qint64 s = duration.count();
    if (s == 0)
        return QStringLiteral("PT0S");
    QString out = QStringLiteral("P");
    if (s >= 86400) {
        out += QString::number(s / 86400) + u'D';
        s %= 86400;
    }
    if (s > 0) {
        out += u'T';
        if (s >= 3600) {
            out += QString::number(s / 3600) + u'H';
            s %= 3600;
        }
        if (s >= 60) {
            out += QString::number(s / 60) + u'M';
            s %= 60;
        }
        if (s > 0)
            out += QString::number(s) + u'S';
    }
    return out;
}

namespace {

tl::unexpected<Error> invalid(const QString &source, const QString &member, const QString &problem)
{
    return fail(ErrorCode::PolicyInvalid, QStringLiteral("%1: servers.%2 %3").arg(source, member, problem));
}

bool isLoopbackHost(const QString &host)
{
    return host == u"127.0.0.1" || host == u"::1" || host == u"localhost";
}

Result<std::chrono::milliseconds> durationMember(
    const QJsonObject &servers, const char *name, std::chrono::milliseconds fallback, const QString &source)
{
    const QJsonValue v = servers.value(QLatin1String(name));
    if (v.isUndefined())
        return fallback;
    if (!v.isString())
        return invalid(source, QLatin1String(name), QStringLiteral("must be an ISO 8601 duration string such as \"PT15S\""));
    auto d = parseDuration(v.toString());
    if (!d)
        return invalid(source, QLatin1String(name), d.error().message);
    if (d->count() <= 0 || d->count() > 3600)
        return invalid(source, QLatin1String(name), QStringLiteral("must be between 1 second and 1 hour"));
    return std::chrono::milliseconds(*d);
}

} // namespace

Result<AgentPolicy> parseAgentPolicy(QByteArrayView json, const QString &sourceFile)
{
    auto document = jose::parseStrictJsonObject(json);
    if (!document)
        return fail(ErrorCode::PolicyInvalid, QStringLiteral("%1: %2").arg(sourceFile, document.error().message));
    AgentPolicy policy;
    policy.sourceFile = sourceFile;
    policy.document = *document;
    const QJsonValue version = document->value(QLatin1String("version"));
    if (!version.isUndefined() && version.toInt(-1) != 1)
        return fail(ErrorCode::PolicyInvalid, QStringLiteral("%1: version must be 1").arg(sourceFile));
    const QJsonValue serversValue = document->value(QLatin1String("servers"));
    if (!serversValue.isObject())
        return fail(ErrorCode::PolicyInvalid, QStringLiteral("%1: the policy has no \"servers\" object").arg(sourceFile));
    const QJsonObject servers = serversValue.toObject();
    ServerSettings &s = policy.servers;

    const QJsonValue das = servers.value(QLatin1String("das"));
    if (!das.isArray() || das.toArray().isEmpty())
        return invalid(sourceFile, QStringLiteral("das"), QStringLiteral("must list at least one DAS URL"));
    for (const QJsonValue &entry : das.toArray()) {
        const QUrl url(entry.toString(), QUrl::StrictMode);
        const bool https = url.scheme() == u"https";
        const bool loopbackHttp = url.scheme() == u"http" && isLoopbackHost(url.host());
        if (!entry.isString() || !url.isValid() || url.host().isEmpty() || !(https || loopbackHttp) || url.hasQuery()
            || url.hasFragment())
            return invalid(sourceFile, QStringLiteral("das"),
                QStringLiteral("holds \"%1\", which is not an https URL").arg(entry.toString()));
        s.dasUrls.append(url);
    }

    s.idpIssuer = servers.value(QLatin1String("idp_issuer")).toString();
    const QUrl issuer(s.idpIssuer, QUrl::StrictMode);
    if (s.idpIssuer.isEmpty() || !issuer.isValid() || issuer.scheme() != u"https" || issuer.hasQuery() || issuer.hasFragment())
        return invalid(sourceFile, QStringLiteral("idp_issuer"), QStringLiteral("must be the IdP's https issuer URL"));

    s.clientId = servers.value(QLatin1String("client_id")).toString();
    if (s.clientId.isEmpty())
        return invalid(sourceFile, QStringLiteral("client_id"), QStringLiteral("must name the agent's client id at the IdP"));

    const QJsonValue ca = servers.value(QLatin1String("ca_bundle"));
    if (!ca.isUndefined()) {
        if (!ca.isString() || ca.toString().isEmpty())
            return invalid(sourceFile, QStringLiteral("ca_bundle"), QStringLiteral("must be the path of a PEM file"));
        s.caBundle = QFileInfo(sourceFile).dir().absoluteFilePath(ca.toString());
    }

    const QJsonValue activation = servers.value(QLatin1String("das_activation_keys"));
    if (!activation.isUndefined()) {
        if (!activation.isObject())
            return invalid(sourceFile, QStringLiteral("das_activation_keys"), QStringLiteral("must be a JWK set"));
        auto keys = jose::JwkSet::fromJson(QJsonDocument(activation.toObject()).toJson(QJsonDocument::Compact));
        if (!keys || keys->isEmpty())
            return invalid(sourceFile, QStringLiteral("das_activation_keys"), QStringLiteral("holds no usable public key"));
        s.activationKeys = *keys;
    }

    const QJsonValue gateways = servers.value(QLatin1String("gateways"));
    if (!gateways.isUndefined() && !gateways.isArray())
        return invalid(sourceFile, QStringLiteral("gateways"), QStringLiteral("must be a list of https origins"));
    for (const QJsonValue &entry : gateways.toArray()) {
        const QUrl url(entry.toString(), QUrl::StrictMode);
        const bool https = url.scheme() == u"https";
        const bool loopbackHttp = url.scheme() == u"http" && isLoopbackHost(url.host());
        // An origin only: the token goes to every resource of that server, so a path would promise a limit that is not there.
        const bool originOnly
            = (url.path().isEmpty() || url.path() == u"/") && !url.hasQuery() && !url.hasFragment() && url.userInfo().isEmpty();
        if (!entry.isString() || !url.isValid() || url.host().isEmpty() || !(https || loopbackHttp) || !originOnly)
            return invalid(sourceFile, QStringLiteral("gateways"),
                QStringLiteral("holds \"%1\", which is not an https origin such as \"https://gateway.corp.example\"")
                    .arg(entry.toString()));
        s.gateways.append(url);
    }

    auto connect = durationMember(servers, "connect_timeout", s.connectTimeout, sourceFile);
    if (!connect)
        return tl::unexpected(connect.error());
    s.connectTimeout = *connect;
    auto response = durationMember(servers, "response_timeout", s.responseTimeout, sourceFile);
    if (!response)
        return tl::unexpected(response.error());
    s.responseTimeout = *response;
    auto approval = durationMember(servers, "approval_timeout", s.approvalTimeout, sourceFile);
    if (!approval)
        return tl::unexpected(approval.error());
    s.approvalTimeout = *approval;
    return policy;
}

Result<AgentPolicy> loadAgentPolicy(const QString &file)
{
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly))
        return fail(ErrorCode::Io, QStringLiteral("cannot read the policy %1: %2").arg(file, f.errorString()));
    if (f.size() > 1024 * 1024)
        return fail(ErrorCode::PolicyInvalid, QStringLiteral("%1: a policy is at most 1 MiB").arg(file));
    return parseAgentPolicy(f.readAll(), QFileInfo(file).absoluteFilePath());
}

bool isGatewayOrigin(const ServerSettings &servers, const QUrl &url)
{
    const auto defaultPort = [](const QUrl &u) { return u.port(u.scheme() == u"https" ? 443 : 80); };
    for (const QUrl &gateway : servers.gateways) {
        if (gateway.scheme() == url.scheme().toLower() && gateway.host() == url.host().toLower()
            && defaultPort(gateway) == defaultPort(url))
            return true;
    }
    return false;
}

QString defaultPolicyFile()
{
#if defined(Q_OS_WIN)
    return QDir::fromNativeSeparators(qEnvironmentVariable("ProgramData", QStringLiteral("C:/ProgramData")))
        + QStringLiteral("/Hotdesk/policy.json");
#elif defined(Q_OS_MACOS)
    return QStringLiteral("/Library/Application Support/Hotdesk/policy.json");
#else
    return QStringLiteral("/etc/hotdesk/policy.json");
#endif
}

} // namespace hotdesk::policy

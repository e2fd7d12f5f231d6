// Reading the servers part of the policy.
#include "serverpolicy.h"

#include "../jose/strictjson.h"
#include "policytrust.h"
#include "policyvalidator.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QUrl>

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

std::chrono::milliseconds durationMember(const QJsonObject &servers, const char *name, std::chrono::milliseconds fallback)
{
    const QJsonValue v = servers.value(QLatin1String(name));
    if (!v.isString())
        return fallback;
    auto d = parseDuration(v.toString());
    return d ? std::chrono::milliseconds(*d) : fallback;
}

} // namespace

Result<AgentPolicy> parseAgentPolicy(QByteArrayView json, const QString &sourceFile)
{
    // The schema and the rules beyond it decide what is valid; what follows only converts.
    const QList<PolicyProblem> problems = validatePolicy(json);
    if (!problems.isEmpty())
        return fail(ErrorCode::PolicyInvalid,
            QStringLiteral("the policy %1 is invalid; correct it (hotdesk policy check %1 lists the same):\n%2")
                .arg(sourceFile, formatProblems(sourceFile, problems).trimmed()));
    auto document = jose::parseStrictJsonObject(json);
    if (!document)
        return fail(ErrorCode::PolicyInvalid, QStringLiteral("%1: %2").arg(sourceFile, document.error().message));
    AgentPolicy policy;
    policy.sourceFile = sourceFile;
    policy.document = *document;
    policy.version = document->value(QLatin1String("version")).toInt(1);
    const QJsonObject servers = document->value(QLatin1String("servers")).toObject();
    ServerSettings &s = policy.servers;

    for (const QJsonValue &entry : servers.value(QLatin1String("das")).toArray()) {
        const QUrl url(entry.toString(), QUrl::StrictMode);
        if (!url.isValid() || url.host().isEmpty())
            return fail(ErrorCode::PolicyInvalid,
                QStringLiteral("%1: servers.das holds \"%2\", which is not a usable URL").arg(sourceFile, entry.toString()));
        s.dasUrls.append(url);
    }
    s.idpIssuer = servers.value(QLatin1String("idp_issuer")).toString();
    if (!QUrl(s.idpIssuer, QUrl::StrictMode).isValid())
        return fail(ErrorCode::PolicyInvalid,
            QStringLiteral("%1: servers.idp_issuer \"%2\" is not a usable URL").arg(sourceFile, s.idpIssuer));
    s.clientId = servers.value(QLatin1String("client_id")).toString();
    const QString ca = servers.value(QLatin1String("ca_bundle")).toString();
    if (!ca.isEmpty())
        s.caBundle = QFileInfo(sourceFile).dir().absoluteFilePath(ca);
    const QJsonValue activation = servers.value(QLatin1String("das_activation_keys"));
    if (activation.isObject()) {
        auto keys = jose::JwkSet::fromJson(QJsonDocument(activation.toObject()).toJson(QJsonDocument::Compact));
        if (!keys)
            return fail(ErrorCode::PolicyInvalid,
                QStringLiteral("%1: servers.das_activation_keys: %2").arg(sourceFile, keys.error().message));
        s.activationKeys = *keys;
    }

    // The schema allows origins only (https, or http on loopback): the token goes
    // to every resource of that server, so a path would promise a limit that is not there.
    for (const QJsonValue &entry : servers.value(QLatin1String("gateways")).toArray()) {
        const QUrl url(entry.toString(), QUrl::StrictMode);
        if (!url.isValid() || url.host().isEmpty())
            return fail(ErrorCode::PolicyInvalid,
                QStringLiteral("%1: servers.gateways holds \"%2\", which is not a usable origin").arg(sourceFile, entry.toString()));
        s.gateways.append(url);
    }

    s.connectTimeout = durationMember(servers, "connect_timeout", s.connectTimeout);
    s.responseTimeout = durationMember(servers, "response_timeout", s.responseTimeout);
    s.approvalTimeout = durationMember(servers, "approval_timeout", s.approvalTimeout);
    s.proxy = servers.value(QLatin1String("proxy")).toString(s.proxy);
    return policy;
}

bool isPlatformPolicyFile(const QString &file)
{
    return QFileInfo(file).absoluteFilePath() == QFileInfo(defaultPolicyFile()).absoluteFilePath();
}

Result<QByteArray> readPolicyFile(const QString &file)
{
#if defined(Q_OS_UNIX)
    // Whoever reads the installed policy (the tray agent, the commands, as root
    // or not) reads it only when no one but root could have written it.
    if (isPlatformPolicyFile(file))
        return readTrustedPolicyFile(file, 0);
#endif
    constexpr qint64 limit = 1024 * 1024;
    QFile f(file);
    if (QFileInfo(file).isDir() || !f.open(QIODevice::ReadOnly))
        return fail(ErrorCode::Io,
            QStringLiteral("cannot read the policy %1: %2")
                .arg(file, QFileInfo(file).isDir() ? QStringLiteral("it is a folder") : f.errorString()));
    QByteArray bytes = f.read(limit + 1);
    if (bytes.size() > limit)
        return fail(ErrorCode::TooLarge, QStringLiteral("%1: a policy is at most 1 MiB").arg(file));
    return bytes;
}

Result<AgentPolicy> loadAgentPolicy(const QString &file)
{
    auto bytes = readPolicyFile(file);
    if (!bytes)
        return tl::unexpected(
            bytes.error().code == ErrorCode::TooLarge ? Error {ErrorCode::PolicyInvalid, bytes.error().message} : bytes.error());
    return parseAgentPolicy(*bytes, QFileInfo(file).absoluteFilePath());
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

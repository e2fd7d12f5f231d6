// Reading the client tokens of the SCIM endpoint and the enterprise relay.
#include "clienttokens.h"

#include "core/jose/base64url.h"

#include <QDir>
#include <QFile>

namespace hotdesk::stubs {

QString scimClientTokenPath(const QString &dataDir)
{
    return QDir(dataDir).filePath(QStringLiteral("scim-client-token"));
}

Result<QByteArray> readScimClientToken(const QString &dataDir)
{
    QFile file(scimClientTokenPath(dataDir));
    if (!file.open(QIODevice::ReadOnly))
        return fail(ErrorCode::Io,
            QStringLiteral("cannot read %1: %2; start the IdP once to create it").arg(file.fileName(), file.errorString()));
    return file.readAll().trimmed();
}

QString enterpriseClientTokenPath(const QString &dataDir)
{
    return QDir(dataDir).filePath(QStringLiteral("enterprise-client-token"));
}

Result<QByteArray> readEnterpriseClientToken(const QString &dataDir)
{
    const QString path = enterpriseClientTokenPath(dataDir);
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(ErrorCode::Io,
            QStringLiteral("cannot read the enterprise client token %1 (%2); start the enterprise server on this "
                           "data directory once to create it")
                .arg(path, file.errorString()));
    const QByteArray token = file.read(256).trimmed();
    auto raw = jose::base64UrlDecode(token);
    if (!raw || raw->size() != kEnterpriseClientTokenBytes)
        return fail(ErrorCode::Malformed,
            QStringLiteral("%1 does not hold an enterprise client token; delete it and restart the "
                           "enterprise server")
                .arg(path));
    return token;
}

} // namespace hotdesk::stubs

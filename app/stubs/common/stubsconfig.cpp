// Reading DIR/endpoints.json: where the roles of a data directory listen.
#include "stubsconfig.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

namespace hotdesk::stubs {

Result<Endpoints> readEndpoints(const QString &dataDir)
{
    QFile file(QDir(dataDir).filePath(QStringLiteral("endpoints.json")));
    if (!file.open(QIODevice::ReadOnly))
        return fail(
            ErrorCode::Io, QStringLiteral("%1 has no endpoints.json; start 'hotdesk-stubs all --data %1' first").arg(dataDir));
    const QJsonObject object = QJsonDocument::fromJson(file.readAll()).object();
    Endpoints e;
    e.das = QUrl(object.value(QLatin1String("das")).toString());
    e.idp = QUrl(object.value(QLatin1String("idp")).toString());
    e.push = QUrl(object.value(QLatin1String("push")).toString());
    e.enterprise = QUrl(object.value(QLatin1String("enterprise")).toString());
    return e;
}

} // namespace hotdesk::stubs

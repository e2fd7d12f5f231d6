// Access to tests/data from any test executable.
#pragma once

#include <QByteArray>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>

namespace hotdesk::test {

inline QString dataPath(const QString &name)
{
    return QStringLiteral(HOTDESK_TEST_DATA_DIR "/") + name;
}

inline QByteArray readData(const QString &name)
{
    QFile f(dataPath(name));
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot open test data %s", qPrintable(f.fileName()));
    return f.readAll();
}

inline QJsonObject readJsonData(const QString &name)
{
    QJsonParseError err{};
    const auto doc = QJsonDocument::fromJson(readData(name), &err);
    if (err.error != QJsonParseError::NoError)
        qFatal("test data %s is not JSON: %s", qPrintable(name), qPrintable(err.errorString()));
    return doc.object();
}

inline QByteArray fromHex(const QString &hex)
{
    return QByteArray::fromHex(hex.toLatin1());
}

} // namespace hotdesk::test

// Local fingerprint components.
#include "localfingerprint.h"

#include <QFile>
#include <QSysInfo>

namespace hotdesk::device {

Result<QString> machineId()
{
#if defined(Q_OS_LINUX)
    for (const char *path : {"/etc/machine-id", "/var/lib/dbus/machine-id"}) {
        QFile file(QString::fromLatin1(path));
        if (!file.open(QIODevice::ReadOnly))
            continue;
        const QString id = QString::fromLatin1(file.read(512)).trimmed();
        if (das::isValidMachineId(id))
            return id;
    }
#endif
    // Qt reads MachineGuid on Windows and IOPlatformUUID on macOS.
    const QString id = QString::fromLatin1(QSysInfo::machineUniqueId()).trimmed();
    if (das::isValidMachineId(id))
        return id;
    return fail(ErrorCode::Io,
        QStringLiteral("this PC has no machine id (/etc/machine-id); run systemd-machine-id-setup as root"));
}

std::pair<QString, QString> operatingSystem()
{
#if defined(Q_OS_LINUX)
    QFile file(QStringLiteral("/etc/os-release"));
    if (file.open(QIODevice::ReadOnly)) {
        QString name;
        QString version;
        while (!file.atEnd()) {
            const QString line = QString::fromUtf8(file.readLine(1024)).trimmed();
            const qsizetype eq = line.indexOf(u'=');
            if (eq <= 0)
                continue;
            QString value = line.mid(eq + 1);
            if (value.size() >= 2 && (value.startsWith(u'"') || value.startsWith(u'\'')) && value.endsWith(value.front()))
                value = value.mid(1, value.size() - 2);
            const QStringView key = QStringView(line).left(eq);
            if (key == u"NAME")
                name = value;
            else if (key == u"VERSION_ID")
                version = value;
        }
        if (!name.isEmpty())
            return {name.left(256), version.left(256)};
    }
#endif
    return {QSysInfo::productType(), QSysInfo::productVersion()};
}

Result<das::Fingerprint> baseFingerprint(const QString &agentVersion)
{
    auto id = machineId();
    if (!id)
        return tl::unexpected(id.error());
    das::Fingerprint fp;
    fp.machineId = *id;
    std::tie(fp.osName, fp.osVersion) = operatingSystem();
    fp.agentVersion = agentVersion;
    return fp;
}

} // namespace hotdesk::device

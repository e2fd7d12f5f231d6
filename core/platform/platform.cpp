// Names of the platform layer's enums, as the policy and the audit log spell them.
#include "platform.h"

#if defined(Q_OS_UNIX)
#include <pwd.h>
#include <unistd.h>

#include <vector>
#endif

namespace hotdesk::platform {

QString loginName()
{
#if defined(Q_OS_UNIX)
    std::vector<char> buffer(16384);
    passwd entry {};
    passwd *found = nullptr;
    if (getpwuid_r(getuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found && found->pw_name)
        return QString::fromLocal8Bit(found->pw_name);
    return qEnvironmentVariable("USER");
#else
    return qEnvironmentVariable("USERNAME");
#endif
}

QString touchKindName(TouchKind kind)
{
    switch (kind) {
    case TouchKind::Opened:
        return QStringLiteral("opened");
    case TouchKind::Modified:
        return QStringLiteral("modified");
    case TouchKind::Written:
        return QStringLiteral("written");
    case TouchKind::Created:
        return QStringLiteral("created");
    case TouchKind::Deleted:
        return QStringLiteral("deleted");
    case TouchKind::MovedFrom:
        return QStringLiteral("moved-from");
    case TouchKind::MovedTo:
        return QStringLiteral("moved-to");
    case TouchKind::Unknown:
        break;
    }
    return QStringLiteral("unknown");
}

QString deviceKindName(DeviceKind kind)
{
    return kind == DeviceKind::Camera ? QStringLiteral("camera") : QStringLiteral("microphone");
}

std::optional<DeviceKind> deviceKindFromName(const QString &name)
{
    if (name == QLatin1String("camera"))
        return DeviceKind::Camera;
    if (name == QLatin1String("microphone"))
        return DeviceKind::Microphone;
    return std::nullopt;
}

} // namespace hotdesk::platform

// The decision whether overrides of what the agent trusts are honoured, and the message when they are not.
#include "trustoverrides.h"

#include <QMutex>
#include <QSet>

#include <cstdio>
#include <unistd.h>

namespace hotdesk {

bool isTestBuild()
{
    // Set for this file alone by core/CMakeLists.txt from HOTDESK_TEST_HOOKS.
    return HOTDESK_TEST_HOOKS != 0;
}

bool overridesAllowed(bool testBuild, uid_t realUid)
{
    return testBuild || realUid == 0;
}

bool enrollsForDaemon(bool systemOption, bool testBuild)
{
    return systemOption || !testBuild;
}

bool overridesAllowed()
{
    return overridesAllowed(isTestBuild(), ::getuid());
}

QString overrideIgnoredMessage(const QString &name)
{
    return QStringLiteral("hotdesk: %1 is ignored: this Hotdesk build honours overrides of its policy, state, "
                          "socket and browser module only for root (it was built with HOTDESK_TEST_HOOKS=OFF)")
        .arg(name);
}

QString trustedOverrideVariable(const char *name)
{
    const QString value = qEnvironmentVariable(name);
    if (value.isEmpty() || overridesAllowed())
        return value;
    static QMutex mutex;
    static QSet<QByteArray> reported;
    const QMutexLocker lock(&mutex);
    if (!reported.contains(QByteArray(name))) {
        reported.insert(QByteArray(name));
        std::fprintf(stderr, "%s\n", overrideIgnoredMessage(QString::fromLatin1(name)).toLocal8Bit().constData());
    }
    return {};
}

} // namespace hotdesk

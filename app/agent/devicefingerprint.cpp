// Building the local fingerprint.
#include "devicefingerprint.h"

#include "core/device/localfingerprint.h"

#include <QGuiApplication>
#include <QScreen>

#include <algorithm>
#include <cmath>

#if HOTDESK_HAVE_WEBENGINE
#include <QtWebEngineCore/qtwebenginecoreversion.h>
#include <QtWebEngineCore/qtwebenginecoreglobal.h>
#endif

namespace hotdesk::cli {

Result<das::Fingerprint> localFingerprint()
{
    auto fp = device::baseFingerprint(QStringLiteral(HOTDESK_VERSION));
    if (!fp)
        return fp;
    if (qobject_cast<QGuiApplication *>(QCoreApplication::instance())) {
        for (const QScreen *screen : QGuiApplication::screens()) {
            das::ScreenMode mode;
            mode.width = screen->size().width();
            mode.height = screen->size().height();
            mode.scalePercent = int(std::lround(screen->devicePixelRatio() * 100));
            if (mode.width > 0 && mode.height > 0 && fp->screens.size() < 16)
                fp->screens.append(mode);
        }
        std::sort(fp->screens.begin(), fp->screens.end());
    }
#if HOTDESK_HAVE_WEBENGINE
    fp->browserEngine = QStringLiteral("QtWebEngine");
    fp->browserVersion = QStringLiteral("%1 (Chromium %2)")
                             .arg(QLatin1String(QTWEBENGINECORE_VERSION_STR), QLatin1String(qWebEngineChromiumVersion()));
#endif
    return fp;
}

} // namespace hotdesk::cli

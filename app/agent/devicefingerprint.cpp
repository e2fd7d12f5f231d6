// Building the local fingerprint.
#include "devicefingerprint.h"

#include "core/device/localfingerprint.h"

#include <QGuiApplication>
#include <QScreen>

#include <algorithm>
#include <cmath>

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
    // Known at build time (ui/webengine/CMakeLists.txt): asking WebEngine here
    // would load it in every flow, even one that never shows the embedded browser.
    fp->browserVersion = QStringLiteral("%1 (Chromium %2)")
                             .arg(QLatin1String(HOTDESK_WEBENGINE_VERSION), QLatin1String(HOTDESK_CHROMIUM_VERSION));
#endif
    return fp;
}

} // namespace hotdesk::cli

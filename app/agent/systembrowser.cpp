// Default-browser launching.
#include "systembrowser.h"

#include <QDesktopServices>
#include <QGuiApplication>
#include <QProcess>

namespace hotdesk::cli {

Status openInSystemBrowser(const QUrl &url)
{
    const QString browser = qEnvironmentVariable("BROWSER").trimmed();
    if (!browser.isEmpty()) {
        // Like other programs that honour $BROWSER: a command line, the first one of a colon-separated list.
        QStringList words = QProcess::splitCommand(browser.section(u':', 0, 0));
        if (words.isEmpty())
            return fail(ErrorCode::Unsupported, QStringLiteral("$BROWSER is set but names no command"));
        bool substituted = false;
        for (QString &word : words) {
            if (word.contains(QLatin1String("%s"))) {
                word.replace(QLatin1String("%s"), QString::fromLatin1(url.toEncoded()));
                substituted = true;
            }
        }
        if (!substituted)
            words << QString::fromLatin1(url.toEncoded());
        const QString program = words.takeFirst();
        if (!QProcess::startDetached(program, words))
            return fail(ErrorCode::Unsupported, QStringLiteral("cannot start the browser '%1' named by $BROWSER").arg(program));
        return {};
    }
    if (qobject_cast<QGuiApplication *>(QCoreApplication::instance())) {
        if (QDesktopServices::openUrl(url))
            return {};
        return fail(ErrorCode::Unsupported,
            QStringLiteral("no default browser could be started; use --browser print and open the URL yourself"));
    }
    if (QProcess::startDetached(QStringLiteral("xdg-open"), {QString::fromLatin1(url.toEncoded())}))
        return {};
    return fail(ErrorCode::Unsupported,
        QStringLiteral("no browser could be started (no display, no $BROWSER, no xdg-open); use --browser print"));
}

} // namespace hotdesk::cli

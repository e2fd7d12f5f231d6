// Files of the distribution site, guarded against leaving their directory.
#include "enterprisedownloads.h"

#include <QDir>
#include <QFileInfo>
#include <QUrl>

namespace hotdesk::stubs::enterprise {
namespace {

constexpr qsizetype kMaxNameLength = 255;

bool isPlainName(const QString &name)
{
    if (name.isEmpty() || name.size() > kMaxNameLength || name.startsWith(QLatin1Char('.')))
        return false;
    for (const QChar c : name) {
        // Separators of every platform, control characters, and what a failed UTF-8 decode leaves behind.
        if (c == QLatin1Char('/') || c == QLatin1Char('\\') || c == QLatin1Char(':') || c.unicode() < 0x20 || c.unicode() == 0x7f
            || c == QChar::ReplacementCharacter)
            return false;
    }
    return true;
}

// The canonical path of info when it is a readable regular file inside canonicalDir, else empty.
QString servablePath(const QFileInfo &info, const QString &canonicalDir)
{
    if (!info.isFile() || !info.isReadable())
        return {};
    const QString canonical = info.canonicalFilePath();
    if (canonical.isEmpty() || canonicalDir.isEmpty() || !canonical.startsWith(canonicalDir + QLatin1Char('/')))
        return {};
    // Only files directly in the directory: a link to a subdirectory's file is not listed either.
    if (canonical.indexOf(QLatin1Char('/'), canonicalDir.size() + 1) >= 0)
        return {};
    return canonical;
}

} // namespace

QList<DownloadFile> listDownloads(const QString &dir)
{
    const QString canonicalDir = QFileInfo(dir).canonicalFilePath();
    QList<DownloadFile> files;
    for (const QFileInfo &info : QDir(dir).entryInfoList(QDir::Files | QDir::Readable, QDir::Name)) {
        if (!isPlainName(info.fileName()))
            continue;
        const QString path = servablePath(info, canonicalDir);
        if (!path.isEmpty())
            files.append(DownloadFile {info.fileName(), path, info.size()});
    }
    return files;
}

DownloadLookup findDownload(const QString &dir, const QString &encodedSegment)
{
    DownloadLookup lookup;
    // "%2F" and friends are decoded here, after routing, so they are checked like the characters they stand for.
    const QString name = QUrl::fromPercentEncoding(encodedSegment.toUtf8());
    if (encodedSegment.contains(QLatin1Char('/')) || !isPlainName(name)) {
        lookup.outcome = DownloadLookup::Outcome::InvalidName;
        return lookup;
    }
    const QString canonicalDir = QFileInfo(dir).canonicalFilePath();
    const QFileInfo info(QDir(dir).filePath(name));
    const QString path = servablePath(info, canonicalDir);
    if (path.isEmpty()) {
        lookup.outcome = DownloadLookup::Outcome::NotFound;
        lookup.reason = QStringLiteral("the distribution site has no file \"%1\"").arg(name);
        return lookup;
    }
    lookup.outcome = DownloadLookup::Outcome::Found;
    lookup.file = DownloadFile {name, path, info.size()};
    return lookup;
}

QByteArray downloadContentType(const QString &name)
{
    const QString suffix = QFileInfo(name).suffix().toLower();
    if (suffix == QLatin1String("deb"))
        return "application/vnd.debian.binary-package";
    if (suffix == QLatin1String("msi"))
        return "application/x-msi";
    if (suffix == QLatin1String("pkg"))
        return "application/vnd.apple.installer+xml";
    if (suffix == QLatin1String("dmg"))
        return "application/x-apple-diskimage";
    if (suffix == QLatin1String("txt"))
        return "text/plain; charset=utf-8";
    return "application/octet-stream";
}

QByteArray downloadDisposition(const QString &name)
{
    QByteArray fallback;
    for (const QChar c : name) {
        const char16_t u = c.unicode();
        fallback += (u >= 0x20 && u < 0x7f && u != u'"' && u != u'\\' && u != u'%') ? char(u) : '_';
    }
    return "attachment; filename=\"" + fallback + "\"; filename*=UTF-8''" + QUrl::toPercentEncoding(name);
}

} // namespace hotdesk::stubs::enterprise

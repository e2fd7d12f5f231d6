// The enterprise server's distribution site: which files of DATADIR/download/ are served, and how they are labelled.
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

namespace hotdesk::stubs::enterprise {

struct DownloadFile {
    QString name; // the file name as served
    QString path; // its canonical path, inside the download directory
    qint64 size = 0;
};

struct DownloadLookup {
    enum class Outcome {
        Found,
        InvalidName, // not one plain file name: "..", separators, control characters, a leading dot, ...
        NotFound, // no such file, not a regular file, or a link that leads out of the directory
    };
    Outcome outcome = Outcome::NotFound;
    DownloadFile file;
    QString reason; // for the problem detail when not found
};

// The files a client may fetch: readable regular files directly in dir, not
// hidden, and (for symbolic links) resolving inside dir; sorted by name.
QList<DownloadFile> listDownloads(const QString &dir);

// The file for the last segment of /download/<segment>, still percent-encoded
// as it came on the wire. Only a name listDownloads would show is found.
DownloadLookup findDownload(const QString &dir, const QString &encodedSegment);

// Content-Type by extension (.deb, .msi, .pkg, .dmg, .txt; application/octet-stream otherwise).
QByteArray downloadContentType(const QString &name);
// "attachment" with an ASCII fallback name and the exact UTF-8 name (RFC 6266, RFC 8187).
QByteArray downloadDisposition(const QString &name);

} // namespace hotdesk::stubs::enterprise

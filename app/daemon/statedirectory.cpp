// Checks (and creates) the state directory before the daemon trusts anything in it.
#include "statedirectory.h"

#include <QDir>
#include <QFile>

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace hotdesk::daemon {
namespace {

QString octalMode(mode_t mode)
{
    return QStringLiteral("%1").arg(mode & 07777, 4, 8, QLatin1Char('0'));
}

QString systemError(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

} // namespace

Status prepareStateDirectory(const QString &path)
{
    if (!QDir::isAbsolutePath(path))
        return fail(ErrorCode::Io, QStringLiteral("the state directory must be an absolute path, not %1").arg(path));
    const QByteArray native = QFile::encodeName(QDir::cleanPath(path));
    struct stat info { };
    if (::lstat(native.constData(), &info) != 0) {
        if (errno != ENOENT)
            return fail(ErrorCode::Io, QStringLiteral("cannot read the state directory %1: %2").arg(path, systemError(errno)));
        const QString parent = QDir::cleanPath(path + QStringLiteral("/.."));
        if (!QDir().mkpath(parent) || ::mkdir(native.constData(), 0700) != 0)
            return fail(ErrorCode::Io,
                QStringLiteral("cannot create the state directory %1: %2; create it (mode 0700) or name another with --state-dir")
                    .arg(path, systemError(errno)));
        if (::lstat(native.constData(), &info) != 0)
            return fail(ErrorCode::Io, QStringLiteral("cannot read the state directory %1: %2").arg(path, systemError(errno)));
    }
    if (!S_ISDIR(info.st_mode))
        return fail(ErrorCode::Io,
            QStringLiteral(
                "the state directory %1 is not a directory (mode %2); it must be a real directory, not a link or a file")
                .arg(path, octalMode(info.st_mode)));
    const uid_t self = ::geteuid();
    if (info.st_uid != self)
        return fail(ErrorCode::Io,
            QStringLiteral("the state directory %1 belongs to uid %2 (mode %3), not to uid %4 that runs hotdeskd; "
                           "run chown %4 %1 or name another with --state-dir")
                .arg(path, QString::number(info.st_uid), octalMode(info.st_mode), QString::number(self)));
    if ((info.st_mode & 077) != 0)
        return fail(ErrorCode::Io,
            QStringLiteral("the state directory %1 has mode %2: others may reach into it; run chmod 700 %1")
                .arg(path, octalMode(info.st_mode)));
    return {};
}

} // namespace hotdesk::daemon

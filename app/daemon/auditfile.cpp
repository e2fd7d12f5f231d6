// Opens, checks and appends to hotdeskd's audit file.
#include "auditfile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hotdesk::daemon {
namespace {

constexpr mode_t kFileMode = 0640;

QString octalMode(mode_t mode)
{
    return QStringLiteral("%1").arg(mode & 07777, 4, 8, QLatin1Char('0'));
}

QString systemError(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

Status prepareDirectory(const QString &path)
{
    const QByteArray native = QFile::encodeName(path);
    struct stat info { };
    if (::lstat(native.constData(), &info) != 0) {
        if (errno != ENOENT)
            return fail(ErrorCode::Io, QStringLiteral("cannot read the log directory %1: %2").arg(path, systemError(errno)));
        const QString parent = QDir::cleanPath(path + QStringLiteral("/.."));
        if (!QDir().mkpath(parent) || ::mkdir(native.constData(), 0750) != 0 || ::lstat(native.constData(), &info) != 0)
            return fail(ErrorCode::Io,
                QStringLiteral("cannot create the log directory %1: %2; create it (mode 0750) or set LOGS_DIRECTORY")
                    .arg(path, systemError(errno)));
    }
    if (!S_ISDIR(info.st_mode))
        return fail(ErrorCode::Io,
            QStringLiteral("the log directory %1 is not a directory (mode %2); it must be a real directory, not a link or a file")
                .arg(path, octalMode(info.st_mode)));
    if (info.st_uid != ::geteuid())
        return fail(ErrorCode::Io,
            QStringLiteral("the log directory %1 belongs to uid %2 (mode %3), not to uid %4 that runs hotdeskd; run chown %4 %1")
                .arg(path, QString::number(info.st_uid), octalMode(info.st_mode), QString::number(::geteuid())));
    if ((info.st_mode & 022) != 0)
        return fail(ErrorCode::Io,
            QStringLiteral("the log directory %1 has mode %2: others may replace the audit log in it; run chmod 750 %1")
                .arg(path, octalMode(info.st_mode)));
    return {};
}

// Narrows first, then sets the group, then the mode: never wider than 0640 for the wrong group.
Status setOwnership(int fd, const QString &path, const struct stat &info)
{
    const gid_t group = AuditFile::auditGroup();
    const auto failed = [&](const char *what) {
        return fail(
            ErrorCode::Io, QStringLiteral("cannot %1 the audit log %2: %3").arg(QLatin1String(what), path, systemError(errno)));
    };
    if ((info.st_mode & ~kFileMode & 07777) != 0 && ::fchmod(fd, info.st_mode & kFileMode) != 0)
        return failed("restrict the mode of");
    if (info.st_gid != group && ::fchown(fd, uid_t(-1), group) != 0)
        return failed("set the group of");
    if ((info.st_mode & 07777) != kFileMode && ::fchmod(fd, kFileMode) != 0)
        return failed("set the mode of");
    return {};
}

} // namespace

AuditFile::AuditFile(QString path)
    : m_path(std::move(path))
{
}

AuditFile::~AuditFile()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

gid_t AuditFile::auditGroup()
{
    if (::geteuid() != 0)
        return ::getegid();
    struct group entry { };
    struct group *found = nullptr;
    char buffer[4096];
    if (::getgrnam_r("adm", &entry, buffer, sizeof buffer, &found) == 0 && found)
        return found->gr_gid;
    return 0;
}

Result<std::unique_ptr<AuditFile>> AuditFile::open(const QString &path)
{
    if (!QDir::isAbsolutePath(path))
        return fail(ErrorCode::Io, QStringLiteral("the audit log must be an absolute path, not %1").arg(path));
    if (auto directory = prepareDirectory(QFileInfo(path).absolutePath()); !directory)
        return tl::unexpected(directory.error());
    std::unique_ptr<AuditFile> file(new AuditFile(QDir::cleanPath(path)));
    if (auto opened = file->reopen(); !opened)
        return tl::unexpected(opened.error());
    return file;
}

Status AuditFile::reopen()
{
    if (m_fd >= 0) {
        ::close(m_fd);
        m_fd = -1;
    }
    const QByteArray native = QFile::encodeName(m_path);
    const int fd = ::open(native.constData(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0)
        return fail(ErrorCode::Io,
            QStringLiteral("cannot open the audit log %1: %2%3")
                .arg(m_path, systemError(errno),
                    errno == ELOOP ? QStringLiteral(" (it is a symbolic link; the audit log must be a regular file)")
                                   : QString()));
    struct stat info { };
    Status checked;
    if (::fstat(fd, &info) != 0)
        checked = fail(ErrorCode::Io, QStringLiteral("cannot read the audit log %1: %2").arg(m_path, systemError(errno)));
    else if (!S_ISREG(info.st_mode))
        checked = fail(ErrorCode::Io,
            QStringLiteral("the audit log %1 is not a regular file (mode %2)").arg(m_path, octalMode(info.st_mode)));
    else if (info.st_uid != ::geteuid())
        checked = fail(ErrorCode::Io,
            QStringLiteral("the audit log %1 belongs to uid %2, not to uid %3 that runs hotdeskd; move it aside and start again")
                .arg(m_path, QString::number(info.st_uid), QString::number(::geteuid())));
    else if (info.st_nlink != 1)
        checked = fail(ErrorCode::Io,
            QStringLiteral("the audit log %1 has %2 hard links; it must have one: move it aside and start again")
                .arg(m_path, QString::number(info.st_nlink)));
    else
        checked = setOwnership(fd, m_path, info);
    if (!checked) {
        ::close(fd);
        return checked;
    }
    m_fd = fd;
    m_device = info.st_dev;
    m_inode = info.st_ino;
    return {};
}

Status AuditFile::reopenIfMoved()
{
    struct stat info { };
    const QByteArray native = QFile::encodeName(m_path);
    if (m_fd >= 0 && ::lstat(native.constData(), &info) == 0 && info.st_dev == m_device && info.st_ino == m_inode)
        return {};
    return reopen();
}

Status AuditFile::append(const QByteArray &line)
{
    if (auto current = reopenIfMoved(); !current)
        return current;
    ssize_t written = -1;
    do
        written = ::write(m_fd, line.constData(), size_t(line.size()));
    while (written < 0 && errno == EINTR);
    if (written != ssize_t(line.size())) {
        const int error = written < 0 ? errno : ENOSPC;
        // A torn line ends here, so that the next record starts on a line of its own.
        if (written > 0)
            (void)!::write(m_fd, "\n", 1);
        return fail(ErrorCode::Io,
            QStringLiteral("cannot write the audit log %1: %2; check the free disk space").arg(m_path, systemError(error)));
    }
    if (::fdatasync(m_fd) != 0)
        return fail(ErrorCode::Io, QStringLiteral("cannot sync the audit log %1 to disk: %2").arg(m_path, systemError(errno)));
    return {};
}

} // namespace hotdesk::daemon

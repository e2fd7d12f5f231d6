// Readers of /proc with plain system calls: they run on every scan, so no QFile or QDir objects per entry.
#include "procfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace hotdesk::platform::detail {

namespace {

bool isPid(const char *name, qint64 *pid)
{
    if (!*name)
        return false;
    qint64 value = 0;
    for (const char *c = name; *c; ++c) {
        if (*c < '0' || *c > '9' || value > (qint64(1) << 40))
            return false;
        value = value * 10 + (*c - '0');
    }
    *pid = value;
    return value > 0;
}

QByteArray pidPath(const QByteArray &procRoot, qint64 pid, const char *leaf)
{
    QByteArray path = procRoot;
    path += '/';
    path += QByteArray::number(pid);
    if (leaf) {
        path += '/';
        path += leaf;
    }
    return path;
}

} // namespace

QList<qint64> listPids(const QByteArray &procRoot)
{
    QList<qint64> pids;
    DIR *dir = opendir(procRoot.constData());
    if (!dir)
        return pids;
    pids.reserve(512);
    while (const dirent *entry = readdir(dir)) {
        qint64 pid = 0;
        if (isPid(entry->d_name, &pid))
            pids << pid;
    }
    closedir(dir);
    return pids;
}

QByteArray readSmallFile(const QByteArray &path, qsizetype limit)
{
    const int fd = open(path.constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return {};
    QByteArray data(limit, Qt::Uninitialized);
    qsizetype total = 0;
    while (total < limit) {
        const ssize_t n = read(fd, data.data() + total, size_t(limit - total));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        total += n;
    }
    close(fd);
    data.truncate(total);
    return data;
}

QString readComm(const QByteArray &procRoot, qint64 pid)
{
    QByteArray comm = readSmallFile(pidPath(procRoot, pid, "comm"), 64);
    while (comm.endsWith('\n'))
        comm.chop(1);
    return QString::fromUtf8(comm);
}

QStringList readArgvNames(const QByteArray &procRoot, qint64 pid)
{
    const QByteArray cmdline = readSmallFile(pidPath(procRoot, pid, "cmdline"), 4096);
    QStringList names;
    for (const QByteArray &argument : cmdline.split('\0')) {
        if (names.size() == 2 || argument.isEmpty())
            break;
        const qsizetype slash = argument.lastIndexOf('/');
        names << QString::fromUtf8(slash < 0 ? argument : argument.mid(slash + 1));
    }
    return names;
}

QString readExeName(const QByteArray &procRoot, qint64 pid)
{
    char target[4096];
    const ssize_t n = readlink(pidPath(procRoot, pid, "exe").constData(), target, sizeof(target) - 1);
    if (n <= 0)
        return {};
    QByteArray path(target, n);
    if (path.endsWith(" (deleted)")) // replaced by an update while running
        path.chop(10);
    const qsizetype slash = path.lastIndexOf('/');
    return QString::fromUtf8(slash < 0 ? path : path.mid(slash + 1));
}

qint64 processOwner(const QByteArray &procRoot, qint64 pid)
{
    struct stat st { };
    if (stat(pidPath(procRoot, pid, nullptr).constData(), &st) != 0)
        return -1;
    return qint64(st.st_uid);
}

} // namespace hotdesk::platform::detail

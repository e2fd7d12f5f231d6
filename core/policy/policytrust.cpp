// Checking the policy file's owner and mode, and its folders', on file descriptors, and reading it from the one checked.
#include "policytrust.h"

#include <QFile>
#include <QFileInfo>
#include <QStringList>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace hotdesk::policy {

namespace {

constexpr qint64 kMaxPolicyBytes = 1024 * 1024;

// A file descriptor, closed when it goes out of scope.
class Fd {
public:
    explicit Fd(int fd = -1)
        : m_fd(fd)
    {
    }
    Fd(const Fd &) = delete;
    Fd &operator=(const Fd &) = delete;
    Fd(Fd &&other) noexcept
        : m_fd(std::exchange(other.m_fd, -1))
    {
    }
    Fd &operator=(Fd &&other) noexcept
    {
        if (this != &other) {
            close();
            m_fd = std::exchange(other.m_fd, -1);
        }
        return *this;
    }
    ~Fd() { close(); }
    int get() const { return m_fd; }
    bool valid() const { return m_fd >= 0; }

private:
    void close()
    {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = -1;
    }
    int m_fd;
};

// The folder that holds the file (already checked) and whether others may create entries in it (sticky).
struct Folder {
    Fd fd;
    bool othersMayWrite = false;
};

QString accountName(uid_t uid)
{
    struct passwd entry { };
    struct passwd *found = nullptr;
    char buffer[2048];
    if (::getpwuid_r(uid, &entry, buffer, sizeof buffer, &found) == 0 && found)
        return QString::fromLocal8Bit(found->pw_name);
    return QString::number(uid);
}

QString ownerText(uid_t uid)
{
    return QStringLiteral("%1 (uid %2)").arg(accountName(uid), QString::number(uid));
}

QString modeText(mode_t mode)
{
    return QStringLiteral("%1").arg(uint(mode & 07777), 4, 8, QLatin1Char('0'));
}

tl::unexpected<Error> cannotRead(const QString &file, int error)
{
    return fail(
        ErrorCode::Io, QStringLiteral("cannot read the policy %1: %2").arg(file, QString::fromLocal8Bit(std::strerror(error))));
}

tl::unexpected<Error> untrusted(const QString &file, const QString &why, const QString &fix)
{
    return fail(ErrorCode::PolicyUntrusted, QStringLiteral("%1: not trusted: %2. Run '%3'").arg(file, why, fix));
}

bool writableByOthers(const struct stat &st)
{
    return (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

// One folder on the way down to the policy: whether it keeps the policy out of others' reach.
Status checkFolder(const QString &file, const QString &folder, const struct stat &st, uid_t owner)
{
    if (!S_ISDIR(st.st_mode))
        return untrusted(file, QStringLiteral("%1 changed while it was checked").arg(folder),
            QStringLiteral("hotdesk policy check %1").arg(file));
    const bool ownerOk = st.st_uid == 0 || st.st_uid == owner;
    // In a root-owned sticky folder (/tmp) others may add entries but cannot
    // rename or remove the ones they do not own.
    const bool stickyRoot = st.st_uid == 0 && (st.st_mode & S_ISVTX) != 0;
    if (ownerOk && (!writableByOthers(st) || stickyRoot))
        return {};
    return untrusted(file,
        QStringLiteral("the folder %1 above it is owned by %2 with mode %3; every folder above the policy must be owned "
                       "by root and writable by no one else (or root's with the sticky bit, as /tmp)")
            .arg(folder, ownerText(st.st_uid), modeText(st.st_mode)),
        QStringLiteral("chown root:root %1 && chmod go-w %1").arg(folder));
}

// Opens and checks every folder from / down to `folder` (resolved already), each one
// relative to the one above and without following links, so that what is checked
// is what the file is then opened in.
Result<Folder> openFolders(const QString &file, const QByteArray &folder, uid_t owner)
{
    Folder current {Fd(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC))};
    if (!current.fd.valid())
        return cannotRead(file, errno);
    QString path = QStringLiteral("/");
    const QList<QByteArray> steps = folder.split('/');
    for (qsizetype i = 0;; ++i) {
        struct stat st { };
        if (::fstat(current.fd.get(), &st) != 0)
            return cannotRead(file, errno);
        if (auto checked = checkFolder(file, path, st, owner); !checked)
            return tl::unexpected(checked.error());
        current.othersMayWrite = writableByOthers(st);
        while (i < steps.size() && steps.at(i).isEmpty())
            ++i;
        if (i >= steps.size())
            return current;
        Fd next(::openat(current.fd.get(), steps.at(i).constData(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        path = (path.endsWith(QLatin1Char('/')) ? path : path + QLatin1Char('/')) + QFile::decodeName(steps.at(i));
        if (!next.valid()) {
            const int error = errno;
            // A link or a file where the resolved path had a folder: it changed meanwhile.
            if (error == ELOOP || error == ENOTDIR)
                return untrusted(file, QStringLiteral("%1 changed while it was checked").arg(path),
                    QStringLiteral("hotdesk policy check %1").arg(file));
            return cannotRead(file, error);
        }
        current.fd = std::move(next);
    }
}

// The file itself, opened in its checked folder: regular, the owner's, writable by no one else.
Result<Fd> openFile(const QString &file, const Folder &folder, const QByteArray &name, uid_t owner)
{
    // O_NONBLOCK: a FIFO put there must not make the reader wait for a writer.
    Fd fd(::openat(folder.fd.get(), name.constData(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!fd.valid()) {
        const int error = errno;
        if (error == ELOOP)
            return untrusted(file,
                QStringLiteral("it is a symbolic link, which could be pointed elsewhere; the policy must be the file itself"),
                QStringLiteral("cp --remove-destination \"$(readlink -f %1)\" %1").arg(file));
        return cannotRead(file, error);
    }
    struct stat st { };
    if (::fstat(fd.get(), &st) != 0)
        return cannotRead(file, errno);
    if (S_ISDIR(st.st_mode))
        return fail(ErrorCode::Io, QStringLiteral("cannot read the policy %1: it is a folder").arg(file));
    const QString fix
        = QStringLiteral("chown %1 %2 && chmod 644 %2").arg(owner == 0 ? QStringLiteral("root:root") : accountName(owner), file);
    if (!S_ISREG(st.st_mode))
        return untrusted(file, QStringLiteral("it is not a regular file (mode %1)").arg(QString::number(st.st_mode, 8)),
            QStringLiteral("rm %1 && install -m 644 -o root -g root NEW-POLICY %1").arg(file));
    if (st.st_uid != owner || writableByOthers(st))
        return untrusted(file,
            QStringLiteral("it is owned by %1 with mode %2; only a file owned by %3 that no one else can write is trusted")
                .arg(ownerText(st.st_uid), modeText(st.st_mode), accountName(owner)),
            fix);
    // Another hard link to it, made by whoever may add entries to the folder, could
    // be a root file that was never meant as a policy.
    if (folder.othersMayWrite && st.st_nlink > 1)
        return untrusted(file, QStringLiteral("it has %1 hard links in a folder others can write to").arg(quint64(st.st_nlink)),
            QStringLiteral("mkdir -p /etc/hotdesk && install -m 644 -o root -g root %1 /etc/hotdesk/policy.json").arg(file));
    return fd;
}

Result<QByteArray> readAll(const QString &file, int fd)
{
    QByteArray bytes;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cannotRead(file, errno);
        if (n == 0)
            return bytes;
        bytes.append(buffer, n);
        if (bytes.size() > kMaxPolicyBytes)
            return fail(ErrorCode::TooLarge, QStringLiteral("%1: a policy is at most 1 MiB").arg(file));
    }
}

} // namespace

Result<QByteArray> readTrustedPolicyFile(const QString &file, uid_t owner)
{
    const QFileInfo info(file);
    const QByteArray name = QFile::encodeName(info.fileName());
    if (name.isEmpty())
        return fail(ErrorCode::Io, QStringLiteral("cannot read the policy %1: it names no file").arg(file));
    // The folder path with its links resolved; each step is then opened without following any.
    char resolved[PATH_MAX];
    if (!::realpath(QFile::encodeName(info.absolutePath()).constData(), resolved))
        return cannotRead(file, errno);
    auto folder = openFolders(file, QByteArray(resolved), owner);
    if (!folder)
        return tl::unexpected(folder.error());
    auto fd = openFile(file, *folder, name, owner);
    if (!fd)
        return tl::unexpected(fd.error());
    return readAll(file, fd->get());
}

} // namespace hotdesk::policy

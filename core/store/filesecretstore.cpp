// Secret files in a private directory: checked before every use, replaced atomically.
#include "filesecretstore.h"

#include "../jose/base64url.h"

#include <QFile>
#include <QRandomGenerator>
#include <QTimer>

#include <utility>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hotdesk::store {
namespace {

constexpr qsizetype kMaxKeyBytes = 180; // "secret-" + base64url stays below NAME_MAX (255)
constexpr qint64 kMaxSecretBytes = 64 * 1024;

// A file descriptor closed when it goes out of scope.
class Descriptor {
public:
    explicit Descriptor(int fd = -1)
        : m_fd(fd)
    {
    }
    Descriptor(Descriptor &&other) noexcept
        : m_fd(std::exchange(other.m_fd, -1))
    {
    }
    Descriptor &operator=(Descriptor &&other) noexcept
    {
        std::swap(m_fd, other.m_fd);
        return *this;
    }
    ~Descriptor()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    int get() const { return m_fd; }
    bool valid() const { return m_fd >= 0; }
    // Closes now and reports whether the close succeeded (a write may fail only there).
    bool close() { return ::close(std::exchange(m_fd, -1)) == 0; }

private:
    int m_fd;
};

QString octalMode(mode_t mode)
{
    return QStringLiteral("%1").arg(mode & 07777, 4, 8, QLatin1Char('0'));
}

QString systemError(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

tl::unexpected<Error> ioError(const QString &message)
{
    return fail(ErrorCode::Io, message);
}

// The directory is the only thing between the secrets and everyone else: it
// must belong to us and let nobody else in.
Status checkDirectory(const QString &what, const QString &dir, const struct stat &info)
{
    const uid_t self = ::geteuid();
    if (info.st_uid != self)
        return ioError(QStringLiteral("the %1 %2 belongs to uid %3 (mode %4), not to uid %5 that keeps the secrets; "
                                      "run chown %5 %2")
                           .arg(what, dir, QString::number(info.st_uid), octalMode(info.st_mode), QString::number(self)));
    if ((info.st_mode & 07777) != 0700)
        return ioError(
            QStringLiteral("the %1 %2 has mode %3, not 0700; run chmod 700 %2").arg(what, dir, octalMode(info.st_mode)));
    return {};
}

// The directory, opened without following a link and checked; nullopt when it
// does not exist and create is false. With create, a missing directory is
// made with mode 0700 (its parent must exist).
Result<std::optional<Descriptor>> openDirectory(
    const QString &dir, bool create, const QString &what = QStringLiteral("secret directory"))
{
    const QByteArray path = QFile::encodeName(dir);
    constexpr int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    Descriptor fd(::open(path.constData(), flags));
    bool created = false;
    if (!fd.valid() && errno == ENOENT) {
        if (!create)
            return std::optional<Descriptor>();
        if (::mkdir(path.constData(), 0700) != 0 && errno != EEXIST)
            return ioError(QStringLiteral("cannot create the %1 %2: %3").arg(what, dir, systemError(errno)));
        created = true;
        fd = Descriptor(::open(path.constData(), flags));
    }
    if (!fd.valid()) {
        if (errno == ELOOP || errno == ENOTDIR)
            return ioError(QStringLiteral("the %1 %2 is not a directory (a symbolic link or a file); it must be a real "
                                          "directory with mode 0700")
                               .arg(what, dir));
        return ioError(QStringLiteral("cannot open the %1 %2: %3").arg(what, dir, systemError(errno)));
    }
    // The umask may have taken bits from the new directory's 0700.
    if (created && ::fchmod(fd.get(), 0700) != 0)
        return ioError(QStringLiteral("cannot set the mode of the %1 %2: %3").arg(what, dir, systemError(errno)));
    struct stat info { };
    if (::fstat(fd.get(), &info) != 0)
        return ioError(QStringLiteral("cannot read the %1 %2: %3").arg(what, dir, systemError(errno)));
    if (auto ok = checkDirectory(what, dir, info); !ok)
        return tl::unexpected(ok.error());
    return std::optional<Descriptor>(std::move(fd));
}

// Only a plain file of ours that nobody else can read holds a secret.
Status checkSecretFile(const QString &path, const struct stat &info)
{
    if (!S_ISREG(info.st_mode))
        return ioError(QStringLiteral("the secret file %1 is not a regular file; remove it and enroll this PC again").arg(path));
    if (info.st_uid != ::geteuid())
        return ioError(QStringLiteral("the secret file %1 belongs to uid %2, not to uid %3; remove it and enroll this PC again")
                           .arg(path, QString::number(info.st_uid), QString::number(::geteuid())));
    if ((info.st_mode & 077) != 0)
        return ioError(QStringLiteral("the secret file %1 has mode %2: others may read it; remove it and enroll this PC again")
                           .arg(path, octalMode(info.st_mode)));
    if (info.st_nlink != 1)
        return ioError(QStringLiteral("the secret file %1 has %2 links; remove it and enroll this PC again")
                           .arg(path, QString::number(info.st_nlink)));
    if (info.st_size > kMaxSecretBytes)
        return fail(ErrorCode::TooLarge, QStringLiteral("the secret file %1 is larger than 64 KiB").arg(path));
    return {};
}

Result<QByteArray> readAll(int fd, const QString &path)
{
    QByteArray data;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return ioError(QStringLiteral("cannot read the secret file %1: %2").arg(path, systemError(errno)));
        if (n == 0)
            return data;
        if (data.size() + n > kMaxSecretBytes)
            return fail(ErrorCode::TooLarge, QStringLiteral("the secret file %1 is larger than 64 KiB").arg(path));
        data.append(buffer, n);
    }
}

bool writeAll(int fd, const QByteArray &data)
{
    qsizetype done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.constData() + done, size_t(data.size() - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += n;
    }
    return true;
}

// Writes data to a new file name in dir: O_EXCL and O_NOFOLLOW, so nothing
// planted there is followed or reused; mode 0600 whatever the umask.
Status writeNewFile(int dir, const QByteArray &name, const QByteArray &data, const QString &path)
{
    Descriptor fd(::openat(dir, name.constData(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid())
        return ioError(QStringLiteral("cannot create a file in %1: %2").arg(path, systemError(errno)));
    if (::fchmod(fd.get(), 0600) != 0 || !writeAll(fd.get(), data) || ::fsync(fd.get()) != 0 || !fd.close())
        return ioError(QStringLiteral("cannot write a secret file in %1: %2").arg(path, systemError(errno)));
    return {};
}

template <typename Callback, typename Value> void post(Callback done, Value value)
{
    QTimer::singleShot(0, [done = std::move(done), value = std::move(value)]() mutable { done(std::move(value)); });
}

} // namespace

Status preparePrivateDirectory(const QString &directory, const QString &what)
{
    auto opened = openDirectory(directory, true, what);
    if (!opened)
        return tl::unexpected(opened.error());
    return {};
}

QString daemonSecretDirectory(const QString &stateDirectory)
{
    return stateDirectory + QStringLiteral("/secrets");
}

FileSecretStore::FileSecretStore(QString directory)
    : m_dir(std::move(directory))
{
}

QString FileSecretStore::where() const
{
    return QStringLiteral("the directory %1").arg(m_dir);
}

Result<QString> FileSecretStore::fileNameFor(const QString &key)
{
    const QByteArray utf8 = key.toUtf8();
    if (utf8.isEmpty())
        return fail(ErrorCode::Malformed, QStringLiteral("a secret needs a name"));
    if (utf8.size() > kMaxKeyBytes)
        return fail(
            ErrorCode::TooLarge, QStringLiteral("the secret name \"%1\" is longer than %2 bytes").arg(key).arg(kMaxKeyBytes));
    return QStringLiteral("secret-") + QString::fromLatin1(jose::base64UrlEncode(utf8));
}

Result<QByteArray> FileSecretStore::read(const QString &key) const
{
    auto name = fileNameFor(key);
    if (!name)
        return tl::unexpected(name.error());
    const QString path = m_dir + u'/' + *name;
    auto missing = fail(ErrorCode::NotEnrolled,
        QStringLiteral("%1 holds no \"%2\"; enroll this PC (again) with 'sudo hotdesk enroll'").arg(where(), key));
    auto dir = openDirectory(m_dir, false);
    if (!dir)
        return tl::unexpected(dir.error());
    if (!*dir)
        return missing;
    Descriptor fd(
        ::openat((*dir)->get(), QFile::encodeName(*name).constData(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!fd.valid()) {
        if (errno == ENOENT)
            return missing;
        if (errno == ELOOP)
            return ioError(
                QStringLiteral("the secret file %1 is a symbolic link; refused: remove it and enroll this PC again").arg(path));
        return ioError(QStringLiteral("cannot open the secret file %1: %2").arg(path, systemError(errno)));
    }
    struct stat info { };
    if (::fstat(fd.get(), &info) != 0)
        return ioError(QStringLiteral("cannot read the secret file %1: %2").arg(path, systemError(errno)));
    if (auto ok = checkSecretFile(path, info); !ok)
        return tl::unexpected(ok.error());
    return readAll(fd.get(), path);
}

Status FileSecretStore::write(const QString &key, const QByteArray &secret)
{
    auto name = fileNameFor(key);
    if (!name)
        return tl::unexpected(name.error());
    if (secret.size() > kMaxSecretBytes)
        return fail(ErrorCode::TooLarge, QStringLiteral("the secret \"%1\" is larger than 64 KiB").arg(key));
    auto dir = openDirectory(m_dir, true);
    if (!dir)
        return tl::unexpected(dir.error());
    const int dirFd = (*dir)->get();
    const QByteArray temporary = ".tmp-" + QByteArray::number(QRandomGenerator::system()->generate64(), 16);
    if (auto written = writeNewFile(dirFd, temporary, secret, m_dir); !written) {
        ::unlinkat(dirFd, temporary.constData(), 0);
        return written;
    }
    // rename() replaces whatever has the name (a link included) without following it.
    if (::renameat(dirFd, temporary.constData(), dirFd, QFile::encodeName(*name).constData()) != 0) {
        const int error = errno;
        ::unlinkat(dirFd, temporary.constData(), 0);
        return ioError(QStringLiteral("cannot store the secret \"%1\" in %2: %3").arg(key, m_dir, systemError(error)));
    }
    if (::fsync(dirFd) != 0)
        return ioError(QStringLiteral("cannot sync the secret directory %1: %2").arg(m_dir, systemError(errno)));
    return {};
}

Status FileSecretStore::remove(const QString &key)
{
    auto name = fileNameFor(key);
    if (!name)
        return tl::unexpected(name.error());
    auto dir = openDirectory(m_dir, false);
    if (!dir)
        return tl::unexpected(dir.error());
    if (!*dir)
        return {};
    const int dirFd = (*dir)->get();
    if (::unlinkat(dirFd, QFile::encodeName(*name).constData(), 0) != 0) {
        if (errno == ENOENT)
            return {};
        return ioError(QStringLiteral("cannot delete the secret \"%1\" from %2: %3").arg(key, m_dir, systemError(errno)));
    }
    if (::fsync(dirFd) != 0)
        return ioError(QStringLiteral("cannot sync the secret directory %1: %2").arg(m_dir, systemError(errno)));
    return {};
}

void FileSecretStore::readSecret(const QString &key, ReadCallback done)
{
    post(std::move(done), read(key));
}

void FileSecretStore::writeSecret(const QString &key, const QByteArray &secret, DoneCallback done)
{
    post(std::move(done), write(key, secret));
}

void FileSecretStore::deleteSecret(const QString &key, DoneCallback done)
{
    post(std::move(done), remove(key));
}

} // namespace hotdesk::store

// Sensitive programs known by their content: size, then SHA-256 of the file a process runs.
#include "programidentity.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <sys/stat.h>

namespace hotdesk::platform {
namespace {

std::optional<QByteArray> sha256Of(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return std::nullopt;
    QCryptographicHash hash(QCryptographicHash::Sha256);
    if (!hash.addData(&file))
        return std::nullopt;
    return hash.result();
}

} // namespace

QStringList programSearchPath()
{
    const QStringList path = qEnvironmentVariable("PATH").split(QLatin1Char(':'), Qt::SkipEmptyParts);
    return path.isEmpty() ? QStringList {QStringLiteral("/usr/local/bin"), QStringLiteral("/usr/bin"), QStringLiteral("/bin")}
                          : path;
}

QList<ProgramIdentity> identifyPrograms(const QStringList &entries, const QStringList &searchPath)
{
    QList<ProgramIdentity> programs;
    for (const QString &entry : entries) {
        QStringList candidates;
        if (QDir::isAbsolutePath(entry))
            candidates << entry;
        else if (!entry.contains(QLatin1Char('/')))
            for (const QString &dir : searchPath)
                candidates << QDir(dir).filePath(entry);
        for (const QString &candidate : std::as_const(candidates)) {
            const QFileInfo info(candidate);
            if (!info.isFile())
                continue;
            const QString resolved = info.canonicalFilePath();
            const auto digest = sha256Of(resolved);
            if (digest)
                programs.append({entry, resolved, QFileInfo(resolved).size(), *digest});
        }
    }
    return programs;
}

std::optional<QString> matchProgramIdentity(const QByteArray &procRoot, qint64 pid, const QList<ProgramIdentity> &programs)
{
    if (programs.isEmpty())
        return std::nullopt;
    // /proc/PID/exe opens the very file the process runs, even one deleted or renamed since.
    const QByteArray exe = procRoot + '/' + QByteArray::number(pid) + "/exe";
    struct stat info { };
    if (::stat(exe.constData(), &info) != 0 || !S_ISREG(info.st_mode))
        return std::nullopt;
    std::optional<QByteArray> digest;
    for (const ProgramIdentity &program : programs) {
        if (program.size != info.st_size)
            continue;
        if (!digest && !(digest = sha256Of(QFile::decodeName(exe))))
            return std::nullopt;
        if (*digest == program.sha256)
            return program.name;
    }
    return std::nullopt;
}

} // namespace hotdesk::platform

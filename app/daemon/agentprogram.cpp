// The check behind attach: /proc/PID/exe against the installed agent's file.
#include "agentprogram.h"

#include <QFile>

#include <sys/stat.h>
#include <unistd.h>

namespace hotdesk::daemon {

AgentProgram checkAgentProgram(pid_t pid, const QStringList &allowed, const QByteArray &procRoot)
{
    AgentProgram result;
    if (pid <= 0) {
        result.why = QStringLiteral("the kernel did not say which process connected");
        return result;
    }
    const QByteArray exe = procRoot + '/' + QByteArray::number(pid) + "/exe";
    char target[4096];
    const ssize_t length = ::readlink(exe.constData(), target, sizeof target - 1);
    if (length > 0)
        result.program = QFile::decodeName(QByteArray(target, length));
    // stat() follows the link to the file the process runs, even one renamed or deleted since.
    struct stat running { };
    if (::stat(exe.constData(), &running) != 0) {
        result.why = QStringLiteral("the program of process %1 cannot be read (it is gone)").arg(pid);
        return result;
    }
    for (const QString &path : allowed) {
        struct stat expected { };
        if (::stat(QFile::encodeName(path).constData(), &expected) != 0 || expected.st_dev != running.st_dev
            || expected.st_ino != running.st_ino)
            continue;
        if (!S_ISREG(running.st_mode) || running.st_uid != 0 || (running.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
            result.why = QStringLiteral("%1 is not a root-owned file that only root may write (owner %2, mode %3)")
                             .arg(path, QString::number(running.st_uid), QString::number(running.st_mode & 07777, 8));
            return result;
        }
        result.allowed = true;
        return result;
    }
    result.why = QStringLiteral("process %1 runs %2, not the Hotdesk agent (%3)")
                     .arg(QString::number(pid), result.program.isEmpty() ? QStringLiteral("an unknown program") : result.program,
                         allowed.join(QStringLiteral(", ")));
    return result;
}

QString installedAgentProgram()
{
    return QStringLiteral(HOTDESK_AGENT_PROGRAM);
}

} // namespace hotdesk::daemon

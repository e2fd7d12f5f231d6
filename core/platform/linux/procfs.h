// Small readers of /proc (or a stand-in directory in tests) shared by the Linux watchers.
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <sys/types.h>

namespace hotdesk::platform::detail {

// The numeric entries of procRoot: one per process.
QList<qint64> listPids(const QByteArray &procRoot);
// procRoot/PID/comm without its newline (the kernel's 15-byte program name); empty if gone.
QString readComm(const QByteArray &procRoot, qint64 pid);
// The file names of argv[0] and argv[1] from procRoot/PID/cmdline (for a
// script run through its #! line: the interpreter and the script); empty
// while the process is still in exec(), or gone.
QStringList readArgvNames(const QByteArray &procRoot, qint64 pid);
// The file name of the program procRoot/PID/exe points to; empty if not readable.
QString readExeName(const QByteArray &procRoot, qint64 pid);
// The owner of procRoot/PID (the process's real user); -1 if gone.
qint64 processOwner(const QByteArray &procRoot, qint64 pid);
// Whole small file, at most limit bytes; empty on any error.
QByteArray readSmallFile(const QByteArray &path, qsizetype limit = 4096);

} // namespace hotdesk::platform::detail

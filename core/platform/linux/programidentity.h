// What a sensitive program is, beyond its name: the installed file's size and SHA-256, so a renamed copy is still known.
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace hotdesk::platform {

struct ProgramIdentity {
    QString name; // the policy's entry it belongs to
    QString path; // the file it was read from
    qint64 size = 0;
    QByteArray sha256;
};

// For each policy entry: an absolute path is that file; a name is looked up in
// searchPath's directories (every match counts: /usr/bin and /usr/local/bin may
// hold different programs of one name). Entries that name no readable regular
// file have no identity (the name still matches as before).
QList<ProgramIdentity> identifyPrograms(const QStringList &entries, const QStringList &searchPath);

// The default search path: $PATH's directories, else the usual system ones.
QStringList programSearchPath();

// The entry whose program procRoot/PID/exe is, judged by content: a cheap size
// comparison first, then SHA-256 of the running file only when a size matches.
// nullopt when none is (or the process is gone).
std::optional<QString> matchProgramIdentity(const QByteArray &procRoot, qint64 pid, const QList<ProgramIdentity> &programs);

} // namespace hotdesk::platform

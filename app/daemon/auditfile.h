// hotdeskd's audit file (/var/log/hotdesk/audit.jsonl): root-owned, group adm, 0640, appended one synced line at a time.
#pragma once

#include "core/result.h"

#include <QByteArray>
#include <QString>

#include <memory>
#include <sys/types.h>

namespace hotdesk::daemon {

// The file and its directory are checked like the state directory (sshd's
// StrictModes): the directory is created 0750 when missing and must be a real
// directory owned by this process's uid that neither group nor others may
// write; the file is created 0600 and only then given its group and mode 0640,
// so it is never readable more widely than that, and an existing file must be
// a regular file (O_NOFOLLOW: never a link) owned by this uid with one link;
// its group and mode are set again at every open. Opened with
// O_WRONLY|O_APPEND|O_NOFOLLOW|O_CLOEXEC.
//
// Each line is one write(2) (O_APPEND: never interleaved with another writer)
// followed by fdatasync(2): a record append() returned for is on disk. Audit
// records are few (tens an hour), so the sync costs nothing that matters.
//
// Rotation (logrotate, or a person moving the file away): before each line the
// file's path is checked; when it no longer names the open file, the file is
// opened (created) again at the path, with the same checks.
class AuditFile {
public:
    static Result<std::unique_ptr<AuditFile>> open(const QString &path);
    ~AuditFile();
    AuditFile(const AuditFile &) = delete;
    AuditFile &operator=(const AuditFile &) = delete;

    // line: one record ending in '\n'.
    Status append(const QByteArray &line);
    const QString &path() const { return m_path; }

    // The file's group: adm when this runs as root and the group exists, root
    // without it; a daemon run as another user (tests, development) keeps its own group.
    static gid_t auditGroup();

private:
    explicit AuditFile(QString path);
    Status reopen();
    Status reopenIfMoved();

    QString m_path;
    int m_fd = -1;
    dev_t m_device = 0;
    ino_t m_inode = 0;
};

} // namespace hotdesk::daemon

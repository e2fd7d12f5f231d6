// Whether the policy file may be trusted (as sshd's StrictModes): root's, and no one else can change it or its folders.
#pragma once

#include "../result.h"

#include <QByteArray>
#include <QString>

#include <sys/types.h>

namespace hotdesk::policy {

// Reads the policy file only if it is trusted, and returns the bytes read
// from the very file descriptor that was checked, so the caller parses
// exactly what was checked (no window between the check and the read):
// - the file itself is a regular file, not a symbolic link, owned by `owner`
//   (the agent and hotdeskd pass 0, root) and not writable by group or others;
// - every folder from / down to it is owned by root (or `owner`) and not
//   writable by group or others, except a root-owned folder with the sticky bit
//   (as /tmp), where others cannot rename or remove what they do not own; a
//   file directly in such a folder must have no second hard link.
// The folders are the resolved ones (symbolic links in the folder path are
// followed first, then every step is opened without following links).
// Errors: PolicyUntrusted ("FILE: not trusted: why; Run 'what to run'"),
// Io (missing or unreadable, "cannot read the policy FILE: why"), TooLarge.
Result<QByteArray> readTrustedPolicyFile(const QString &file, uid_t owner = 0);

} // namespace hotdesk::policy

// Secrets as root-only files in one private directory: the daemon's device key under /var/lib/hotdesk.
#pragma once

#include "secretstore.h"

namespace hotdesk::store {

// hotdeskd's state directory when neither systemd ($STATE_DIRECTORY) nor --state-dir names another.
inline constexpr char kDaemonStateDirectory[] = "/var/lib/hotdesk";

// Where hotdeskd keeps the device keys in its state directory: DIR/secrets
// (docs/hotdeskd.md). 'sudo hotdesk enroll --system' writes there, the daemon reads.
QString daemonSecretDirectory(const QString &stateDirectory);

// The check FileSecretStore makes of its own directory, for another private
// directory: created with mode 0700 when missing (not its parents), then it
// must be a real directory owned by this process's effective uid with mode
// exactly 0700. what names it in the errors ("state directory").
Status preparePrivateDirectory(const QString &directory, const QString &what);

// One file per secret in a directory that only its owner can reach:
//  - the directory must be a real directory (not a link) owned by this
//    process's effective uid with mode exactly 0700; it is created with that
//    mode when missing (its parent must exist), and anything else is refused
//    with an error naming the directory, its owner and its mode;
//  - each secret is a regular file of mode 0600 named "secret-" followed by
//    the key in base64url (so no key can name a path outside the directory),
//    written atomically: a new file (O_EXCL, O_NOFOLLOW, mode 0600) is written,
//    synced and renamed over the old one, and the directory is synced;
//  - a read refuses a symbolic link (O_NOFOLLOW), anything but a regular
//    file, a file owned by someone else, a file with group or other
//    permission bits, and a file with more than one link.
// The same asynchronous contract as every SecretStore: the work is done in
// the call, the callback runs later on the event loop. A missing secret is
// NotEnrolled, a refused or failing file Io, an over-long key TooLarge.
// Neither the secret nor any part of it appears in a message.
class FileSecretStore final : public SecretStore {
public:
    explicit FileSecretStore(QString directory);

    void readSecret(const QString &key, ReadCallback done) override;
    void writeSecret(const QString &key, const QByteArray &secret, DoneCallback done) override;
    void deleteSecret(const QString &key, DoneCallback done) override;
    QString where() const override;

    const QString &directory() const { return m_dir; }
    // The file name that holds key, or an error for a key no file may hold
    // (empty, or longer than 180 bytes in UTF-8).
    static Result<QString> fileNameFor(const QString &key);

    // The same operations, synchronously, for callers without an event loop.
    Result<QByteArray> read(const QString &key) const;
    Status write(const QString &key, const QByteArray &secret);
    Status remove(const QString &key);

private:
    QString m_dir;
};

} // namespace hotdesk::store

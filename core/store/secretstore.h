// Secrets of the agent (the device key) in the OS keychain, behind an asynchronous interface a test can replace.
#pragma once

#include "../result.h"

#include <QByteArray>
#include <QHash>
#include <QString>

#include <functional>
#include <optional>

namespace hotdesk::store {

// The name under which the OS keychain lists Hotdesk's secrets (the
// QtKeychain "service": the Secret Service attribute "service", the Windows
// credential target prefix, the macOS keychain item's service).
inline constexpr char kKeychainService[] = "Hotdesk";

// Every callback runs exactly once, later (never inside the call), with the
// outcome. A secret that is not there is ErrorCode::NotEnrolled (the only
// secret Hotdesk keeps is an enrollment's device key); the keychain failing
// is ErrorCode::Keychain. Neither the secret nor any part of it ever appears
// in a message or a log.
class SecretStore {
public:
    virtual ~SecretStore() = default;

    using ReadCallback = std::function<void(Result<QByteArray>)>;
    using DoneCallback = std::function<void(Status)>;

    virtual void readSecret(const QString &key, ReadCallback done) = 0;
    // Replaces the secret stored under key, if any.
    virtual void writeSecret(const QString &key, const QByteArray &secret, DoneCallback done) = 0;
    // Deleting a secret that is not there succeeds: the caller wanted it gone.
    virtual void deleteSecret(const QString &key, DoneCallback done) = 0;
    // Where the secrets are, for messages: "the OS keychain", "the directory /var/lib/hotdesk/secrets".
    virtual QString where() const { return QStringLiteral("the OS keychain"); }
};

// The operating system's keychain through QtKeychain: the Secret Service
// (gnome-keyring, KWallet) on Linux, the Credential Manager on Windows, the
// login keychain on macOS. Never falls back to a plain-text file.
class KeychainSecretStore final : public SecretStore {
public:
    explicit KeychainSecretStore(QString service = QString::fromLatin1(kKeychainService));

    void readSecret(const QString &key, ReadCallback done) override;
    void writeSecret(const QString &key, const QByteArray &secret, DoneCallback done) override;
    void deleteSecret(const QString &key, DoneCallback done) override;

    const QString &service() const { return m_service; }

private:
    QString m_service;
};

// In memory, for unit tests: the same contract, and failures on demand.
class MemorySecretStore final : public SecretStore {
public:
    void readSecret(const QString &key, ReadCallback done) override;
    void writeSecret(const QString &key, const QByteArray &secret, DoneCallback done) override;
    void deleteSecret(const QString &key, DoneCallback done) override;

    // Every following call fails with this error (nullopt: works again).
    void setFailure(std::optional<Error> failure) { m_failure = std::move(failure); }
    bool contains(const QString &key) const { return m_secrets.contains(key); }
    QList<QString> keys() const { return m_secrets.keys(); }

private:
    QHash<QString, QByteArray> m_secrets;
    std::optional<Error> m_failure;
};

} // namespace hotdesk::store

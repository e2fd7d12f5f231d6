// The OS keychain through QtKeychain, and the in-memory store of the tests.
#include "secretstore.h"

#include <QTimer>

#include <qt6keychain/keychain.h>

namespace hotdesk::store {
namespace {

// What to do when the keychain fails, for the platform the agent runs on.
QString keychainHint()
{
#if defined(Q_OS_WIN)
    return QStringLiteral("check that the Windows Credential Manager works for this user");
#elif defined(Q_OS_MACOS)
    return QStringLiteral("check that the login keychain is unlocked and Hotdesk may use it");
#else
    return QStringLiteral("is a Secret Service (gnome-keyring or KWallet) running and unlocked in this session?");
#endif
}

Error keychainError(const QKeychain::Job &job, const QString &action, const QString &key)
{
    const QString what = QStringLiteral("the OS keychain could not %1 \"%2\"").arg(action, key);
    switch (job.error()) {
    case QKeychain::EntryNotFound:
        return Error {ErrorCode::NotEnrolled,
            QStringLiteral("the OS keychain holds no \"%1\"; enroll this PC (again) with 'hotdesk enroll'").arg(key)};
    case QKeychain::AccessDeniedByUser:
        return Error {ErrorCode::Keychain,
            QStringLiteral("%1: access was refused (%2); allow Hotdesk to use the keychain and try again")
                .arg(what, job.errorString())};
    case QKeychain::AccessDenied:
        return Error {ErrorCode::Keychain,
            QStringLiteral("%1: access denied (%2); unlock the keychain and try again").arg(what, job.errorString())};
    case QKeychain::NoBackendAvailable:
        return Error {ErrorCode::Keychain,
            QStringLiteral("%1: no keychain is available (%2); %3").arg(what, job.errorString(), keychainHint())};
    default:
        return Error {ErrorCode::Keychain, QStringLiteral("%1: %2; %3").arg(what, job.errorString(), keychainHint())};
    }
}

// QtKeychain jobs start on the event loop and delete themselves after finished().
template <typename JobType, typename OnFinished> void startJob(JobType *job, const QString &key, OnFinished onFinished)
{
    job->setAutoDelete(true);
    // A secret of Hotdesk never lands in a plain-text file.
    job->setInsecureFallback(false);
    job->setKey(key);
    QObject::connect(job, &QKeychain::Job::finished, job, [job, onFinished] { onFinished(*job); });
    job->start();
}

// Later, on the event loop, as the keychain would: callers never see a callback inside their call.
template <typename Callback, typename Value> void post(Callback done, Value value)
{
    QTimer::singleShot(0, [done = std::move(done), value = std::move(value)]() mutable { done(std::move(value)); });
}

} // namespace

KeychainSecretStore::KeychainSecretStore(QString service)
    : m_service(std::move(service))
{
}

void KeychainSecretStore::readSecret(const QString &key, ReadCallback done)
{
    startJob(new QKeychain::ReadPasswordJob(m_service), key, [key, done](QKeychain::ReadPasswordJob &job) {
        if (job.error() != QKeychain::NoError)
            return done(tl::unexpected(keychainError(job, QStringLiteral("read"), key)));
        done(job.binaryData());
    });
}

void KeychainSecretStore::writeSecret(const QString &key, const QByteArray &secret, DoneCallback done)
{
    auto *job = new QKeychain::WritePasswordJob(m_service);
    job->setBinaryData(secret);
    startJob(job, key, [key, done](QKeychain::WritePasswordJob &finished) {
        if (finished.error() != QKeychain::NoError)
            return done(tl::unexpected(keychainError(finished, QStringLiteral("store"), key)));
        done({});
    });
}

void KeychainSecretStore::deleteSecret(const QString &key, DoneCallback done)
{
    startJob(new QKeychain::DeletePasswordJob(m_service), key, [key, done](QKeychain::DeletePasswordJob &job) {
        if (job.error() == QKeychain::NoError || job.error() == QKeychain::EntryNotFound)
            return done({});
        done(tl::unexpected(keychainError(job, QStringLiteral("delete"), key)));
    });
}

void MemorySecretStore::readSecret(const QString &key, ReadCallback done)
{
    Result<QByteArray> result = m_failure ? Result<QByteArray>(tl::unexpected(*m_failure))
        : m_secrets.contains(key)
        ? Result<QByteArray>(m_secrets.value(key))
        : Result<QByteArray>(fail(ErrorCode::NotEnrolled,
            QStringLiteral("the OS keychain holds no \"%1\"; enroll this PC (again) with 'hotdesk enroll'").arg(key)));
    post(std::move(done), std::move(result));
}

void MemorySecretStore::writeSecret(const QString &key, const QByteArray &secret, DoneCallback done)
{
    Status result;
    if (m_failure)
        result = tl::unexpected(*m_failure);
    else
        m_secrets.insert(key, secret);
    post(std::move(done), std::move(result));
}

void MemorySecretStore::deleteSecret(const QString &key, DoneCallback done)
{
    Status result;
    if (m_failure)
        result = tl::unexpected(*m_failure);
    else
        m_secrets.remove(key);
    post(std::move(done), std::move(result));
}

} // namespace hotdesk::store

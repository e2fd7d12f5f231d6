// Each user's one-time recovery codes in the OS keychain, hashed and checked off the UI thread.
#pragma once

#include "../policy/recoverycodes.h"
#include "../random.h"
#include "../result.h"
#include "secretstore.h"

#include <QObject>
#include <QStringList>

#include <functional>

namespace hotdesk::store {

// Proof that one of `user`'s recovery codes was typed and used up. Only
// RecoveryCodeStore::consume makes one, after the shortened set is back in the
// keychain, so a code that unlocked once cannot unlock again.
struct RecoveryCodeAccepted {
    QString user;
    int remaining = 0; // codes this user has left
};

// The set lives under "recovery-codes:USER" (user in lower case) as
// RecoveryCodes::toJson(): Argon2id hashes only, never a plain code. Argon2id is
// slow on purpose (about 0.1 s and 64 MiB a hash), so hashing runs on Qt's
// global thread pool and the callbacks come back on the thread that called.
class RecoveryCodeStore : public QObject {
    Q_OBJECT
public:
    RecoveryCodeStore(SecretStore &secrets, RandomSource &random, QObject *parent = nullptr,
        policy::PasswordHashCost cost = policy::PasswordHashCost::interactive());

    static QString keyFor(const QString &user);

    // Replaces the user's set with `count` new codes; done gets the plain codes,
    // which exist nowhere else: they are shown once and then forgotten.
    void generate(const QString &user, int count, std::function<void(Result<QStringList>)> done);
    // Checks `typed` against the user's set. A code that fits is removed and the
    // rest written back before done() reports it. Errors: AccessDenied (not a
    // code of this user, or used before), NotEnrolled (the user has no codes),
    // Keychain, Malformed (the stored set is damaged).
    void consume(const QString &user, const QString &typed, std::function<void(Result<RecoveryCodeAccepted>)> done);
    // How many unused codes the user has (0 when there is no set).
    void remaining(const QString &user, std::function<void(Result<int>)> done);

private:
    SecretStore &m_secrets;
    RandomSource &m_random;
    policy::PasswordHashCost m_cost;
    bool m_busy = false; // one consume at a time: two racing checks could both use the same code
};

} // namespace hotdesk::store

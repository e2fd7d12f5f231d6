// One-time recovery codes: shown to the user once, kept only as salted Argon2id hashes.
#pragma once

#include "../random.h"
#include "../result.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QStringList>

#include <cstddef>
#include <optional>

namespace hotdesk::policy {

// libsodium crypto_pwhash (Argon2id) work factors.
struct PasswordHashCost {
    unsigned long long opsLimit = 0;
    std::size_t memLimit = 0; // bytes

    // crypto_pwhash_OPSLIMIT_INTERACTIVE / MEMLIMIT_INTERACTIVE (2 passes, 64 MiB):
    // what the product uses. MODERATE (256 MiB, about 0.5 s a hash) would make
    // checking one typed code against ten hashes take seconds at the lock screen.
    static PasswordHashCost interactive();
    // crypto_pwhash_OPSLIMIT_MIN / MEMLIMIT_MIN: for tests only.
    static PasswordHashCost minimum();
};

// A set of one-time codes such as "7K3M-Q9TD": 8 symbols of Crockford's
// base32 (no I, L, O, U), 40 random bits each. Only the Argon2id hash of each
// code is kept (crypto_pwhash_str: own random salt, parameters in the string);
// a code that has been used is removed. The JSON form (toJson) holds no secret
// that could be used directly, and still belongs in the OS keychain (DESIGN.md
// "Security rules"). Hashing is slow by design: run it off the UI thread.
class RecoveryCodes {
public:
    struct Generated;

    // count codes from `random`; the plain codes ("XXXX-XXXX") are returned
    // once, to be shown to the user, and are not kept. count is 1..100.
    static Result<Generated> generate(
        RandomSource &random, int count = 10, PasswordHashCost cost = PasswordHashCost::interactive());

    // Whether `typed` is an unused code; if so it is used up (removed).
    // Typing is forgiven: case, spaces and hyphens, O for 0, I or L for 1.
    // false for anything else, including text that cannot be a code.
    // Errors: CryptoFailure when libsodium cannot run.
    Result<bool> consume(QStringView typed);

    int remaining() const { return int(m_hashes.size()); }
    int issued() const { return m_issued; }

    // {"version": 1, "algorithm": "argon2id", "issued": N, "hashes": ["$argon2id$v=19$m=...", ...]}
    QJsonObject toJson() const;
    // Malformed when the object is not what toJson writes, or a hash asks for
    // more work than PasswordHashCost allows (a tampered file must not make the
    // lock screen allocate gigabytes).
    static Result<RecoveryCodes> fromJson(const QJsonObject &object);

    // The canonical form that is hashed (8 symbols, upper case, no hyphen), or
    // std::nullopt when `typed` cannot be a code.
    static std::optional<QByteArray> normalize(QStringView typed);

private:
    QList<QByteArray> m_hashes; // crypto_pwhash_str strings
    int m_issued = 0;
};

struct RecoveryCodes::Generated {
    RecoveryCodes codes;
    QStringList plain; // "XXXX-XXXX", in the order they are shown
};

} // namespace hotdesk::policy

// JSON Web Keys (RFC 7517/7518/8037) held as ready-to-use OpenSSL key objects.
#pragma once

#include "../result.h"
#include "algorithm.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

typedef struct evp_pkey_st EVP_PKEY;

namespace hotdesk::jose {

struct JwkOptions {
    // "oct" keys are refused unless the caller expects an HMAC key.
    bool allowSymmetric = false;
    // Private members (d, p, q, ...) are refused unless the caller wants to sign.
    bool allowPrivate = false;
};

class Jwk {
public:
    enum class Type { Rsa, Ec, Okp, Oct };

    // Validates and imports one key: RSA modulus of at least 2048 bits and an
    // odd exponent > 1; EC P-256/P-384/P-521 with full-length coordinates of a
    // point on the curve; OKP Ed25519; oct when allowed. "use" must be "sig"
    // and "key_ops" must allow verification, when present.
    static Result<Jwk> fromJson(const QJsonObject &json, const JwkOptions &options = {});
    static Result<Jwk> fromJson(QByteArrayView json, const JwkOptions &options = {});

    // A fresh private key for alg (RSA 2048 for RS*/PS*, the matching curve for
    // ES*, Ed25519 for EdDSA, 32..64 random bytes for HS*).
    static Result<Jwk> generate(Algorithm alg, const QString &kid = {});

    Type type() const { return m_type; }
    QString kid() const { return m_kid; }
    void setKid(const QString &kid) { m_kid = kid; }
    // The "alg" member when the key names one; a token must then use exactly it.
    std::optional<Algorithm> algorithm() const { return m_alg; }
    QString curve() const { return m_curve; } // "P-256", "Ed25519", ... or empty
    bool isPrivate() const { return m_private; }
    int bits() const; // modulus size, curve size, or secret length in bits

    // Whether this key may check (or make) a signature with alg: the key type
    // and curve fit the algorithm family and the key's own "alg" agrees.
    bool fits(Algorithm alg) const;

    // The public half as a JWK object (never private members); with kid and alg if set.
    QJsonObject toPublicJson() const;
    // The whole key including private members (for the key store of the stub servers).
    QJsonObject toPrivateJson() const;
    // RFC 7638 thumbprint, base64url of SHA-256.
    QByteArray thumbprint() const;

    EVP_PKEY *evpKey() const { return m_key.get(); }
    const QByteArray &secret() const { return m_secret; }

private:
    Type m_type = Type::Rsa;
    QString m_kid;
    std::optional<Algorithm> m_alg;
    QString m_curve;
    bool m_private = false;
    std::shared_ptr<EVP_PKEY> m_key; // shared: copies of a Jwk reuse the parsed key
    QByteArray m_secret;            // oct only
};

class JwkSet {
public:
    JwkSet() = default;
    explicit JwkSet(QList<Jwk> keys) : m_keys(std::move(keys)) {}

    // Reads {"keys":[...]}. An entry that cannot be used (unknown kty, bad
    // parameters, short RSA modulus, ...) is skipped as RFC 7517 §5 asks and
    // listed in skipped(); only a document that is not a JWK set is an error.
    static Result<JwkSet> fromJson(QByteArrayView json, const JwkOptions &options = {});

    const QList<Jwk> &keys() const { return m_keys; }
    const QStringList &skipped() const { return m_skipped; }
    bool isEmpty() const { return m_keys.isEmpty(); }
    bool hasSymmetricKey() const;
    void append(const Jwk &key) { m_keys.append(key); }
    QJsonObject toPublicJson() const;

private:
    QList<Jwk> m_keys;
    QStringList m_skipped;
};

} // namespace hotdesk::jose

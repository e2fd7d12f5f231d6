// JWS compact serialization (RFC 7515): signing and verification.
#pragma once

#include "../result.h"
#include "algorithm.h"
#include "jwk.h"

#include <QByteArray>
#include <QJsonObject>

namespace hotdesk::jose {

inline constexpr qsizetype kMaxJwsSize = 64 * 1024;

struct JwsHeader {
    Algorithm alg = Algorithm::ES256;
    QString kid; // empty when absent
    QString typ; // empty when absent
    QByteArray text; // the decoded header, strict JSON
    // The whole header, built on demand: verification reads only the members above.
    QJsonObject json() const;
};

struct VerifiedJws {
    JwsHeader header;
    QByteArray payload;   // decoded payload bytes (need not be JSON)
    QString keyId;        // kid of the key that verified it (may be empty)
};

struct JwsVerifyOptions {
    AlgorithmSet allowed = AlgorithmSet::asymmetric();
    // Header parameters the caller processes itself and so may appear in "crit".
    QStringList understoodCritical;
};

// Verifies a compact JWS against keys. Order of checks: size, exactly three
// segments, strict base64url and JSON header, alg allowed ("none" never),
// crit understood, b64 not false, then key selection (kid when present,
// otherwise every key whose type fits alg) and the signature. Embedded
// jwk/jku/x5u/x5c header parameters are never used to find a key.
Result<VerifiedJws> verifyCompact(QByteArrayView token, const JwkSet &keys, const JwsVerifyOptions &options = {});

// Decodes header and payload without checking anything but the syntax. Only
// for display and diagnostics: never trust what it returns.
Result<VerifiedJws> decodeUnverified(QByteArrayView token);

// Signs payload with key; header gets "alg", and "kid" when the key has one,
// plus the members of extraHeader (e.g. "typ").
Result<QByteArray> signCompact(QByteArrayView payload, const Jwk &key, Algorithm alg,
                               const QJsonObject &extraHeader = {});

// The raw signature primitive over signingInput, exposed for tests and the
// benchmark; sig is the JWS signature bytes (r||s for ECDSA).
Status verifySignature(const Jwk &key, Algorithm alg, QByteArrayView signingInput, QByteArrayView sig);
Result<QByteArray> createSignature(const Jwk &key, Algorithm alg, QByteArrayView signingInput);

} // namespace hotdesk::jose

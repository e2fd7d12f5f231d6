// PKCE (RFC 7636) with the S256 method only.
#pragma once

#include "../random.h"
#include "../result.h"

#include <QByteArray>

namespace hotdesk::oidc {

struct PkcePair {
    QByteArray verifier;  // 43 characters from 32 random bytes
    QByteArray challenge; // BASE64URL(SHA256(verifier))
};

Result<PkcePair> generatePkce(RandomSource &random);

// The S256 challenge of a verifier; the verifier must be 43..128 characters
// from the unreserved set of RFC 7636 §4.1.
Result<QByteArray> pkceChallengeS256(QByteArrayView verifier);

} // namespace hotdesk::oidc

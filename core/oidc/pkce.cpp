// PKCE S256.
#include "pkce.h"

#include "../jose/base64url.h"

#include <QCryptographicHash>

namespace hotdesk::oidc {

Result<QByteArray> pkceChallengeS256(QByteArrayView verifier)
{
    if (verifier.size() < 43 || verifier.size() > 128)
        return fail(ErrorCode::Malformed, QStringLiteral("a PKCE verifier has 43 to 128 characters"));
    for (char c : verifier) {
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
            || c == '-' || c == '.' || c == '_' || c == '~';
        if (!unreserved)
            return fail(ErrorCode::Malformed, QStringLiteral("a PKCE verifier uses only A-Z a-z 0-9 - . _ ~"));
    }
    return jose::base64UrlEncode(QCryptographicHash::hash(verifier, QCryptographicHash::Sha256));
}

Result<PkcePair> generatePkce(RandomSource &random)
{
    auto verifier = randomUrlSafeString(random, 32);
    if (!verifier)
        return tl::unexpected(verifier.error());
    auto challenge = pkceChallengeS256(*verifier);
    if (!challenge)
        return tl::unexpected(challenge.error());
    return PkcePair{*verifier, *challenge};
}

} // namespace hotdesk::oidc

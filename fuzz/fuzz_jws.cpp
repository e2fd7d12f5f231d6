// Fuzz target: compact JWS verification against a key set holding every key
// type Hotdesk verifies with. Nothing the fuzzer writes may ever verify.
#include "fuzztarget.h"

#include "core/jose/base64url.h"
#include "core/jose/jws.h"

#include <utility>

using namespace hotdesk;

namespace {

// Re-imported without "alg", so that one key fits every algorithm of its
// family (RS* and PS* share the RSA key, HS256/384/512 the 512-bit secret).
jose::Jwk unboundKey(jose::Algorithm alg, const QString &kid)
{
    const auto generated = jose::Jwk::generate(alg);
    if (!generated)
        fuzz::setupFailed("fuzz_jws", generated.error().message);
    const bool symmetric = jose::isSymmetric(alg);
    QJsonObject json = symmetric ? generated->toPrivateJson() : generated->toPublicJson();
    json.remove(QStringLiteral("alg"));
    json.insert(QStringLiteral("kid"), kid);
    jose::JwkOptions options;
    options.allowSymmetric = symmetric;
    options.allowPrivate = symmetric;
    const auto key = jose::Jwk::fromJson(json, options);
    if (!key)
        fuzz::setupFailed("fuzz_jws", key.error().message);
    return *key;
}

const jose::JwkSet &keySet()
{
    static const jose::JwkSet keys = [] {
        jose::JwkSet set;
        const std::pair<jose::Algorithm, const char *> kinds[] = {
            {jose::Algorithm::RS256, "rsa"},   {jose::Algorithm::ES256, "p256"},
            {jose::Algorithm::ES384, "p384"},  {jose::Algorithm::ES512, "p521"},
            {jose::Algorithm::EdDSA, "ed25519"}, {jose::Algorithm::HS512, "oct"},
        };
        for (const auto &[alg, kid] : kinds)
            set.append(unboundKey(alg, QString::fromLatin1(kid)));
        // One key that keeps its "alg", so the binding check is on the path too.
        auto bound = jose::Jwk::generate(jose::Algorithm::EdDSA, QStringLiteral("ed25519-bound"));
        if (!bound)
            fuzz::setupFailed("fuzz_jws", bound.error().message);
        set.append(*bound);
        return set;
    }();
    return keys;
}

} // namespace

HOTDESK_FUZZ_TARGET(fuzz_jws)
{
    const QByteArrayView token = fuzz::bytesOf(data, size);
    jose::JwsVerifyOptions options;
    options.allowed = jose::AlgorithmSet::all();
    const auto verified = jose::verifyCompact(token, keySet(), options);
    fuzz::noteOutcome(verified);
    if (verified)
        fuzz::invariantBroken("fuzz_jws", QStringLiteral("a token nobody signed verified with key \"%1\"").arg(verified->keyId));

    // Both entry points share one parser and every algorithm is allowed here,
    // so they must fail alike up to the key search.
    const auto decoded = jose::decodeUnverified(token);
    const ErrorCode code = verified.error().code;
    const bool pastParsing = code == ErrorCode::BadSignature || code == ErrorCode::KeyNotFound;
    if (decoded.has_value() != pastParsing)
        fuzz::invariantBroken("fuzz_jws", QStringLiteral("decodeUnverified %1 but verifyCompact stopped with %2: %3")
                                              .arg(decoded ? QStringLiteral("accepted") : decoded.error().codeName(),
                                                   verified.error().codeName(), verified.error().message));
    if (!decoded)
        return 0;

    // Strict base64url: the payload segment is the one encoding of the payload.
    const qsizetype dot1 = token.indexOf('.');
    const qsizetype dot2 = token.indexOf('.', dot1 + 1);
    if (jose::base64UrlEncode(decoded->payload) != token.sliced(dot1 + 1, dot2 - dot1 - 1))
        fuzz::invariantBroken("fuzz_jws", QStringLiteral("the decoded payload does not re-encode to its segment"));
    return 0;
}

// Compact JWS signing and verification on OpenSSL 3 EVP.
#include "jws.h"

#include "../opensslptr.h"
#include "base64url.h"
#include "strictjson.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>
#include <vector>

namespace hotdesk::jose {
namespace {

enum class Family { Rsa, Pss, Ecdsa, EdDsa, Hmac };

struct AlgInfo {
    Family family;
    int hashBits; // 0 for EdDSA
};

AlgInfo infoOf(Algorithm alg)
{
    switch (alg) {
    case Algorithm::RS256: return {Family::Rsa, 256};
    case Algorithm::RS384: return {Family::Rsa, 384};
    case Algorithm::RS512: return {Family::Rsa, 512};
    case Algorithm::PS256: return {Family::Pss, 256};
    case Algorithm::PS384: return {Family::Pss, 384};
    case Algorithm::PS512: return {Family::Pss, 512};
    case Algorithm::ES256: return {Family::Ecdsa, 256};
    case Algorithm::ES384: return {Family::Ecdsa, 384};
    case Algorithm::ES512: return {Family::Ecdsa, 512};
    case Algorithm::EdDSA: return {Family::EdDsa, 0};
    case Algorithm::Ed25519: return {Family::EdDsa, 0};
    case Algorithm::HS256: return {Family::Hmac, 256};
    case Algorithm::HS384: return {Family::Hmac, 384};
    case Algorithm::HS512: return {Family::Hmac, 512};
    }
    return {Family::Rsa, 256};
}

// Digests are fetched once: an implicit fetch per call costs a lock and a lookup.
const EVP_MD *digest(int bits)
{
    static EVP_MD *sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    static EVP_MD *sha384 = EVP_MD_fetch(nullptr, "SHA2-384", nullptr);
    static EVP_MD *sha512 = EVP_MD_fetch(nullptr, "SHA2-512", nullptr);
    switch (bits) {
    case 256: return sha256;
    case 384: return sha384;
    case 512: return sha512;
    default: return nullptr;
    }
}

// A curve's group order as big-endian bytes of the JWS coordinate width, so
// that r and s (the same width) compare with it by memcmp.
struct CurveOrder {
    std::array<unsigned char, 66> order{};
    int bytes = 0;
};

CurveOrder makeOrder(int nid, int bytes)
{
    CurveOrder out;
    out.bytes = bytes;
    EcGroupPtr group(EC_GROUP_new_by_curve_name(nid));
    if (!group || BN_bn2binpad(EC_GROUP_get0_order(group.get()), out.order.data(), bytes) != bytes)
        out.order.fill(0); // no r or s is below 0: every signature is then refused
    return out;
}

const CurveOrder &orderFor(Algorithm alg)
{
    static const CurveOrder p256 = makeOrder(NID_X9_62_prime256v1, 32);
    static const CurveOrder p384 = makeOrder(NID_secp384r1, 48);
    static const CurveOrder p521 = makeOrder(NID_secp521r1, 66);
    switch (alg) {
    case Algorithm::ES256: return p256;
    case Algorithm::ES384: return p384;
    default: return p521;
    }
}

const unsigned char *bytes(QByteArrayView v)
{
    return reinterpret_cast<const unsigned char *>(v.data());
}

tl::unexpected<Error> badSignature()
{
    return fail(ErrorCode::BadSignature, QStringLiteral("the signature does not verify with the key"));
}

// The content of a DER INTEGER for the unsigned big-endian value v: no
// leading zero bytes, except one when the high bit would make it negative.
struct DerInteger {
    QByteArrayView digits;
    bool zeroFirst = false;
    qsizetype encodedSize() const { return 2 + digits.size() + (zeroFirst ? 1 : 0); }
};

DerInteger derInteger(QByteArrayView v)
{
    while (v.size() > 1 && v.front() == 0)
        v = v.sliced(1);
    return {v, (static_cast<unsigned char>(v.front()) & 0x80) != 0};
}

void appendDer(QByteArray &out, const DerInteger &i)
{
    out.append(char(0x02));
    out.append(char(i.encodedSize() - 2));
    if (i.zeroFirst)
        out.append(char(0));
    out.append(i.digits);
}

bool isZero(QByteArrayView v)
{
    return std::all_of(v.begin(), v.end(), [](char c) { return c == 0; });
}

// r||s (fixed width) to the DER form OpenSSL verifies, refusing r or s outside [1, n-1].
Result<QByteArray> ecdsaRawToDer(Algorithm alg, QByteArrayView sig)
{
    const CurveOrder &curve = orderFor(alg);
    if (sig.size() != 2 * curve.bytes)
        return fail(ErrorCode::BadSignature, QStringLiteral("an %1 signature is exactly %2 bytes").arg(algorithmName(alg)).arg(2 * curve.bytes));
    const QByteArrayView r = sig.first(curve.bytes);
    const QByteArrayView s = sig.sliced(curve.bytes);
    const auto belowOrder = [&curve](QByteArrayView v) { return std::memcmp(v.data(), curve.order.data(), size_t(curve.bytes)) < 0; };
    if (isZero(r) || isZero(s) || !belowOrder(r) || !belowOrder(s))
        return fail(ErrorCode::BadSignature, QStringLiteral("the ECDSA signature values are out of range"));
    // SEQUENCE { INTEGER r, INTEGER s }; only P-521 needs the long length form.
    const DerInteger rInt = derInteger(r);
    const DerInteger sInt = derInteger(s);
    const qsizetype body = rInt.encodedSize() + sInt.encodedSize();
    QByteArray der;
    der.reserve(body + 3);
    der.append(char(0x30));
    if (body >= 0x80)
        der.append(char(0x81));
    der.append(char(body));
    appendDer(der, rInt);
    appendDer(der, sInt);
    return der;
}

Result<QByteArray> ecdsaDerToRaw(Algorithm alg, QByteArrayView der)
{
    const int width = orderFor(alg).bytes;
    const unsigned char *p = bytes(der);
    ECDSA_SIG *ecSig = d2i_ECDSA_SIG(nullptr, &p, long(der.size()));
    if (!ecSig)
        return fail(ErrorCode::CryptoFailure, QStringLiteral("OpenSSL produced an unreadable ECDSA signature"));
    QByteArray out(2 * width, Qt::Uninitialized);
    BN_bn2binpad(ECDSA_SIG_get0_r(ecSig), reinterpret_cast<unsigned char *>(out.data()), width);
    BN_bn2binpad(ECDSA_SIG_get0_s(ecSig), reinterpret_cast<unsigned char *>(out.data()) + width, width);
    ECDSA_SIG_free(ecSig);
    return out;
}

Result<QByteArray> hmac(const Jwk &key, int bits, QByteArrayView input)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(digest(bits), key.secret().constData(), int(key.secret().size()), bytes(input), size_t(input.size()), mac, &len))
        return fail(ErrorCode::CryptoFailure, QStringLiteral("HMAC failed"));
    return QByteArray(reinterpret_cast<const char *>(mac), int(len));
}

Status setPadding(EVP_PKEY_CTX *pctx, const AlgInfo &info)
{
    if (info.family == Family::Rsa) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
            return fail(ErrorCode::CryptoFailure, QStringLiteral("OpenSSL refused PKCS#1 padding"));
    } else if (info.family == Family::Pss) {
        // RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash.
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1
            || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1
            || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, digest(info.hashBits)) != 1)
            return fail(ErrorCode::CryptoFailure, QStringLiteral("OpenSSL refused PSS parameters"));
    }
    return {};
}

// An EdDSA verification context for key: PureEdDSA takes no digest and no padding.
Result<EvpMdCtxPtr> newEdDsaVerification(EVP_PKEY *key)
{
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) != 1)
        return fail(ErrorCode::CryptoFailure, QStringLiteral("OpenSSL could not start a verification"));
    return ctx;
}

// EVP_DigestVerifyInit looks the signature implementation up by name, under a
// global lock, every time. So each EdDSA key gets one context set up once,
// and every verification works on a copy of it (EVP_MD_CTX_copy_ex only reads its
// source, so threads may copy the same one at once).
//
// An entry holds a reference to its EVP_PKEY, which therefore stays alive, so
// no other key can reuse its address while the entry exists: the pointer is a
// sound identity. Keys are never modified once a Jwk holds them. The cache is
// small and drops its oldest entry, so keys rotated out of a key set are
// released after a while. Only EdDSA verifies this way, as its one pass over
// the message cannot take a digest: the other families go through
// DigestOperations below.
class VerificationCache {
public:
    static VerificationCache &instance()
    {
        // Never destroyed: no verification can race with its teardown at exit,
        // and OpenSSL may already be cleaned up by then.
        static auto *cache = new VerificationCache;
        return *cache;
    }

    // A fresh context ready for EVP_DigestVerify with key and alg.
    Result<EvpMdCtxPtr> start(EVP_PKEY *key, Algorithm alg)
    {
        std::shared_ptr<const Entry> entry = find(key, alg);
        if (!entry) {
            auto ctx = newEdDsaVerification(key);
            if (!ctx)
                return ctx;
            entry = insert(key, alg, std::move(*ctx));
        }
        EvpMdCtxPtr copy(EVP_MD_CTX_new());
        if (copy && EVP_MD_CTX_copy_ex(copy.get(), entry->ctx.get()) == 1)
            return copy;
        return newEdDsaVerification(key);
    }

private:
    static constexpr std::size_t kCapacity = 32;

    struct Entry {
        Entry(EVP_PKEY *k, Algorithm a, EvpMdCtxPtr c) : key(k), alg(a), ctx(std::move(c)) { EVP_PKEY_up_ref(key); }
        ~Entry() { EVP_PKEY_free(key); }
        Entry(const Entry &) = delete;
        Entry &operator=(const Entry &) = delete;
        EVP_PKEY *key;
        Algorithm alg;
        EvpMdCtxPtr ctx;
    };

    std::shared_ptr<const Entry> find(EVP_PKEY *key, Algorithm alg)
    {
        std::lock_guard lock(m_mutex);
        for (const auto &e : m_entries) {
            if (e->key == key && e->alg == alg)
                return e;
        }
        return nullptr;
    }

    std::shared_ptr<const Entry> insert(EVP_PKEY *key, Algorithm alg, EvpMdCtxPtr ctx)
    {
        auto entry = std::make_shared<const Entry>(key, alg, std::move(ctx));
        std::lock_guard lock(m_mutex);
        for (const auto &e : m_entries) {
            if (e->key == key && e->alg == alg)
                return e; // another thread was first
        }
        if (m_entries.size() >= kCapacity)
            m_entries.erase(m_entries.begin());
        m_entries.push_back(entry);
        return entry;
    }

    std::mutex m_mutex;
    std::vector<std::shared_ptr<const Entry>> m_entries; // oldest first
};

// RSA, PSS and ECDSA sign a digest, so their signing and verification split
// into hashing the signing input and EVP_PKEY_sign or EVP_PKEY_verify on the
// digest. Each thread keeps a digest context per hash and a context per
// recent (key, alg, operation), set up once and used again and again: setting
// one up looks the implementation up by name under a global lock and allocates
// several OpenSSL objects. They are per thread because an OpenSSL context must
// not be used by two threads at once.
// Entries hold a reference to their key, as in VerificationCache, and the
// oldest goes when a thread has used more keys than kCapacity.
class DigestOperations {
public:
    static DigestOperations &forThisThread()
    {
        thread_local DigestOperations operations;
        return operations;
    }

    DigestOperations() = default;
    DigestOperations(const DigestOperations &) = delete;
    DigestOperations &operator=(const DigestOperations &) = delete;
    ~DigestOperations()
    {
        for (const Entry &e : m_entries)
            EVP_PKEY_free(e.key);
    }

    // sig as EVP_PKEY_verify takes it: DER for ECDSA.
    Status verify(EVP_PKEY *key, Algorithm alg, const AlgInfo &info, QByteArrayView signingInput, QByteArrayView sig)
    {
        Digest md;
        if (!hash(info, signingInput, md))
            return fail(ErrorCode::CryptoFailure, QStringLiteral("OpenSSL could not hash the signing input"));
        EVP_PKEY_CTX *ctx = context(key, alg, info, Operation::Verify);
        if (!ctx)
            return fail(ErrorCode::CryptoFailure, QStringLiteral("OpenSSL could not start a verification"));
        if (EVP_PKEY_verify(ctx, bytes(sig), size_t(sig.size()), md.bytes, md.size) != 1)
            return badSignature();
        return {};
    }

    // The signature as EVP_PKEY_sign makes it: DER for ECDSA.
    Result<QByteArray> sign(EVP_PKEY *key, Algorithm alg, const AlgInfo &info, QByteArrayView signingInput)
    {
        Digest md;
        if (!hash(info, signingInput, md))
            return fail(ErrorCode::CryptoFailure, QStringLiteral("OpenSSL could not hash the signing input"));
        EVP_PKEY_CTX *ctx = context(key, alg, info, Operation::Sign);
        if (!ctx)
            return fail(ErrorCode::CryptoFailure, QStringLiteral("OpenSSL could not start signing"));
        size_t len = 0;
        if (EVP_PKEY_sign(ctx, nullptr, &len, md.bytes, md.size) != 1)
            return fail(ErrorCode::CryptoFailure, QStringLiteral("OpenSSL could not sign"));
        QByteArray out(qsizetype(len), Qt::Uninitialized);
        if (EVP_PKEY_sign(ctx, reinterpret_cast<unsigned char *>(out.data()), &len, md.bytes, md.size) != 1)
            return fail(ErrorCode::CryptoFailure, QStringLiteral("OpenSSL could not sign"));
        out.resize(qsizetype(len));
        return out;
    }

private:
    static constexpr std::size_t kCapacity = 8;

    enum class Operation { Sign, Verify };

    struct Digest {
        unsigned char bytes[EVP_MAX_MD_SIZE];
        size_t size = 0;
    };

    struct Entry {
        EVP_PKEY *key;
        Algorithm alg;
        Operation operation;
        EvpPkeyCtxPtr ctx;
    };

    bool hash(const AlgInfo &info, QByteArrayView input, Digest &out)
    {
        EvpMdCtxPtr &slot = m_hashes[info.hashBits == 256 ? 0 : info.hashBits == 384 ? 1 : 2];
        if (!slot)
            slot.reset(EVP_MD_CTX_new());
        unsigned int size = 0;
        if (!slot || EVP_DigestInit_ex(slot.get(), digest(info.hashBits), nullptr) != 1
            || EVP_DigestUpdate(slot.get(), input.data(), size_t(input.size())) != 1
            || EVP_DigestFinal_ex(slot.get(), out.bytes, &size) != 1)
            return false;
        out.size = size;
        return true;
    }

    EVP_PKEY_CTX *context(EVP_PKEY *key, Algorithm alg, const AlgInfo &info, Operation operation)
    {
        for (const Entry &e : m_entries) {
            if (e.key == key && e.alg == alg && e.operation == operation)
                return e.ctx.get();
        }
        EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
        if (!ctx)
            return nullptr;
        const int started = operation == Operation::Sign ? EVP_PKEY_sign_init(ctx.get()) : EVP_PKEY_verify_init(ctx.get());
        if (started != 1 || EVP_PKEY_CTX_set_signature_md(ctx.get(), digest(info.hashBits)) != 1 || !setPadding(ctx.get(), info)
            || EVP_PKEY_up_ref(key) != 1)
            return nullptr;
        if (m_entries.size() >= kCapacity) {
            EVP_PKEY_free(m_entries.front().key);
            m_entries.erase(m_entries.begin());
        }
        m_entries.push_back(Entry {key, alg, operation, std::move(ctx)});
        return m_entries.back().ctx.get();
    }

    std::array<EvpMdCtxPtr, 3> m_hashes; // SHA-256, SHA-384, SHA-512
    std::vector<Entry> m_entries; // oldest first
};

} // namespace

Status verifySignature(const Jwk &key, Algorithm alg, QByteArrayView signingInput, QByteArrayView sig)
{
    if (!key.fits(alg))
        return fail(ErrorCode::KeyNotFound, QStringLiteral("the key cannot be used with %1").arg(algorithmName(alg)));
    const AlgInfo info = infoOf(alg);
    if (info.family == Family::Hmac) {
        auto mac = hmac(key, info.hashBits, signingInput);
        if (!mac)
            return tl::unexpected(mac.error());
        if (mac->size() != sig.size() || CRYPTO_memcmp(mac->constData(), sig.data(), size_t(sig.size())) != 0)
            return badSignature();
        return {};
    }

    QByteArray der;
    QByteArrayView checked = sig;
    if (info.family == Family::Ecdsa) {
        auto converted = ecdsaRawToDer(alg, sig);
        if (!converted)
            return tl::unexpected(converted.error());
        der = std::move(*converted);
        checked = der;
    } else if (info.family == Family::EdDsa) {
        if (sig.size() != 64)
            return fail(ErrorCode::BadSignature, QStringLiteral("an Ed25519 signature is exactly 64 bytes"));
    } else if (sig.size() != EVP_PKEY_get_size(key.evpKey())) {
        return fail(ErrorCode::BadSignature, QStringLiteral("an RSA signature is exactly as long as the modulus"));
    }

    if (info.family != Family::EdDsa)
        return DigestOperations::forThisThread().verify(key.evpKey(), alg, info, signingInput, checked);

    // Ed25519 signs the message itself, in one pass only EVP_DigestVerify offers.
    auto ctx = VerificationCache::instance().start(key.evpKey(), alg);
    if (!ctx)
        return tl::unexpected(ctx.error());
    // The context is used once: spare EVP_DigestVerifyFinal the copy it would
    // otherwise finalise to keep this one usable.
    EVP_MD_CTX_set_flags(ctx->get(), EVP_MD_CTX_FLAG_FINALISE);
    if (EVP_DigestVerify(ctx->get(), bytes(checked), size_t(checked.size()), bytes(signingInput), size_t(signingInput.size())) != 1)
        return badSignature();
    return {};
}

Result<QByteArray> createSignature(const Jwk &key, Algorithm alg, QByteArrayView signingInput)
{
    if (!key.fits(alg))
        return fail(ErrorCode::KeyNotFound, QStringLiteral("the key cannot be used with %1").arg(algorithmName(alg)));
    if (!key.isPrivate())
        return fail(ErrorCode::KeyRejected, QStringLiteral("signing needs a private key"));
    const AlgInfo info = infoOf(alg);
    if (info.family == Family::Hmac)
        return hmac(key, info.hashBits, signingInput);

    if (info.family != Family::EdDsa) {
        auto sig = DigestOperations::forThisThread().sign(key.evpKey(), alg, info, signingInput);
        if (!sig || info.family != Family::Ecdsa)
            return sig;
        return ecdsaDerToRaw(alg, *sig);
    }

    // Ed25519 signs the message itself, in one pass only EVP_DigestSign offers.
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.evpKey()) != 1)
        return fail(ErrorCode::CryptoFailure, QStringLiteral("OpenSSL could not start signing"));
    size_t len = 0;
    if (EVP_DigestSign(ctx.get(), nullptr, &len, bytes(signingInput), size_t(signingInput.size())) != 1)
        return fail(ErrorCode::CryptoFailure, QStringLiteral("OpenSSL could not sign"));
    QByteArray out(qsizetype(len), Qt::Uninitialized);
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char *>(out.data()), &len, bytes(signingInput), size_t(signingInput.size())) != 1)
        return fail(ErrorCode::CryptoFailure, QStringLiteral("OpenSSL could not sign"));
    out.resize(qsizetype(len));
    return out;
}

namespace {

struct Parsed {
    JwsHeader header;
    QByteArrayView signingInput;
    QByteArray payload;
    QByteArray signature;
};

const QStringList &registeredHeaderNames()
{
    static const QStringList names{
        QStringLiteral("alg"), QStringLiteral("jku"), QStringLiteral("jwk"), QStringLiteral("kid"),
        QStringLiteral("x5u"), QStringLiteral("x5c"), QStringLiteral("x5t"), QStringLiteral("x5t#S256"),
        QStringLiteral("typ"), QStringLiteral("cty"), QStringLiteral("crit"),
    };
    return names;
}

// Splits and decodes; validates everything except the algorithm policy and the signature.
Result<Parsed> parse(QByteArrayView token, const QStringList &understoodCritical, AlgorithmSet allowed, bool checkAllowed)
{
    if (token.size() > kMaxJwsSize)
        return fail(ErrorCode::TooLarge, QStringLiteral("the token is larger than %1 bytes").arg(kMaxJwsSize));
    if (token.isEmpty())
        return fail(ErrorCode::Malformed, QStringLiteral("the token is empty"));
    if (token.front() == '{')
        return fail(ErrorCode::Unsupported, QStringLiteral("JWS JSON serialization is not accepted; only the compact form is"));
    const qsizetype dot1 = token.indexOf('.');
    const qsizetype dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
    if (dot1 < 0 || dot2 < 0 || token.indexOf('.', dot2 + 1) >= 0)
        return fail(ErrorCode::Malformed, QStringLiteral("a compact JWS has exactly three dot-separated parts"));

    Parsed out;
    out.signingInput = token.first(dot2);
    const QByteArrayView headerText = token.first(dot1);
    const QByteArrayView payloadText = token.sliced(dot1 + 1, dot2 - dot1 - 1);
    const QByteArrayView signatureText = token.sliced(dot2 + 1);
    if (headerText.isEmpty())
        return fail(ErrorCode::Malformed, QStringLiteral("the token has no header"));

    auto headerBytes = base64UrlDecode(headerText);
    if (!headerBytes)
        return fail(ErrorCode::Malformed, QStringLiteral("header: %1").arg(headerBytes.error().message));
    out.header.text = std::move(*headerBytes);
    auto header = StrictJsonObjectView::parse(out.header.text, {8, kMaxJwsSize});
    if (!header)
        return fail(ErrorCode::Malformed, QStringLiteral("header: %1").arg(header.error().message));

    const StrictJsonObjectView::Value alg = header->value("alg");
    if (!alg.isString())
        return fail(ErrorCode::Malformed, QStringLiteral("the header has no \"alg\" string"));
    const QString algName = alg.toString();
    const auto algorithm = algorithmFromName(algName);
    if (!algorithm)
        return fail(ErrorCode::AlgNotAllowed, QStringLiteral("algorithm \"%1\" is not accepted").arg(algName));
    if (checkAllowed && !allowed.contains(*algorithm))
        return fail(ErrorCode::AlgNotAllowed,
            QStringLiteral("algorithm %1 is not allowed here (allowed: %2)").arg(algName, allowed.toString()));
    out.header.alg = *algorithm;

    for (const char *name : {"kid", "typ", "cty"}) {
        const StrictJsonObjectView::Value v = header->value(name);
        if (!v.isUndefined() && !v.isString())
            return fail(ErrorCode::Malformed, QStringLiteral("the header's \"%1\" is not a string").arg(QLatin1String(name)));
    }
    out.header.kid = header->value("kid").toString();
    out.header.typ = header->value("typ").toString();

    const StrictJsonObjectView::Value b64 = header->value("b64");
    if (!b64.isUndefined() && !b64.isTrue())
        return fail(ErrorCode::Unsupported, QStringLiteral("unencoded payloads (b64: false, RFC 7797) are not accepted"));

    const StrictJsonObjectView::Value crit = header->value("crit");
    if (!crit.isUndefined()) {
        const QJsonValue critValue = crit.toJsonValue();
        if (!critValue.isArray() || critValue.toArray().isEmpty())
            return fail(ErrorCode::Malformed, QStringLiteral("\"crit\" must be a non-empty array"));
        for (const QJsonValue &name : critValue.toArray()) {
            if (!name.isString())
                return fail(ErrorCode::Malformed, QStringLiteral("\"crit\" holds a non-string"));
            const QString n = name.toString();
            if (registeredHeaderNames().contains(n))
                return fail(ErrorCode::Malformed, QStringLiteral("\"crit\" names the registered parameter \"%1\"").arg(n));
            if (!understoodCritical.contains(n))
                return fail(ErrorCode::Unsupported, QStringLiteral("the critical header parameter \"%1\" is not understood").arg(n));
            if (!header->contains(n.toUtf8()))
                return fail(ErrorCode::Malformed, QStringLiteral("\"crit\" names \"%1\", which the header lacks").arg(n));
        }
    }

    auto payload = base64UrlDecode(payloadText);
    if (!payload)
        return fail(ErrorCode::Malformed, QStringLiteral("payload: %1").arg(payload.error().message));
    out.payload = std::move(*payload);
    auto signature = base64UrlDecode(signatureText);
    if (!signature)
        return fail(ErrorCode::Malformed, QStringLiteral("signature: %1").arg(signature.error().message));
    out.signature = std::move(*signature);
    return out;
}

} // namespace

QJsonObject JwsHeader::json() const
{
    auto object = parseStrictJsonObject(text, {8, kMaxJwsSize});
    return object ? *object : QJsonObject();
}

Result<VerifiedJws> verifyCompact(QByteArrayView token, const JwkSet &keys, const JwsVerifyOptions &options)
{
    auto parsed = parse(token, options.understoodCritical, options.allowed, true);
    if (!parsed)
        return tl::unexpected(parsed.error());
    if (parsed->signature.isEmpty())
        return fail(ErrorCode::BadSignature, QStringLiteral("the token has no signature"));

    const Algorithm alg = parsed->header.alg;
    const QString &kid = parsed->header.kid;
    bool tried = false;
    for (const Jwk &key : keys.keys()) {
        if (!kid.isEmpty() && key.kid() != kid)
            continue;
        if (!key.fits(alg))
            continue;
        tried = true;
        if (verifySignature(key, alg, parsed->signingInput, parsed->signature))
            return VerifiedJws{std::move(parsed->header), std::move(parsed->payload), key.kid()};
    }
    if (!tried) {
        if (!kid.isEmpty())
            return fail(ErrorCode::KeyNotFound, QStringLiteral("no %1 key with kid \"%2\" in the key set").arg(algorithmName(alg), kid));
        return fail(ErrorCode::KeyNotFound, QStringLiteral("no key in the key set fits %1").arg(algorithmName(alg)));
    }
    return badSignature();
}

Result<VerifiedJws> decodeUnverified(QByteArrayView token)
{
    auto parsed = parse(token, {}, {}, false);
    if (!parsed)
        return tl::unexpected(parsed.error());
    return VerifiedJws{std::move(parsed->header), std::move(parsed->payload), QString()};
}

Result<QByteArray> signCompact(QByteArrayView payload, const Jwk &key, Algorithm alg, const QJsonObject &extraHeader)
{
    QJsonObject header = extraHeader;
    header.insert(QStringLiteral("alg"), algorithmName(alg));
    if (!key.kid().isEmpty() && !header.contains(QLatin1String("kid")))
        header.insert(QStringLiteral("kid"), key.kid());
    const QByteArray signingInput = base64UrlEncode(QJsonDocument(header).toJson(QJsonDocument::Compact)) + '.' + base64UrlEncode(payload);
    auto sig = createSignature(key, alg, signingInput);
    if (!sig)
        return tl::unexpected(sig.error());
    return signingInput + '.' + base64UrlEncode(*sig);
}

} // namespace hotdesk::jose

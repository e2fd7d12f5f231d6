// SPAKE2 on OpenSSL 3: the group arithmetic with EC_POINT/BIGNUM, hashes and keys with EVP.
#include "spake2.h"

#include "../opensslptr.h"

#include <QtEndian>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>

#include <array>
#include <cstdint>
#include <utility>

namespace hotdesk::pake {
namespace {

// Kept here rather than in opensslptr.h: nothing else frees these yet.
using SecretBignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BN_clear_free>>;
using MacPtr = std::unique_ptr<EVP_MAC, OpenSslDeleter<EVP_MAC_free>>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, OpenSslDeleter<EVP_MAC_CTX_free>>;
using KdfPtr = std::unique_ptr<EVP_KDF, OpenSslDeleter<EVP_KDF_free>>;
using KdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, OpenSslDeleter<EVP_KDF_CTX_free>>;

// M and N for P-256, compressed, as RFC 9382 section 6 gives them.
constexpr char kMHex[] = "02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f";
constexpr char kNHex[] = "03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49";

constexpr char kConfirmationInfo[] = "ConfirmationKeys";
constexpr qsizetype kPasswordHashSize = kScalarSize + 8;
// A source that keeps returning out-of-range candidates is broken, not unlucky:
// for P-256 a single rejection already has probability about 2^-32.
constexpr int kMaxScalarDraws = 64;

const unsigned char *uchars(QByteArrayView bytes)
{
    return reinterpret_cast<const unsigned char *>(bytes.data());
}

unsigned char *uchars(QByteArray &bytes)
{
    return reinterpret_cast<unsigned char *>(bytes.data());
}

// OSSL_PARAM wants non-const pointers even for values it only reads.
OSSL_PARAM octetParam(const char *key, QByteArrayView bytes)
{
    return OSSL_PARAM_construct_octet_string(key, const_cast<char *>(bytes.data()), size_t(bytes.size()));
}

OSSL_PARAM digestParam(const char *key)
{
    static char sha256[] = "SHA256";
    return OSSL_PARAM_construct_utf8_string(key, sha256, 0);
}

tl::unexpected<Error> cryptoFailure(const QString &what)
{
    ERR_clear_error();
    return fail(ErrorCode::CryptoFailure, QStringLiteral("OpenSSL failed to %1").arg(what));
}

// The buffer may still be shared with a copy the caller holds; only a buffer
// this object owns alone can be overwritten without detaching a fresh copy.
void wipe(QByteArray &bytes)
{
    if (!bytes.isEmpty() && bytes.isDetached())
        OPENSSL_cleanse(bytes.data(), size_t(bytes.size()));
    bytes.clear();
}

// P-256 with its order and the RFC's M and N. Built per call: that costs far
// less than the scalar multiplications, and keeps no shared mutable state.
struct Group {
    EcGroupPtr group;
    BnCtxPtr ctx;
    const BIGNUM *order = nullptr; // owned by group
    EcPointPtr m;
    EcPointPtr n;

    static Result<Group> load();

    Result<EcPointPtr> decodePoint(const char *hex) const
    {
        const QByteArray bytes = QByteArray::fromHex(QByteArray(hex));
        EcPointPtr point(EC_POINT_new(group.get()));
        if (!point || EC_POINT_oct2point(group.get(), point.get(), uchars(bytes), size_t(bytes.size()), ctx.get()) != 1)
            return cryptoFailure(QStringLiteral("decode the SPAKE2 constant M or N"));
        return point;
    }

    // A secret in [1, p-1], big-endian, exactly kScalarSize bytes.
    Result<SecretBignumPtr> scalar(QByteArrayView bytes, const QString &name) const
    {
        if (bytes.size() != kScalarSize)
            return fail(ErrorCode::Malformed,
                        QStringLiteral("the SPAKE2 %1 must be %2 bytes, not %3").arg(name).arg(kScalarSize).arg(bytes.size()));
        SecretBignumPtr value(BN_secure_new());
        if (!value || !BN_bin2bn(uchars(bytes), int(bytes.size()), value.get()))
            return cryptoFailure(QStringLiteral("read a scalar"));
        BN_set_flags(value.get(), BN_FLG_CONSTTIME);
        if (BN_is_zero(value.get()) || BN_cmp(value.get(), order) >= 0)
            return fail(ErrorCode::Malformed,
                        QStringLiteral("the SPAKE2 %1 must be between 1 and the P-256 group order minus 1").arg(name));
        return value;
    }

    Result<EcPointPtr> newPoint() const
    {
        EcPointPtr point(EC_POINT_new(group.get()));
        if (!point)
            return cryptoFailure(QStringLiteral("allocate a point"));
        return point;
    }

    // k*P alone, never k*G + l*P in one call: a single product takes OpenSSL's
    // constant-time ladder in the generic code, and both scalars here are secret.
    Result<EcPointPtr> multiply(const EC_POINT *point, const BIGNUM *k) const
    {
        auto product = newPoint();
        if (!product)
            return product;
        const int ok = point ? EC_POINT_mul(group.get(), product->get(), nullptr, point, k, ctx.get())
                             : EC_POINT_mul(group.get(), product->get(), k, nullptr, nullptr, ctx.get());
        if (ok != 1)
            return cryptoFailure(QStringLiteral("multiply a point"));
        return product;
    }

    Result<QByteArray> encode(const EC_POINT *point) const
    {
        QByteArray out(kMessageSize, Qt::Uninitialized);
        if (EC_POINT_point2oct(group.get(), point, POINT_CONVERSION_UNCOMPRESSED, uchars(out), size_t(out.size()), ctx.get())
            != size_t(kMessageSize))
            return cryptoFailure(QStringLiteral("encode a point"));
        return out;
    }

    // Only the uncompressed form is accepted: the transcript hashes the bytes
    // as sent, so a second encoding of the same point would be a second transcript.
    Result<EcPointPtr> peerPoint(QByteArrayView message) const
    {
        if (message.size() != kMessageSize)
            return fail(ErrorCode::Malformed,
                        QStringLiteral("a SPAKE2 message is %1 bytes (an uncompressed P-256 point), the peer sent %2")
                            .arg(kMessageSize)
                            .arg(message.size()));
        if (message.front() != '\x04')
            return fail(ErrorCode::Malformed,
                        QStringLiteral("the peer's SPAKE2 message is not an uncompressed point (first byte 0x%1, expected 0x04)")
                            .arg(uint(quint8(message.front())), 2, 16, QLatin1Char('0')));
        auto point = newPoint();
        if (!point)
            return point;
        if (EC_POINT_oct2point(group.get(), point->get(), uchars(message), size_t(message.size()), ctx.get()) != 1
            || EC_POINT_is_on_curve(group.get(), point->get(), ctx.get()) != 1) {
            ERR_clear_error();
            return fail(ErrorCode::Malformed, QStringLiteral("the peer's SPAKE2 message is not a point on P-256"));
        }
        return point;
    }
};

Result<Group> Group::load()
{
    Group g;
    g.group.reset(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
    g.ctx.reset(BN_CTX_new());
    if (!g.group || !g.ctx)
        return cryptoFailure(QStringLiteral("load the P-256 group"));
    g.order = EC_GROUP_get0_order(g.group.get());
    if (!g.order)
        return cryptoFailure(QStringLiteral("read the P-256 group order"));
    auto m = g.decodePoint(kMHex);
    if (!m)
        return tl::unexpected(m.error());
    auto n = g.decodePoint(kNHex);
    if (!n)
        return tl::unexpected(n.error());
    g.m = std::move(*m);
    g.n = std::move(*n);
    return g;
}

Result<QByteArray> sha256(QByteArrayView data)
{
    QByteArray out(32, Qt::Uninitialized);
    unsigned int length = 0;
    if (EVP_Digest(data.data(), size_t(data.size()), uchars(out), &length, EVP_sha256(), nullptr) != 1 || length != 32)
        return cryptoFailure(QStringLiteral("compute SHA-256"));
    return out;
}

Result<QByteArray> hkdfSha256(QByteArrayView key, QByteArrayView info, qsizetype length)
{
    KdfPtr kdf(EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_HKDF, nullptr));
    KdfCtxPtr ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
    if (!ctx)
        return cryptoFailure(QStringLiteral("load HKDF"));
    // No salt parameter: RFC 5869 then uses a string of zeros, which is the RFC 9382 "nil" salt.
    const OSSL_PARAM params[] = {digestParam(OSSL_KDF_PARAM_DIGEST), octetParam(OSSL_KDF_PARAM_KEY, key),
                                 octetParam(OSSL_KDF_PARAM_INFO, info), OSSL_PARAM_construct_end()};
    QByteArray out(length, Qt::Uninitialized);
    if (EVP_KDF_derive(ctx.get(), uchars(out), size_t(out.size()), params) != 1)
        return cryptoFailure(QStringLiteral("derive the confirmation keys with HKDF"));
    return out;
}

Result<QByteArray> hmacSha256(QByteArrayView key, QByteArrayView data)
{
    MacPtr mac(EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr));
    MacCtxPtr ctx(mac ? EVP_MAC_CTX_new(mac.get()) : nullptr);
    if (!ctx)
        return cryptoFailure(QStringLiteral("load HMAC"));
    const OSSL_PARAM params[] = {digestParam(OSSL_MAC_PARAM_DIGEST), OSSL_PARAM_construct_end()};
    QByteArray out(kMacSize, Qt::Uninitialized);
    size_t length = 0;
    if (EVP_MAC_init(ctx.get(), uchars(key), size_t(key.size()), params) != 1
        || EVP_MAC_update(ctx.get(), uchars(data), size_t(data.size())) != 1
        || EVP_MAC_final(ctx.get(), uchars(out), &length, size_t(out.size())) != 1 || length != size_t(kMacSize))
        return cryptoFailure(QStringLiteral("compute HMAC-SHA256"));
    return out;
}

QString stateName(Spake2::State state)
{
    switch (state) {
    case Spake2::State::Created:
        return QStringLiteral("created");
    case Spake2::State::Started:
        return QStringLiteral("started");
    case Spake2::State::Finished:
        return QStringLiteral("waiting for the peer's confirmation");
    case Spake2::State::Confirmed:
        return QStringLiteral("confirmed");
    case Spake2::State::Failed:
        return QStringLiteral("failed");
    }
    return QString();
}

tl::unexpected<Error> outOfOrder(const char *step, Spake2::State state)
{
    if (state == Spake2::State::Failed)
        return fail(ErrorCode::Unsupported,
                    QStringLiteral("SPAKE2 %1 called on an exchange that has failed or was moved from; start a new exchange")
                        .arg(QLatin1String(step)));
    return fail(ErrorCode::Unsupported,
                QStringLiteral("SPAKE2 %1 called out of order (the exchange is %2)").arg(QLatin1String(step), stateName(state)));
}

} // namespace

Result<QByteArray> passwordScalar(QByteArrayView password, QByteArrayView salt, const PasswordHashCost &cost)
{
    if (password.isEmpty())
        return fail(ErrorCode::Malformed, QStringLiteral("the SPAKE2 password is empty"));
    if (cost.n < 2 || (cost.n & (cost.n - 1)) != 0 || cost.r == 0 || cost.p == 0)
        return fail(ErrorCode::Malformed, QStringLiteral("scrypt needs N a power of two above 1, and r and p at least 1"));
    auto g = Group::load();
    if (!g)
        return tl::unexpected(g.error());

    KdfPtr kdf(EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_SCRYPT, nullptr));
    KdfCtxPtr ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
    if (!ctx)
        return cryptoFailure(QStringLiteral("load scrypt"));
    std::uint64_t n = cost.n;
    std::uint32_t r = cost.r;
    std::uint32_t p = cost.p;
    const OSSL_PARAM params[] = {octetParam(OSSL_KDF_PARAM_PASSWORD, password), octetParam(OSSL_KDF_PARAM_SALT, salt),
                                 OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
                                 OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
                                 OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p), OSSL_PARAM_construct_end()};
    std::array<unsigned char, kPasswordHashSize> stretched{};
    const bool derived = EVP_KDF_derive(ctx.get(), stretched.data(), stretched.size(), params) == 1;

    SecretBignumPtr wide(derived ? BN_secure_new() : nullptr);
    SecretBignumPtr reduced(derived ? BN_secure_new() : nullptr);
    bool ok = wide && reduced && BN_bin2bn(stretched.data(), int(stretched.size()), wide.get());
    OPENSSL_cleanse(stretched.data(), stretched.size());
    if (!derived)
        return cryptoFailure(QStringLiteral("hash the password with scrypt (is the cost too high for memory?)"));
    if (ok) {
        BN_set_flags(wide.get(), BN_FLG_CONSTTIME);
        ok = BN_nnmod(reduced.get(), wide.get(), g->order, g->ctx.get()) == 1;
    }
    if (!ok)
        return cryptoFailure(QStringLiteral("reduce the password hash modulo the group order"));
    // Zero has probability 2^-256; failing beats handing out w = 0, which would drop the password from the protocol.
    if (BN_is_zero(reduced.get()))
        return cryptoFailure(QStringLiteral("derive a usable password scalar"));
    QByteArray w(kScalarSize, Qt::Uninitialized);
    if (BN_bn2binpad(reduced.get(), uchars(w), int(w.size())) != int(kScalarSize))
        return cryptoFailure(QStringLiteral("encode the password scalar"));
    return w;
}

Result<QByteArray> computeMessage(Role role, QByteArrayView w, QByteArrayView scalar)
{
    auto g = Group::load();
    if (!g)
        return tl::unexpected(g.error());
    auto wValue = g->scalar(w, QStringLiteral("password scalar w"));
    if (!wValue)
        return tl::unexpected(wValue.error());
    auto secret = g->scalar(scalar, QStringLiteral("secret scalar"));
    if (!secret)
        return tl::unexpected(secret.error());

    auto base = g->multiply(nullptr, secret->get());
    if (!base)
        return tl::unexpected(base.error());
    auto mask = g->multiply(role == Role::A ? g->m.get() : g->n.get(), wValue->get());
    if (!mask)
        return tl::unexpected(mask.error());
    auto message = g->newPoint();
    if (!message)
        return tl::unexpected(message.error());
    if (EC_POINT_add(g->group.get(), message->get(), base->get(), mask->get(), g->ctx.get()) != 1)
        return cryptoFailure(QStringLiteral("add points"));
    // Only a scalar tied to the discrete log of M or N lands here; never send the identity.
    if (EC_POINT_is_at_infinity(g->group.get(), message->get()))
        return fail(ErrorCode::Malformed, QStringLiteral("this SPAKE2 scalar gives the identity element; draw another"));
    return g->encode(message->get());
}

Result<QByteArray> computeSharedElement(Role role, QByteArrayView w, QByteArrayView scalar, QByteArrayView peerMessage)
{
    auto g = Group::load();
    if (!g)
        return tl::unexpected(g.error());
    auto peer = g->peerPoint(peerMessage);
    if (!peer)
        return tl::unexpected(peer.error());
    auto wValue = g->scalar(w, QStringLiteral("password scalar w"));
    if (!wValue)
        return tl::unexpected(wValue.error());
    auto secret = g->scalar(scalar, QStringLiteral("secret scalar"));
    if (!secret)
        return tl::unexpected(secret.error());

    // The peer masked with the other constant: A removes w*N, B removes w*M.
    auto mask = g->multiply(role == Role::A ? g->n.get() : g->m.get(), wValue->get());
    if (!mask)
        return tl::unexpected(mask.error());
    auto unmasked = g->newPoint();
    if (!unmasked)
        return tl::unexpected(unmasked.error());
    if (EC_POINT_invert(g->group.get(), mask->get(), g->ctx.get()) != 1
        || EC_POINT_add(g->group.get(), unmasked->get(), peer->get(), mask->get(), g->ctx.get()) != 1)
        return cryptoFailure(QStringLiteral("unmask the peer's point"));
    // A peer that sends exactly w*N (or w*M) would make K the identity whatever
    // our scalar, so K would no longer depend on a secret we chose.
    if (EC_POINT_is_at_infinity(g->group.get(), unmasked->get()))
        return fail(ErrorCode::Malformed,
                    QStringLiteral("the peer's SPAKE2 message unmasks to the identity element; refusing it"));
    // P-256 has cofactor 1, so h*scalar is the scalar itself.
    auto k = g->multiply(unmasked->get(), secret->get());
    if (!k)
        return tl::unexpected(k.error());
    if (EC_POINT_is_at_infinity(g->group.get(), k->get()))
        return fail(ErrorCode::Malformed, QStringLiteral("the SPAKE2 shared element is the identity element; refusing it"));
    return g->encode(k->get());
}

QByteArray encodeTranscript(QByteArrayView idA, QByteArrayView idB, QByteArrayView pA, QByteArrayView pB,
                            QByteArrayView k, QByteArrayView w)
{
    QByteArray tt;
    tt.reserve(6 * 8 + idA.size() + idB.size() + pA.size() + pB.size() + k.size() + w.size());
    for (const QByteArrayView part : {idA, idB, pA, pB, k, w}) {
        const quint64 length = qToLittleEndian(quint64(part.size()));
        tt.append(reinterpret_cast<const char *>(&length), sizeof length);
        tt.append(part);
    }
    return tt;
}

Result<KeySchedule> deriveKeySchedule(QByteArrayView transcript, QByteArrayView aad)
{
    auto hash = sha256(transcript);
    if (!hash)
        return tl::unexpected(hash.error());
    KeySchedule keys;
    keys.ke = hash->left(kKeySize);
    keys.ka = hash->mid(kKeySize, kKeySize);
    wipe(*hash);

    QByteArray info(kConfirmationInfo);
    info.append(aad);
    auto confirmation = hkdfSha256(keys.ka, info, 2 * kKeySize);
    if (!confirmation)
        return tl::unexpected(confirmation.error());
    keys.kcA = confirmation->left(kKeySize);
    keys.kcB = confirmation->mid(kKeySize, kKeySize);
    wipe(*confirmation);

    auto macA = hmacSha256(keys.kcA, transcript);
    if (!macA)
        return tl::unexpected(macA.error());
    auto macB = hmacSha256(keys.kcB, transcript);
    if (!macB)
        return tl::unexpected(macB.error());
    keys.macA = std::move(*macA);
    keys.macB = std::move(*macB);
    return keys;
}

Result<Spake2> Spake2::create(Role role, QByteArrayView w, QByteArrayView idA, QByteArrayView idB, QByteArrayView aad)
{
    auto g = Group::load();
    if (!g)
        return tl::unexpected(g.error());
    if (auto checked = g->scalar(w, QStringLiteral("password scalar w")); !checked)
        return tl::unexpected(checked.error());
    return Spake2(role, w.toByteArray(), idA.toByteArray(), idB.toByteArray(), aad.toByteArray());
}

Spake2::Spake2(Role role, QByteArray w, QByteArray idA, QByteArray idB, QByteArray aad)
    : m_role(role)
    , m_state(State::Created)
    , m_w(std::move(w))
    , m_idA(std::move(idA))
    , m_idB(std::move(idB))
    , m_aad(std::move(aad))
{
}

Spake2::Spake2(Spake2 &&other) noexcept
    : m_role(other.m_role)
    , m_state(std::exchange(other.m_state, State::Failed))
    , m_w(std::move(other.m_w))
    , m_idA(std::move(other.m_idA))
    , m_idB(std::move(other.m_idB))
    , m_aad(std::move(other.m_aad))
    , m_scalar(std::move(other.m_scalar))
    , m_ownMessage(std::move(other.m_ownMessage))
    , m_keys(std::move(other.m_keys))
{
}

Spake2 &Spake2::operator=(Spake2 &&other) noexcept
{
    if (this != &other) {
        wipeSecrets();
        m_role = other.m_role;
        m_state = std::exchange(other.m_state, State::Failed);
        m_w = std::move(other.m_w);
        m_idA = std::move(other.m_idA);
        m_idB = std::move(other.m_idB);
        m_aad = std::move(other.m_aad);
        m_scalar = std::move(other.m_scalar);
        m_ownMessage = std::move(other.m_ownMessage);
        m_keys = std::move(other.m_keys);
    }
    return *this;
}

Spake2::~Spake2()
{
    wipeSecrets();
}

void Spake2::wipeSecrets()
{
    wipe(m_w);
    wipe(m_scalar);
    wipe(m_keys.ke);
    wipe(m_keys.ka);
    wipe(m_keys.kcA);
    wipe(m_keys.kcB);
    wipe(m_keys.macA);
    wipe(m_keys.macB);
}

tl::unexpected<Error> Spake2::failWith(Error error)
{
    wipeSecrets();
    m_state = State::Failed;
    return tl::unexpected<Error>(std::move(error));
}

Result<QByteArray> Spake2::start(RandomSource &random)
{
    if (m_state != State::Created)
        return outOfOrder("start()", m_state);
    auto g = Group::load();
    if (!g)
        return failWith(g.error());

    for (int draw = 0; draw < kMaxScalarDraws && m_scalar.isEmpty(); ++draw) {
        auto candidate = random.bytes(kScalarSize);
        if (!candidate)
            return failWith(candidate.error());
        if (candidate->size() != kScalarSize)
            return failWith(Error{ErrorCode::CryptoFailure, QStringLiteral("the random source returned the wrong number of bytes")});
        auto accepted = g->scalar(*candidate, QStringLiteral("secret scalar"));
        if (accepted)
            m_scalar = std::move(*candidate);
        else if (accepted.error().code != ErrorCode::Malformed)
            return failWith(accepted.error());
        else
            wipe(*candidate);
    }
    if (m_scalar.isEmpty())
        return failWith(Error{ErrorCode::CryptoFailure,
                              QStringLiteral("the random source kept returning values outside the P-256 scalar range")});

    auto message = computeMessage(m_role, m_w, m_scalar);
    if (!message)
        return failWith(message.error());
    m_ownMessage = *message;
    m_state = State::Started;
    return message;
}

Result<QByteArray> Spake2::finish(QByteArrayView peerMessage)
{
    if (m_state != State::Started)
        return outOfOrder("finish()", m_state);
    auto k = computeSharedElement(m_role, m_w, m_scalar, peerMessage);
    if (!k)
        return failWith(k.error());

    const QByteArrayView pA = m_role == Role::A ? QByteArrayView(m_ownMessage) : peerMessage;
    const QByteArrayView pB = m_role == Role::A ? peerMessage : QByteArrayView(m_ownMessage);
    QByteArray transcript = encodeTranscript(m_idA, m_idB, pA, pB, *k, m_w);
    auto keys = deriveKeySchedule(transcript, m_aad);
    wipe(transcript);
    wipe(*k);
    if (!keys)
        return failWith(keys.error());

    // The scalars have done their work; holding them longer only widens what a memory dump reveals.
    wipe(m_scalar);
    wipe(m_w);
    m_keys = std::move(*keys);
    m_state = State::Finished;
    return m_role == Role::A ? m_keys.macA : m_keys.macB;
}

Status Spake2::verifyPeerConfirmation(QByteArrayView peerMac)
{
    if (m_state != State::Finished)
        return outOfOrder("verifyPeerConfirmation()", m_state);
    const QByteArray &expected = m_role == Role::A ? m_keys.macB : m_keys.macA;
    if (peerMac.size() != expected.size())
        return failWith(Error{ErrorCode::Malformed, QStringLiteral("a SPAKE2 confirmation is %1 bytes, the peer sent %2")
                                                        .arg(expected.size())
                                                        .arg(peerMac.size())});
    if (CRYPTO_memcmp(peerMac.data(), expected.constData(), size_t(expected.size())) != 0)
        return failWith(Error{ErrorCode::ConfirmationFailed,
                              QStringLiteral("the peer's SPAKE2 confirmation does not match: the passwords differ or the "
                                             "messages were altered; check the code and pair again")});
    m_state = State::Confirmed;
    return {};
}

Result<QByteArray> Spake2::sessionKey() const
{
    if (m_state != State::Confirmed)
        return outOfOrder("sessionKey()", m_state);
    return m_keys.ke;
}

} // namespace hotdesk::pake

// JWK import, export and generation on OpenSSL 3 EVP keys.
#include "jwk.h"

#include "../opensslptr.h"
#include "../random.h"
#include "base64url.h"
#include "strictjson.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>

#include <openssl/core_names.h>
#include <openssl/obj_mac.h>

namespace hotdesk::jose {
namespace {

constexpr int kMinRsaBits = 2048;

struct CurveInfo {
    const char16_t *jwkName;
    const char *opensslName;
    int coordinateBytes;
    Algorithm alg;
};

constexpr CurveInfo kCurves[] = {
    {u"P-256", "prime256v1", 32, Algorithm::ES256},
    {u"P-384", "secp384r1", 48, Algorithm::ES384},
    {u"P-521", "secp521r1", 66, Algorithm::ES512},
};

const CurveInfo *curveByJwkName(QStringView name)
{
    for (const CurveInfo &c : kCurves) {
        if (name == QStringView(c.jwkName))
            return &c;
    }
    return nullptr;
}

tl::unexpected<Error> keyError(const QString &what)
{
    return fail(ErrorCode::KeyRejected, what);
}

// Reads a required base64url member into bytes.
Result<QByteArray> member(const QJsonObject &json, const char *name, bool required = true)
{
    const QJsonValue v = json.value(QLatin1String(name));
    if (v.isUndefined()) {
        if (required)
            return keyError(QStringLiteral("the key has no \"%1\" member").arg(QLatin1String(name)));
        return QByteArray();
    }
    if (!v.isString())
        return keyError(QStringLiteral("the key's \"%1\" member is not a string").arg(QLatin1String(name)));
    auto bytes = base64UrlDecode(v.toString().toLatin1());
    if (!bytes)
        return keyError(QStringLiteral("the key's \"%1\" member is not base64url: %2").arg(QLatin1String(name), bytes.error().message));
    return *bytes;
}

BignumPtr toBignum(const QByteArray &bigEndian)
{
    return BignumPtr(BN_bin2bn(reinterpret_cast<const unsigned char *>(bigEndian.constData()), int(bigEndian.size()), nullptr));
}

QByteArray fromBignum(const BIGNUM *bn, int width = 0)
{
    const int n = std::max(BN_num_bytes(bn), width);
    QByteArray out(n, Qt::Uninitialized);
    BN_bn2binpad(bn, reinterpret_cast<unsigned char *>(out.data()), n);
    return out;
}

Result<EvpPkeyPtr> fromParams(const char *keyType, OSSL_PARAM_BLD *bld, int selection)
{
    ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, keyType, nullptr));
    EVP_PKEY *raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1
        || EVP_PKEY_fromdata(ctx.get(), &raw, selection, params.get()) != 1 || !raw)
        return keyError(QStringLiteral("OpenSSL does not accept the key parameters"));
    return EvpPkeyPtr(raw);
}

Status checkKey(EVP_PKEY *key, bool isPrivate)
{
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
    if (!ctx)
        return fail(ErrorCode::CryptoFailure, QStringLiteral("OpenSSL could not check the key"));
    const int ok = isPrivate ? EVP_PKEY_pairwise_check(ctx.get()) : EVP_PKEY_public_check(ctx.get());
    if (ok != 1)
        return keyError(isPrivate ? QStringLiteral("the private key does not match its public key")
                                  : QStringLiteral("the public key is not valid (for EC: not a point on the curve)"));
    return {};
}

Status checkUse(const QJsonObject &json)
{
    const QJsonValue use = json.value(QLatin1String("use"));
    if (!use.isUndefined() && use != QJsonValue(QStringLiteral("sig")))
        return keyError(QStringLiteral("the key's \"use\" is not \"sig\""));
    const QJsonValue ops = json.value(QLatin1String("key_ops"));
    if (!ops.isUndefined()) {
        if (!ops.isArray())
            return keyError(QStringLiteral("the key's \"key_ops\" is not an array"));
        bool signing = false;
        for (const QJsonValue &op : ops.toArray()) {
            if (!op.isString())
                return keyError(QStringLiteral("the key's \"key_ops\" holds a non-string"));
            if (op.toString() == QLatin1String("verify") || op.toString() == QLatin1String("sign"))
                signing = true;
        }
        if (!signing)
            return keyError(QStringLiteral("the key's \"key_ops\" allow neither \"sign\" nor \"verify\""));
    }
    return {};
}

bool hasAny(const QJsonObject &json, std::initializer_list<const char *> names)
{
    for (const char *n : names) {
        if (json.contains(QLatin1String(n)))
            return true;
    }
    return false;
}

// What a key type's reader makes of the members that belong to that type.
struct KeyMaterial {
    std::shared_ptr<EVP_PKEY> key;
    QByteArray secret; // oct only
    QString curve;
    bool isPrivate = false;
};

Result<KeyMaterial> readRsaKey(const QJsonObject &json, const JwkOptions &options)
{
    KeyMaterial out;
    auto n = member(json, "n");
    auto e = member(json, "e");
    if (!n)
        return tl::unexpected(n.error());
    if (!e)
        return tl::unexpected(e.error());
    BignumPtr bnN = toBignum(*n), bnE = toBignum(*e);
    if (!bnN || !bnE)
        return fail(ErrorCode::CryptoFailure, QStringLiteral("out of memory"));
    if (BN_num_bits(bnN.get()) < kMinRsaBits)
        return keyError(
            QStringLiteral("the RSA modulus has %1 bits; at least %2 are required").arg(BN_num_bits(bnN.get())).arg(kMinRsaBits));
    if (!BN_is_odd(bnE.get()) || BN_is_one(bnE.get()) || BN_num_bits(bnE.get()) > 64)
        return keyError(QStringLiteral("the RSA public exponent is not an odd number between 3 and 2^64"));
    out.isPrivate = json.contains(QLatin1String("d"));
    if (out.isPrivate && !options.allowPrivate)
        return keyError(QStringLiteral("a private RSA key was given where only a public key is expected"));
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bnN.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bnE.get());
    std::vector<BignumPtr> privateParts;
    if (out.isPrivate) {
        static const std::pair<const char *, const char *> parts[] = {
            {"d", OSSL_PKEY_PARAM_RSA_D},
            {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
            {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},
            {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
            {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2},
            {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
        };
        const bool hasCrt = hasAny(json, {"p", "q", "dp", "dq", "qi"});
        for (const auto &[jwkName, paramName] : parts) {
            if (!hasCrt && QByteArrayView(jwkName) != "d")
                continue;
            auto value = member(json, jwkName);
            if (!value)
                return tl::unexpected(value.error());
            privateParts.push_back(toBignum(*value));
            OSSL_PARAM_BLD_push_BN(bld.get(), paramName, privateParts.back().get());
        }
    }
    auto pkey = fromParams("RSA", bld.get(), out.isPrivate ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
    if (!pkey)
        return tl::unexpected(pkey.error());
    out.key = std::shared_ptr<EVP_PKEY>(pkey->release(), EVP_PKEY_free);
    return out;
}

Result<KeyMaterial> readEcKey(const QJsonObject &json, const JwkOptions &options)
{
    KeyMaterial out;
    const QJsonValue crv = json.value(QLatin1String("crv"));
    const CurveInfo *curve = crv.isString() ? curveByJwkName(crv.toString()) : nullptr;
    if (!curve)
        return fail(ErrorCode::Unsupported, QStringLiteral("the EC key's curve is not P-256, P-384 or P-521"));
    out.curve = crv.toString();
    auto x = member(json, "x");
    auto y = member(json, "y");
    if (!x)
        return tl::unexpected(x.error());
    if (!y)
        return tl::unexpected(y.error());
    // RFC 7518 §6.2.1.2: coordinates are always the full length of the field.
    if (x->size() != curve->coordinateBytes || y->size() != curve->coordinateBytes)
        return keyError(QStringLiteral("the EC key's coordinates are not %1 bytes long").arg(curve->coordinateBytes));
    const QByteArray point = QByteArray(1, '\x04') + *x + *y;
    out.isPrivate = json.contains(QLatin1String("d"));
    if (out.isPrivate && !options.allowPrivate)
        return keyError(QStringLiteral("a private EC key was given where only a public key is expected"));
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve->opensslName, 0);
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.constData(), size_t(point.size()));
    BignumPtr d;
    if (out.isPrivate) {
        auto dBytes = member(json, "d");
        if (!dBytes)
            return tl::unexpected(dBytes.error());
        if (dBytes->size() != curve->coordinateBytes)
            return keyError(QStringLiteral("the EC private key is not %1 bytes long").arg(curve->coordinateBytes));
        d = toBignum(*dBytes);
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get());
    }
    auto pkey = fromParams("EC", bld.get(), out.isPrivate ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
    if (!pkey)
        return keyError(QStringLiteral("the EC public key is not a point on %1").arg(out.curve));
    out.key = std::shared_ptr<EVP_PKEY>(pkey->release(), EVP_PKEY_free);
    return out;
}

Result<KeyMaterial> readOkpKey(const QJsonObject &json, const JwkOptions &options)
{
    KeyMaterial out;
    const QJsonValue crv = json.value(QLatin1String("crv"));
    if (crv != QJsonValue(QStringLiteral("Ed25519")))
        return fail(ErrorCode::Unsupported, QStringLiteral("the OKP key's curve is not Ed25519"));
    out.curve = crv.toString();
    auto x = member(json, "x");
    if (!x)
        return tl::unexpected(x.error());
    if (x->size() != 32)
        return keyError(QStringLiteral("the Ed25519 public key is not 32 bytes long"));
    out.isPrivate = json.contains(QLatin1String("d"));
    if (out.isPrivate && !options.allowPrivate)
        return keyError(QStringLiteral("a private Ed25519 key was given where only a public key is expected"));
    EVP_PKEY *raw = nullptr;
    if (out.isPrivate) {
        auto d = member(json, "d");
        if (!d)
            return tl::unexpected(d.error());
        if (d->size() != 32)
            return keyError(QStringLiteral("the Ed25519 private key is not 32 bytes long"));
        raw = EVP_PKEY_new_raw_private_key(
            EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char *>(d->constData()), 32);
        if (raw) {
            // The public half must be the one derived from d.
            unsigned char derived[32];
            size_t len = sizeof derived;
            if (EVP_PKEY_get_raw_public_key(raw, derived, &len) != 1 || len != 32
                || QByteArrayView(reinterpret_cast<const char *>(derived), 32) != QByteArrayView(*x)) {
                EVP_PKEY_free(raw);
                return keyError(QStringLiteral("the Ed25519 private key does not match its public key"));
            }
        }
    } else {
        raw = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char *>(x->constData()), 32);
    }
    if (!raw)
        return keyError(QStringLiteral("OpenSSL does not accept the Ed25519 key"));
    out.key = std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free);
    return out;
}

Result<KeyMaterial> readOctKey(const QJsonObject &json, const JwkOptions &options)
{
    if (!options.allowSymmetric)
        return keyError(QStringLiteral("a symmetric (oct) key was given where only public keys are accepted"));
    auto k = member(json, "k");
    if (!k)
        return tl::unexpected(k.error());
    if (k->size() < 32)
        return keyError(QStringLiteral("the HMAC key is shorter than 256 bits"));
    KeyMaterial out;
    out.secret = *k;
    out.isPrivate = true;
    return out;
}

struct KeyTypeReader {
    const char *kty;
    Jwk::Type type;
    Result<KeyMaterial> (*read)(const QJsonObject &json, const JwkOptions &options);
};

constexpr KeyTypeReader kKeyTypes[] = {
    {"RSA", Jwk::Type::Rsa, readRsaKey},
    {"EC", Jwk::Type::Ec, readEcKey},
    {"OKP", Jwk::Type::Okp, readOkpKey},
    {"oct", Jwk::Type::Oct, readOctKey},
};

const KeyTypeReader *keyTypeReader(const QString &kty)
{
    for (const KeyTypeReader &r : kKeyTypes) {
        if (kty == QLatin1String(r.kty))
            return &r;
    }
    return nullptr;
}

// A key's big-number parameter (OSSL_PKEY_PARAM_…) in base64url, left-padded to
// width bytes when width is set; empty when the key has no such parameter.
QString bignumParam(const EVP_PKEY *key, const char *name, int width = 0)
{
    BIGNUM *bn = nullptr;
    QByteArray out;
    if (EVP_PKEY_get_bn_param(key, name, &bn) == 1) {
        out = fromBignum(bn, width);
        BN_clear_free(bn);
    }
    return QString::fromLatin1(base64UrlEncode(out));
}

} // namespace

Result<Jwk> Jwk::fromJson(QByteArrayView json, const JwkOptions &options)
{
    auto object = parseStrictJsonObject(json);
    if (!object)
        return tl::unexpected(object.error());
    return fromJson(*object, options);
}

Result<Jwk> Jwk::fromJson(const QJsonObject &json, const JwkOptions &options)
{
    Jwk key;
    const QJsonValue kty = json.value(QLatin1String("kty"));
    if (!kty.isString())
        return keyError(QStringLiteral("the key has no \"kty\" string"));
    const QJsonValue kid = json.value(QLatin1String("kid"));
    if (!kid.isUndefined() && !kid.isString())
        return keyError(QStringLiteral("the key's \"kid\" is not a string"));
    key.m_kid = kid.toString();
    const QJsonValue alg = json.value(QLatin1String("alg"));
    if (!alg.isUndefined()) {
        if (!alg.isString())
            return keyError(QStringLiteral("the key's \"alg\" is not a string"));
        key.m_alg = algorithmFromName(alg.toString());
        // A key bound to an algorithm we do not implement must not be used for another one.
        if (!key.m_alg)
            return fail(ErrorCode::Unsupported, QStringLiteral("the key is for algorithm \"%1\", which Hotdesk does not use").arg(alg.toString()));
    }
    if (auto use = checkUse(json); !use)
        return tl::unexpected(use.error());

    const KeyTypeReader *reader = keyTypeReader(kty.toString());
    if (!reader)
        return fail(ErrorCode::Unsupported, QStringLiteral("unknown key type \"%1\"").arg(kty.toString()));
    auto material = reader->read(json, options);
    if (!material)
        return tl::unexpected(material.error());
    key.m_type = reader->type;
    key.m_key = std::move(material->key);
    key.m_secret = std::move(material->secret);
    key.m_curve = std::move(material->curve);
    key.m_private = material->isPrivate;
    // A secret has no key pair to check; whether its "alg" fits is left to fits() at use.
    if (key.m_type == Type::Oct)
        return key;
    if (key.m_alg && !key.fits(*key.m_alg))
        return keyError(QStringLiteral("the key's \"alg\" %1 does not fit its type").arg(algorithmName(*key.m_alg)));
    // Public EC keys were already decoded on the curve by EVP_PKEY_fromdata; the
    // explicit check also refuses the point at infinity and wrong-order points.
    if (key.m_type == Type::Ec || key.m_private) {
        if (auto ok = checkKey(key.m_key.get(), key.m_private); !ok)
            return tl::unexpected(ok.error());
    }
    return key;
}

Result<Jwk> Jwk::generate(Algorithm alg, const QString &kid)
{
    Jwk key;
    key.m_kid = kid;
    key.m_alg = alg;
    key.m_private = true;
    EVP_PKEY *raw = nullptr;
    switch (alg) {
    case Algorithm::RS256: case Algorithm::RS384: case Algorithm::RS512:
    case Algorithm::PS256: case Algorithm::PS384: case Algorithm::PS512:
        key.m_type = Type::Rsa;
        raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(2048));
        break;
    case Algorithm::ES256: case Algorithm::ES384: case Algorithm::ES512: {
        key.m_type = Type::Ec;
        const CurveInfo &c = kCurves[alg == Algorithm::ES256 ? 0 : alg == Algorithm::ES384 ? 1 : 2];
        key.m_curve = QString::fromUtf16(c.jwkName);
        raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", c.opensslName);
        break;
    }
    case Algorithm::EdDSA: case Algorithm::Ed25519:
        key.m_type = Type::Okp;
        key.m_curve = QStringLiteral("Ed25519");
        raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
        break;
    case Algorithm::HS256: case Algorithm::HS384: case Algorithm::HS512: {
        key.m_type = Type::Oct;
        OpenSslRandom random;
        auto bytes = random.bytes(alg == Algorithm::HS256 ? 32 : alg == Algorithm::HS384 ? 48 : 64);
        if (!bytes)
            return tl::unexpected(bytes.error());
        key.m_secret = *bytes;
        return key;
    }
    }
    if (!raw)
        return fail(ErrorCode::CryptoFailure, QStringLiteral("OpenSSL could not generate a key"));
    key.m_key = std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free);
    return key;
}

int Jwk::bits() const
{
    if (m_type == Type::Oct)
        return int(m_secret.size() * 8);
    return m_key ? EVP_PKEY_get_bits(m_key.get()) : 0;
}

bool Jwk::fits(Algorithm alg) const
{
    if (m_alg && *m_alg != alg) {
        // EdDSA and Ed25519 name the same operation on an Ed25519 key.
        const bool edPair = (*m_alg == Algorithm::EdDSA || *m_alg == Algorithm::Ed25519)
            && (alg == Algorithm::EdDSA || alg == Algorithm::Ed25519);
        if (!edPair)
            return false;
    }
    switch (alg) {
    case Algorithm::RS256: case Algorithm::RS384: case Algorithm::RS512:
    case Algorithm::PS256: case Algorithm::PS384: case Algorithm::PS512:
        return m_type == Type::Rsa;
    case Algorithm::ES256:
        return m_type == Type::Ec && m_curve == QLatin1String("P-256");
    case Algorithm::ES384:
        return m_type == Type::Ec && m_curve == QLatin1String("P-384");
    case Algorithm::ES512:
        return m_type == Type::Ec && m_curve == QLatin1String("P-521");
    case Algorithm::EdDSA: case Algorithm::Ed25519:
        return m_type == Type::Okp && m_curve == QLatin1String("Ed25519");
    case Algorithm::HS256:
        return m_type == Type::Oct && m_secret.size() >= 32;
    case Algorithm::HS384:
        return m_type == Type::Oct && m_secret.size() >= 48;
    case Algorithm::HS512:
        return m_type == Type::Oct && m_secret.size() >= 64;
    }
    return false;
}

QJsonObject Jwk::toPublicJson() const
{
    QJsonObject json;
    auto bnParam = [this](const char *name, int width = 0) { return bignumParam(m_key.get(), name, width); };
    switch (m_type) {
    case Type::Rsa:
        json.insert(QStringLiteral("kty"), QStringLiteral("RSA"));
        json.insert(QStringLiteral("n"), bnParam(OSSL_PKEY_PARAM_RSA_N));
        json.insert(QStringLiteral("e"), bnParam(OSSL_PKEY_PARAM_RSA_E));
        break;
    case Type::Ec: {
        json.insert(QStringLiteral("kty"), QStringLiteral("EC"));
        json.insert(QStringLiteral("crv"), m_curve);
        const int width = curveByJwkName(m_curve)->coordinateBytes;
        json.insert(QStringLiteral("x"), bnParam(OSSL_PKEY_PARAM_EC_PUB_X, width));
        json.insert(QStringLiteral("y"), bnParam(OSSL_PKEY_PARAM_EC_PUB_Y, width));
        break;
    }
    case Type::Okp: {
        json.insert(QStringLiteral("kty"), QStringLiteral("OKP"));
        json.insert(QStringLiteral("crv"), m_curve);
        unsigned char pub[32];
        size_t len = sizeof pub;
        EVP_PKEY_get_raw_public_key(m_key.get(), pub, &len);
        json.insert(QStringLiteral("x"), QString::fromLatin1(base64UrlEncode(QByteArrayView(pub, qsizetype(len)))));
        break;
    }
    case Type::Oct:
        // A symmetric key has no public half; publish nothing secret.
        json.insert(QStringLiteral("kty"), QStringLiteral("oct"));
        break;
    }
    if (!m_kid.isEmpty())
        json.insert(QStringLiteral("kid"), m_kid);
    if (m_alg)
        json.insert(QStringLiteral("alg"), algorithmName(*m_alg));
    if (m_type != Type::Oct)
        json.insert(QStringLiteral("use"), QStringLiteral("sig"));
    return json;
}

QJsonObject Jwk::toPrivateJson() const
{
    QJsonObject json = toPublicJson();
    if (!m_private)
        return json;
    auto bnParam = [this](const char *name, int width = 0) { return bignumParam(m_key.get(), name, width); };
    switch (m_type) {
    case Type::Rsa:
        json.insert(QStringLiteral("d"), bnParam(OSSL_PKEY_PARAM_RSA_D));
        json.insert(QStringLiteral("p"), bnParam(OSSL_PKEY_PARAM_RSA_FACTOR1));
        json.insert(QStringLiteral("q"), bnParam(OSSL_PKEY_PARAM_RSA_FACTOR2));
        json.insert(QStringLiteral("dp"), bnParam(OSSL_PKEY_PARAM_RSA_EXPONENT1));
        json.insert(QStringLiteral("dq"), bnParam(OSSL_PKEY_PARAM_RSA_EXPONENT2));
        json.insert(QStringLiteral("qi"), bnParam(OSSL_PKEY_PARAM_RSA_COEFFICIENT1));
        break;
    case Type::Ec:
        json.insert(QStringLiteral("d"), bnParam(OSSL_PKEY_PARAM_PRIV_KEY, curveByJwkName(m_curve)->coordinateBytes));
        break;
    case Type::Okp: {
        unsigned char priv[32];
        size_t len = sizeof priv;
        EVP_PKEY_get_raw_private_key(m_key.get(), priv, &len);
        json.insert(QStringLiteral("d"), QString::fromLatin1(base64UrlEncode(QByteArrayView(priv, qsizetype(len)))));
        OPENSSL_cleanse(priv, sizeof priv);
        break;
    }
    case Type::Oct:
        json.insert(QStringLiteral("k"), QString::fromLatin1(base64UrlEncode(m_secret)));
        break;
    }
    return json;
}

QByteArray Jwk::thumbprint() const
{
    // RFC 7638: the required members only, in lexicographic order, no whitespace.
    const QJsonObject pub = toPublicJson();
    QJsonObject required;
    for (const char *name : {"crv", "e", "k", "kty", "n", "x", "y"}) {
        const QString key = QLatin1String(name);
        if (pub.contains(key))
            required.insert(key, pub.value(key));
    }
    if (m_type == Type::Oct)
        required.insert(QStringLiteral("k"), QString::fromLatin1(base64UrlEncode(m_secret)));
    const QByteArray canonical = QJsonDocument(required).toJson(QJsonDocument::Compact);
    return base64UrlEncode(QCryptographicHash::hash(canonical, QCryptographicHash::Sha256));
}

Result<JwkSet> JwkSet::fromJson(QByteArrayView json, const JwkOptions &options)
{
    auto object = parseStrictJsonObject(json);
    if (!object)
        return tl::unexpected(object.error());
    const QJsonValue keys = object->value(QLatin1String("keys"));
    if (!keys.isArray())
        return fail(ErrorCode::Malformed, QStringLiteral("a JWK set needs a \"keys\" array"));
    JwkSet set;
    int index = 0;
    for (const QJsonValue &entry : keys.toArray()) {
        if (!entry.isObject()) {
            set.m_skipped << QStringLiteral("key %1: not a JSON object").arg(index);
        } else if (auto key = Jwk::fromJson(entry.toObject(), options)) {
            set.m_keys.append(*key);
        } else {
            const QString kid = entry.toObject().value(QLatin1String("kid")).toString();
            set.m_skipped << QStringLiteral("key %1%2: %3")
                                 .arg(index)
                                 .arg(kid.isEmpty() ? QString() : QStringLiteral(" (kid \"%1\")").arg(kid), key.error().message);
        }
        ++index;
    }
    return set;
}

bool JwkSet::hasSymmetricKey() const
{
    for (const Jwk &k : m_keys) {
        if (k.type() == Jwk::Type::Oct)
            return true;
    }
    return false;
}

QJsonObject JwkSet::toPublicJson() const
{
    QJsonArray keys;
    for (const Jwk &k : m_keys) {
        if (k.type() != Jwk::Type::Oct)
            keys.append(k.toPublicJson());
    }
    return QJsonObject{{QStringLiteral("keys"), keys}};
}

} // namespace hotdesk::jose

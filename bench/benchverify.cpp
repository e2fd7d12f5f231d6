// The "verify" group: ID token verifications per second, Hotdesk against raw OpenSSL, cjose and libjwt.
#include "bench.h"

#include "core/clock.h"
#include "core/jose/base64url.h"
#include "core/jose/jwk.h"
#include "core/jose/jws.h"
#include "core/oidc/idtokenvalidator.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cjose/cjose.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <memory>

namespace hotdesk::bench {
namespace {

using jose::Algorithm;
using namespace std::chrono_literals;

// One sign-in: issued at kIssuedAt, verified 30 s later by a fixed clock, so
// the token is valid on every run and no run depends on the wall clock.
constexpr qint64 kAuthTime = 1767225580;
constexpr qint64 kIssuedAt = 1767225600;
constexpr qint64 kExpiresAt = kIssuedAt + 300;
constexpr qint64 kVerifiedAt = kIssuedAt + 30;

const QString kIssuer = QStringLiteral("https://id.st-elsewhere-hospital.example/realms/staff");
const QString kClientId = QStringLiteral("hotdesk-agent");
const QString kSubject = QStringLiteral("f3b9c2e0-5d41-4a7e-9c1b-2f6e8d0a7b35");
const QString kNonce = QStringLiteral("n-0S6_WzA2Mj7tqvdvq5eIvc1yyQDKwAg7hF6kR9");

class FixedClock final : public Clock {
public:
    explicit FixedClock(qint64 secondsSinceEpoch)
        : m_now(std::chrono::seconds(secondsSinceEpoch))
    {
    }
    std::chrono::system_clock::time_point now() const override { return m_now; }

private:
    std::chrono::system_clock::time_point m_now;
};

// A claim set such as a hospital's identity provider issues after a
// phone-approved sign-in: ≈ 450 bytes of JSON, a name with a non-ASCII letter.
QByteArray claims(const QString &subject)
{
    QJsonObject c;
    c.insert(QStringLiteral("iss"), kIssuer);
    c.insert(QStringLiteral("sub"), subject);
    c.insert(QStringLiteral("aud"), kClientId);
    c.insert(QStringLiteral("azp"), kClientId);
    c.insert(QStringLiteral("exp"), kExpiresAt);
    c.insert(QStringLiteral("iat"), kIssuedAt);
    c.insert(QStringLiteral("auth_time"), kAuthTime);
    c.insert(QStringLiteral("nonce"), kNonce);
    c.insert(QStringLiteral("at_hash"), QStringLiteral("x4Qb5k2nE9vGq1rYtZ8wLA"));
    c.insert(QStringLiteral("sid"), QStringLiteral("7d2a0c4e-91f3-4b6a-8e5d-0c1f2a3b4c5d"));
    c.insert(QStringLiteral("amr"), QJsonArray {QStringLiteral("pwd"), QStringLiteral("mfa"), QStringLiteral("otp")});
    c.insert(QStringLiteral("acr"), QStringLiteral("urn:hotdesk:acr:phone-approved"));
    c.insert(QStringLiteral("name"), QStringLiteral("Zoë Lindqvist"));
    c.insert(QStringLiteral("preferred_username"), QStringLiteral("zlindqvist"));
    c.insert(QStringLiteral("email"), QStringLiteral("zoe.lindqvist@st-elsewhere-hospital.example"));
    c.insert(QStringLiteral("email_verified"), true);
    c.insert(QStringLiteral("locale"), QStringLiteral("sv-SE"));
    return QJsonDocument(c).toJson(QJsonDocument::Compact);
}

// The token with another subject in its payload and the original signature:
// every implementation must reject it, or it is not verifying anything.
QByteArray forged(const QByteArray &token)
{
    const qsizetype dot1 = token.indexOf('.');
    const qsizetype dot2 = token.lastIndexOf('.');
    const QByteArray payload = claims(QStringLiteral("00000000-5d41-4a7e-9c1b-2f6e8d0a7b35"));
    return token.left(dot1 + 1) + jose::base64UrlEncode(payload) + token.mid(dot2);
}

QByteArray toText(const QJsonObject &json)
{
    return QJsonDocument(json).toJson(QJsonDocument::Compact);
}

Result<QByteArray> publicKeyPem(EVP_PKEY *key)
{
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1)
        return fail(ErrorCode::CryptoFailure, QStringLiteral("could not write the public key as PEM"));
    char *data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return QByteArray(data, qsizetype(size));
}

// JWS r||s to the DER form EVP_DigestVerify takes.
Result<QByteArray> ecdsaDer(QByteArrayView raw)
{
    const int half = int(raw.size() / 2);
    const auto *p = reinterpret_cast<const unsigned char *>(raw.data());
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), &ECDSA_SIG_free);
    BIGNUM *r = BN_bin2bn(p, half, nullptr);
    BIGNUM *s = BN_bin2bn(p + half, half, nullptr);
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return fail(ErrorCode::CryptoFailure, QStringLiteral("could not build the DER signature"));
    }
    unsigned char *der = nullptr;
    const int len = i2d_ECDSA_SIG(sig.get(), &der);
    if (len <= 0)
        return fail(ErrorCode::CryptoFailure, QStringLiteral("could not encode the DER signature"));
    QByteArray out(reinterpret_cast<const char *>(der), len);
    OPENSSL_free(der);
    return out;
}

// One implementation set up for one token; verify() is the timed unit.
class Verifier {
public:
    virtual ~Verifier() = default;
    virtual bool verify() = 0;
};

// What a Hotdesk caller runs: parse, key by kid, signature, every claim check.
class HotdeskVerifier final : public Verifier {
public:
    HotdeskVerifier(QByteArray token, const jose::JwkSet &keys, const oidc::IdTokenRequirements &req, const Clock &clock)
        : m_token(std::move(token))
        , m_keys(keys)
        , m_req(req)
        , m_clock(clock)
    {
    }
    bool verify() override { return oidc::validateIdToken(m_token, m_keys, m_req, m_clock).has_value(); }

private:
    QByteArray m_token;
    const jose::JwkSet &m_keys;
    const oidc::IdTokenRequirements &m_req;
    const Clock &m_clock;
};

// The floor: one EVP_DigestVerify over the already split signing input, with
// the key object and (for ECDSA) the DER signature made once beforehand.
class OpensslVerifier final : public Verifier {
public:
    ~OpensslVerifier() override
    {
        EVP_MD_CTX_free(m_ctx);
        EVP_MD_free(m_md);
        EVP_PKEY_free(m_key);
    }

    static Result<std::unique_ptr<Verifier>> create(const QByteArray &token, Algorithm alg, EVP_PKEY *key)
    {
        auto v = std::unique_ptr<OpensslVerifier>(new OpensslVerifier);
        const qsizetype lastDot = token.lastIndexOf('.');
        v->m_signingInput = token.left(lastDot);
        auto sig = jose::base64UrlDecode(QByteArrayView(token).sliced(lastDot + 1));
        if (!sig)
            return tl::unexpected(sig.error());
        v->m_signature = *sig;
        if (alg == Algorithm::ES256) {
            auto der = ecdsaDer(*sig);
            if (!der)
                return tl::unexpected(der.error());
            v->m_signature = *der;
        }
        if (alg != Algorithm::EdDSA)
            v->m_md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
        v->m_ctx = EVP_MD_CTX_new();
        if (EVP_PKEY_up_ref(key) != 1 || !v->m_ctx || (alg != Algorithm::EdDSA && !v->m_md))
            return fail(ErrorCode::CryptoFailure, QStringLiteral("OpenSSL could not set up a verifier"));
        v->m_key = key;
        return std::unique_ptr<Verifier>(std::move(v));
    }

    bool verify() override
    {
        EVP_MD_CTX_reset(m_ctx);
        return EVP_DigestVerifyInit(m_ctx, nullptr, m_md, nullptr, m_key) == 1
            && EVP_DigestVerify(m_ctx, reinterpret_cast<const unsigned char *>(m_signature.constData()),
                   size_t(m_signature.size()), reinterpret_cast<const unsigned char *>(m_signingInput.constData()),
                   size_t(m_signingInput.size()))
            == 1;
    }

private:
    OpensslVerifier() = default;

    QByteArray m_signingInput;
    QByteArray m_signature;
    EVP_MD *m_md = nullptr;
    EVP_MD_CTX *m_ctx = nullptr;
    EVP_PKEY *m_key = nullptr;
};

using CjoseKey = std::shared_ptr<cjose_jwk_t>;

// cjose_jws_import parses the token (base64url, header JSON through jansson),
// cjose_jws_verify checks the signature; the claims are never looked at.
class CjoseVerifier final : public Verifier {
public:
    CjoseVerifier(QByteArray token, CjoseKey key)
        : m_token(std::move(token))
        , m_key(std::move(key))
    {
    }
    bool verify() override
    {
        cjose_err err;
        cjose_jws_t *jws = cjose_jws_import(m_token.constData(), size_t(m_token.size()), &err);
        const bool ok = jws && cjose_jws_verify(jws, m_key.get(), &err);
        cjose_jws_release(jws);
        return ok;
    }

private:
    QByteArray m_token;
    CjoseKey m_key;
};

// jwt_decode parses header and claims (jansson), reads the PEM key and checks
// the signature, all per call, as its API demands; it checks no claim.
class LibjwtVerifier final : public Verifier {
public:
    LibjwtVerifier(QByteArray token, QByteArray pem)
        : m_token(std::move(token))
        , m_pem(std::move(pem))
    {
    }
    bool verify() override
    {
        jwt_t *jwt = nullptr;
        const int rc = jwt_decode(
            &jwt, m_token.constData(), reinterpret_cast<const unsigned char *>(m_pem.constData()), int(m_pem.size()));
        jwt_free(jwt);
        return rc == 0;
    }

private:
    QByteArray m_token;
    QByteArray m_pem;
};

enum Impl { Hotdesk, Openssl, Cjose, Libjwt, ImplCount };
constexpr std::array<const char *, ImplCount> kImplNames {"hotdesk", "openssl", "cjose", "libjwt"};

struct Contender {
    std::unique_ptr<Verifier> verifier; // null when the implementation cannot do the algorithm
    QString unavailable; // why not, for the footnote
    std::vector<double> rates; // one per round
};

struct Case {
    Algorithm alg;
    QString kid;
    QByteArray token;
    std::array<Contender, ImplCount> contenders;
};

// Makes the verifier for impl on token; a null verifier with a reason when the
// implementation does not support the algorithm at all.
Result<Contender> makeContender(Impl impl, const Case &c, const QByteArray &token, const jose::JwkSet &keys,
    const oidc::IdTokenRequirements &req, const Clock &clock)
{
    const jose::Jwk *publicKey = nullptr;
    for (const jose::Jwk &k : keys.keys()) {
        if (k.kid() == c.kid)
            publicKey = &k;
    }
    if (!publicKey)
        return fail(ErrorCode::KeyNotFound, QStringLiteral("the key set lost key %1").arg(c.kid));

    Contender out;
    switch (impl) {
    case Hotdesk:
        out.verifier = std::make_unique<HotdeskVerifier>(token, keys, req, clock);
        break;
    case Openssl: {
        auto v = OpensslVerifier::create(token, c.alg, publicKey->evpKey());
        if (!v)
            return tl::unexpected(v.error());
        out.verifier = std::move(*v);
        break;
    }
    case Cjose: {
        const QByteArray jwk = toText(publicKey->toPublicJson());
        cjose_err err;
        cjose_jwk_t *key = cjose_jwk_import(jwk.constData(), size_t(jwk.size()), &err);
        if (!key) {
            out.unavailable = QStringLiteral("cjose_jwk_import refuses the %1 key: %2")
                                  .arg(publicKey->curve().isEmpty() ? QStringLiteral("RSA") : publicKey->curve(),
                                      QString::fromUtf8(err.message));
            break;
        }
        out.verifier = std::make_unique<CjoseVerifier>(token, CjoseKey(key, &cjose_jwk_release));
        break;
    }
    case Libjwt: {
        const QByteArray algName = jose::algorithmName(c.alg).toLatin1();
        if (jwt_str_alg(algName.constData()) == JWT_ALG_INVAL) {
            out.unavailable = QStringLiteral("libjwt has no %1").arg(jose::algorithmName(c.alg));
            break;
        }
        auto pem = publicKeyPem(publicKey->evpKey());
        if (!pem)
            return tl::unexpected(pem.error());
        out.verifier = std::make_unique<LibjwtVerifier>(token, *pem);
        break;
    }
    case ImplCount:
        break;
    }
    return out;
}

// Out of line, so that callgrind can count exactly what it runs (--toggle-collect).
[[gnu::noinline]] bool runFixedCalls(Verifier &verifier, std::uint64_t calls)
{
    bool ok = true;
    for (std::uint64_t i = 0; i < calls; ++i)
        ok = verifier.verify() && ok;
    return ok;
}

// The median over the rounds of a's rate over b's in the same round: the two
// took turns within each round, so a round on a busy machine slows both alike
// and the ratio holds where the rates themselves swing.
double medianRatio(const Contender &a, const Contender &b)
{
    std::vector<double> ratios;
    for (std::size_t i = 0; i < a.rates.size() && i < b.rates.size(); ++i)
        ratios.push_back(a.rates[i] / b.rates[i]);
    return median(ratios);
}

// One round of one case: the contenders take turns in slices of about a
// fiftieth of `each` until every one has run for `each` in all, starting with
// a different one every round. Timing them one after the other instead put a
// whole contender's round into a busy second of a shared machine, and turned
// a few per cent between two implementations into noise.
bool runRound(Case &c, std::chrono::nanoseconds each, int round)
{
    using Steady = std::chrono::steady_clock;
    struct Tally {
        std::uint64_t batch = 1;
        std::uint64_t calls = 0;
        Steady::duration time {};
    };
    std::array<Tally, ImplCount> tally;
    const auto slice = each / 50;
    for (bool pending = true; pending;) {
        pending = false;
        for (int j = 0; j < ImplCount; ++j) {
            const auto i = std::size_t((j + round) % ImplCount);
            Contender &k = c.contenders[i];
            Tally &t = tally[i];
            if (!k.verifier || t.time >= each)
                continue;
            const auto start = Steady::now();
            for (std::uint64_t n = 0; n < t.batch; ++n) {
                if (!k.verifier->verify())
                    return false;
            }
            const auto took = Steady::now() - start;
            t.calls += t.batch;
            t.time += took;
            if (took < slice)
                t.batch *= 2;
            pending = pending || t.time < each;
        }
    }
    for (std::size_t i = 0; i < ImplCount; ++i) {
        if (c.contenders[i].verifier)
            c.contenders[i].rates.push_back(double(tally[i].calls) / std::chrono::duration<double>(tally[i].time).count());
    }
    return true;
}

QString formatRate(const Contender &c)
{
    if (!c.verifier)
        return QStringLiteral("n/a");
    return QString::number(median(c.rates), 'f', 0);
}

void printTable(const std::vector<Case> &cases, qsizetype keyCount, const TimingPlan &plan)
{
    std::printf("\nverify: ID token verifications per second, median of %d rounds; within a round the implementations\n"
                "take turns in slices until each has run >= %.1f s\n\n",
        plan.rounds, std::chrono::duration<double>(plan.perRound).count());
    std::printf("%-6s %7s %10s %10s %10s %10s %9s %11s  %s\n", "alg", "token", "hotdesk", "openssl", "cjose", "libjwt", "hd/ossl",
        "hd/peer", "target");
    double worstSpread = 0;
    QString worstAt;
    double worstRatioSpread = 0;
    QString worstRatioAt;
    for (const Case &c : cases) {
        std::optional<Impl> bestPeer;
        for (Impl peer : {Cjose, Libjwt}) {
            if (!c.contenders[peer].verifier)
                continue;
            if (!bestPeer || median(c.contenders[peer].rates) > median(c.contenders[*bestPeer].rates))
                bestPeer = peer;
        }
        for (int i = 0; i < ImplCount; ++i) {
            const Contender &k = c.contenders[std::size_t(i)];
            if (!k.verifier)
                continue;
            const auto [lo, hi] = std::minmax_element(k.rates.begin(), k.rates.end());
            const double spread = (*hi - *lo) / median(k.rates);
            if (spread > worstSpread) {
                worstSpread = spread;
                worstAt = jose::algorithmName(c.alg) + QLatin1Char(' ') + QLatin1String(kImplNames[std::size_t(i)]);
            }
        }
        for (Impl other : {Openssl, Cjose, Libjwt}) {
            if (!c.contenders[other].verifier)
                continue;
            std::vector<double> ratios;
            for (std::size_t r = 0; r < c.contenders[Hotdesk].rates.size(); ++r)
                ratios.push_back(c.contenders[Hotdesk].rates[r] / c.contenders[other].rates[r]);
            const auto [lo, hi] = std::minmax_element(ratios.begin(), ratios.end());
            const double spread = (*hi - *lo) / median(ratios);
            if (spread > worstRatioSpread) {
                worstRatioSpread = spread;
                worstRatioAt = jose::algorithmName(c.alg) + QLatin1String(" hotdesk/") + QLatin1String(kImplNames[other]);
            }
        }
        const double vsOpenssl = medianRatio(c.contenders[Hotdesk], c.contenders[Openssl]);
        const std::optional<double> vsBestPeer
            = bestPeer ? std::optional(medianRatio(c.contenders[Hotdesk], c.contenders[*bestPeer])) : std::nullopt;
        const bool met = vsOpenssl >= 0.90 && (!vsBestPeer || *vsBestPeer >= 1);
        const QString vsPeer
            = vsBestPeer ? QString::asprintf("%.2f %s", *vsBestPeer, kImplNames[*bestPeer]) : QStringLiteral("n/a");
        std::printf("%-6s %5lld B %10s %10s %10s %10s %9.2f %11s  %s\n", qPrintable(jose::algorithmName(c.alg)),
            static_cast<long long>(c.token.size()), qPrintable(formatRate(c.contenders[Hotdesk])),
            qPrintable(formatRate(c.contenders[Openssl])), qPrintable(formatRate(c.contenders[Cjose])),
            qPrintable(formatRate(c.contenders[Libjwt])), vsOpenssl, qPrintable(vsPeer), met ? "met" : "MISSED");
    }

    std::printf("\nhd/ossl = hotdesk / openssl; hd/peer = hotdesk / faster of cjose and libjwt; each the median over\n"
                "the rounds of the ratio within a round. Target: hd/ossl >= 0.90 and hd/peer >= 1.\n"
                "All four verify the same token with the same public key; all use this process's libcrypto.\n"
                "  hotdesk  validateIdToken: size and syntax checks, strict base64url and JSON for header and\n"
                "           claims (each read whole, duplicate names and UTF-8 included, but only the members\n"
                "           the checks need are decoded), key chosen by kid from a %lld-key set, signature, then\n"
                "           every OIDC claim check (iss, aud, azp, exp, nbf, iat and token age, auth_time/max_age,\n"
                "           nonce, sub).\n"
                "           RSA, PSS and ECDSA hash the input and call EVP_PKEY_verify on a context each thread\n"
                "           prepared once per key, which skips the per-call algorithm fetches of\n"
                "           EVP_DigestVerifyInit: hence hd/ossl can exceed 1. EdDSA copies a prepared EVP_MD_CTX.\n"
                "  openssl  EVP_DigestVerifyInit + EVP_DigestVerify on a reset EVP_MD_CTX, on the pre-split\n"
                "           signing input with the signature decoded (ES256: converted to DER) once; no\n"
                "           parsing, no claims.\n"
                "  cjose    %s: cjose_jws_import (base64url, header JSON) + cjose_jws_verify, key imported\n"
                "           once; the payload is not parsed and no claim is checked.\n"
                "  libjwt   %s: jwt_decode (base64url, header and claims JSON, the PEM key read again)\n"
                "           + jwt_free; no claim is checked.\n",
        static_cast<long long>(keyCount), cjose_version(), HOTDESK_BENCH_LIBJWT_VERSION);
    for (const Case &c : cases) {
        for (Impl peer : {Cjose, Libjwt}) {
            if (!c.contenders[peer].verifier)
                std::printf("  n/a      %s %s: %s.\n", kImplNames[peer], qPrintable(jose::algorithmName(c.alg)),
                    qPrintable(c.contenders[peer].unavailable));
        }
    }
    std::printf("Largest round-to-round spread (max - min) / median: %.1f %% (%s); of a ratio: %.1f %% (%s).\n",
        100 * worstSpread, qPrintable(worstAt), 100 * worstRatioSpread, qPrintable(worstRatioAt));
}

} // namespace

Status runVerifyGroup(const TimingPlan &plan, Metrics &metrics)
{
    const std::array<std::pair<Algorithm, QString>, 3> algs {{
        {Algorithm::RS256, QStringLiteral("rsa-2026-01")},
        {Algorithm::ES256, QStringLiteral("ec-2026-01")},
        {Algorithm::EdDSA, QStringLiteral("ed-2026-01")},
    }};

    // The issuer's published set: a retired RSA key ahead of the current ones,
    // so finding the key by kid is part of the work.
    auto retired = jose::Jwk::generate(Algorithm::RS256, QStringLiteral("rsa-2025-07"));
    if (!retired)
        return tl::unexpected(retired.error());
    QJsonArray published {retired->toPublicJson()};
    std::vector<Case> cases;
    const QByteArray payload = claims(kSubject);
    for (const auto &[alg, kid] : algs) {
        auto key = jose::Jwk::generate(alg, kid);
        if (!key)
            return tl::unexpected(key.error());
        auto token = jose::signCompact(payload, *key, alg, QJsonObject {{QStringLiteral("typ"), QStringLiteral("JWT")}});
        if (!token)
            return tl::unexpected(token.error());
        published.append(key->toPublicJson());
        cases.push_back(Case {alg, kid, *token, {}});
    }
    auto keys = jose::JwkSet::fromJson(toText(QJsonObject {{QStringLiteral("keys"), published}}));
    if (!keys)
        return tl::unexpected(keys.error());
    if (!keys->skipped().isEmpty() || keys->keys().size() != published.size())
        return fail(ErrorCode::KeyRejected,
            QStringLiteral("the key set skipped keys: %1").arg(keys->skipped().join(QStringLiteral("; "))));

    oidc::IdTokenRequirements req;
    req.issuer = kIssuer;
    req.clientId = kClientId;
    req.nonce = kNonce;
    req.subject = kSubject;
    req.maxTokenAge = 600s;
    req.maxAuthAge = 600s;
    const FixedClock clock(kVerifiedAt);

    for (Case &c : cases) {
        const QString alg = jose::algorithmName(c.alg);
        if (auto checked = oidc::validateIdToken(c.token, *keys, req, clock); !checked)
            return fail(checked.error().code,
                QStringLiteral("%1: hotdesk rejects the benchmark token: %2").arg(alg, checked.error().message));
        const QByteArray bad = forged(c.token);
        if (auto checked = oidc::validateIdToken(bad, *keys, req, clock);
            checked || checked.error().code != ErrorCode::BadSignature)
            return fail(ErrorCode::BadSignature,
                QStringLiteral("%1: hotdesk does not reject the forged token as bad_signature").arg(alg));
        for (int i = 0; i < ImplCount; ++i) {
            const Impl impl = Impl(i);
            auto contender = makeContender(impl, c, c.token, *keys, req, clock);
            if (!contender)
                return tl::unexpected(contender.error());
            if (contender->verifier) {
                auto forgery = makeContender(impl, c, bad, *keys, req, clock);
                if (!forgery)
                    return tl::unexpected(forgery.error());
                if (!contender->verifier->verify())
                    return fail(ErrorCode::BadSignature,
                        QStringLiteral("%1: %2 rejects the benchmark token").arg(alg, QLatin1String(kImplNames[impl])));
                if (forgery->verifier->verify())
                    return fail(ErrorCode::BadSignature,
                        QStringLiteral("%1: %2 accepts a forged token").arg(alg, QLatin1String(kImplNames[impl])));
            }
            c.contenders[impl] = std::move(*contender);
        }
    }

    if (plan.fixedCalls > 0) {
        for (Case &c : cases) {
            for (int i = 0; i < ImplCount; ++i) {
                Contender &k = c.contenders[std::size_t(i)];
                const QString name = jose::algorithmName(c.alg) + QLatin1Char('.') + QLatin1String(kImplNames[std::size_t(i)]);
                if (!k.verifier || (!plan.only.isEmpty() && !plan.only.contains(name)))
                    continue;
                if (!runFixedCalls(*k.verifier, plan.fixedCalls))
                    return fail(ErrorCode::BadSignature, QStringLiteral("%1: a verification failed").arg(name));
                std::printf("verify.%s: %llu calls\n", qPrintable(name), static_cast<unsigned long long>(plan.fixedCalls));
            }
        }
        return {};
    }

    std::printf("verify: tokens of");
    for (const Case &c : cases)
        std::printf(" %s %lld B", qPrintable(jose::algorithmName(c.alg)), static_cast<long long>(c.token.size()));
    std::printf("; %d rounds\n", plan.rounds);
    std::fflush(stdout);

    auto run = [](Contender &k, std::chrono::nanoseconds minimum) {
        return measureRate([&] { return k.verifier->verify(); }, minimum);
    };
    for (Case &c : cases) {
        for (Contender &k : c.contenders) {
            if (k.verifier && !run(k, plan.warmUp))
                return fail(ErrorCode::BadSignature, QStringLiteral("a verification failed while warming up"));
        }
    }
    // Rounds go through the algorithms in turn; within one, the implementations
    // take turns in short slices (runRound).
    for (int round = 0; round < plan.rounds; ++round) {
        for (Case &c : cases) {
            if (!runRound(c, plan.perRound, round))
                return fail(ErrorCode::BadSignature, QStringLiteral("a verification failed while timed"));
        }
        std::printf("  round %d of %d done\n", round + 1, plan.rounds);
        std::fflush(stdout);
    }

    printTable(cases, keys->keys().size(), plan);
    for (const Case &c : cases) {
        for (int i = 0; i < ImplCount; ++i) {
            const Contender &k = c.contenders[std::size_t(i)];
            if (k.verifier)
                metrics.insert(QStringLiteral("verify.%1.%2_per_s")
                                   .arg(jose::algorithmName(c.alg), QLatin1String(kImplNames[std::size_t(i)])),
                    std::round(median(k.rates) * 10) / 10);
        }
    }
    return {};
}

} // namespace hotdesk::bench

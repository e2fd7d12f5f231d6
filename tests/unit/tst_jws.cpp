// JWK import rules, JWS signing and verification, and the RFC examples.
#include "core/jose/base64url.h"
#include "core/jose/jws.h"
#include "tokenfactory.h"

#include <QJsonArray>
#include <QTest>

#include <atomic>
#include <thread>
#include <vector>

using namespace hotdesk;
using namespace hotdesk::test;
using jose::Algorithm;

Q_DECLARE_METATYPE(hotdesk::jose::Algorithm)
Q_DECLARE_METATYPE(hotdesk::ErrorCode)

namespace {

// RFC 7515 Appendix A.3: the ES256 example key and token.
const char kRfc7515A3Jwk[] = "{\"kty\":\"EC\",\"crv\":\"P-256\","
                             "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
                             "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}";
const char kRfc7515A3Jws[] = "eyJhbGciOiJFUzI1NiJ9"
                             ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
                             ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

// RFC 8037 Appendix A: the Ed25519 key (A.1/A.2) and the signed example (A.4).
const char kRfc8037Private[] = "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                               "\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\","
                               "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}";
const char kRfc8037Public[] = "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}";
const char kRfc8037Jws[] = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
                           ".hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

// Takes a QByteArray so that concatenations (QStringBuilder) convert on the way in.
QByteArray b64(const QByteArray &bytes)
{
    return jose::base64UrlEncode(bytes);
}

jose::JwkSet setOf(std::initializer_list<jose::Jwk> keys)
{
    return jose::JwkSet(QList<jose::Jwk>(keys));
}

} // namespace

class TestJws : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        m_es = generatedKey(Algorithm::ES256, QStringLiteral("es"));
        m_keys = setOf({publicHalf(m_es)});
    }

    void rfc7515AppendixA3()
    {
        auto key = jose::Jwk::fromJson(QByteArray(kRfc7515A3Jwk));
        QVERIFY(key.has_value());
        auto verified = jose::verifyCompact(QByteArray(kRfc7515A3Jws), setOf({*key}));
        QVERIFY2(verified.has_value(), qPrintable(verified ? QString() : verified.error().message));
        QCOMPARE(verified->header.alg, Algorithm::ES256);
        QVERIFY(verified->payload.contains("\"iss\":\"joe\""));
        // Flip one bit of the signature: rejected.
        QByteArray tampered(kRfc7515A3Jws);
        tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
        QCOMPARE(jose::verifyCompact(tampered, setOf({*key})).error().code, ErrorCode::BadSignature);
    }

    void rfc8037AppendixA4()
    {
        auto pub = jose::Jwk::fromJson(QByteArray(kRfc8037Public));
        QVERIFY(pub.has_value());
        auto verified = jose::verifyCompact(QByteArray(kRfc8037Jws), setOf({*pub}));
        QVERIFY(verified.has_value());
        QCOMPARE(verified->payload, QByteArray("Example of Ed25519 signing"));
        // A.3: the thumbprint of the key.
        QCOMPARE(pub->thumbprint(), QByteArray("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"));
        // Ed25519 signatures are deterministic: signing reproduces A.4 exactly.
        jose::JwkOptions privateOk;
        privateOk.allowPrivate = true;
        auto priv = jose::Jwk::fromJson(QByteArray(kRfc8037Private), privateOk);
        QVERIFY(priv.has_value());
        const QByteArray input = QByteArray(kRfc8037Jws).left(QByteArray(kRfc8037Jws).lastIndexOf('.'));
        auto sig = jose::createSignature(*priv, Algorithm::EdDSA, input);
        QVERIFY(sig.has_value());
        QCOMPARE(input + '.' + jose::base64UrlEncode(*sig), QByteArray(kRfc8037Jws));
    }

    void fullySpecifiedEd25519Name()
    {
        // RFC 9864: "Ed25519" names the same operation as "EdDSA" on an Ed25519 key.
        const jose::Jwk key = generatedKey(Algorithm::Ed25519, QStringLiteral("k1"));
        auto token = jose::signCompact("payload", key, Algorithm::Ed25519);
        QVERIFY(token.has_value());
        auto header = jose::base64UrlDecode(token->left(token->indexOf('.')));
        QVERIFY(header->contains("\"alg\":\"Ed25519\""));
        auto verified = jose::verifyCompact(*token, setOf({publicHalf(key)}));
        QVERIFY(verified.has_value());
        QCOMPARE(verified->header.alg, Algorithm::Ed25519);
    }

    void roundTrip_data()
    {
        QTest::addColumn<Algorithm>("alg");
        for (Algorithm a : {Algorithm::RS256, Algorithm::RS384, Algorithm::RS512, Algorithm::PS256, Algorithm::PS384,
                            Algorithm::PS512, Algorithm::ES256, Algorithm::ES384, Algorithm::ES512, Algorithm::EdDSA,
                            Algorithm::HS256, Algorithm::HS384, Algorithm::HS512})
            QTest::newRow(qPrintable(jose::algorithmName(a))) << a;
    }
    void roundTrip()
    {
        QFETCH(Algorithm, alg);
        const jose::Jwk key = generatedKey(alg, QStringLiteral("key-1"));
        auto token = jose::signCompact("{\"hello\":\"world\"}", key, alg, {{QStringLiteral("typ"), QStringLiteral("JWT")}});
        QVERIFY(token.has_value());
        const bool symmetric = jose::isSymmetric(alg);
        jose::JwkSet keys = symmetric ? setOf({key}) : setOf({publicHalf(key)});
        jose::JwsVerifyOptions options;
        options.allowed = jose::AlgorithmSet::all();
        auto verified = jose::verifyCompact(*token, keys, options);
        QVERIFY2(verified.has_value(), qPrintable(verified ? QString() : verified.error().message));
        QCOMPARE(verified->payload, QByteArray("{\"hello\":\"world\"}"));
        QCOMPARE(verified->header.typ, QStringLiteral("JWT"));
        QCOMPARE(verified->keyId, QStringLiteral("key-1"));
        // The whole header, built on demand from the text that was verified.
        const QJsonObject header = verified->header.json();
        QCOMPARE(header.value(QLatin1String("alg")).toString(), jose::algorithmName(alg));
        QCOMPARE(header.value(QLatin1String("typ")).toString(), QStringLiteral("JWT"));
        QCOMPARE(header.value(QLatin1String("kid")).toString(), QStringLiteral("key-1"));

        // The default allowlist has no HMAC; a public-key algorithm outside a narrowed list is refused.
        jose::JwsVerifyOptions narrow;
        narrow.allowed = symmetric ? jose::AlgorithmSet::asymmetric() : jose::AlgorithmSet{alg == Algorithm::ES256 ? Algorithm::RS256 : Algorithm::ES256};
        QCOMPARE(jose::verifyCompact(*token, keys, narrow).error().code, ErrorCode::AlgNotAllowed);

        // Another key of the same type and kid: bad signature, never accepted.
        const jose::Jwk other = generatedKey(alg, QStringLiteral("key-1"));
        jose::JwkSet otherKeys = symmetric ? setOf({other}) : setOf({publicHalf(other)});
        QCOMPARE(jose::verifyCompact(*token, otherKeys, options).error().code, ErrorCode::BadSignature);
    }

    void rejections_data()
    {
        QTest::addColumn<QByteArray>("token");
        QTest::addColumn<ErrorCode>("code");
        const jose::Jwk &es = m_es;
        const jose::Jwk attacker = generatedKey(Algorithm::ES256, QStringLiteral("es"));
        const QByteArray payload = "{\"sub\":\"alice\"}";
        const QByteArray good = signRaw("{\"alg\":\"ES256\",\"kid\":\"es\"}", payload, es, Algorithm::ES256);
        const QList<QByteArray> parts = good.split('.');

        QTest::newRow("alg none") << b64("{\"alg\":\"none\",\"kid\":\"es\"}") + '.' + parts[1] + '.'
                                  << ErrorCode::AlgNotAllowed;
        QTest::newRow("alg none with signature") << b64("{\"alg\":\"none\"}") + '.' + parts[1] + '.' + parts[2]
                                                 << ErrorCode::AlgNotAllowed;
        QTest::newRow("alg unknown") << signRaw("{\"alg\":\"ES256K\",\"kid\":\"es\"}", payload, es, Algorithm::ES256) << ErrorCode::AlgNotAllowed;
        QTest::newRow("alg wrong case") << signRaw("{\"alg\":\"es256\",\"kid\":\"es\"}", payload, es, Algorithm::ES256) << ErrorCode::AlgNotAllowed;
        QTest::newRow("alg missing") << signRaw("{\"kid\":\"es\"}", payload, es, Algorithm::ES256) << ErrorCode::Malformed;
        QTest::newRow("alg not a string") << signRaw("{\"alg\":1}", payload, es, Algorithm::ES256) << ErrorCode::Malformed;
        QTest::newRow("HMAC with the EC key's bytes") << signRaw("{\"alg\":\"HS256\",\"kid\":\"es\"}", payload, generatedKey(Algorithm::HS256, QStringLiteral("es")), Algorithm::HS256)
                                                      << ErrorCode::AlgNotAllowed;
        QTest::newRow("unknown crit") << signRaw("{\"alg\":\"ES256\",\"kid\":\"es\",\"crit\":[\"exp\"],\"exp\":1}", payload, es, Algorithm::ES256)
                                      << ErrorCode::Unsupported;
        QTest::newRow("crit names registered") << signRaw("{\"alg\":\"ES256\",\"kid\":\"es\",\"crit\":[\"kid\"]}", payload, es, Algorithm::ES256)
                                               << ErrorCode::Malformed;
        QTest::newRow("crit empty") << signRaw("{\"alg\":\"ES256\",\"kid\":\"es\",\"crit\":[]}", payload, es, Algorithm::ES256) << ErrorCode::Malformed;
        QTest::newRow("b64 false") << signRaw("{\"alg\":\"ES256\",\"kid\":\"es\",\"b64\":false,\"crit\":[\"b64\"]}", payload, es, Algorithm::ES256)
                                   << ErrorCode::Unsupported;
        QTest::newRow("b64 false without crit") << signRaw("{\"alg\":\"ES256\",\"kid\":\"es\",\"b64\":false}", payload, es, Algorithm::ES256)
                                                << ErrorCode::Unsupported;
        QTest::newRow("JSON serialization") << QByteArray("{\"payload\":\"") + parts[1] + "\",\"protected\":\"" + parts[0]
                                                   + "\",\"signature\":\"" + parts[2] + "\"}"
                                            << ErrorCode::Unsupported;
        QTest::newRow("two segments") << parts[0] + '.' + parts[1] << ErrorCode::Malformed;
        QTest::newRow("four segments") << good + ".AAAA" << ErrorCode::Malformed;
        QTest::newRow("five segments (JWE shape)") << good + ".AAAA.AAAA" << ErrorCode::Malformed;
        QTest::newRow("empty") << QByteArray() << ErrorCode::Malformed;
        QTest::newRow("over 64 KiB") << signRaw("{\"alg\":\"ES256\",\"kid\":\"es\"}", "\"" + QByteArray(50000, 'a') + "\"", es, Algorithm::ES256)
                                     << ErrorCode::TooLarge;
        QTest::newRow("duplicate alg") << signRaw("{\"alg\":\"ES256\",\"alg\":\"ES256\",\"kid\":\"es\"}", payload, es, Algorithm::ES256)
                                       << ErrorCode::Malformed;
        QTest::newRow("duplicate kid") << signRaw("{\"alg\":\"ES256\",\"kid\":\"x\",\"kid\":\"es\"}", payload, es, Algorithm::ES256)
                                       << ErrorCode::Malformed;
        QTest::newRow("header not an object") << signRaw("[\"ES256\"]", payload, es, Algorithm::ES256) << ErrorCode::Malformed;
        QTest::newRow("header padded") << parts[0] + "=." + parts[1] + '.' + parts[2] << ErrorCode::Malformed;
        QTest::newRow("signature with whitespace") << parts[0] + '.' + parts[1] + ". " + parts[2] << ErrorCode::Malformed;
        QTest::newRow("embedded jwk is not used") << signRaw("{\"alg\":\"ES256\",\"kid\":\"es\",\"jwk\":" + compactJson(attacker.toPublicJson()) + "}",
                                                             payload, attacker, Algorithm::ES256)
                                                  << ErrorCode::BadSignature;
        QTest::newRow("jku is not followed") << signRaw("{\"alg\":\"ES256\",\"kid\":\"es\",\"jku\":\"https://attacker.example/jwks\"}", payload, attacker, Algorithm::ES256)
                                             << ErrorCode::BadSignature;
        QTest::newRow("x5c is not used") << signRaw("{\"alg\":\"ES256\",\"kid\":\"es\",\"x5c\":[\"MIIB\"]}", payload, attacker, Algorithm::ES256)
                                         << ErrorCode::BadSignature;
        QTest::newRow("unknown kid") << signRaw("{\"alg\":\"ES256\",\"kid\":\"other\"}", payload, es, Algorithm::ES256) << ErrorCode::KeyNotFound;
        QTest::newRow("kid not a string") << signRaw("{\"alg\":\"ES256\",\"kid\":7}", payload, es, Algorithm::ES256) << ErrorCode::Malformed;
        QTest::newRow("no key fits alg") << signRaw("{\"alg\":\"ES384\",\"kid\":\"es\"}", payload, generatedKey(Algorithm::ES384, QStringLiteral("es")), Algorithm::ES384)
                                         << ErrorCode::KeyNotFound;
        // ECDSA signatures must be exactly r||s of the curve's width, r and s in [1, n-1].
        const QByteArray sig = *jose::base64UrlDecode(parts[2]);
        const QByteArray input = parts[0] + '.' + parts[1] + '.';
        QTest::newRow("ES256 DER signature") << input + b64(QByteArray("\x30\x44\x02\x20", 4) + sig.left(32) + QByteArray("\x02\x20", 2) + sig.mid(32))
                                             << ErrorCode::BadSignature;
        QTest::newRow("ES256 signature one byte short") << input + jose::base64UrlEncode(sig.left(63)) << ErrorCode::BadSignature;
        QTest::newRow("ES256 signature zero-padded") << input + b64(QByteArray(1, 0) + sig) << ErrorCode::BadSignature;
        QTest::newRow("ES256 r = 0") << input + b64(QByteArray(32, 0) + sig.mid(32)) << ErrorCode::BadSignature;
        QTest::newRow("ES256 s = 0") << input + b64(sig.left(32) + QByteArray(32, 0)) << ErrorCode::BadSignature;
        QTest::newRow("ES256 r = n") << input + b64(QByteArray::fromHex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551") + sig.mid(32))
                                     << ErrorCode::BadSignature;
        QTest::newRow("ES256 s all ones") << input + b64(sig.left(32) + QByteArray(32, '\xff')) << ErrorCode::BadSignature;
        QTest::newRow("payload swapped") << parts[0] + '.' + b64("{\"sub\":\"mallory\"}") + '.' + parts[2] << ErrorCode::BadSignature;
        QTest::newRow("empty signature") << input << ErrorCode::BadSignature;
    }
    void rejections()
    {
        QFETCH(QByteArray, token);
        QFETCH(ErrorCode, code);
        // The verifier holds the public half of m_es, the key with kid "es".
        auto verified = jose::verifyCompact(token, m_keys);
        QVERIFY2(!verified.has_value(), "a bad token was accepted");
        QCOMPARE(errorCodeName(verified.error().code), errorCodeName(code));
        QVERIFY(!verified.error().message.isEmpty());
    }

    void noKidTriesEveryFittingKey()
    {
        const jose::Jwk a = generatedKey(Algorithm::ES256, QString());
        const jose::Jwk b = generatedKey(Algorithm::ES256, QString());
        const jose::Jwk rsa = generatedKey(Algorithm::RS256, QString());
        auto token = jose::signCompact("x", b, Algorithm::ES256);
        QVERIFY(token.has_value());
        QVERIFY(jose::verifyCompact(*token, setOf({publicHalf(rsa), publicHalf(a), publicHalf(b)})).has_value());
        QCOMPARE(jose::verifyCompact(*token, setOf({publicHalf(rsa)})).error().code, ErrorCode::KeyNotFound);
    }

    void kidSelectsAmongSeveral()
    {
        const jose::Jwk k1 = generatedKey(Algorithm::RS256, QStringLiteral("2026-01"));
        const jose::Jwk k2 = generatedKey(Algorithm::RS256, QStringLiteral("2026-02"));
        auto token = jose::signCompact("x", k2, Algorithm::RS256);
        auto verified = jose::verifyCompact(*token, setOf({publicHalf(k1), publicHalf(k2)}));
        QVERIFY(verified.has_value());
        QCOMPARE(verified->keyId, QStringLiteral("2026-02"));
    }

    void keyAlgBindsKey()
    {
        // An RSA key published for RS256 must not check a PS256 token, and vice versa.
        const jose::Jwk key = generatedKey(Algorithm::PS256, QStringLiteral("k"));
        QJsonObject pub = key.toPublicJson();
        pub.insert(QStringLiteral("alg"), QStringLiteral("RS256"));
        auto rs256Key = jose::Jwk::fromJson(pub);
        QVERIFY(rs256Key.has_value());
        auto token = jose::signCompact("x", key, Algorithm::PS256);
        QCOMPARE(jose::verifyCompact(*token, setOf({*rs256Key})).error().code, ErrorCode::KeyNotFound);
    }

    void jwkImport_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<bool>("allowSymmetric");
        QTest::addColumn<bool>("ok");
        const QJsonObject rsa = generatedKey(Algorithm::RS256, QStringLiteral("r")).toPublicJson();
        const QJsonObject ec = generatedKey(Algorithm::ES256, QStringLiteral("e")).toPublicJson();
        const QJsonObject ec521 = generatedKey(Algorithm::ES512, QStringLiteral("e5")).toPublicJson();
        auto with = [](QJsonObject o, const char *k, const QJsonValue &v) {
            o.insert(QLatin1String(k), v);
            return compactJson(o);
        };
        auto without = [](QJsonObject o, const char *k) {
            o.remove(QLatin1String(k));
            return compactJson(o);
        };
        QTest::newRow("rsa 2048") << compactJson(rsa) << false << true;
        QTest::newRow("ec p-256") << compactJson(ec) << false << true;
        QTest::newRow("ec p-521") << compactJson(ec521) << false << true;
        QTest::newRow("ed25519 rfc 8037") << QByteArray(kRfc8037Public) << false << true;
        // RSA 1024 bits (a well-formed modulus of 128 bytes with the top bit set).
        QTest::newRow("rsa 1024 refused") << with(rsa, "n", QString::fromLatin1(b64(QByteArray(1, '\xc1') + QByteArray(126, '\x11') + QByteArray(1, '\x01'))))
                                          << false << false;
        QTest::newRow("rsa even exponent") << with(rsa, "e", QStringLiteral("AQAA")) << false << false;
        QTest::newRow("rsa exponent 1") << with(rsa, "e", QStringLiteral("AQ")) << false << false;
        QTest::newRow("rsa no n") << without(rsa, "n") << false << false;
        QTest::newRow("ec off curve") << with(ec, "y", ec.value(QLatin1String("x"))) << false << false;
        QTest::newRow("ec short x") << with(ec, "x", QString::fromLatin1(jose::base64UrlEncode(QByteArray(31, 1)))) << false << false;
        QTest::newRow("ec unknown curve") << with(ec, "crv", QStringLiteral("secp256k1")) << false << false;
        QTest::newRow("ec curve/alg mismatch") << with(ec, "alg", QStringLiteral("ES384")) << false << false;
        QTest::newRow("okp x448") << QByteArray("{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"AAAA\"}") << false << false;
        QTest::newRow("okp short") << QByteArray("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}") << false << false;
        QTest::newRow("oct not allowed") << QByteArray("{\"kty\":\"oct\",\"k\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}") << false << false;
        QTest::newRow("oct allowed") << QByteArray("{\"kty\":\"oct\",\"k\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}") << true << true;
        QTest::newRow("oct too short") << QByteArray("{\"kty\":\"oct\",\"k\":\"AAAAAAAAAAAAAAAAAAAAAA\"}") << true << false;
        QTest::newRow("use enc") << with(ec, "use", QStringLiteral("enc")) << false << false;
        QTest::newRow("key_ops encrypt") << with(ec, "key_ops", QJsonArray{QStringLiteral("encrypt")}) << false << false;
        QTest::newRow("key_ops verify") << with(ec, "key_ops", QJsonArray{QStringLiteral("verify")}) << false << true;
        QTest::newRow("private when public expected") << compactJson(generatedKey(Algorithm::ES256, QStringLiteral("p")).toPrivateJson()) << false << false;
        QTest::newRow("unknown kty") << QByteArray("{\"kty\":\"XYZ\"}") << false << false;
        QTest::newRow("no kty") << QByteArray("{\"n\":\"AQAB\"}") << false << false;
        QTest::newRow("unknown alg") << with(ec, "alg", QStringLiteral("ES521")) << false << false;
        QTest::newRow("duplicate member") << QByteArray("{\"kty\":\"EC\",\"kty\":\"RSA\"}") << false << false;
    }
    void jwkImport()
    {
        QFETCH(QByteArray, json);
        QFETCH(bool, allowSymmetric);
        QFETCH(bool, ok);
        jose::JwkOptions options;
        options.allowSymmetric = allowSymmetric;
        auto key = jose::Jwk::fromJson(json, options);
        QCOMPARE(key.has_value(), ok);
        if (!ok)
            QVERIFY(!key.error().message.isEmpty());
    }

    void jwksSkipsUnusableEntries()
    {
        const jose::Jwk good = generatedKey(Algorithm::ES256, QStringLiteral("good"));
        QJsonArray keys{QJsonObject{{QStringLiteral("kty"), QStringLiteral("PQC")}, {QStringLiteral("kid"), QStringLiteral("future")}},
                        good.toPublicJson(), QStringLiteral("not an object"),
                        QJsonObject{{QStringLiteral("kty"), QStringLiteral("oct")}, {QStringLiteral("k"), QStringLiteral("AAAA")}}};
        auto set = jose::JwkSet::fromJson(compactJson(QJsonObject{{QStringLiteral("keys"), keys}}));
        QVERIFY(set.has_value());
        QCOMPARE(set->keys().size(), 1);
        QCOMPARE(set->keys().constFirst().kid(), QStringLiteral("good"));
        QCOMPARE(set->skipped().size(), 3);
        QVERIFY(set->skipped().constFirst().contains(QLatin1String("future")));

        QVERIFY(!jose::JwkSet::fromJson("{\"keys\":{}}").has_value());
        QVERIFY(!jose::JwkSet::fromJson("[]").has_value());
        QVERIFY(!jose::JwkSet::fromJson("{\"keys\":[],\"keys\":[]}").has_value());
    }

    // Each thread keeps its own verification contexts: several threads verifying
    // with the same keys at once must each get every answer right.
    void verifiesOnSeveralThreadsAtOnce()
    {
        struct Signed {
            QByteArray token;
            QByteArray forged;
        };
        QList<jose::Jwk> publicKeys;
        std::vector<Signed> tokens;
        for (Algorithm alg : {Algorithm::RS256, Algorithm::PS256, Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA}) {
            const QString kid = jose::algorithmName(alg);
            const jose::Jwk key = generatedKey(alg, kid);
            publicKeys << publicHalf(key);
            auto token = jose::signCompact("{\"sub\":\"alice\"}", key, alg);
            QVERIFY(token.has_value());
            auto forged = jose::signCompact("{\"sub\":\"mallory\"}", key, alg);
            QVERIFY(forged.has_value());
            // Mallory's claims under Alice's signature.
            const QByteArray forgedToken = forged->left(forged->lastIndexOf('.')) + token->mid(token->lastIndexOf('.'));
            tokens.push_back({*token, forgedToken});
        }
        const jose::JwkSet keys(publicKeys);
        std::atomic<int> wrong = 0;
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&] {
                for (int round = 0; round < 25; ++round) {
                    for (const Signed &s : tokens) {
                        if (!jose::verifyCompact(s.token, keys))
                            ++wrong;
                        auto forged = jose::verifyCompact(s.forged, keys);
                        if (forged || forged.error().code != ErrorCode::BadSignature)
                            ++wrong;
                    }
                }
            });
        }
        for (std::thread &t : threads)
            t.join();
        QCOMPARE(wrong.load(), 0);
    }

    // Threads signing with the same keys at once each get signatures that verify.
    void signsOnSeveralThreadsAtOnce()
    {
        std::vector<std::pair<Algorithm, jose::Jwk>> keys;
        for (Algorithm alg : {Algorithm::RS256, Algorithm::PS384, Algorithm::ES256, Algorithm::ES512, Algorithm::EdDSA})
            keys.emplace_back(alg, generatedKey(alg, jose::algorithmName(alg)));
        constexpr int kThreads = 4;
        constexpr int kRounds = 10;
        std::vector<std::vector<QByteArray>> made(kThreads);
        std::atomic<int> failed = 0;
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                for (int round = 0; round < kRounds; ++round) {
                    for (const auto &[alg, key] : keys) {
                        const QByteArray payload = QStringLiteral("{\"thread\":%1,\"round\":%2}").arg(t).arg(round).toLatin1();
                        auto token = jose::signCompact(payload, key, alg);
                        if (!token)
                            ++failed;
                        else
                            made[std::size_t(t)].push_back(*token);
                    }
                }
            });
        }
        for (std::thread &t : threads)
            t.join();
        QCOMPARE(failed.load(), 0);
        QList<jose::Jwk> publicKeys;
        for (const auto &entry : keys)
            publicKeys << publicHalf(entry.second);
        const jose::JwkSet set(publicKeys);
        jose::JwsVerifyOptions options;
        options.allowed = jose::AlgorithmSet::all();
        for (int t = 0; t < kThreads; ++t) {
            QCOMPARE(int(made[std::size_t(t)].size()), kRounds * int(keys.size()));
            for (const QByteArray &token : made[std::size_t(t)]) {
                auto verified = jose::verifyCompact(token, set, options);
                QVERIFY2(verified.has_value(), qPrintable(verified ? QString() : verified.error().message));
                QVERIFY(verified->payload.startsWith(QStringLiteral("{\"thread\":%1,").arg(t).toLatin1()));
            }
        }
    }

    // More keys than a thread keeps contexts for, used in turn and then again:
    // a context is only ever used with its own key.
    void moreKeysThanCachedContexts()
    {
        std::vector<jose::Jwk> keys;
        std::vector<QByteArray> tokens;
        for (int i = 0; i < 12; ++i) {
            keys.push_back(generatedKey(Algorithm::ES256, QStringLiteral("k%1").arg(i)));
            auto token = jose::signCompact("{}", keys.back(), Algorithm::ES256);
            QVERIFY(token.has_value());
            tokens.push_back(*token);
        }
        for (int pass = 0; pass < 2; ++pass) {
            for (std::size_t i = 0; i < keys.size(); ++i) {
                QVERIFY(jose::verifyCompact(tokens[i], setOf({publicHalf(keys[i])})).has_value());
                // Signing keeps contexts of its own, in the same bounded cache:
                // a new signature by key i verifies with key i alone.
                auto again = jose::signCompact("{\"pass\":1}", keys[i], Algorithm::ES256);
                QVERIFY(again.has_value());
                QVERIFY(jose::verifyCompact(*again, setOf({publicHalf(keys[i])})).has_value());
                QJsonObject next = keys[(i + 1) % keys.size()].toPublicJson();
                next.insert(QStringLiteral("kid"), keys[i].kid());
                auto nextKey = jose::Jwk::fromJson(next);
                QVERIFY(nextKey.has_value());
                QCOMPARE(jose::verifyCompact(*again, setOf({*nextKey})).error().code, ErrorCode::BadSignature);
                // The previous key under this key's kid: the signature must not verify.
                QJsonObject other = keys[(i + keys.size() - 1) % keys.size()].toPublicJson();
                other.insert(QStringLiteral("kid"), keys[i].kid());
                auto wrongKey = jose::Jwk::fromJson(other);
                QVERIFY(wrongKey.has_value());
                QCOMPARE(jose::verifyCompact(tokens[i], setOf({*wrongKey})).error().code, ErrorCode::BadSignature);
            }
        }
    }

    void parsedKeyIsShared()
    {
        // Copies of a parsed key share the OpenSSL key object: nothing is decoded again.
        const jose::Jwk key = publicHalf(generatedKey(Algorithm::ES256, QStringLiteral("k")));
        const jose::JwkSet set = setOf({key});
        QCOMPARE(set.keys().constFirst().evpKey(), key.evpKey());
    }

    void privateKeyRoundTrip_data()
    {
        QTest::addColumn<Algorithm>("alg");
        QTest::newRow("RS256") << Algorithm::RS256;
        QTest::newRow("ES384") << Algorithm::ES384;
        QTest::newRow("EdDSA") << Algorithm::EdDSA;
        QTest::newRow("HS256") << Algorithm::HS256;
    }
    void privateKeyRoundTrip()
    {
        QFETCH(Algorithm, alg);
        const jose::Jwk key = generatedKey(alg, QStringLiteral("k"));
        jose::JwkOptions options;
        options.allowPrivate = true;
        options.allowSymmetric = true;
        auto imported = jose::Jwk::fromJson(key.toPrivateJson(), options);
        QVERIFY2(imported.has_value(), qPrintable(imported ? QString() : imported.error().message));
        QVERIFY(imported->isPrivate());
        auto token = jose::signCompact("x", *imported, alg);
        QVERIFY(token.has_value());
        jose::JwsVerifyOptions verify;
        verify.allowed = jose::AlgorithmSet::all();
        QVERIFY(jose::verifyCompact(*token, setOf({jose::isSymmetric(alg) ? key : publicHalf(key)}), verify).has_value());
        QVERIFY(!key.toPublicJson().contains(QLatin1String("d")));
        QVERIFY(!key.toPublicJson().contains(QLatin1String("k")));
    }

private:
    jose::Jwk m_es;
    jose::JwkSet m_keys;
};

QTEST_GUILESS_MAIN(TestJws)
#include "tst_jws.moc"

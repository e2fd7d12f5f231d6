// ID token validation: one row per rejection reason, plus the edges that must pass.
#include "core/oidc/idtokenvalidator.h"
#include "fakeclock.h"
#include "tokenfactory.h"

#include <QJsonArray>
#include <QTest>

using namespace hotdesk;
using namespace hotdesk::test;
using jose::Algorithm;

Q_DECLARE_METATYPE(hotdesk::ErrorCode)
Q_DECLARE_METATYPE(hotdesk::jose::Algorithm)

namespace {

constexpr qint64 kNow = 1'767'225'600; // 2026-01-01T00:00:00Z
const QString kIssuer = QStringLiteral("https://idp.example.org");
const QString kClient = QStringLiteral("hotdesk-pc");
const QString kNonce = QStringLiteral("n-0S6_WzA2Mj");
const QString kSubject = QStringLiteral("3c9f0d2b7e8a41c6b5d4e3f2a1b0c9d8");

QJsonObject baseClaims()
{
    return QJsonObject{
        {QStringLiteral("iss"), kIssuer},     {QStringLiteral("sub"), kSubject},
        {QStringLiteral("aud"), kClient},     {QStringLiteral("exp"), kNow + 300},
        {QStringLiteral("iat"), kNow - 10},   {QStringLiteral("auth_time"), kNow - 12},
        {QStringLiteral("nonce"), kNonce},    {QStringLiteral("amr"), QJsonArray{QStringLiteral("mfa")}},
    };
}

// A claim change for one row: set (or, with an undefined value, remove) a member.
QJsonObject changed(QJsonObject claims, const char *name, const QJsonValue &value)
{
    if (value.isUndefined())
        claims.remove(QLatin1String(name));
    else
        claims.insert(QLatin1String(name), value);
    return claims;
}

} // namespace

class TestIdToken : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        m_key = generatedKey(Algorithm::ES256, QStringLiteral("idp-2026"));
        m_keys = jose::JwkSet({publicHalf(m_key)});
    }

    void validates_data()
    {
        QTest::addColumn<QByteArray>("token");
        QTest::addColumn<ErrorCode>("reason"); // ignored when accepted
        QTest::addColumn<bool>("accepted");
        const QByteArray header = "{\"alg\":\"ES256\",\"kid\":\"idp-2026\",\"typ\":\"JWT\"}";
        auto sign = [&](const QJsonObject &claims) { return signRaw(header, compactJson(claims), m_key, Algorithm::ES256); };
        auto accept = [&](const char *name, const QJsonObject &claims) { QTest::newRow(name) << sign(claims) << ErrorCode::Malformed << true; };
        auto reject = [&](const char *name, const QByteArray &token, ErrorCode code) { QTest::newRow(name) << token << code << false; };
        const QJsonObject base = baseClaims();

        accept("valid", base);
        accept("aud as array with only us", changed(base, "aud", QJsonArray{kClient}));
        accept("azp equal to client", changed(base, "azp", kClient));
        accept("exp within leeway", changed(base, "exp", kNow - 59));
        accept("nbf within leeway", changed(base, "nbf", kNow + 59));
        accept("iat within leeway in the future", changed(base, "iat", kNow + 60));
        accept("fractional dates", changed(base, "exp", double(kNow) + 100.5));
        accept("unknown claims are ignored", changed(base, "x-tenant", QJsonObject{{QStringLiteral("a"), 1}}));

        // Signature and structure
        reject("bad_signature: other key, same kid", signRaw(header, compactJson(base), generatedKey(Algorithm::ES256, QStringLiteral("idp-2026")), Algorithm::ES256), ErrorCode::BadSignature);
        reject("key_not_found: unknown kid", signRaw("{\"alg\":\"ES256\",\"kid\":\"idp-2027\"}", compactJson(base), m_key, Algorithm::ES256), ErrorCode::KeyNotFound);
        reject("alg_not_allowed: HS256", signRaw("{\"alg\":\"HS256\",\"kid\":\"idp-2026\"}", compactJson(base), generatedKey(Algorithm::HS256, QString()), Algorithm::HS256), ErrorCode::AlgNotAllowed);
        reject("alg_not_allowed: none", jose::base64UrlEncode("{\"alg\":\"none\"}") + '.' + jose::base64UrlEncode(compactJson(base)) + '.', ErrorCode::AlgNotAllowed);
        reject("malformed: not a JWS", QByteArray("not-a-token"), ErrorCode::Malformed);
        reject("malformed: claims not JSON", signRaw(header, "iss=https://idp.example.org", m_key, Algorithm::ES256), ErrorCode::Malformed);
        reject("malformed: claims an array", signRaw(header, "[1,2]", m_key, Algorithm::ES256), ErrorCode::Malformed);
        reject("malformed: duplicate claim", signRaw(header, compactJson(base).replace("{", "{\"sub\":\"mallory\","), m_key, Algorithm::ES256), ErrorCode::Malformed);
        reject("too_large", signRaw(header, compactJson(changed(base, "pad", QString(60000, QLatin1Char('x')))), m_key, Algorithm::ES256), ErrorCode::TooLarge);

        // Issuer
        reject("issuer_mismatch: other issuer", sign(changed(base, "iss", QStringLiteral("https://evil.example.org"))), ErrorCode::IssuerMismatch);
        reject("issuer_mismatch: trailing slash", sign(changed(base, "iss", QString(kIssuer + QLatin1Char('/')))), ErrorCode::IssuerMismatch);
        reject("issuer_mismatch: missing", sign(changed(base, "iss", QJsonValue::Undefined)), ErrorCode::IssuerMismatch);
        reject("invalid_claim: iss not a string", sign(changed(base, "iss", 42)), ErrorCode::InvalidClaim);

        // Audience and azp
        reject("audience_mismatch: other client", sign(changed(base, "aud", QStringLiteral("other-app"))), ErrorCode::AudienceMismatch);
        reject("audience_mismatch: missing", sign(changed(base, "aud", QJsonValue::Undefined)), ErrorCode::AudienceMismatch);
        reject("audience_mismatch: empty array", sign(changed(base, "aud", QJsonArray())), ErrorCode::AudienceMismatch);
        reject("audience_mismatch: untrusted extra audience", sign(changed(changed(base, "aud", QJsonArray{kClient, QStringLiteral("other-app")}), "azp", kClient)), ErrorCode::AudienceMismatch);
        reject("invalid_claim: aud a number", sign(changed(base, "aud", 1)), ErrorCode::InvalidClaim);
        reject("azp_mismatch: several audiences, no azp", sign(changed(base, "aud", QJsonArray{kClient, QStringLiteral("hotdesk-gateway")})), ErrorCode::AzpMismatch);
        reject("azp_mismatch: empty azp", sign(changed(base, "azp", QString())), ErrorCode::AzpMismatch);
        reject("azp_mismatch: azp names another client", sign(changed(base, "azp", QStringLiteral("other-app"))), ErrorCode::AzpMismatch);

        // Times
        reject("expired: exactly at leeway", sign(changed(base, "exp", kNow - 60)), ErrorCode::Expired);
        reject("expired: long ago", sign(changed(base, "exp", kNow - 86400)), ErrorCode::Expired);
        reject("not_yet_valid", sign(changed(base, "nbf", kNow + 61)), ErrorCode::NotYetValid);
        reject("issued_in_future", sign(changed(base, "iat", kNow + 61)), ErrorCode::IssuedInFuture);
        reject("token_too_old", sign(changed(base, "iat", kNow - 700)), ErrorCode::TokenTooOld);
        reject("invalid_claim: exp missing", sign(changed(base, "exp", QJsonValue::Undefined)), ErrorCode::InvalidClaim);
        reject("invalid_claim: exp a string", sign(changed(base, "exp", QString::number(kNow + 300))), ErrorCode::InvalidClaim);
        reject("invalid_claim: exp negative", sign(changed(base, "exp", -1)), ErrorCode::InvalidClaim);
        reject("invalid_claim: iat missing", sign(changed(base, "iat", QJsonValue::Undefined)), ErrorCode::InvalidClaim);
        reject("invalid_claim: nbf a boolean", sign(changed(base, "nbf", true)), ErrorCode::InvalidClaim);
        reject("auth_time_missing", sign(changed(base, "auth_time", QJsonValue::Undefined)), ErrorCode::AuthTimeMissing);
        reject("auth_time_too_old", sign(changed(base, "auth_time", kNow - 400)), ErrorCode::AuthTimeTooOld);

        // Nonce and subject
        reject("nonce_mismatch", sign(changed(base, "nonce", QStringLiteral("replayed-nonce"))), ErrorCode::NonceMismatch);
        reject("nonce_missing", sign(changed(base, "nonce", QJsonValue::Undefined)), ErrorCode::NonceMissing);
        reject("invalid_claim: nonce a number", sign(changed(base, "nonce", 5)), ErrorCode::InvalidClaim);
        reject("subject_missing", sign(changed(base, "sub", QJsonValue::Undefined)), ErrorCode::SubjectMissing);
        reject("subject_missing: empty", sign(changed(base, "sub", QString())), ErrorCode::SubjectMissing);
        reject("subject_mismatch", sign(changed(base, "sub", QStringLiteral("someone-else"))), ErrorCode::SubjectMismatch);
    }
    void validates()
    {
        QFETCH(QByteArray, token);
        QFETCH(ErrorCode, reason);
        QFETCH(bool, accepted);
        oidc::IdTokenRequirements req;
        req.issuer = kIssuer;
        req.clientId = kClient;
        req.nonce = kNonce;
        req.subject = kSubject;
        req.trustedAudiences = {QStringLiteral("hotdesk-gateway")};
        req.maxTokenAge = std::chrono::seconds(600);
        req.maxAuthAge = std::chrono::seconds(300);
        req.allowedAlgorithms = jose::AlgorithmSet{Algorithm::ES256, Algorithm::RS256};
        FakeClock clock(kNow);
        auto result = oidc::validateIdToken(token, m_keys, req, clock);
        if (accepted) {
            QVERIFY2(result.has_value(), qPrintable(result ? QString() : result.error().codeName() + QLatin1String(": ") + result.error().message));
            QCOMPARE(result->subject, kSubject);
            QCOMPARE(result->issuer, kIssuer);
        } else {
            QVERIFY2(!result.has_value(), "a token that must be rejected was accepted");
            QCOMPARE(result.error().codeName(), errorCodeName(reason));
            QVERIFY(!result.error().message.isEmpty());
        }
    }

    // acr_values asked for (the policy's alternate methods): "acr" must name one of them.
    void acrMustBeOneAskedFor_data()
    {
        QTest::addColumn<QJsonValue>("acr");
        QTest::addColumn<QStringList>("asked");
        QTest::addColumn<bool>("accepted");
        const QStringList asked{QStringLiteral("urn:hotdesk:acr:push"), QStringLiteral("urn:example:acr:hwk")};
        QTest::newRow("nothing asked, none given") << QJsonValue(QJsonValue::Undefined) << QStringList() << true;
        QTest::newRow("nothing asked, any given") << QJsonValue(QStringLiteral("urn:other")) << QStringList() << true;
        QTest::newRow("the first asked") << QJsonValue(asked.at(0)) << asked << true;
        QTest::newRow("the second asked") << QJsonValue(asked.at(1)) << asked << true;
        QTest::newRow("another method") << QJsonValue(QStringLiteral("urn:example:acr:password")) << asked << false;
        QTest::newRow("missing") << QJsonValue(QJsonValue::Undefined) << asked << false;
        QTest::newRow("empty") << QJsonValue(QString()) << asked << false;
        QTest::newRow("not a string") << QJsonValue(QJsonArray{asked.at(0)}) << asked << false;
        QTest::newRow("case differs") << QJsonValue(asked.at(0).toUpper()) << asked << false;
    }
    void acrMustBeOneAskedFor()
    {
        QFETCH(QJsonValue, acr);
        QFETCH(QStringList, asked);
        QFETCH(bool, accepted);
        const QByteArray header = "{\"alg\":\"ES256\",\"kid\":\"idp-2026\"}";
        const QByteArray token = signRaw(header, compactJson(changed(baseClaims(), "acr", acr)), m_key, Algorithm::ES256);
        oidc::IdTokenRequirements req;
        req.issuer = kIssuer;
        req.clientId = kClient;
        req.nonce = kNonce;
        req.subject = kSubject;
        req.acrValues = asked;
        FakeClock clock(kNow);
        auto result = oidc::validateIdToken(token, m_keys, req, clock);
        QCOMPARE(result.has_value(), accepted);
        if (!accepted) {
            QCOMPARE(result.error().code, ErrorCode::InvalidClaim);
            QVERIFY2(result.error().message.contains(QLatin1String("acr")), qPrintable(result.error().message));
        }
    }

    void trustedExtraAudience()
    {
        QJsonObject claims = changed(changed(baseClaims(), "aud", QJsonArray{kClient, QStringLiteral("hotdesk-gateway")}), "azp", kClient);
        auto token = jose::signCompact(compactJson(claims), m_key, Algorithm::ES256);
        oidc::IdTokenRequirements req;
        req.issuer = kIssuer;
        req.clientId = kClient;
        req.trustedAudiences = {QStringLiteral("hotdesk-gateway")};
        FakeClock clock(kNow);
        QVERIFY(oidc::validateIdToken(*token, m_keys, req, clock).has_value());
    }

    void leewayIsConfigurable()
    {
        auto token = jose::signCompact(compactJson(changed(baseClaims(), "exp", kNow - 5)), m_key, Algorithm::ES256);
        oidc::IdTokenRequirements req;
        req.issuer = kIssuer;
        req.clientId = kClient;
        FakeClock clock(kNow);
        QVERIFY(oidc::validateIdToken(*token, m_keys, req, clock).has_value()); // default 60 s
        req.leeway = std::chrono::seconds(0);
        QCOMPARE(oidc::validateIdToken(*token, m_keys, req, clock).error().code, ErrorCode::Expired);
    }

    void timeMovesWithTheClock()
    {
        auto token = jose::signCompact(compactJson(baseClaims()), m_key, Algorithm::ES256);
        oidc::IdTokenRequirements req;
        req.issuer = kIssuer;
        req.clientId = kClient;
        FakeClock clock(kNow);
        QVERIFY(oidc::validateIdToken(*token, m_keys, req, clock).has_value());
        clock.advance(std::chrono::minutes(6)); // exp is now + 300 s, leeway 60 s
        QCOMPARE(oidc::validateIdToken(*token, m_keys, req, clock).error().code, ErrorCode::Expired);
    }

    void signatureCheckedBeforeClaims()
    {
        // A forged token with wrong claims must report the signature, not the claims:
        // nothing in an unverified payload may steer the answer.
        QJsonObject claims = changed(baseClaims(), "iss", QStringLiteral("https://evil.example.org"));
        const jose::Jwk forger = generatedKey(Algorithm::ES256, QStringLiteral("idp-2026"));
        auto token = jose::signCompact(compactJson(claims), forger, Algorithm::ES256);
        oidc::IdTokenRequirements req;
        req.issuer = kIssuer;
        req.clientId = kClient;
        FakeClock clock(kNow);
        QCOMPARE(oidc::validateIdToken(*token, m_keys, req, clock).error().code, ErrorCode::BadSignature);
    }

    void rsaAndEdDsaIssuers_data()
    {
        QTest::addColumn<Algorithm>("alg");
        QTest::newRow("RS256") << Algorithm::RS256;
        QTest::newRow("PS256") << Algorithm::PS256;
        QTest::newRow("ES384") << Algorithm::ES384;
        QTest::newRow("EdDSA") << Algorithm::EdDSA;
    }
    void rsaAndEdDsaIssuers()
    {
        QFETCH(Algorithm, alg);
        const jose::Jwk key = generatedKey(alg, QStringLiteral("k"));
        auto token = jose::signCompact(compactJson(baseClaims()), key, alg);
        oidc::IdTokenRequirements req;
        req.issuer = kIssuer;
        req.clientId = kClient;
        req.nonce = kNonce;
        FakeClock clock(kNow);
        QVERIFY(oidc::validateIdToken(*token, jose::JwkSet({publicHalf(key)}), req, clock).has_value());
    }

private:
    jose::Jwk m_key;
    jose::JwkSet m_keys;
};

QTEST_GUILESS_MAIN(TestIdToken)
#include "tst_idtoken.moc"

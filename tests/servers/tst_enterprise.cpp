// The enterprise server over TLS: the DAS's user relay to SCIM, the resource gateway, the distribution site.
#include "app/stubs/common/clienttokens.h"
#include "app/stubs/das/dasservice.h"
#include "app/stubs/enterprise/enterprisedownloads.h"
#include "app/stubs/enterprise/enterpriseservice.h"
#include "app/stubs/idp/idpservice.h"
#include "app/stubs/push/pushservice.h"
#include "core/das/devicetoken.h"
#include "core/das/enrollment.h"
#include "core/jose/base64url.h"
#include "core/oidc/pkce.h"
#include "fakeclock.h"
#include "httpsclient.h"
#include "rolehost.h"
#include "tokenfactory.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSslSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QUrlQuery>

using namespace hotdesk;
using namespace hotdesk::test;
using jose::Algorithm;

namespace {

using Headers = QList<std::pair<QByteArray, QByteArray>>;

constexpr qint64 kStart = 1'767'225'600;
const QString kRedirect = QStringLiteral("http://127.0.0.1:49152/callback");

QJsonObject json(const HttpResult &r)
{
    return QJsonDocument::fromJson(r.body).object();
}

// The slug of a problem's type, "" when the answer is not a problem.
QString problemType(const HttpResult &r)
{
    const QString type = json(r).value(QLatin1String("type")).toString();
    return type.startsWith(QLatin1String("urn:hotdesk:problem:")) ? type.mid(20) : QString();
}

template <typename R> QByteArray why(const R &result)
{
    return result ? QByteArray() : result.error().message.toUtf8();
}

QJsonObject user(const QString &username, const QString &domain = QStringLiteral("Corp.Example"), const QString &sid = {})
{
    QJsonObject body {{QStringLiteral("username"), username}, {QStringLiteral("domain"), domain},
        {QStringLiteral("type"), QStringLiteral("AD")}};
    if (!sid.isEmpty())
        body.insert(QStringLiteral("sid"), sid);
    return body;
}

} // namespace

class TestEnterprise : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    FakeClock m_clock;
    stubs::das::DasService *das() const { return m_server->find<stubs::das::DasService>(); }
    stubs::idp::IdpService *idp() const { return m_server->find<stubs::idp::IdpService>(); }

    std::unique_ptr<stubs::ServiceHost> m_server;
    std::unique_ptr<HttpsClient> m_http;
    QByteArray m_clientToken;
    OpenSslRandom m_random;

    QUrl enterprise(const QString &path) const { return m_server->endpoints().enterprise.resolved(QUrl(path)); }
    QString downloadDir() const { return QDir(m_dir.path()).filePath(QStringLiteral("download")); }

    HttpResult relay(const QByteArray &body, const Headers &headers, const QByteArray &contentType = "application/json")
    {
        return m_http->send(enterprise(QStringLiteral("/v1/users")), "POST", body, contentType, headers);
    }
    HttpResult relay(const QJsonObject &body) { return relay(compactJson(body), {{"Authorization", "Bearer " + m_clientToken}}); }

    HttpResult resource(const QByteArray &token, const QString &path = QStringLiteral("/resources/reports/q3.json"))
    {
        Headers headers;
        if (!token.isNull())
            headers.append({"Authorization", "Bearer " + token});
        return m_http->send(enterprise(path), "GET", {}, {}, headers);
    }

    QJsonObject accessClaims() const
    {
        const double now = double(m_clock.secondsSinceEpoch());
        return {{QStringLiteral("iss"), idp()->issuer()},
            {QStringLiteral("sub"), QStringLiteral("5d41402abc4b2a76b9719d911017c592")},
            {QStringLiteral("aud"), QStringLiteral("hotdesk-gateway")},
            {QStringLiteral("client_id"), QStringLiteral("hotdesk-agent")}, {QStringLiteral("scope"), QStringLiteral("openid")},
            {QStringLiteral("iat"), now}, {QStringLiteral("exp"), now + 600}, {QStringLiteral("jti"), QStringLiteral("at-1")}};
    }

    jose::Jwk idpKey()
    {
        auto key = idp()->keyring().currentKey();
        if (!key)
            qFatal("IdP key: %s", qPrintable(key.error().message));
        return *key;
    }

    QByteArray sign(const QJsonObject &claims, const jose::Jwk &key, const QString &typ = QStringLiteral("at+jwt"))
    {
        QJsonObject header;
        if (!typ.isEmpty())
            header.insert(QStringLiteral("typ"), typ);
        auto token = jose::signCompact(compactJson(claims), key, Algorithm::ES256, header);
        if (!token)
            qFatal("signing: %s", qPrintable(token.error().message));
        return *token;
    }

    // The gateway's refusal: 401, the Bearer challenge, the install link and a page a person can use.
    static void checkDenied(const HttpResult &r, const QUrl &site)
    {
        QCOMPARE(r.status, 401);
        QVERIFY2(r.header("WWW-Authenticate").startsWith("Bearer realm=\"hotdesk-gateway\""),
            r.header("WWW-Authenticate").constData());
        QCOMPARE(r.header("Link"), QByteArray("<" + site.toString(QUrl::FullyEncoded).toUtf8() + ">; rel=\"install\""));
        QVERIFY(r.contentType.startsWith("text/html"));
        const QString page = QString::fromUtf8(r.body);
        QVERIFY(page.contains(QLatin1String("<html lang=\"en\">")));
        QVERIFY(page.contains(QLatin1String("<title>")));
        QVERIFY(page.contains(QLatin1String("<h1>")));
        QVERIFY(page.contains(QLatin1String("role=\"alert\"")));
        QVERIFY(page.contains(QStringLiteral("href=\"%1\"").arg(site.toString(QUrl::FullyEncoded))));
    }

    QUrl site() const { return enterprise(QStringLiteral("/download/")); }

    // --- the agent's side of enrollment (flow 3) and sign-in (flow 1), for the end-to-end cases

    HttpResult das(const QString &path, const QJsonObject &body, const Headers &headers)
    {
        return m_http->send(
            m_server->endpoints().das.resolved(QUrl(path)), "POST", compactJson(body), "application/json", headers);
    }

    void enroll(const QString &deviceId, jose::Jwk &deviceKey)
    {
        auto admin = stubs::das::createAdminToken(
            *m_server->context().store, stubs::das::AdminRole::Admin, QStringLiteral("ops"), m_clock);
        QVERIFY(admin.has_value());
        HttpResult r = m_http->send(m_server->endpoints().das.resolved(QUrl(QStringLiteral("/v1/activation"))), "POST", {}, {},
            {{"Authorization", "Bearer " + admin->toLatin1()}});
        QCOMPARE(r.status, 201);
        const HttpResult keys = m_http->get(m_server->endpoints().das.resolved(QUrl(QStringLiteral("/v1/activation-key"))));
        auto keySet = jose::JwkSet::fromJson(keys.body);
        QVERIFY(keySet.has_value());
        auto activation = das::verifyActivation(json(r).value(QLatin1String("activation")).toString().toLatin1(), *keySet,
            {das()->url(), std::chrono::seconds(60)}, m_clock);
        QVERIFY2(activation.has_value(), why(activation).constData());
        auto agent = das::DeviceEnrollment::create(*activation, deviceId);
        QVERIFY(agent.has_value());
        auto pA = agent->start(m_random);
        QVERIFY(pA.has_value());
        r = das(QStringLiteral("/v1/devices/%1/spake2").arg(activation->serviceUid),
            {{QStringLiteral("device_id"), deviceId}, {QStringLiteral("pA"), QString::fromLatin1(jose::base64UrlEncode(*pA))}},
            {});
        QCOMPARE(r.status, 200);
        auto pB = jose::base64UrlDecode(json(r).value(QLatin1String("pB")).toString().toLatin1());
        QVERIFY(pB.has_value());
        auto macA = agent->finish(*pB);
        QVERIFY(macA.has_value());
        deviceKey = generatedKey(Algorithm::ES256, {});
        auto keyMac = agent->keyMac(deviceKey);
        QVERIFY(keyMac.has_value());
        r = das(QStringLiteral("/v1/devices/%1/spake2/confirm").arg(activation->serviceUid),
            {{QStringLiteral("mac_a"), QString::fromLatin1(jose::base64UrlEncode(*macA))},
                {QStringLiteral("device_key"), deviceKey.toPublicJson()},
                {QStringLiteral("key_mac"), QString::fromLatin1(jose::base64UrlEncode(*keyMac))}},
            {});
        QCOMPARE(r.status, 200);
    }

    Headers deviceAuth(const jose::Jwk &key, const QString &deviceId)
    {
        auto token = das::makeDeviceToken(key, deviceId, das()->url(), m_clock, m_random);
        if (!token)
            qFatal("device token: %s", qPrintable(token.error().message));
        return {{"Authorization", "DeviceToken " + *token}};
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_clock.setSeconds(kStart);
        // Every role, as a deployment runs them: the relay and the gateway call the IdP (which approves
        // through push), and the devices the gateway sees enroll with the DAS.
        stubs::HostOptions options;
        options.dataDir = m_dir.path();
        options.clock = &m_clock;
        options.autoApprove = std::chrono::milliseconds(0);
        auto server = startRoles<stubs::das::DasService, stubs::idp::IdpService, stubs::push::PushService,
            stubs::enterprise::EnterpriseService>(options);
        QVERIFY2(server.has_value(), why(server).constData());
        m_server = std::move(*server);
        m_http = std::make_unique<HttpsClient>(m_server->caFile());
        auto token = stubs::readEnterpriseClientToken(m_dir.path());
        QVERIFY2(token.has_value(), why(token).constData());
        m_clientToken = *token;
    }

    void cleanupTestCase()
    {
        m_http.reset();
        m_server.reset();
    }

    void preparedFiles()
    {
        // The client token: 32 random bytes, base64url, readable by the owner only.
        QCOMPARE(m_clientToken.size(), 43);
        QFile tokenFile(stubs::enterpriseClientTokenPath(m_dir.path()));
        QCOMPARE(tokenFile.permissions()
                & (QFileDevice::ReadGroup | QFileDevice::ReadOther | QFileDevice::WriteGroup | QFileDevice::WriteOther),
            QFileDevice::Permissions());
        QVERIFY(QFile::exists(QDir(downloadDir()).filePath(QStringLiteral("README.txt"))));
        // A damaged token file is refused rather than trusted.
        QTemporaryDir other;
        QFile bad(stubs::enterpriseClientTokenPath(other.path()));
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("short");
        bad.close();
        QVERIFY(!stubs::readEnterpriseClientToken(other.path()).has_value());
    }

    // --- POST /v1/users: the DAS's relay to SCIM

    void relayCreatesTheScimUser()
    {
        const HttpResult first
            = relay(user(QStringLiteral("Heidi"), QStringLiteral("Corp.Example"), QStringLiteral("S-1-5-21-7-8-9-1001")));
        QCOMPARE(first.status, 200);
        const QString sharedId = json(first).value(QLatin1String("shared_id")).toString();
        QVERIFY2(QRegularExpression(QStringLiteral("^[0-9a-f]{32}$")).match(sharedId).hasMatch(), first.body.constData());
        QCOMPARE(json(first).value(QLatin1String("username")).toString(), QStringLiteral("heidi@corp.example"));

        // The IdP holds the user under the canonical name, with the SID as externalId.
        auto scimToken = stubs::readScimClientToken(m_dir.path());
        QVERIFY(scimToken.has_value());
        const HttpResult scim
            = m_http->send(m_server->endpoints().idp.resolved(QUrl(QStringLiteral("/scim/v2/Users/") + sharedId)), "GET", {}, {},
                {{"Authorization", "Bearer " + *scimToken}});
        QCOMPARE(scim.status, 200);
        QCOMPARE(json(scim).value(QLatin1String("userName")).toString(), QStringLiteral("heidi@corp.example"));
        QCOMPARE(json(scim).value(QLatin1String("externalId")).toString(), QStringLiteral("S-1-5-21-7-8-9-1001"));

        // Again (any case): the IdP answers 409 and the relay finds the same id.
        const HttpResult second = relay(user(QStringLiteral("HEIDI"), QStringLiteral("corp.example")));
        QCOMPARE(second.status, 200);
        QCOMPARE(json(second).value(QLatin1String("shared_id")).toString(), sharedId);
    }

    void relayNeedsTheClientToken_data()
    {
        QTest::addColumn<QByteArray>("authorization");
        QTest::newRow("none") << QByteArray();
        QTest::newRow("empty bearer") << QByteArray("Bearer ");
        QTest::newRow("wrong token") << QByteArray("Bearer " + jose::base64UrlEncode(QByteArray(32, 'x')));
        QTest::newRow("token with a suffix") << QByteArray("Bearer {TOKEN}x");
        QTest::newRow("other scheme") << QByteArray("Basic {TOKEN}");
        QTest::newRow("the SCIM token") << QByteArray("Bearer {SCIM}");
    }
    void relayNeedsTheClientToken()
    {
        QFETCH(QByteArray, authorization);
        authorization.replace("{TOKEN}", m_clientToken).replace("{SCIM}", *stubs::readScimClientToken(m_dir.path()));
        Headers headers;
        if (!authorization.isEmpty())
            headers.append({"Authorization", authorization});
        const HttpResult r = relay(compactJson(user(QStringLiteral("mallory"))), headers);
        QCOMPARE(r.status, 401);
        QCOMPARE(r.contentType, QByteArray("application/problem+json"));
        QCOMPARE(problemType(r), QStringLiteral("unauthorized"));
        QVERIFY(r.header("WWW-Authenticate").startsWith("Bearer "));
    }

    void relayBadInput_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("type");
        const QByteArray jsonType = "application/json";
        QTest::newRow("not JSON") << QByteArray("{\"username\":") << jsonType << 400 << QStringLiteral("malformed-request");
        QTest::newRow("array") << QByteArray("[1]") << jsonType << 400 << QStringLiteral("malformed-request");
        QTest::newRow("duplicate member") << QByteArray("{\"username\":\"a\",\"username\":\"b\",\"type\":\"AD\"}") << jsonType
                                          << 400 << QStringLiteral("malformed-request");
        QTest::newRow("form body") << QByteArray("username=a") << QByteArray("application/x-www-form-urlencoded") << 415
                                   << QStringLiteral("unsupported-media-type");
        QTest::newRow("too large") << QByteArray("{\"username\":\"" + QByteArray(70 * 1024, 'a') + "\"}") << jsonType << 413
                                   << QStringLiteral("body-too-large");
        QTest::newRow("no username") << QByteArray("{\"type\":\"AD\"}") << jsonType << 400 << QStringLiteral("malformed-request");
        QTest::newRow("username a number") << QByteArray("{\"username\":7,\"type\":\"AD\"}") << jsonType << 400
                                           << QStringLiteral("malformed-request");
        QTest::newRow("no type") << QByteArray("{\"username\":\"ivan\"}") << jsonType << 400
                                 << QStringLiteral("malformed-request");
        QTest::newRow("LDAP type") << QByteArray("{\"username\":\"ivan\",\"type\":\"LDAP\"}") << jsonType << 400
                                   << QStringLiteral("unsupported-user-type");
        QTest::newRow("bad SID") << QByteArray("{\"username\":\"ivan\",\"sid\":\"S-1-x\",\"type\":\"AD\"}") << jsonType << 400
                                 << QStringLiteral("malformed-request");
        QTest::newRow("quote in name") << QByteArray("{\"username\":\"iv\\\"an\",\"type\":\"AD\"}") << jsonType << 400
                                       << QStringLiteral("malformed-request");
        QTest::newRow("@ beside a domain") << QByteArray("{\"username\":\"ivan@x\",\"domain\":\"corp\",\"type\":\"AD\"}")
                                           << jsonType << 400 << QStringLiteral("malformed-request");
    }
    void relayBadInput()
    {
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, contentType);
        QFETCH(int, status);
        QFETCH(QString, type);
        const HttpResult r = relay(body, {{"Authorization", "Bearer " + m_clientToken}}, contentType);
        QCOMPARE(r.status, status);
        QCOMPARE(r.contentType, QByteArray("application/problem+json"));
        QCOMPARE(problemType(r), type);
    }

    void relayWithoutAWorkingIdp()
    {
        // An enterprise server on its own knows no IdP; pointed at one that does not answer, it reports a bad gateway.
        QTemporaryDir dir;
        stubs::HostOptions options;
        options.dataDir = dir.path();
        options.clock = &m_clock;
        auto alone = startRoles<stubs::enterprise::EnterpriseService>(options);
        QVERIFY2(alone.has_value(), why(alone).constData());
        HttpsClient http((*alone)->caFile());
        auto token = stubs::readEnterpriseClientToken(dir.path());
        QVERIFY(token.has_value());
        const QUrl url = (*alone)->endpoints().enterprise.resolved(QUrl(QStringLiteral("/v1/users")));
        HttpResult r = http.send(
            url, "POST", compactJson(user(QStringLiteral("judy"))), "application/json", {{"Authorization", "Bearer " + *token}});
        QCOMPARE(r.status, 503);
        QCOMPARE(problemType(r), QStringLiteral("idp-unavailable"));

        (*alone)->context().endpoints.idp = QUrl(QStringLiteral("https://127.0.0.1:1"));
        r = http.send(
            url, "POST", compactJson(user(QStringLiteral("judy"))), "application/json", {{"Authorization", "Bearer " + *token}});
        QCOMPARE(r.status, 502);
        QCOMPARE(problemType(r), QStringLiteral("idp-failed"));
        r = http.send((*alone)->endpoints().enterprise.resolved(QUrl(QStringLiteral("/resources/x"))), "GET", {}, {},
            {{"Authorization", "Bearer " + sign(accessClaims(), idpKey())}});
        QCOMPARE(r.status, 502);
        QCOMPARE(problemType(r), QStringLiteral("idp-failed"));
    }

    // --- GET /resources/*: the gateway

    void gatewayWithoutATokenPointsToTheDistributionSite()
    {
        const HttpResult r = resource(QByteArray());
        checkDenied(r, site());
        // No token at all is not an invalid token (RFC 6750 §3.1).
        QCOMPARE(r.header("WWW-Authenticate"), QByteArray("Bearer realm=\"hotdesk-gateway\""));
    }

    void gatewayTokenRules_data()
    {
        QTest::addColumn<QString>("change");
        QTest::addColumn<int>("status");
        QTest::newRow("valid") << QStringLiteral("none") << 200;
        QTest::newRow("aud array with the gateway") << QStringLiteral("aud-array") << 200;
        QTest::newRow("expired within the leeway") << QStringLiteral("exp-leeway") << 200;
        QTest::newRow("typ application/at+jwt") << QStringLiteral("typ-long") << 200;
        QTest::newRow("expired") << QStringLiteral("expired") << 401;
        QTest::newRow("issued in the future") << QStringLiteral("future") << 401;
        QTest::newRow("not yet valid") << QStringLiteral("nbf") << 401;
        QTest::newRow("no exp") << QStringLiteral("no-exp") << 401;
        QTest::newRow("exp a string") << QStringLiteral("exp-string") << 401;
        QTest::newRow("wrong aud") << QStringLiteral("aud") << 401;
        QTest::newRow("aud array without the gateway") << QStringLiteral("aud-other") << 401;
        QTest::newRow("wrong iss") << QStringLiteral("iss") << 401;
        QTest::newRow("no sub") << QStringLiteral("no-sub") << 401;
        QTest::newRow("ID token typ") << QStringLiteral("typ-jwt") << 401;
        QTest::newRow("no typ") << QStringLiteral("typ-none") << 401;
        QTest::newRow("another key, same kid") << QStringLiteral("key-same-kid") << 401;
        QTest::newRow("another key, unknown kid") << QStringLiteral("key-other-kid") << 401;
        QTest::newRow("HS256 with a guessed secret") << QStringLiteral("hs256") << 401;
        QTest::newRow("alg none") << QStringLiteral("alg-none") << 401;
        QTest::newRow("garbage") << QStringLiteral("garbage") << 401;
        QTest::newRow("oversized") << QStringLiteral("oversized") << 401;
    }
    void gatewayTokenRules()
    {
        QFETCH(QString, change);
        QFETCH(int, status);
        QJsonObject claims = accessClaims();
        const double now = double(m_clock.secondsSinceEpoch());
        jose::Jwk key = idpKey();
        QString typ = QStringLiteral("at+jwt");
        QByteArray token;
        if (change == QLatin1String("aud-array"))
            claims.insert(
                QStringLiteral("aud"), QJsonArray {QStringLiteral("https://api.example"), QStringLiteral("hotdesk-gateway")});
        else if (change == QLatin1String("exp-leeway"))
            claims.insert(QStringLiteral("exp"), now - 30);
        else if (change == QLatin1String("typ-long"))
            typ = QStringLiteral("application/at+jwt");
        else if (change == QLatin1String("expired"))
            claims.insert(QStringLiteral("exp"), now - 61);
        else if (change == QLatin1String("future"))
            claims.insert(QStringLiteral("iat"), now + 120);
        else if (change == QLatin1String("nbf"))
            claims.insert(QStringLiteral("nbf"), now + 120);
        else if (change == QLatin1String("no-exp"))
            claims.remove(QStringLiteral("exp"));
        else if (change == QLatin1String("exp-string"))
            claims.insert(QStringLiteral("exp"), QString::number(now + 600, 'f', 0));
        else if (change == QLatin1String("aud"))
            claims.insert(QStringLiteral("aud"), QStringLiteral("hotdesk-agent"));
        else if (change == QLatin1String("aud-other"))
            claims.insert(
                QStringLiteral("aud"), QJsonArray {QStringLiteral("hotdesk-agent"), QStringLiteral("https://api.example")});
        else if (change == QLatin1String("iss"))
            claims.insert(QStringLiteral("iss"), QString(idp()->issuer() + QStringLiteral("/")));
        else if (change == QLatin1String("no-sub"))
            claims.remove(QStringLiteral("sub"));
        else if (change == QLatin1String("typ-jwt"))
            typ = QStringLiteral("JWT");
        else if (change == QLatin1String("typ-none"))
            typ.clear();
        else if (change == QLatin1String("key-same-kid"))
            key = generatedKey(Algorithm::ES256, key.kid());
        else if (change == QLatin1String("key-other-kid"))
            key = generatedKey(Algorithm::ES256, QStringLiteral("attacker-1"));
        if (change == QLatin1String("hs256")) {
            auto secret
                = jose::Jwk::fromJson(QJsonObject {{QStringLiteral("kty"), QStringLiteral("oct")},
                                          {QStringLiteral("k"), QString::fromLatin1(jose::base64UrlEncode(QByteArray(32, 's')))}},
                    {true, true});
            QVERIFY(secret.has_value());
            token = signRaw("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", compactJson(claims), *secret, Algorithm::HS256);
        } else if (change == QLatin1String("alg-none")) {
            token = jose::base64UrlEncode("{\"alg\":\"none\",\"typ\":\"at+jwt\"}") + '.'
                + jose::base64UrlEncode(compactJson(claims)) + '.';
        } else if (change == QLatin1String("garbage")) {
            token = "not.a.token";
        } else if (change == QLatin1String("oversized")) {
            token = QByteArray(66 * 1024, 'A') + ".e30.AAAA";
        } else {
            token = sign(claims, key, typ);
        }
        const HttpResult r = resource(token);
        if (status == 200) {
            QCOMPARE(r.status, 200);
            QCOMPARE(json(r).value(QLatin1String("sub")).toString(), claims.value(QLatin1String("sub")).toString());
            QCOMPARE(json(r).value(QLatin1String("resource")).toString(), QStringLiteral("/resources/reports/q3.json"));
        } else {
            checkDenied(r, site());
            QVERIFY(r.header("WWW-Authenticate").contains("error=\"invalid_token\""));
        }
    }

    void gatewayAnswersBrowsersInHtml()
    {
        const HttpResult r = m_http->send(enterprise(QStringLiteral("/resources/wiki/<start>")), "GET", {}, {},
            {{"Authorization", "Bearer " + sign(accessClaims(), idpKey())}, {"Accept", "text/html"}});
        QCOMPARE(r.status, 200);
        QVERIFY(r.contentType.startsWith("text/html"));
        QVERIFY(r.body.contains("5d41402abc4b2a76b9719d911017c592"));
        // The path is the client's text: escaped, never markup.
        QVERIFY(!r.body.contains("<start>"));
    }

    void gatewayFollowsKeyRotation()
    {
        // Let any earlier fetch cool down, then rotate: the new kid is fetched once, at most every 10 s.
        m_clock.advance(std::chrono::seconds(11));
        QCOMPARE(resource(sign(accessClaims(), idpKey())).status, 200);
        const QString oldKid = idpKey().kid();
        QVERIFY(idp()->keyring().rotate(std::chrono::seconds(600)).has_value());
        const jose::Jwk fresh = idpKey();
        QVERIFY(fresh.kid() != oldKid);
        QCOMPARE(resource(sign(accessClaims(), fresh)).status, 200);
        // A kid the IdP does not publish gets no new fetch within 10 s, and no access.
        QCOMPARE(resource(sign(accessClaims(), generatedKey(Algorithm::ES256, QStringLiteral("nobody")))).status, 401);
        QCOMPARE(resource(sign(accessClaims(), fresh)).status, 200);
    }

    // --- flows 2 and 5 end to end: the DAS registers through the relay; a token from /token opens the gateway

    void registrationAndGatewayEndToEnd()
    {
        jose::Jwk deviceKey;
        enroll(QStringLiteral("pc-ent-1"), deviceKey);
        if (QTest::currentTestFailed())
            return;
        HttpResult r = das(QStringLiteral("/v1/users"),
            user(QStringLiteral("Grace"), QStringLiteral("Corp.Example"), QStringLiteral("S-1-5-21-4-5-6-1107")),
            deviceAuth(deviceKey, QStringLiteral("pc-ent-1")));
        QCOMPARE(r.status, 201);
        const QString sharedId = json(r).value(QLatin1String("shared_id")).toString();
        QVERIFY(QRegularExpression(QStringLiteral("^[0-9a-f]{32}$")).match(sharedId).hasMatch());
        // The relay answers the DAS with the IdP's id for the same user.
        QCOMPARE(json(relay(user(QStringLiteral("grace")))).value(QLatin1String("shared_id")).toString(), sharedId);

        // Flow 1: a request object from the DAS, the IdP with an auto-approving phone, the token endpoint.
        OpenSslRandom random;
        auto pkce = oidc::generatePkce(random);
        QVERIFY(pkce.has_value());
        const QJsonObject twoFactor {{QStringLiteral("user"), QStringLiteral("grace@corp.example")},
            {QStringLiteral("state"), QStringLiteral("st-ent")}, {QStringLiteral("nonce"), QStringLiteral("n-ent")},
            {QStringLiteral("code_challenge"), QString::fromLatin1(pkce->challenge)},
            {QStringLiteral("code_challenge_method"), QStringLiteral("S256")}, {QStringLiteral("redirect_uri"), kRedirect},
            {QStringLiteral("fingerprint"), QJsonObject {{QStringLiteral("machine_id"), QStringLiteral("m-ent")}}}};
        r = das(QStringLiteral("/v1/2fa-tokens"), twoFactor, deviceAuth(deviceKey, QStringLiteral("pc-ent-1")));
        QCOMPARE(r.status, 201);
        QUrl authorize(json(r).value(QLatin1String("authorization_endpoint")).toString());
        QUrlQuery query;
        query.addQueryItem(QStringLiteral("client_id"), json(r).value(QLatin1String("client_id")).toString());
        query.addQueryItem(QStringLiteral("request"), json(r).value(QLatin1String("request")).toString());
        authorize.setQuery(query);
        r = m_http->get(authorize);
        QCOMPARE(r.status, 200);
        const auto tx
            = QRegularExpression(QStringLiteral("/authorize/wait\\?tx=([A-Za-z0-9_-]+)")).match(QString::fromUtf8(r.body));
        QVERIFY(tx.hasMatch());
        QUrl back;
        for (int i = 0; i < 100 && back.isEmpty(); ++i) {
            r = m_http->get(m_server->endpoints().idp.resolved(QUrl(QStringLiteral("/authorize/wait?tx=") + tx.captured(1))));
            if (r.status == 302)
                back = QUrl(QString::fromUtf8(r.header("Location")));
            else
                QTest::qWait(20);
        }
        const QString code = QUrlQuery(back).queryItemValue(QStringLiteral("code"));
        QVERIFY2(!code.isEmpty(), qPrintable(back.toString()));
        QUrlQuery form;
        form.addQueryItem(QStringLiteral("grant_type"), QStringLiteral("authorization_code"));
        form.addQueryItem(QStringLiteral("code"), code);
        form.addQueryItem(QStringLiteral("code_verifier"), QString::fromLatin1(pkce->verifier));
        form.addQueryItem(QStringLiteral("redirect_uri"), kRedirect);
        form.addQueryItem(QStringLiteral("client_id"), QStringLiteral("hotdesk-agent"));
        r = m_http->post(m_server->endpoints().idp.resolved(QUrl(QStringLiteral("/token"))),
            form.toString(QUrl::FullyEncoded).toLatin1(), "application/x-www-form-urlencoded");
        QCOMPARE(r.status, 200);
        const QByteArray accessToken = json(r).value(QLatin1String("access_token")).toString().toLatin1();
        const QByteArray idToken = json(r).value(QLatin1String("id_token")).toString().toLatin1();

        // Flow 5: denied without the token, granted with it; the ID token is not an access token.
        checkDenied(resource(QByteArray(), QStringLiteral("/resources/payroll")), site());
        r = resource(accessToken, QStringLiteral("/resources/payroll"));
        QCOMPARE(r.status, 200);
        QCOMPARE(json(r).value(QLatin1String("sub")).toString(), sharedId);
        QCOMPARE(resource(idToken, QStringLiteral("/resources/payroll")).status, 401);
        // After the token's lifetime (and the leeway) the gateway closes again.
        m_clock.advance(std::chrono::seconds(600 + 61));
        QCOMPARE(resource(accessToken, QStringLiteral("/resources/payroll")).status, 401);
        m_clock.setSeconds(kStart + 700);
    }

    void dasRelayRefusedWithAnotherToken()
    {
        jose::Jwk deviceKey;
        enroll(QStringLiteral("pc-ent-2"), deviceKey);
        if (QTest::currentTestFailed())
            return;
        // The DAS reads DATADIR/enterprise-client-token; with another token there, the relay turns it away.
        QFile file(stubs::enterpriseClientTokenPath(m_dir.path()));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(jose::base64UrlEncode(QByteArray(32, 'z')));
        file.close();
        const HttpResult r
            = das(QStringLiteral("/v1/users"), user(QStringLiteral("oscar")), deviceAuth(deviceKey, QStringLiteral("pc-ent-2")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(m_clientToken);
        file.close();
        QCOMPARE(r.status, 502);
        QCOMPARE(problemType(r), QStringLiteral("user-directory-failed"));
        QVERIFY(json(r).value(QLatin1String("detail")).toString().contains(QLatin1String("401")));
    }

    // --- GET /download/: the distribution site

    void downloadIndexListsTheFiles()
    {
        QFile deb(QDir(downloadDir()).filePath(QStringLiteral("hotdesk_1.0_amd64.deb")));
        QVERIFY(deb.open(QIODevice::WriteOnly));
        deb.write("!<arch>\n");
        deb.close();
        QFile hidden(QDir(downloadDir()).filePath(QStringLiteral(".secret")));
        QVERIFY(hidden.open(QIODevice::WriteOnly));
        hidden.close();
        const HttpResult r = m_http->get(site());
        QCOMPARE(r.status, 200);
        QVERIFY(r.contentType.startsWith("text/html"));
        QVERIFY(r.body.contains("<html lang=\"en\">"));
        QVERIFY(r.body.contains("href=\"hotdesk_1.0_amd64.deb\""));
        QVERIFY(r.body.contains("href=\"README.txt\""));
        QVERIFY(!r.body.contains(".secret"));
        const HttpResult bare = m_http->get(enterprise(QStringLiteral("/download")));
        QCOMPARE(bare.status, 308);
        QCOMPARE(bare.header("Location"), QByteArray("/download/"));
    }

    void downloadServesFiles_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QByteArray>("contentType");
        QTest::newRow("deb") << QStringLiteral("hotdesk_1.0_amd64.deb") << QByteArray("application/vnd.debian.binary-package");
        QTest::newRow("msi") << QStringLiteral("Hotdesk-1.0.msi") << QByteArray("application/x-msi");
        QTest::newRow("pkg") << QStringLiteral("Hotdesk-1.0.pkg") << QByteArray("application/vnd.apple.installer+xml");
        QTest::newRow("txt") << QStringLiteral("notes.TXT") << QByteArray("text/plain; charset=utf-8");
        QTest::newRow("other") << QStringLiteral("hotdesk.tar.zst") << QByteArray("application/octet-stream");
        QTest::newRow("space in the name") << QStringLiteral("Hotdesk setup.exe") << QByteArray("application/octet-stream");
    }
    void downloadServesFiles()
    {
        QFETCH(QString, name);
        QFETCH(QByteArray, contentType);
        const QByteArray content = "package " + name.toUtf8();
        QFile file(QDir(downloadDir()).filePath(name));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(content);
        file.close();
        const HttpResult r
            = m_http->get(enterprise(QStringLiteral("/download/") + QString::fromLatin1(QUrl::toPercentEncoding(name))));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body, content);
        QCOMPARE(r.header("Content-Type"), contentType);
        QVERIFY2(r.header("Content-Disposition").startsWith(QByteArray("attachment; filename=\"" + name.toUtf8() + "\"")),
            r.header("Content-Disposition").constData());
        QCOMPARE(r.header("X-Content-Type-Options"), QByteArray("nosniff"));
    }

    void downloadRefusesTraversal_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("type");
        QTest::newRow("encoded ../") << QStringLiteral("/download/..%2Fca-key.pem") << 400 << QStringLiteral("invalid-path");
        QTest::newRow("encoded dots and slash")
            << QStringLiteral("/download/%2e%2e%2fca-key.pem") << 400 << QStringLiteral("invalid-path");
        QTest::newRow("dot dot") << QStringLiteral("/download/..") << 400 << QStringLiteral("invalid-path");
        QTest::newRow("encoded dot dot") << QStringLiteral("/download/%2e%2e") << 400 << QStringLiteral("invalid-path");
        QTest::newRow("../ out of the directory")
            << QStringLiteral("/download/../ca-key.pem") << 400 << QStringLiteral("invalid-path");
        QTest::newRow("../ back in") << QStringLiteral("/download/../download/../ca-key.pem") << 400
                                     << QStringLiteral("invalid-path");
        QTest::newRow("backslash") << QStringLiteral("/download/..%5Cca-key.pem") << 400 << QStringLiteral("invalid-path");
        QTest::newRow("absolute, encoded") << QStringLiteral("/download/%2Fetc%2Fpasswd") << 400
                                           << QStringLiteral("invalid-path");
        QTest::newRow("drive letter") << QStringLiteral("/download/C:%5Cboot.ini") << 400 << QStringLiteral("invalid-path");
        QTest::newRow("NUL") << QStringLiteral("/download/README.txt%00.deb") << 400 << QStringLiteral("invalid-path");
        QTest::newRow("invalid UTF-8") << QStringLiteral("/download/%FF.deb") << 400 << QStringLiteral("invalid-path");
        QTest::newRow("hidden file") << QStringLiteral("/download/.secret") << 400 << QStringLiteral("invalid-path");
        QTest::newRow("absolute") << QStringLiteral("/download//etc/passwd") << 400 << QStringLiteral("invalid-path");
        QTest::newRow("subdirectory") << QStringLiteral("/download/sub/file.deb") << 400 << QStringLiteral("invalid-path");
        QTest::newRow("link out of the directory")
            << QStringLiteral("/download/escape.deb") << 404 << QStringLiteral("not-found");
        QTest::newRow("a directory") << QStringLiteral("/download/sub") << 404 << QStringLiteral("not-found");
        QTest::newRow("missing") << QStringLiteral("/download/missing.deb") << 404 << QStringLiteral("not-found");
    }
    void downloadRefusesTraversal()
    {
        QFETCH(QString, path);
        QFETCH(int, status);
        QFETCH(QString, type);
        QDir(downloadDir()).mkpath(QStringLiteral("sub"));
        const QString link = QDir(downloadDir()).filePath(QStringLiteral("escape.deb"));
        if (!QFileInfo(link).isSymLink())
            QVERIFY(QFile::link(QDir(m_dir.path()).filePath(QStringLiteral("ca-key.pem")), link));
        const HttpResult r = rawGet(path.toLatin1());
        QCOMPARE(r.status, status);
        QCOMPARE(problemType(r), type);
        QVERIFY(!r.body.contains("PRIVATE KEY"));
    }

    void downloadListsOnlyPlainFiles()
    {
        for (const stubs::enterprise::DownloadFile &file : stubs::enterprise::listDownloads(downloadDir())) {
            QVERIFY(!file.name.startsWith(QLatin1Char('.')));
            QVERIFY(file.name != QLatin1String("escape.deb") && file.name != QLatin1String("sub"));
        }
    }

private:
    // One request written byte for byte: QUrl and QNetworkAccessManager would tidy "../" away before the server sees it.
    HttpResult rawGet(const QByteArray &target)
    {
        QSslSocket socket;
        QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
        ssl.addCaCertificates(m_server->caFile());
        socket.setSslConfiguration(ssl);
        const QUrl base = m_server->endpoints().enterprise;
        QByteArray answer;
        QEventLoop loop;
        QTimer::singleShot(10000, &loop, &QEventLoop::quit);
        connect(&socket, &QSslSocket::encrypted, &loop, [&] {
            socket.write("GET " + target + " HTTP/1.1\r\nHost: " + base.authority().toLatin1() + "\r\nConnection: close\r\n\r\n");
        });
        // Until the whole answer is in: the headers, then Content-Length bytes.
        connect(&socket, &QSslSocket::readyRead, &loop, [&] {
            answer += socket.readAll();
            const qsizetype end = answer.indexOf("\r\n\r\n");
            static const QRegularExpression length(
                QStringLiteral("\r\ncontent-length:\\s*(\\d+)"), QRegularExpression::CaseInsensitiveOption);
            const auto m = length.match(QString::fromLatin1(answer.left(end)));
            if (end >= 0 && m.hasMatch() && answer.size() - end - 4 >= m.captured(1).toLongLong())
                loop.quit();
        });
        connect(&socket, &QSslSocket::disconnected, &loop, &QEventLoop::quit);
        socket.connectToHostEncrypted(base.host(), quint16(base.port()));
        loop.exec();
        HttpResult r;
        const qsizetype end = answer.indexOf("\r\n\r\n");
        if (end < 0)
            return r;
        const QList<QByteArray> lines = answer.left(end).split('\n');
        r.status = lines.value(0).split(' ').value(1).toInt();
        r.body = answer.mid(end + 4);
        return r;
    }
};

QTEST_GUILESS_MAIN(TestEnterprise)
#include "tst_enterprise.moc"

// The agent's OpenID Connect client pieces against the in-process stub IdP: discovery, JWKS cache, authorization response, code
// exchange.
#include "app/stubs/common/clienttokens.h"
#include "app/stubs/idp/idpservice.h"
#include "app/stubs/push/pushservice.h"
#include "core/net/httpclient.h"
#include "core/oidc/authorization.h"
#include "core/oidc/discovery.h"
#include "core/oidc/idtokenvalidator.h"
#include "core/oidc/jwkscache.h"
#include "core/oidc/pkce.h"
#include "core/oidc/tokenexchange.h"
#include "fakeclock.h"
#include "httpsclient.h"
#include "rolehost.h"
#include "tokenfactory.h"
#include "waitfor.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QUrlQuery>

using namespace hotdesk;
using namespace hotdesk::test;
using namespace std::chrono_literals;
using jose::Algorithm;

namespace {

constexpr qint64 kStart = 1'767'225'600;
const QString kRedirect = QStringLiteral("http://127.0.0.1:49152/callback");
const QString kClientId = QStringLiteral("hotdesk-agent");

struct Flow {
    QString state;
    QString nonce;
    oidc::PkcePair pkce;
    QByteArray requestObject;
};

using KeysAnswer = std::optional<Result<jose::JwkSet>>;

bool hasKid(const jose::JwkSet &set, const QString &kid)
{
    for (const jose::Jwk &key : set.keys()) {
        if (key.kid() == kid)
            return true;
    }
    return false;
}

} // namespace

class TestOidcClient : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { setUp({}); }

    void setUp(const QStringList &faults)
    {
        m_http.reset();
        m_browser.reset();
        m_server.reset();
        m_fakeDas.reset();
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        m_clock.setSeconds(kStart);
        // The IdP asks its push provider to approve each sign-in, so both run.
        stubs::HostOptions options;
        options.dataDir = m_dir->path();
        options.clock = &m_clock;
        options.faults = faults;
        // Simulated phones approve at once: these tests are about the agent's side.
        options.autoApprove = 0ms;
        auto server = startRoles<stubs::idp::IdpService, stubs::push::PushService>(options);
        QVERIFY2(server.has_value(), qPrintable(server ? QString() : server.error().message));
        m_server = std::move(*server);
        m_issuer = idpService()->issuer();

        // A stand-in DAS: its /jwks is the client's key set at the IdP (request
        // objects), and /idp-keys a key set whose answer each test shapes.
        m_dasKey = generatedKey(Algorithm::ES256, QStringLiteral("das-1"));
        auto ca = stubs::LocalCa::loadOrCreate(m_dir->path());
        QVERIFY(ca.has_value());
        m_fakeDas = std::make_unique<stubs::HttpService>(QStringLiteral("das"));
        const QByteArray jwks = compactJson(jose::JwkSet({publicHalf(m_dasKey)}).toPublicJson());
        m_fakeDas->server().route(QStringLiteral("/jwks"), QHttpServerRequest::Method::Get,
            [jwks] { return QHttpServerResponse("application/jwk-set+json", jwks); });
        m_fakeDas->server().route(QStringLiteral("/idp-keys"), QHttpServerRequest::Method::Get, [this] {
            QHttpServerResponse response("application/jwk-set+json", m_keysBody, m_keysStatus);
            for (const auto &[name, value] : std::as_const(m_keysHeaders))
                response.setHeader(name, value);
            return response;
        });
        QVERIFY(m_fakeDas->listen(*ca).has_value());
        m_server->context().endpoints.das = m_fakeDas->baseUrl();
        m_otherKey = generatedKey(Algorithm::ES256, QStringLiteral("other-1"));
        m_keysBody = compactJson(jose::JwkSet({publicHalf(m_otherKey)}).toPublicJson());
        m_keysStatus = QHttpServerResponse::StatusCode::Ok;
        m_keysHeaders = {{"Cache-Control", "max-age=60"}};

        auto trust = net::TlsTrust::fromBundle(m_server->caFile());
        QVERIFY(trust.has_value());
        m_http = std::make_unique<net::HttpClient>(*trust);
        m_browser = std::make_unique<HttpsClient>(m_server->caFile());

        auto scimToken = stubs::readScimClientToken(m_dir->path());
        QVERIFY(scimToken.has_value());
        const HttpResult created = m_browser->send(m_server->endpoints().idp.resolved(QUrl(QStringLiteral("/scim/v2/Users"))),
            "POST", "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"alice@corp\"}",
            "application/scim+json", {{"Authorization", "Bearer " + *scimToken}});
        QCOMPARE(created.status, 201);
        m_sharedId = QJsonDocument::fromJson(created.body).object().value(QLatin1String("id")).toString();
        QVERIFY(!m_sharedId.isEmpty());
    }

    // Each test starts with the stand-in key set answering normally.
    void init()
    {
        m_keysBody = compactJson(jose::JwkSet({publicHalf(m_otherKey)}).toPublicJson());
        m_keysStatus = QHttpServerResponse::StatusCode::Ok;
        m_keysHeaders = {{"Cache-Control", "max-age=60"}};
    }

    // Discovery ---------------------------------------------------------------

    void discovery()
    {
        const auto metadata = discover(m_issuer);
        QVERIFY2(metadata && *metadata, whyNot(metadata));
        const oidc::ProviderMetadata &m = **metadata;
        QCOMPARE(m.issuer, m_issuer);
        QCOMPARE(m.authorizationEndpoint, QUrl(m_issuer + QStringLiteral("/authorize")));
        QCOMPARE(m.tokenEndpoint, QUrl(m_issuer + QStringLiteral("/token")));
        QCOMPARE(m.jwksUri, QUrl(m_issuer + QStringLiteral("/jwks")));
        QCOMPARE(m.userinfoEndpoint, QUrl(m_issuer + QStringLiteral("/userinfo")));
        QVERIFY(m.issParameterSupported);
        QVERIFY(m.idTokenSigningAlgs.contains(QStringLiteral("ES256")));
        QVERIFY(m.document.contains(QLatin1String("code_challenge_methods_supported")));
    }

    void discoveryRefusals_data()
    {
        QTest::addColumn<QString>("issuer"); // "ISSUER" stands for the stub's issuer, "PORT" for its port
        QTest::addColumn<QString>("error");
        QTest::newRow("trailing slash is another issuer") << QStringLiteral("ISSUER/") << QStringLiteral("issuer_mismatch");
        QTest::newRow("localhost is not 127.0.0.1")
            << QStringLiteral("https://localhost:PORT") << QStringLiteral("issuer_mismatch");
        QTest::newRow("no document under a path") << QStringLiteral("ISSUER/tenant") << QStringLiteral("server_error");
        QTest::newRow("plain http to a remote host") << QStringLiteral("http://idp.example") << QStringLiteral("malformed");
        QTest::newRow("issuer with a query") << QStringLiteral("ISSUER?tenant=a") << QStringLiteral("malformed");
        QTest::newRow("nothing listens") << QStringLiteral("https://127.0.0.1:1") << QStringLiteral("unreachable");
    }
    void discoveryRefusals()
    {
        QFETCH(QString, issuer);
        QFETCH(QString, error);
        issuer.replace(QLatin1String("ISSUER"), m_issuer)
            .replace(QLatin1String("PORT"), QString::number(m_server->endpoints().idp.port()));
        const auto metadata = discover(issuer);
        QVERIFY(metadata.has_value());
        QVERIFY2(!*metadata, "a wrong issuer was accepted");
        QCOMPARE(metadata->error().codeName(), error);
        QVERIFY(!metadata->error().message.isEmpty());
    }

    void discoveryUrl_data()
    {
        QTest::addColumn<QString>("issuer");
        QTest::addColumn<QString>("url"); // "" when refused
        QTest::newRow("host") << QStringLiteral("https://idp.example")
                              << QStringLiteral("https://idp.example/.well-known/openid-configuration");
        QTest::newRow("host and slash") << QStringLiteral("https://idp.example/")
                                        << QStringLiteral("https://idp.example/.well-known/openid-configuration");
        QTest::newRow("path") << QStringLiteral("https://idp.example/realms/r")
                              << QStringLiteral("https://idp.example/realms/r/.well-known/openid-configuration");
        QTest::newRow("path and slash") << QStringLiteral("https://idp.example/realms/r/")
                                        << QStringLiteral("https://idp.example/realms/r/.well-known/openid-configuration");
        QTest::newRow("loopback http") << QStringLiteral("http://127.0.0.1:8080")
                                       << QStringLiteral("http://127.0.0.1:8080/.well-known/openid-configuration");
        QTest::newRow("remote http") << QStringLiteral("http://idp.example") << QString();
        QTest::newRow("fragment") << QStringLiteral("https://idp.example#x") << QString();
        QTest::newRow("relative") << QStringLiteral("/realms/r") << QString();
        QTest::newRow("empty") << QString() << QString();
    }
    void discoveryUrl()
    {
        QFETCH(QString, issuer);
        QFETCH(QString, url);
        const auto result = oidc::discoveryUrl(issuer);
        if (url.isEmpty()) {
            QVERIFY(!result.has_value());
            QCOMPARE(result.error().code, ErrorCode::Malformed);
        } else {
            QVERIFY(result.has_value());
            QCOMPARE(result->toString(), url);
        }
    }

    void providerMetadataRules_data()
    {
        QTest::addColumn<QString>("member");
        QTest::addColumn<QJsonValue>("value"); // Undefined removes the member
        QTest::addColumn<QString>("error"); // "" when accepted
        const QJsonValue gone(QJsonValue::Undefined);
        QTest::newRow("complete") << QStringLiteral("scopes_supported") << QJsonValue(QJsonArray {QStringLiteral("openid")})
                                  << QString();
        QTest::newRow("no issuer") << QStringLiteral("issuer") << gone << QStringLiteral("malformed_answer");
        QTest::newRow("issuer not a string") << QStringLiteral("issuer") << QJsonValue(7) << QStringLiteral("malformed_answer");
        QTest::newRow("other issuer") << QStringLiteral("issuer") << QJsonValue(QStringLiteral("https://evil.example"))
                                      << QStringLiteral("issuer_mismatch");
        QTest::newRow("issuer differs in case")
            << QStringLiteral("issuer") << QJsonValue(QStringLiteral("https://IDP.example")) << QStringLiteral("issuer_mismatch");
        QTest::newRow("no authorization_endpoint")
            << QStringLiteral("authorization_endpoint") << gone << QStringLiteral("malformed_answer");
        QTest::newRow("no token_endpoint") << QStringLiteral("token_endpoint") << gone << QStringLiteral("malformed_answer");
        QTest::newRow("no jwks_uri") << QStringLiteral("jwks_uri") << gone << QStringLiteral("malformed_answer");
        QTest::newRow("no userinfo_endpoint") << QStringLiteral("userinfo_endpoint") << gone << QString();
        QTest::newRow("http token endpoint")
            << QStringLiteral("token_endpoint") << QJsonValue(QStringLiteral("http://idp.example/token"))
            << QStringLiteral("malformed_answer");
        QTest::newRow("http userinfo") << QStringLiteral("userinfo_endpoint")
                                       << QJsonValue(QStringLiteral("http://idp.example/me"))
                                       << QStringLiteral("malformed_answer");
        QTest::newRow("loopback http jwks") << QStringLiteral("jwks_uri")
                                            << QJsonValue(QStringLiteral("http://127.0.0.1:8080/jwks")) << QString();
        QTest::newRow("loopback ::1") << QStringLiteral("jwks_uri") << QJsonValue(QStringLiteral("http://[::1]:8080/jwks"))
                                      << QString();
        QTest::newRow("relative jwks") << QStringLiteral("jwks_uri") << QJsonValue(QStringLiteral("/jwks"))
                                       << QStringLiteral("malformed_answer");
        QTest::newRow("jwks not a string") << QStringLiteral("jwks_uri") << QJsonValue(QJsonArray {})
                                           << QStringLiteral("malformed_answer");
        QTest::newRow("endpoint with fragment")
            << QStringLiteral("authorization_endpoint") << QJsonValue(QStringLiteral("https://idp.example/a#b"))
            << QStringLiteral("malformed_answer");
        QTest::newRow("endpoint with user info")
            << QStringLiteral("token_endpoint") << QJsonValue(QStringLiteral("https://u:p@idp.example/token"))
            << QStringLiteral("malformed_answer");
        QTest::newRow("ftp endpoint") << QStringLiteral("token_endpoint") << QJsonValue(QStringLiteral("ftp://idp.example/token"))
                                      << QStringLiteral("malformed_answer");
        QTest::newRow("iss support not boolean") << QStringLiteral("authorization_response_iss_parameter_supported")
                                                 << QJsonValue(QStringLiteral("true")) << QStringLiteral("malformed_answer");
        QTest::newRow("algs not an array") << QStringLiteral("id_token_signing_alg_values_supported")
                                           << QJsonValue(QStringLiteral("ES256")) << QStringLiteral("malformed_answer");
    }
    void providerMetadataRules()
    {
        QFETCH(QString, member);
        QFETCH(QJsonValue, value);
        QFETCH(QString, error);
        QJsonObject doc {
            {QStringLiteral("issuer"), QStringLiteral("https://idp.example")},
            {QStringLiteral("authorization_endpoint"), QStringLiteral("https://idp.example/authorize?tenant=a")},
            {QStringLiteral("token_endpoint"), QStringLiteral("https://idp.example/token")},
            {QStringLiteral("jwks_uri"), QStringLiteral("https://keys.idp.example/jwks")},
            {QStringLiteral("userinfo_endpoint"), QStringLiteral("https://idp.example/userinfo")},
            {QStringLiteral("id_token_signing_alg_values_supported"),
                QJsonArray {QStringLiteral("RS256"), QStringLiteral("ES256")}},
        };
        if (value.isUndefined())
            doc.remove(member);
        else
            doc.insert(member, value);
        const auto metadata = oidc::parseProviderMetadata(doc, QStringLiteral("https://idp.example"));
        if (error.isEmpty()) {
            QVERIFY2(metadata.has_value(), qPrintable(metadata ? QString() : metadata.error().message));
            QCOMPARE(metadata->authorizationEndpoint.query(), QStringLiteral("tenant=a"));
            QVERIFY(!metadata->issParameterSupported);
            QCOMPARE(metadata->idTokenSigningAlgs, (QStringList {QStringLiteral("RS256"), QStringLiteral("ES256")}));
        } else {
            QVERIFY2(!metadata.has_value(), "a bad document was accepted");
            QCOMPARE(metadata.error().codeName(), error);
            QVERIFY2(metadata.error().message.contains(member) || error == QLatin1String("issuer_mismatch"),
                qPrintable(metadata.error().message));
        }
    }

    // JWKS cache --------------------------------------------------------------

    void jwksFetchedOnceThenCached()
    {
        oidc::JwksCache cache(*m_http, jwksUri(), m_clock);
        QVERIFY(!cache.fetchedAt().has_value());
        const KeysAnswer first = keysFor(cache, currentKid());
        QVERIFY2(first && *first, whyNot(first));
        QVERIFY(hasKid(**first, currentKid()));
        QCOMPARE(cache.fetchCount(), 1);
        QVERIFY(cache.fetchedAt() == std::optional(m_clock.now()));

        m_clock.advance(59s);
        for (const QString &kid : {currentKid(), QString()}) {
            const KeysAnswer again = keysFor(cache, kid);
            QVERIFY2(again && *again, whyNot(again));
            QCOMPARE(cache.fetchCount(), 1);
        }
        // The stub says max-age=60: a minute on, the set is stale and fetched again.
        m_clock.advance(2s);
        QVERIFY(keysFor(cache, currentKid()).value().has_value());
        QCOMPARE(cache.fetchCount(), 2);

        cache.clear();
        QVERIFY(!cache.fetchedAt().has_value());
        QVERIFY(keysFor(cache, currentKid()).value().has_value());
        QCOMPARE(cache.fetchCount(), 3);
    }

    void jwksUnknownKidCooldown()
    {
        oidc::JwksCache cache(*m_http, jwksUri(), m_clock);
        QVERIFY(keysFor(cache, currentKid()).value().has_value());
        QCOMPARE(cache.fetchCount(), 1);
        // Within 30 s of the fetch an unknown kid gets the cached set at once.
        m_clock.advance(10s);
        KeysAnswer unknown = keysFor(cache, QStringLiteral("nobody"));
        QVERIFY2(unknown && *unknown, whyNot(unknown));
        QVERIFY(!hasKid(**unknown, QStringLiteral("nobody")));
        QCOMPARE(cache.fetchCount(), 1);
        // Later it refetches, once.
        m_clock.advance(21s);
        unknown = keysFor(cache, QStringLiteral("nobody"));
        QVERIFY2(unknown && *unknown, whyNot(unknown));
        QCOMPARE(cache.fetchCount(), 2);
        m_clock.advance(29s);
        QVERIFY(keysFor(cache, QStringLiteral("nobody")).value().has_value());
        QCOMPARE(cache.fetchCount(), 2);
        // And again once the cooldown has passed, though the set is still fresh.
        m_clock.advance(1s);
        QVERIFY(keysFor(cache, QStringLiteral("nobody")).value().has_value());
        QCOMPARE(cache.fetchCount(), 3);
        // A token signed by a key nobody publishes then fails as key_not_found.
        const auto validated
            = oidc::validateIdToken(signRaw("{\"alg\":\"ES256\",\"kid\":\"nobody\"}", "{}",
                                        generatedKey(Algorithm::ES256, QStringLiteral("nobody")), Algorithm::ES256),
                **unknown, {}, m_clock);
        QVERIFY(!validated.has_value());
        QCOMPARE(validated.error().code, ErrorCode::KeyNotFound);
    }

    void jwksFetchesAreCoalesced()
    {
        oidc::JwksCache cache(*m_http, jwksUri(), m_clock);
        QList<Result<jose::JwkSet>> answers;
        for (const QString &kid : {currentKid(), QStringLiteral("nobody"), QString()})
            cache.keysFor(kid, [&answers](Result<jose::JwkSet> keys) { answers.append(std::move(keys)); });
        QCOMPARE(cache.fetchCount(), 1);
        QVERIFY(answers.isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(answers.size(), 3, 20000);
        for (const auto &keys : std::as_const(answers)) {
            QVERIFY(keys.has_value());
            QVERIFY(hasKid(*keys, currentKid()));
        }
        QCOMPARE(cache.fetchCount(), 1);
    }

    void jwksRotationFoundThroughOneRefetch()
    {
        oidc::JwksCache cache(*m_http, jwksUri(), m_clock);
        const QString oldKid = currentKid();
        QVERIFY(keysFor(cache, oldKid).value().has_value());
        QCOMPARE(cache.fetchCount(), 1);

        // "hotdesk-stubs idp rotate-key": tokens are signed with a new key from now on.
        const auto rotated = idpService()->keyring().rotate(std::chrono::seconds(600));
        QVERIFY(rotated.has_value());
        QVERIFY(rotated->kid() != oldKid);
        m_clock.advance(31s);

        const auto metadata = discover(m_issuer);
        QVERIFY2(metadata && *metadata, whyNot(metadata));
        const Flow flow = newFlow();
        const auto code = authorize(**metadata, flow);
        QVERIFY2(code && *code, whyNot(code));
        const auto tokens = exchange(**metadata, **code, QString::fromLatin1(flow.pkce.verifier), kRedirect);
        QVERIFY2(tokens && *tokens, whyNot(tokens));
        const auto header = jose::decodeUnverified((*tokens)->idToken);
        QVERIFY(header.has_value());
        QCOMPARE(header->header.kid, rotated->kid());

        const KeysAnswer keys = keysFor(cache, header->header.kid);
        QVERIFY2(keys && *keys, whyNot(keys));
        QCOMPARE(cache.fetchCount(), 2);
        QVERIFY(hasKid(**keys, oldKid)); // still published for the tokens it signed
        const auto idToken = oidc::validateIdToken((*tokens)->idToken, **keys, requirements(flow), m_clock);
        QVERIFY2(idToken.has_value(), qPrintable(idToken ? QString() : idToken.error().message));
        QCOMPARE(idToken->subject, m_sharedId);
    }

    void jwksLifetimeFromHeaders_data()
    {
        QTest::addColumn<QByteArray>("cacheControl");
        QTest::addColumn<QByteArray>("expires");
        QTest::addColumn<QByteArray>("date");
        QTest::addColumn<QByteArray>("age");
        QTest::addColumn<int>("seconds");
        const QByteArray none;
        QTest::newRow("no headers: five minutes") << none << none << none << none << 300;
        QTest::newRow("max-age") << QByteArray("public, max-age=600") << none << none << none << 600;
        QTest::newRow("quoted max-age") << QByteArray("max-age=\"120\"") << none << none << none << 120;
        QTest::newRow("max-age minus Age") << QByteArray("max-age=600") << none << none << QByteArray("100") << 500;
        QTest::newRow("short max-age: a minute") << QByteArray("max-age=5") << none << none << none << 60;
        QTest::newRow("max-age=0: a minute") << QByteArray("max-age=0") << none << none << none << 60;
        QTest::newRow("long max-age: a day") << QByteArray("max-age=999999999") << none << none << none << 86400;
        QTest::newRow("no-store: a minute") << QByteArray("no-store") << none << none << none << 60;
        QTest::newRow("no-cache beats max-age") << QByteArray("max-age=600, no-cache") << none << none << none << 60;
        QTest::newRow("max-age beats Expires")
            << QByteArray("max-age=120") << QByteArray("Thu, 01 Jan 2026 02:00:00 GMT") << none << none << 120;
        QTest::newRow("Expires against Date")
            << none << QByteArray("Thu, 01 Jan 2026 02:00:00 GMT") << QByteArray("Thu, 01 Jan 2026 00:00:00 GMT") << none << 7200;
        QTest::newRow("Expires against our clock") << none << QByteArray("Thu, 01 Jan 2026 01:00:00 GMT") << none << none << 3600;
        QTest::newRow("Expires in the past") << none << QByteArray("Wed, 31 Dec 2025 00:00:00 GMT") << none << none << 60;
        QTest::newRow("invalid Expires") << none << QByteArray("0") << none << none << 60;
        QTest::newRow("bad max-age: default") << QByteArray("max-age=soon") << none << none << none << 300;
    }
    void jwksLifetimeFromHeaders()
    {
        QFETCH(QByteArray, cacheControl);
        QFETCH(QByteArray, expires);
        QFETCH(QByteArray, date);
        QFETCH(QByteArray, age);
        QFETCH(int, seconds);
        net::HttpResponse response;
        response.status = 200;
        for (const auto &[name, value] :
            {std::pair {QByteArray("Cache-Control"), cacheControl}, std::pair {QByteArray("Expires"), expires},
                std::pair {QByteArray("Date"), date}, std::pair {QByteArray("Age"), age}}) {
            if (!value.isEmpty())
                response.headers.append({name, value});
        }
        const FakeClock at(kStart); // 2026-01-01T00:00:00Z
        QCOMPARE(oidc::JwksCache::lifetimeOf(response, at.now()).count(), qint64(seconds));
    }

    void jwksLifetimeComesFromTheAnswer()
    {
        m_keysHeaders = {{"Cache-Control", "public, max-age=600"}};
        oidc::JwksCache cache(*m_http, fakeKeysUri(), m_clock);
        QVERIFY(keysFor(cache, QStringLiteral("other-1")).value().has_value());
        QVERIFY(*cache.expiresAt() - *cache.fetchedAt() == std::chrono::system_clock::duration(600s));
        m_clock.advance(599s);
        QVERIFY(keysFor(cache, QStringLiteral("other-1")).value().has_value());
        QCOMPARE(cache.fetchCount(), 1);
        m_clock.advance(1s);
        QVERIFY(keysFor(cache, QStringLiteral("other-1")).value().has_value());
        QCOMPARE(cache.fetchCount(), 2);
    }

    void jwksFailedRefetchKeepsOldKeysForADay()
    {
        oidc::JwksCache cache(*m_http, fakeKeysUri(), m_clock);
        QVERIFY(keysFor(cache, QStringLiteral("other-1")).value().has_value());
        const auto fetchedAt = *cache.fetchedAt();
        m_keysStatus = QHttpServerResponse::StatusCode::InternalServerError;

        m_clock.advance(61s); // stale
        KeysAnswer keys = keysFor(cache, QStringLiteral("other-1"));
        QVERIFY2(keys && *keys, whyNot(keys));
        QVERIFY(hasKid(**keys, QStringLiteral("other-1")));
        QCOMPARE(cache.fetchCount(), 2);
        QVERIFY(*cache.fetchedAt() == fetchedAt);
        // The failed attempt starts a cooldown too.
        m_clock.advance(10s);
        QVERIFY(keysFor(cache, QStringLiteral("other-1")).value().has_value());
        QCOMPARE(cache.fetchCount(), 2);
        m_clock.advance(21s);
        QVERIFY(keysFor(cache, QStringLiteral("other-1")).value().has_value());
        QCOMPARE(cache.fetchCount(), 3);

        // A day after the last good answer the old keys are no longer trusted.
        m_clock.setSeconds(std::chrono::duration_cast<std::chrono::seconds>(fetchedAt.time_since_epoch()).count() + 24 * 3600);
        keys = keysFor(cache, QStringLiteral("other-1"));
        QVERIFY(keys.has_value());
        QVERIFY2(!*keys, "day-old keys were used after the refetch failed");
        QCOMPARE(keys->error().code, ErrorCode::ServerError);
        QVERIFY(keys->error().message.contains(QLatin1String("500")));
        QCOMPARE(cache.fetchCount(), 4);

        // The IdP answers again: the cache recovers.
        m_keysStatus = QHttpServerResponse::StatusCode::Ok;
        m_clock.advance(31s);
        QVERIFY(keysFor(cache, QStringLiteral("other-1")).value().has_value());
        QCOMPARE(cache.fetchCount(), 5);
    }

    void jwksBadAnswers_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("error");
        QTest::newRow("not JSON") << QByteArray("<html>") << 200 << QStringLiteral("malformed_answer");
        QTest::newRow("no keys array") << QByteArray("{\"keys\":{}}") << 200 << QStringLiteral("malformed_answer");
        QTest::newRow("duplicate member") << QByteArray("{\"keys\":[],\"keys\":[]}") << 200 << QStringLiteral("malformed_answer");
        QTest::newRow("404") << QByteArray("{}") << 404 << QStringLiteral("server_error");
    }
    void jwksBadAnswers()
    {
        QFETCH(QByteArray, body);
        QFETCH(int, status);
        QFETCH(QString, error);
        m_keysBody = body;
        m_keysStatus = QHttpServerResponse::StatusCode(status);
        oidc::JwksCache cache(*m_http, fakeKeysUri(), m_clock);
        const KeysAnswer keys = keysFor(cache, QStringLiteral("other-1"));
        QVERIFY(keys.has_value());
        QVERIFY(!*keys);
        QCOMPARE(keys->error().codeName(), error);
        QVERIFY(!cache.fetchedAt().has_value());
    }

    void jwksUnusableKeysAreSkipped()
    {
        QJsonArray keys {publicHalf(m_otherKey).toPublicJson(),
            QJsonObject {{QStringLiteral("kty"), QStringLiteral("oct")}, {QStringLiteral("kid"), QStringLiteral("hmac")},
                {QStringLiteral("k"), QStringLiteral("c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0")}},
            QJsonObject {{QStringLiteral("kty"), QStringLiteral("XYZ")}, {QStringLiteral("kid"), QStringLiteral("odd")}}};
        m_keysBody = compactJson(QJsonObject {{QStringLiteral("keys"), keys}});
        oidc::JwksCache cache(*m_http, fakeKeysUri(), m_clock);
        const KeysAnswer answer = keysFor(cache, QStringLiteral("other-1"));
        QVERIFY2(answer && *answer, whyNot(answer));
        QCOMPARE((*answer)->keys().size(), 1);
        QCOMPARE((*answer)->skipped().size(), 2);
        QVERIFY(!(*answer)->hasSymmetricKey());
    }

    void jwksCancelledFetchStartsNoCooldown()
    {
        oidc::JwksCache cache(*m_http, jwksUri(), m_clock);
        std::optional<Result<jose::JwkSet>> answer;
        cache.keysFor(currentKid(), [&answer](Result<jose::JwkSet> keys) { answer = std::move(keys); });
        m_http->cancelAll();
        QTRY_VERIFY_WITH_TIMEOUT(answer.has_value(), 20000);
        QVERIFY(!*answer);
        QCOMPARE(answer->error().code, ErrorCode::Cancelled);
        QVERIFY(keysFor(cache, currentKid()).value().has_value());
        QCOMPARE(cache.fetchCount(), 2);
    }

    // Authorization request and response ---------------------------------------

    void authorizationUrl()
    {
        const QUrl endpoint(QStringLiteral("https://idp.example/authorize?tenant=a%20b&client_id=someone&request_uri=x"));
        const QString odd = QStringLiteral("agent+1&x=%");
        const QUrl url = oidc::authorizationUrl(endpoint, odd, "eyJ.eyJ.sig");
        QCOMPARE(url.toString(QUrl::RemoveQuery), QStringLiteral("https://idp.example/authorize"));
        const QUrlQuery query(url);
        QCOMPARE(query.queryItemValue(QStringLiteral("tenant"), QUrl::FullyDecoded), QStringLiteral("a b"));
        QCOMPARE(query.allQueryItemValues(QStringLiteral("client_id"), QUrl::FullyDecoded), QStringList {odd});
        QCOMPARE(query.queryItemValue(QStringLiteral("response_type")), QStringLiteral("code"));
        QCOMPARE(query.queryItemValue(QStringLiteral("scope")), QStringLiteral("openid"));
        QCOMPARE(query.queryItemValue(QStringLiteral("request")), QStringLiteral("eyJ.eyJ.sig"));
        QVERIFY(!query.hasQueryItem(QStringLiteral("request_uri")));
        // What a form decoder on the server sees: the '+' stays a plus.
        QVERIFY(url.query(QUrl::FullyEncoded).contains(QLatin1String("client_id=agent%2B1%26x%3D%25")));
    }

    void matchesRedirectUri_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<QString>("redirect");
        QTest::addColumn<bool>("matches");
        QTest::newRow("same, with a query") << QStringLiteral("http://127.0.0.1:49152/callback?code=1") << kRedirect << true;
        QTest::newRow("other port") << QStringLiteral("http://127.0.0.1:49153/callback") << kRedirect << false;
        QTest::newRow("no port") << QStringLiteral("http://127.0.0.1/callback") << kRedirect << false;
        QTest::newRow("localhost") << QStringLiteral("http://localhost:49152/callback") << kRedirect << false;
        QTest::newRow("other path") << QStringLiteral("http://127.0.0.1:49152/callback/x") << kRedirect << false;
        QTest::newRow("trailing slash") << QStringLiteral("http://127.0.0.1:49152/callback/") << kRedirect << false;
        QTest::newRow("https") << QStringLiteral("https://127.0.0.1:49152/callback") << kRedirect << false;
        QTest::newRow("user info") << QStringLiteral("http://a@127.0.0.1:49152/callback") << kRedirect << false;
        QTest::newRow("private-use scheme") << QStringLiteral("com.hotdesk.agent:/callback?code=1")
                                            << QStringLiteral("com.hotdesk.agent:/callback") << true;
        QTest::newRow("private-use, other path")
            << QStringLiteral("com.hotdesk.agent:/other") << QStringLiteral("com.hotdesk.agent:/callback") << false;
    }
    void matchesRedirectUri()
    {
        QFETCH(QString, url);
        QFETCH(QString, redirect);
        QFETCH(bool, matches);
        QCOMPARE(oidc::matchesRedirectUri(QUrl(url), redirect), matches);
    }

    void codeFromRedirect_data()
    {
        QTest::addColumn<QString>("query"); // after "kRedirect?"
        QTest::addColumn<bool>("issRequired");
        QTest::addColumn<QString>("result"); // the code, or "!error_code"
        QTest::addColumn<QString>("mentions"); // a word the error message must contain
        const QString iss = QStringLiteral("iss=https%3A%2F%2Fidp.example");
        auto q = [](const QStringList &parts) { return parts.join(QLatin1Char('&')); };
        QTest::newRow("code") << q({QStringLiteral("code=abc"), QStringLiteral("state=S1"), iss}) << true << QStringLiteral("abc")
                              << QString();
        QTest::newRow("encoded code") << q({QStringLiteral("code=a%2Fb%2Bc"), QStringLiteral("state=S1"), iss}) << true
                                      << QStringLiteral("a/b+c") << QString();
        QTest::newRow("plus is a space") << q({QStringLiteral("code=a+b"), QStringLiteral("state=S1"), iss}) << true
                                         << QStringLiteral("a b") << QString();
        QTest::newRow("no iss, not required")
            << q({QStringLiteral("code=abc"), QStringLiteral("state=S1")}) << false << QStringLiteral("abc") << QString();
        QTest::newRow("no state") << q({QStringLiteral("code=abc"), iss}) << true << QStringLiteral("!state_mismatch")
                                  << QStringLiteral("state");
        QTest::newRow("empty state") << q({QStringLiteral("code=abc"), QStringLiteral("state="), iss}) << true
                                     << QStringLiteral("!state_mismatch") << QStringLiteral("state");
        QTest::newRow("other state") << q({QStringLiteral("code=abc"), QStringLiteral("state=S2"), iss}) << true
                                     << QStringLiteral("!state_mismatch") << QStringLiteral("state");
        QTest::newRow("state before iss") << q(
            {QStringLiteral("code=abc"), QStringLiteral("state=S2"), QStringLiteral("iss=https%3A%2F%2Fevil.example")})
                                          << true << QStringLiteral("!state_mismatch") << QString();
        QTest::newRow("state before error") << q({QStringLiteral("error=access_denied"), QStringLiteral("state=S2"), iss}) << true
                                            << QStringLiteral("!state_mismatch") << QString();
        QTest::newRow("other iss") << q(
            {QStringLiteral("code=abc"), QStringLiteral("state=S1"), QStringLiteral("iss=https%3A%2F%2Fevil.example")})
                                   << true << QStringLiteral("!issuer_mismatch") << QStringLiteral("evil.example");
        QTest::newRow("other iss, not required")
            << q({QStringLiteral("code=abc"), QStringLiteral("state=S1"), QStringLiteral("iss=https%3A%2F%2Fevil.example")})
            << false << QStringLiteral("!issuer_mismatch") << QStringLiteral("evil.example");
        QTest::newRow("iss with trailing slash")
            << q({QStringLiteral("code=abc"), QStringLiteral("state=S1"), QStringLiteral("iss=https%3A%2F%2Fidp.example%2F")})
            << true << QStringLiteral("!issuer_mismatch") << QString();
        QTest::newRow("no iss, required") << q({QStringLiteral("code=abc"), QStringLiteral("state=S1")}) << true
                                          << QStringLiteral("!issuer_mismatch") << QStringLiteral("did not say who it is");
        QTest::newRow("iss before error") << q({QStringLiteral("error=access_denied"), QStringLiteral("state=S1")}) << true
                                          << QStringLiteral("!issuer_mismatch") << QString();
        QTest::newRow("access_denied") << q({QStringLiteral("error=access_denied"),
            QStringLiteral("error_description=the+user+said+no"), QStringLiteral("state=S1"), iss})
                                       << true << QStringLiteral("!access_denied") << QStringLiteral("the user said no");
        QTest::newRow("login_required") << q({QStringLiteral("error=login_required"),
            QStringLiteral("error_description=too%20slow"), QStringLiteral("state=S1"), iss})
                                        << true << QStringLiteral("!server_error") << QStringLiteral("login_required");
        QTest::newRow("invalid_request_object")
            << q({QStringLiteral("error=invalid_request_object"), QStringLiteral("state=S1"), iss}) << true
            << QStringLiteral("!server_error") << QStringLiteral("invalid_request_object");
        QTest::newRow("error wins over code")
            << q({QStringLiteral("code=abc"), QStringLiteral("error=server_error"), QStringLiteral("state=S1"), iss}) << true
            << QStringLiteral("!server_error") << QStringLiteral("server_error");
        QTest::newRow("control characters in the description")
            << q({QStringLiteral("error=temporarily_unavailable"), QStringLiteral("error_description=a%0D%0Ab%00c"),
                   QStringLiteral("state=S1"), iss})
            << true << QStringLiteral("!server_error") << QStringLiteral("a b c");
        QTest::newRow("no code") << q({QStringLiteral("state=S1"), iss}) << true << QStringLiteral("!malformed_answer")
                                 << QStringLiteral("code");
        QTest::newRow("empty code") << q({QStringLiteral("code="), QStringLiteral("state=S1"), iss}) << true
                                    << QStringLiteral("!malformed_answer") << QStringLiteral("code");
        QTest::newRow("two codes") << q({QStringLiteral("code=abc"), QStringLiteral("code=def"), QStringLiteral("state=S1"), iss})
                                   << true << QStringLiteral("!malformed_answer") << QStringLiteral("\"code\" twice");
        QTest::newRow("two states") << q(
            {QStringLiteral("code=abc"), QStringLiteral("state=S1"), QStringLiteral("state=S2"), iss})
                                    << true << QStringLiteral("!malformed_answer") << QStringLiteral("\"state\" twice");
        QTest::newRow("two iss") << q({QStringLiteral("code=abc"), QStringLiteral("state=S1"), iss, iss}) << true
                                 << QStringLiteral("!malformed_answer") << QStringLiteral("\"iss\" twice");
        QTest::newRow("parameters in the fragment")
            << QString(QStringLiteral("#code=abc&state=S1&") + iss) << true << QStringLiteral("!state_mismatch") << QString();
    }
    void codeFromRedirect()
    {
        QFETCH(QString, query);
        QFETCH(bool, issRequired);
        QFETCH(QString, result);
        QFETCH(QString, mentions);
        const QUrl redirect(
            query.startsWith(QLatin1Char('#')) ? QString(kRedirect + query) : QString(kRedirect + QLatin1Char('?') + query));
        QVERIFY(redirect.isValid());
        oidc::RedirectExpectations expect;
        expect.redirectUri = kRedirect;
        expect.state = QStringLiteral("S1");
        expect.issuer = QStringLiteral("https://idp.example");
        expect.issRequired = issRequired;
        const auto code = oidc::codeFromRedirect(redirect, expect);
        if (!result.startsWith(QLatin1Char('!'))) {
            QVERIFY2(code.has_value(), qPrintable(code ? QString() : code.error().message));
            QCOMPARE(*code, result);
            return;
        }
        QVERIFY2(!code.has_value(), "a bad authorization response was accepted");
        QCOMPARE(code.error().codeName(), result.mid(1));
        QVERIFY2(code.error().message.contains(mentions), qPrintable(code.error().message));
    }

    void redirectToAnotherAddressIsRefused()
    {
        oidc::RedirectExpectations expect {kRedirect, QStringLiteral("S1"), QStringLiteral("https://idp.example"), false};
        const auto code
            = oidc::codeFromRedirect(QUrl(QStringLiteral("http://127.0.0.1:49153/callback?code=abc&state=S1")), expect);
        QVERIFY(!code.has_value());
        QCOMPARE(code.error().code, ErrorCode::MalformedAnswer);
    }

    // Code exchange ----------------------------------------------------------------

    void wholeFlowGivesAValidIdToken()
    {
        const auto metadata = discover(m_issuer);
        QVERIFY2(metadata && *metadata, whyNot(metadata));
        const Flow flow = newFlow();
        const auto code = authorize(**metadata, flow);
        QVERIFY2(code && *code, whyNot(code));
        const auto tokens = exchange(**metadata, **code, QString::fromLatin1(flow.pkce.verifier), kRedirect);
        QVERIFY2(tokens && *tokens, whyNot(tokens));
        QCOMPARE((*tokens)->tokenType, QStringLiteral("Bearer"));
        QCOMPARE((*tokens)->expiresIn, qint64(600));
        QVERIFY(!(*tokens)->accessToken.isEmpty());

        oidc::JwksCache cache(*m_http, (*metadata)->jwksUri, m_clock);
        const auto header = jose::decodeUnverified((*tokens)->idToken);
        QVERIFY(header.has_value());
        const KeysAnswer keys = keysFor(cache, header->header.kid);
        QVERIFY2(keys && *keys, whyNot(keys));
        const auto idToken = oidc::validateIdToken((*tokens)->idToken, **keys, requirements(flow), m_clock);
        QVERIFY2(idToken.has_value(),
            qPrintable(idToken ? QString() : idToken.error().codeName() + QLatin1Char(' ') + idToken.error().message));
        QCOMPARE(idToken->subject, m_sharedId);
    }

    void tokenEndpointRefusals_data()
    {
        QTest::addColumn<QString>("what");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("reused code") << QStringLiteral("reuse") << QStringLiteral("invalid_grant");
        QTest::newRow("wrong verifier") << QStringLiteral("verifier") << QStringLiteral("invalid_grant");
        QTest::newRow("wrong redirect_uri") << QStringLiteral("redirect") << QStringLiteral("invalid_grant");
        QTest::newRow("unknown code") << QStringLiteral("code") << QStringLiteral("invalid_grant");
        QTest::newRow("unknown client (401)") << QStringLiteral("client") << QStringLiteral("invalid_client");
    }
    void tokenEndpointRefusals()
    {
        QFETCH(QString, what);
        QFETCH(QString, mentions);
        const auto metadata = discover(m_issuer);
        QVERIFY2(metadata && *metadata, whyNot(metadata));
        const Flow flow = newFlow();
        const auto code = authorize(**metadata, flow);
        QVERIFY2(code && *code, whyNot(code));
        oidc::CodeExchange request {**code, QString::fromLatin1(flow.pkce.verifier), kRedirect, kClientId};
        if (what == QLatin1String("reuse")) {
            const auto first = exchange(**metadata, request);
            QVERIFY2(first && *first, whyNot(first));
        } else if (what == QLatin1String("verifier")) {
            request.codeVerifier = QString(43, QLatin1Char('x'));
        } else if (what == QLatin1String("redirect")) {
            request.redirectUri = QStringLiteral("http://127.0.0.1:49153/callback");
        } else if (what == QLatin1String("code")) {
            request.code = QStringLiteral("not-a-code");
        } else {
            request.clientId = QStringLiteral("someone-else");
        }
        const auto tokens = exchange(**metadata, request);
        QVERIFY(tokens.has_value());
        QVERIFY2(!*tokens, "a refused exchange gave tokens");
        QCOMPARE(tokens->error().code, ErrorCode::ServerError);
        QVERIFY2(tokens->error().message.contains(mentions), qPrintable(tokens->error().message));
    }

    void tokenAnswerRules_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("error"); // "" when accepted
        QTest::newRow("complete")
            << 200 << QByteArray("{\"id_token\":\"a.b.c\",\"access_token\":\"t\",\"token_type\":\"Bearer\",\"expires_in\":300}")
            << QString();
        QTest::newRow("bearer in lower case")
            << 200 << QByteArray("{\"id_token\":\"a.b.c\",\"access_token\":\"t\",\"token_type\":\"bearer\"}") << QString();
        QTest::newRow("no id_token") << 200 << QByteArray("{\"access_token\":\"t\",\"token_type\":\"Bearer\"}")
                                     << QStringLiteral("malformed_answer");
        QTest::newRow("id_token not a string")
            << 200 << QByteArray("{\"id_token\":1,\"access_token\":\"t\",\"token_type\":\"Bearer\"}")
            << QStringLiteral("malformed_answer");
        QTest::newRow("no access_token") << 200 << QByteArray("{\"id_token\":\"a.b.c\",\"token_type\":\"Bearer\"}")
                                         << QStringLiteral("malformed_answer");
        QTest::newRow("no token_type") << 200 << QByteArray("{\"id_token\":\"a.b.c\",\"access_token\":\"t\"}")
                                       << QStringLiteral("malformed_answer");
        QTest::newRow("DPoP token") << 200
                                    << QByteArray("{\"id_token\":\"a.b.c\",\"access_token\":\"t\",\"token_type\":\"DPoP\"}")
                                    << QStringLiteral("malformed_answer");
        QTest::newRow("not JSON") << 200 << QByteArray("<html>") << QStringLiteral("malformed_answer");
        QTest::newRow("duplicate id_token")
            << 200 << QByteArray("{\"id_token\":\"a\",\"id_token\":\"b\",\"access_token\":\"t\",\"token_type\":\"Bearer\"}")
            << QStringLiteral("malformed_answer");
        QTest::newRow("OAuth error") << 400 << QByteArray("{\"error\":\"invalid_grant\",\"error_description\":\"code expired\"}")
                                     << QStringLiteral("server_error");
        QTest::newRow("400 without JSON") << 400 << QByteArray("bad") << QStringLiteral("server_error");
        QTest::newRow("503") << 503 << QByteArray() << QStringLiteral("server_error");
        QTest::newRow("redirect") << 302 << QByteArray() << QStringLiteral("server_error");
    }
    void tokenAnswerRules()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(QString, error);
        net::HttpResponse response;
        response.url = QUrl(QStringLiteral("https://idp.example/token"));
        response.status = status;
        response.body = body;
        response.headers = {{"Content-Type", "application/json"}};
        const auto tokens = oidc::parseTokenResponse(response);
        if (error.isEmpty()) {
            QVERIFY2(tokens.has_value(), qPrintable(tokens ? QString() : tokens.error().message));
            QCOMPARE(tokens->idToken, QByteArray("a.b.c"));
            QCOMPARE(tokens->accessToken, QByteArray("t"));
        } else {
            QVERIFY(!tokens.has_value());
            QCOMPARE(tokens.error().codeName(), error);
            QVERIFY(tokens.error().message.contains(QLatin1String("https://idp.example/token")));
        }
    }

    // Runs last: each row restarts the servers with one fault switched on (docs/faults.md).
    void faults_data()
    {
        QTest::addColumn<QString>("fault");
        QTest::addColumn<QString>("error");
        QTest::newRow("garbage") << QStringLiteral("garbage") << QStringLiteral("malformed_answer");
        QTest::newRow("500") << QStringLiteral("500") << QStringLiteral("server_error");
        QTest::newRow("slow=2 with a 300 ms response timeout") << QStringLiteral("slow=2") << QStringLiteral("timeout");
    }
    void faults()
    {
        QFETCH(QString, fault);
        QFETCH(QString, error);
        setUp({fault});
        if (QTest::currentTestFailed())
            return;
        m_http->setTimeouts(net::Timeouts {10000ms, 300ms});
        const auto metadata = discover(m_issuer);
        QVERIFY(metadata.has_value());
        QVERIFY2(!*metadata, "discovery ignored the fault");
        QCOMPARE(metadata->error().codeName(), error);

        // The token endpoint has the same faults; any code will do, the fault answers first.
        oidc::ProviderMetadata m;
        m.tokenEndpoint = QUrl(m_issuer + QStringLiteral("/token"));
        const auto tokens = exchange(m, {QStringLiteral("some-code"), QString(43, QLatin1Char('v')), kRedirect, kClientId});
        QVERIFY(tokens.has_value());
        QVERIFY2(!*tokens, "the code exchange ignored the fault");
        QCOMPARE(tokens->error().codeName(), error);
    }

    void cleanupTestCase()
    {
        m_http.reset();
        m_browser.reset();
        m_server.reset();
        m_fakeDas.reset();
    }

private:
    std::optional<Result<oidc::ProviderMetadata>> discover(const QString &issuer)
    {
        return waitFor<oidc::ProviderMetadata>([&](auto done) { oidc::fetchProviderMetadata(*m_http, issuer, std::move(done)); });
    }

    KeysAnswer keysFor(oidc::JwksCache &cache, const QString &kid)
    {
        return waitFor<jose::JwkSet>([&](auto done) { cache.keysFor(kid, std::move(done)); });
    }

    std::optional<Result<oidc::TokenResponse>> exchange(const oidc::ProviderMetadata &metadata, const oidc::CodeExchange &request)
    {
        return waitFor<oidc::TokenResponse>(
            [&](auto done) { oidc::exchangeCode(*m_http, metadata.tokenEndpoint, request, std::move(done)); });
    }
    std::optional<Result<oidc::TokenResponse>> exchange(
        const oidc::ProviderMetadata &metadata, const QString &code, const QString &verifier, const QString &redirect)
    {
        return exchange(metadata, oidc::CodeExchange {code, verifier, redirect, kClientId});
    }

    QUrl jwksUri() const { return QUrl(m_issuer + QStringLiteral("/jwks")); }
    QUrl fakeKeysUri() const { return m_fakeDas->baseUrl().resolved(QUrl(QStringLiteral("/idp-keys"))); }

    QString currentKid()
    {
        auto key = idpService()->keyring().currentKey();
        return key ? key->kid() : QString();
    }

    Flow newFlow()
    {
        OpenSslRandom random;
        Flow flow;
        flow.state = QString::fromLatin1(*randomUrlSafeString(random, 16));
        flow.nonce = QString::fromLatin1(*randomUrlSafeString(random, 16));
        flow.pkce = *oidc::generatePkce(random);
        const double now = double(m_clock.secondsSinceEpoch());
        const QJsonObject claims {
            {QStringLiteral("iss"), kClientId},
            {QStringLiteral("aud"), m_issuer},
            {QStringLiteral("client_id"), kClientId},
            {QStringLiteral("response_type"), QStringLiteral("code")},
            {QStringLiteral("redirect_uri"), kRedirect},
            {QStringLiteral("scope"), QStringLiteral("openid")},
            {QStringLiteral("state"), flow.state},
            {QStringLiteral("nonce"), flow.nonce},
            {QStringLiteral("code_challenge"), QString::fromLatin1(flow.pkce.challenge)},
            {QStringLiteral("code_challenge_method"), QStringLiteral("S256")},
            {QStringLiteral("prompt"), QStringLiteral("login")},
            {QStringLiteral("jti"), QString::fromLatin1(*randomUrlSafeString(random, 16))},
            {QStringLiteral("iat"), now},
            {QStringLiteral("nbf"), now},
            {QStringLiteral("exp"), now + 120},
            {QStringLiteral("claims"),
                QJsonObject {{QStringLiteral("id_token"),
                    QJsonObject {{QStringLiteral("sub"),
                        QJsonObject {{QStringLiteral("value"), m_sharedId}, {QStringLiteral("essential"), true}}}}}}},
        };
        flow.requestObject = *jose::signCompact(
            compactJson(claims), m_dasKey, Algorithm::ES256, {{QStringLiteral("typ"), QStringLiteral("oauth-authz-req+jwt")}});
        return flow;
    }

    // What the embedded browser does: open the authorization URL, follow the
    // IdP's waiting page until it redirects to us, then the agent's checks.
    std::optional<Result<QString>> authorize(const oidc::ProviderMetadata &metadata, const Flow &flow)
    {
        const QUrl url = oidc::authorizationUrl(metadata.authorizationEndpoint, kClientId, flow.requestObject);
        const HttpResult page = m_browser->get(url);
        static const QRegularExpression tx(QStringLiteral("/authorize/wait\\?tx=([A-Za-z0-9_-]+)"));
        const auto match = tx.match(QString::fromUtf8(page.body));
        if (page.status != 200 || !match.hasMatch()) {
            qWarning("authorize answered %d: %s", page.status, page.body.left(300).constData());
            return std::nullopt;
        }
        const QUrl wait
            = metadata.authorizationEndpoint.resolved(QUrl(QStringLiteral("/authorize/wait?tx=") + match.captured(1)));
        for (int attempt = 0; attempt < 200; ++attempt) {
            const HttpResult r = m_browser->get(wait);
            if (r.status == 302) {
                oidc::RedirectExpectations expect;
                expect.redirectUri = kRedirect;
                expect.state = flow.state;
                expect.issuer = metadata.issuer;
                expect.issRequired = metadata.issParameterSupported;
                return oidc::codeFromRedirect(QUrl(QString::fromUtf8(r.header("Location"))), expect);
            }
            if (r.status != 200)
                break;
            QTest::qWait(50); // the simulated phone approves on the next turn of the event loop
        }
        qWarning("the IdP never finished the sign-in");
        return std::nullopt;
    }

    oidc::IdTokenRequirements requirements(const Flow &flow) const
    {
        oidc::IdTokenRequirements req;
        req.issuer = m_issuer;
        req.clientId = kClientId;
        req.nonce = flow.nonce;
        req.subject = m_sharedId;
        return req;
    }

    stubs::idp::IdpService *idpService() const { return m_server->find<stubs::idp::IdpService>(); }

    std::unique_ptr<QTemporaryDir> m_dir;
    FakeClock m_clock;
    std::unique_ptr<stubs::ServiceHost> m_server;
    std::unique_ptr<stubs::HttpService> m_fakeDas;
    std::unique_ptr<net::HttpClient> m_http;
    std::unique_ptr<HttpsClient> m_browser;
    QString m_issuer;
    QString m_sharedId;
    jose::Jwk m_dasKey;
    jose::Jwk m_otherKey;
    QByteArray m_keysBody;
    QHttpServerResponse::StatusCode m_keysStatus = QHttpServerResponse::StatusCode::Ok;
    QList<std::pair<QByteArray, QByteArray>> m_keysHeaders;
};

QTEST_GUILESS_MAIN(TestOidcClient)
#include "tst_oidcclient.moc"

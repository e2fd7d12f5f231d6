// The identity provider over TLS: JAR-only authorization, push approval, codes, tokens, SCIM.
#include "app/stubs/common/clienttokens.h"
#include "app/stubs/idp/idpservice.h"
#include "app/stubs/push/pushservice.h"
#include "core/jose/base64url.h"
#include "core/oidc/idtokenvalidator.h"
#include "core/oidc/pkce.h"
#include "fakeclock.h"
#include "httpsclient.h"
#include "rolehost.h"
#include "tokenfactory.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSslSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QUrlQuery>

using namespace hotdesk;
using namespace hotdesk::test;
using jose::Algorithm;

namespace {

constexpr qint64 kStart = 1'767'225'600;
const QString kRedirect = QStringLiteral("http://127.0.0.1:49152/callback");

struct Flow {
    QString state;
    QString nonce;
    oidc::PkcePair pkce;
    QByteArray requestObject;
};

// What the test learns from the waiting page.
struct Waiting {
    int number = 0;
    QString tx;
};

} // namespace

class TestIdp : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        setUp({});
    }

    void setUp(const QStringList &faults)
    {
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
        auto server = startRoles<stubs::idp::IdpService, stubs::push::PushService>(options);
        QVERIFY2(server.has_value(), qPrintable(server ? QString() : server.error().message));
        m_server = std::move(*server);

        // The client's key set is the DAS's /jwks; a stand-in DAS publishes the test's key.
        m_dasKey = generatedKey(Algorithm::ES256, QStringLiteral("das-1"));
        auto ca = stubs::LocalCa::loadOrCreate(m_dir->path());
        QVERIFY(ca.has_value());
        m_fakeDas = std::make_unique<stubs::HttpService>(QStringLiteral("das"));
        const QByteArray jwks = compactJson(jose::JwkSet({publicHalf(m_dasKey)}).toPublicJson());
        m_fakeDas->server().route(QStringLiteral("/jwks"), QHttpServerRequest::Method::Get, [jwks] {
            return QHttpServerResponse("application/jwk-set+json", jwks);
        });
        QVERIFY(m_fakeDas->listen(*ca).has_value());
        m_server->context().endpoints.das = m_fakeDas->baseUrl();

        m_http = std::make_unique<HttpsClient>(m_server->caFile());
        m_idp = m_server->endpoints().idp;

        // A user provisioned over SCIM, with a phone.
        auto scimToken = stubs::readScimClientToken(m_dir->path());
        QVERIFY(scimToken.has_value());
        m_scimToken = *scimToken;
        const HttpResult created = scim("POST", QUrl(QStringLiteral("/scim/v2/Users")),
                                        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"Alice@Corp\",\"externalId\":\"S-1-5-21-1\"}");
        QCOMPARE(created.status, 201);
        m_sharedId = QJsonDocument::fromJson(created.body).object().value(QLatin1String("id")).toString();
        QVERIFY(QRegularExpression(QStringLiteral("^[0-9a-f]{32}$")).match(m_sharedId).hasMatch());
        m_phone = generatedKey(Algorithm::ES256, QStringLiteral("phone"));
        const HttpResult enrolled = m_http->post(m_server->endpoints().push.resolved(QUrl(QStringLiteral("/v1/enroll"))),
                                                 compactJson(QJsonObject{{QStringLiteral("user"), QStringLiteral("alice@corp")},
                                                                         {QStringLiteral("public_key"), publicHalf(m_phone).toPublicJson()}}));
        QCOMPARE(enrolled.status, 201);
    }

    void scimRules()
    {
        // Same userName, any case: conflict; lookups by filter and by id; no token, no access.
        HttpResult r = scim("POST", QUrl(QStringLiteral("/scim/v2/Users")), "{\"userName\":\"ALICE@corp\"}");
        QCOMPARE(r.status, 409);
        r = scim("GET", QUrl(QStringLiteral("/scim/v2/Users?filter=") + QString::fromLatin1(QUrl::toPercentEncoding(QStringLiteral("userName eq \"alice@corp\"")))), {});
        QCOMPARE(r.status, 200);
        QCOMPARE(QJsonDocument::fromJson(r.body).object().value(QLatin1String("Resources")).toArray().first().toObject().value(QLatin1String("id")).toString(), m_sharedId);
        r = scim("GET", QUrl(QStringLiteral("/scim/v2/Users/") + m_sharedId), {});
        QCOMPARE(r.status, 200);
        r = m_http->post(m_idp.resolved(QUrl(QStringLiteral("/scim/v2/Users"))), "{\"userName\":\"mallory\"}");
        QCOMPARE(r.status, 401);
        QCOMPARE(r.contentType, QByteArray("application/problem+json"));
        r = scim("POST", QUrl(QStringLiteral("/scim/v2/Users")), "{\"userName\":");
        QCOMPARE(r.status, 400);
        r = scim("POST", QUrl(QStringLiteral("/scim/v2/Users")), "{\"userName\":\"" + QByteArray(70000, 'a') + "\"}");
        QCOMPARE(r.status, 413);
    }

    void approvedFlowGivesAValidIdToken()
    {
        const Flow flow = newFlow();
        const auto waiting = startAuthorization(flow.requestObject);
        QVERIFY(waiting.has_value());
        QVERIFY(waiting->number >= 10 && waiting->number <= 99);
        QVERIFY(answerOnPhone(QStringLiteral("approve"), waiting->number));
        const QUrlQuery back = finishAuthorization(waiting->tx);
        QCOMPARE(back.queryItemValue(QStringLiteral("state")), flow.state);
        QCOMPARE(back.queryItemValue(QStringLiteral("iss")), idpService()->issuer());
        const QString code = back.queryItemValue(QStringLiteral("code"));
        QVERIFY(!code.isEmpty());

        const HttpResult tokens = tokenRequest(code, QString::fromLatin1(flow.pkce.verifier), kRedirect);
        QCOMPARE(tokens.status, 200);
        const QJsonObject body = QJsonDocument::fromJson(tokens.body).object();
        const QByteArray idToken = body.value(QLatin1String("id_token")).toString().toLatin1();
        auto claims = validate(idToken, flow.nonce);
        QVERIFY2(claims.has_value(), qPrintable(claims ? QString() : claims.error().codeName() + QLatin1Char(' ') + claims.error().message));
        QVERIFY(claims->claims().value(QLatin1String("amr")).toArray().contains(QStringLiteral("mfa")));
        QVERIFY(claims->authTime.has_value());

        // The access token opens /userinfo.
        const HttpResult info = m_http->send(m_idp.resolved(QUrl(QStringLiteral("/userinfo"))), "GET", {}, {},
                                             {{"Authorization", "Bearer " + body.value(QLatin1String("access_token")).toString().toLatin1()}});
        QCOMPARE(info.status, 200);
        QCOMPARE(QJsonDocument::fromJson(info.body).object().value(QLatin1String("sub")).toString(), m_sharedId);

        // The code is single use.
        const HttpResult again = tokenRequest(code, QString::fromLatin1(flow.pkce.verifier), kRedirect);
        QCOMPARE(again.status, 400);
        QCOMPARE(QJsonDocument::fromJson(again.body).object().value(QLatin1String("error")).toString(), QStringLiteral("invalid_grant"));
    }

    void replayedRequestObjectIsRefused()
    {
        const Flow flow = newFlow();
        QVERIFY(startAuthorization(flow.requestObject).has_value());
        const HttpResult second = authorizeRaw(flow.requestObject);
        QCOMPARE(second.status, 302);
        const QUrlQuery back(QUrl(QString::fromUtf8(second.header("Location"))));
        QCOMPARE(back.queryItemValue(QStringLiteral("error")), QStringLiteral("invalid_request_object"));
        QCOMPARE(back.queryItemValue(QStringLiteral("state")), flow.state);
    }

    void deniedOnThePhone()
    {
        const Flow flow = newFlow();
        const auto waiting = startAuthorization(flow.requestObject);
        QVERIFY(waiting.has_value());
        QVERIFY(answerOnPhone(QStringLiteral("deny"), 0));
        const QUrlQuery back = finishAuthorization(waiting->tx);
        QCOMPARE(back.queryItemValue(QStringLiteral("error")), QStringLiteral("access_denied"));
        QVERIFY(!back.hasQueryItem(QStringLiteral("code")));
    }

    void phoneTimeout()
    {
        const Flow flow = newFlow();
        const auto waiting = startAuthorization(flow.requestObject);
        QVERIFY(waiting.has_value());
        m_clock.advance(std::chrono::seconds(61));
        const QUrlQuery back = finishAuthorization(waiting->tx);
        QCOMPARE(back.queryItemValue(QStringLiteral("error")), QStringLiteral("login_required"));
    }

    void cancelOnThePage()
    {
        const Flow flow = newFlow();
        const auto waiting = startAuthorization(flow.requestObject);
        QVERIFY(waiting.has_value());
        const HttpResult r = m_http->get(m_idp.resolved(QUrl(QStringLiteral("/authorize/cancel?tx=") + waiting->tx)));
        QCOMPARE(r.status, 302);
        QCOMPARE(QUrlQuery(QUrl(QString::fromUtf8(r.header("Location")))).queryItemValue(QStringLiteral("error")), QStringLiteral("access_denied"));
    }

    void tokenEndpointRefusals_data()
    {
        QTest::addColumn<QString>("what");
        QTest::newRow("wrong verifier") << QStringLiteral("verifier");
        QTest::newRow("wrong redirect_uri") << QStringLiteral("redirect");
        QTest::newRow("expired code") << QStringLiteral("expired");
    }
    void tokenEndpointRefusals()
    {
        QFETCH(QString, what);
        const Flow flow = newFlow();
        const auto waiting = startAuthorization(flow.requestObject);
        QVERIFY(waiting.has_value());
        QVERIFY(answerOnPhone(QStringLiteral("approve"), waiting->number));
        const QString code = finishAuthorization(waiting->tx).queryItemValue(QStringLiteral("code"));
        QVERIFY(!code.isEmpty());
        QString verifier = QString::fromLatin1(flow.pkce.verifier);
        QString redirect = kRedirect;
        if (what == QLatin1String("verifier"))
            verifier = QString(43, QLatin1Char('x'));
        else if (what == QLatin1String("redirect"))
            redirect = QStringLiteral("http://127.0.0.1:49153/callback");
        else
            m_clock.advance(std::chrono::seconds(61));
        const HttpResult r = tokenRequest(code, verifier, redirect);
        QCOMPARE(r.status, 400);
        QCOMPARE(QJsonDocument::fromJson(r.body).object().value(QLatin1String("error")).toString(), QStringLiteral("invalid_grant"));
        // And the code is gone even for the right verifier afterwards.
        QCOMPARE(tokenRequest(code, QString::fromLatin1(flow.pkce.verifier), kRedirect).status, 400);
    }

    void badRequestObjects_data()
    {
        QTest::addColumn<QString>("change");
        QTest::addColumn<int>("status"); // 400 error page, or 302 back to the client
        QTest::addColumn<QString>("error");
        QTest::newRow("expired") << QStringLiteral("expired") << 400 << QString();
        QTest::newRow("lifetime over 120 s") << QStringLiteral("long") << 400 << QString();
        QTest::newRow("wrong aud") << QStringLiteral("aud") << 400 << QString();
        QTest::newRow("wrong iss") << QStringLiteral("iss") << 400 << QString();
        QTest::newRow("signed by another key") << QStringLiteral("key") << 400 << QString();
        QTest::newRow("unregistered redirect") << QStringLiteral("redirect") << 400 << QString();
        QTest::newRow("no PKCE") << QStringLiteral("pkce") << 302 << QStringLiteral("invalid_request");
        QTest::newRow("plain PKCE") << QStringLiteral("plain") << 302 << QStringLiteral("invalid_request");
        QTest::newRow("no nonce") << QStringLiteral("nonce") << 302 << QStringLiteral("invalid_request");
        QTest::newRow("unknown user") << QStringLiteral("user") << 302 << QStringLiteral("access_denied");
        QTest::newRow("token response type") << QStringLiteral("response_type") << 302 << QStringLiteral("unsupported_response_type");
    }
    void badRequestObjects()
    {
        QFETCH(QString, change);
        QFETCH(int, status);
        QFETCH(QString, error);
        QJsonObject claims = requestClaims(newFlow());
        jose::Jwk key = m_dasKey;
        const double now = double(m_clock.secondsSinceEpoch());
        if (change == QLatin1String("expired")) {
            claims.insert(QStringLiteral("iat"), now - 200);
            claims.insert(QStringLiteral("exp"), now - 80);
        } else if (change == QLatin1String("long")) {
            claims.insert(QStringLiteral("exp"), now + 600);
        } else if (change == QLatin1String("aud")) {
            claims.insert(QStringLiteral("aud"), QStringLiteral("https://other-idp.example"));
        } else if (change == QLatin1String("iss")) {
            claims.insert(QStringLiteral("iss"), QStringLiteral("someone-else"));
        } else if (change == QLatin1String("key")) {
            key = generatedKey(Algorithm::ES256, QStringLiteral("das-1"));
        } else if (change == QLatin1String("redirect")) {
            claims.insert(QStringLiteral("redirect_uri"), QStringLiteral("https://attacker.example/callback"));
        } else if (change == QLatin1String("pkce")) {
            claims.remove(QStringLiteral("code_challenge"));
        } else if (change == QLatin1String("plain")) {
            claims.insert(QStringLiteral("code_challenge_method"), QStringLiteral("plain"));
        } else if (change == QLatin1String("nonce")) {
            claims.remove(QStringLiteral("nonce"));
        } else if (change == QLatin1String("user")) {
            claims.insert(QStringLiteral("claims"), QJsonObject{{QStringLiteral("id_token"), QJsonObject{{QStringLiteral("sub"), QJsonObject{{QStringLiteral("value"), QStringLiteral("0000")}, {QStringLiteral("essential"), true}}}}}});
        } else if (change == QLatin1String("response_type")) {
            claims.insert(QStringLiteral("response_type"), QStringLiteral("token"));
        }
        const QByteArray jar = *jose::signCompact(compactJson(claims), key, Algorithm::ES256, {{QStringLiteral("typ"), QStringLiteral("oauth-authz-req+jwt")}});
        const HttpResult r = authorizeRaw(jar);
        QCOMPARE(r.status, status);
        if (status == 302) {
            const QUrlQuery back(QUrl(QString::fromUtf8(r.header("Location"))));
            QCOMPARE(back.queryItemValue(QStringLiteral("error")), error);
            QCOMPARE(back.queryItemValue(QStringLiteral("iss")), idpService()->issuer());
        } else {
            QVERIFY(r.contentType.startsWith("text/html"));
            QVERIFY(r.body.contains("role=\"alert\""));
        }
    }

    void plainAuthorizationRequestsAreRefused()
    {
        const HttpResult r = m_http->get(m_idp.resolved(QUrl(QStringLiteral("/authorize?client_id=hotdesk-agent&response_type=code&redirect_uri=") + kRedirect)));
        QCOMPARE(r.status, 400);
        QVERIFY(r.body.contains("signed request objects"));
    }

    void rotationKeepsIssuedTokensValid()
    {
        const Flow flow = newFlow();
        const auto waiting = startAuthorization(flow.requestObject);
        QVERIFY(waiting.has_value());
        QVERIFY(answerOnPhone(QStringLiteral("approve"), waiting->number));
        const QString code = finishAuthorization(waiting->tx).queryItemValue(QStringLiteral("code"));
        const QByteArray idToken = QJsonDocument::fromJson(tokenRequest(code, QString::fromLatin1(flow.pkce.verifier), kRedirect).body)
                                       .object().value(QLatin1String("id_token")).toString().toLatin1();
        QVERIFY(idpService()->keyring().rotate(std::chrono::seconds(600)).has_value());
        QVERIFY(validate(idToken, flow.nonce).has_value());
        m_clock.advance(std::chrono::seconds(601));
        // After the old key's publication ends, its tokens (expired by now too) no longer verify.
        auto late = validate(idToken, flow.nonce);
        QVERIFY(!late.has_value());
    }

    // Runs last: each row restarts the servers with one fault switched on.
    void faults_data()
    {
        QTest::addColumn<QString>("fault");
        QTest::addColumn<QString>("expected"); // a rejection code, or "http-500", "not-json"
        QTest::newRow("wrong-key") << QStringLiteral("wrong-key") << QStringLiteral("bad_signature");
        QTest::newRow("wrong-iss") << QStringLiteral("wrong-iss") << QStringLiteral("issuer_mismatch");
        QTest::newRow("wrong-aud") << QStringLiteral("wrong-aud") << QStringLiteral("audience_mismatch");
        QTest::newRow("expired") << QStringLiteral("expired") << QStringLiteral("expired");
        QTest::newRow("wrong-nonce") << QStringLiteral("wrong-nonce") << QStringLiteral("nonce_mismatch");
        QTest::newRow("no-nonce") << QStringLiteral("no-nonce") << QStringLiteral("nonce_missing");
        QTest::newRow("500") << QStringLiteral("500") << QStringLiteral("http-500");
        QTest::newRow("garbage") << QStringLiteral("garbage") << QStringLiteral("not-json");
        QTest::newRow("slow (answers late, still correct)") << QStringLiteral("slow=0.2") << QStringLiteral("valid");
    }
    void faults()
    {
        QFETCH(QString, fault);
        QFETCH(QString, expected);
        setUp({fault});
        if (QTest::currentTestFailed())
            return;
        const Flow flow = newFlow();
        const auto waiting = startAuthorization(flow.requestObject);
        QVERIFY(waiting.has_value());
        QVERIFY(answerOnPhone(QStringLiteral("approve"), waiting->number));
        const QString code = finishAuthorization(waiting->tx).queryItemValue(QStringLiteral("code"));
        QVERIFY(!code.isEmpty());
        const HttpResult tokens = tokenRequest(code, QString::fromLatin1(flow.pkce.verifier), kRedirect);
        if (expected == QLatin1String("http-500")) {
            QCOMPARE(tokens.status, 500);
            return;
        }
        QCOMPARE(tokens.status, 200);
        QJsonParseError parseError{};
        const QJsonObject body = QJsonDocument::fromJson(tokens.body, &parseError).object();
        if (expected == QLatin1String("not-json")) {
            QVERIFY(parseError.error != QJsonParseError::NoError);
            return;
        }
        auto claims = validate(body.value(QLatin1String("id_token")).toString().toLatin1(), flow.nonce);
        if (expected == QLatin1String("valid")) {
            QVERIFY(claims.has_value());
            return;
        }
        QVERIFY2(!claims.has_value(), "a faulty ID token was accepted");
        QCOMPARE(claims.error().codeName(), expected);
    }

    // A client that hangs up before a late answer (slow=0.3): the answer is dropped and the servers go on. Qt 6.4's
    // responder wrote through the deleted socket, which crashed the servers whenever a page or an agent moved on.
    void aClientThatHangsUpBeforeALateAnswerLeavesTheServerRunning()
    {
        setUp({QStringLiteral("slow=0.3")});
        if (QTest::currentTestFailed())
            return;
        QSslSocket client;
        QSslConfiguration ssl = client.sslConfiguration();
        ssl.setPeerVerifyMode(QSslSocket::VerifyNone);
        client.setSslConfiguration(ssl);
        client.connectToHostEncrypted(m_idp.host(), quint16(m_idp.port()));
        QTRY_VERIFY_WITH_TIMEOUT(client.isEncrypted(), 10000);
        client.write("GET /.well-known/openid-configuration HTTP/1.1\r\nHost: " + m_idp.host().toLatin1() + "\r\n\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(client.bytesToWrite() == 0 && client.encryptedBytesToWrite() == 0, 10000);
        QTest::qWait(100); // the server reads the request and holds its answer
        client.abort();
        QTest::qWait(600); // the late answer falls due
        const HttpResult after = m_http->get(m_idp.resolved(QUrl(QStringLiteral("/.well-known/openid-configuration"))));
        QCOMPARE(after.status, 200);
    }

private:
    HttpResult scim(const QByteArray &verb, const QUrl &path, const QByteArray &body)
    {
        return m_http->send(m_idp.resolved(path), verb, body, body.isEmpty() ? QByteArray() : QByteArray("application/scim+json"),
                            {{"Authorization", "Bearer " + m_scimToken}});
    }

    Flow newFlow()
    {
        OpenSslRandom random;
        Flow flow;
        flow.state = QString::fromLatin1(*randomUrlSafeString(random, 16));
        flow.nonce = QString::fromLatin1(*randomUrlSafeString(random, 16));
        flow.pkce = *oidc::generatePkce(random);
        flow.requestObject = *jose::signCompact(compactJson(requestClaims(flow)), m_dasKey, Algorithm::ES256,
                                                {{QStringLiteral("typ"), QStringLiteral("oauth-authz-req+jwt")}});
        return flow;
    }

    QJsonObject requestClaims(const Flow &flow)
    {
        OpenSslRandom random;
        const double now = double(m_clock.secondsSinceEpoch());
        return QJsonObject {
            {QStringLiteral("iss"), QStringLiteral("hotdesk-agent")},
            {QStringLiteral("aud"), idpService()->issuer()},
            {QStringLiteral("client_id"), QStringLiteral("hotdesk-agent")},
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
    }

    HttpResult authorizeRaw(const QByteArray &requestObject)
    {
        QUrl url = m_idp.resolved(QUrl(QStringLiteral("/authorize")));
        QUrlQuery q;
        q.addQueryItem(QStringLiteral("client_id"), QStringLiteral("hotdesk-agent"));
        q.addQueryItem(QStringLiteral("request"), QString::fromLatin1(requestObject));
        url.setQuery(q);
        return m_http->get(url);
    }

    std::optional<Waiting> startAuthorization(const QByteArray &requestObject)
    {
        const HttpResult r = authorizeRaw(requestObject);
        if (r.status != 200) {
            qWarning("authorize answered %d: %s %s", r.status, r.header("Location").constData(), r.body.left(300).constData());
            return std::nullopt;
        }
        static const QRegularExpression number(QStringLiteral("class=\"number\"[^>]*>(\\d+)<"));
        static const QRegularExpression tx(QStringLiteral("/authorize/wait\\?tx=([A-Za-z0-9_-]+)"));
        const QString page = QString::fromUtf8(r.body);
        const auto n = number.match(page);
        const auto t = tx.match(page);
        if (!n.hasMatch() || !t.hasMatch())
            return std::nullopt;
        // The page works without JavaScript: it refreshes itself.
        if (!page.contains(QLatin1String("http-equiv=\"refresh\"")))
            return std::nullopt;
        return Waiting{n.captured(1).toInt(), t.captured(1)};
    }

    bool answerOnPhone(const QString &decision, int number)
    {
        const QUrl push = m_server->endpoints().push;
        const HttpResult list = m_http->get(push.resolved(QUrl(QStringLiteral("/v1/phones/alice@corp/challenges"))));
        const QJsonArray challenges = QJsonDocument::fromJson(list.body).object().value(QLatin1String("challenges")).toArray();
        if (list.status != 200 || challenges.isEmpty())
            return false;
        const QJsonObject c = challenges.first().toObject(); // newest first
        const QString id = c.value(QLatin1String("id")).toString();
        const QString numberText = decision == QLatin1String("approve") ? QString::number(number) : QString();
        const QByteArray signedText = "hotdesk-push-v1\n" + id.toUtf8() + '\n' + c.value(QLatin1String("nonce")).toString().toUtf8() + '\n'
            + decision.toUtf8() + '\n' + numberText.toUtf8();
        auto sig = jose::createSignature(m_phone, Algorithm::ES256, signedText);
        QJsonObject answer{{QStringLiteral("decision"), decision}, {QStringLiteral("signature"), QString::fromLatin1(jose::base64UrlEncode(*sig))}};
        if (decision == QLatin1String("approve"))
            answer.insert(QStringLiteral("number"), number);
        const HttpResult r = m_http->post(push.resolved(QUrl(QStringLiteral("/v1/challenges/") + id + QStringLiteral("/response"))), compactJson(answer));
        if (r.status != 200)
            qWarning("phone answer: %d %s", r.status, r.body.constData());
        return r.status == 200;
    }

    QUrlQuery finishAuthorization(const QString &tx)
    {
        const HttpResult r = m_http->get(m_idp.resolved(QUrl(QStringLiteral("/authorize/wait?tx=") + tx)));
        if (r.status != 302) {
            qWarning("wait answered %d", r.status);
            return {};
        }
        const QUrl location(QString::fromUtf8(r.header("Location")));
        if (location.toString(QUrl::RemoveQuery) != kRedirect)
            return {};
        return QUrlQuery(location);
    }

    HttpResult tokenRequest(const QString &code, const QString &verifier, const QString &redirect)
    {
        QByteArray form;
        for (const auto &[name, value] : {std::pair{"grant_type", QStringLiteral("authorization_code")}, std::pair{"code", code},
                                          std::pair{"code_verifier", verifier}, std::pair{"redirect_uri", redirect},
                                          std::pair{"client_id", QStringLiteral("hotdesk-agent")}}) {
            if (!form.isEmpty())
                form += '&';
            form += QByteArray(name) + '=' + QUrl::toPercentEncoding(value);
        }
        return m_http->post(m_idp.resolved(QUrl(QStringLiteral("/token"))), form, "application/x-www-form-urlencoded");
    }

    Result<oidc::IdToken> validate(const QByteArray &idToken, const QString &nonce)
    {
        const HttpResult jwks = m_http->get(m_idp.resolved(QUrl(QStringLiteral("/jwks"))));
        auto keys = jose::JwkSet::fromJson(jwks.body);
        if (!keys)
            return tl::unexpected(keys.error());
        oidc::IdTokenRequirements req;
        req.issuer = idpService()->issuer();
        req.clientId = QStringLiteral("hotdesk-agent");
        req.nonce = nonce;
        req.subject = m_sharedId;
        return oidc::validateIdToken(idToken, *keys, req, m_clock);
    }

    stubs::idp::IdpService *idpService() const { return m_server->find<stubs::idp::IdpService>(); }

    std::unique_ptr<QTemporaryDir> m_dir;
    FakeClock m_clock;
    std::unique_ptr<stubs::ServiceHost> m_server;
    std::unique_ptr<stubs::HttpService> m_fakeDas;
    std::unique_ptr<HttpsClient> m_http;
    jose::Jwk m_dasKey;
    jose::Jwk m_phone;
    QUrl m_idp;
    QByteArray m_scimToken;
    QString m_sharedId;
};

QTEST_GUILESS_MAIN(TestIdp)
#include "tst_idp.moc"

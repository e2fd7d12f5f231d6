// OpenID CIBA at the companion servers (docs/ciba.md): the DAS's POST /v1/ciba-requests, the IdP's
// backchannel authentication endpoint and the CIBA grant at its token endpoint, over HTTPS.
#include "dasfixture.h"

#include "app/stubs/push/pushservice.h"
#include "core/jose/base64url.h"
#include "core/jose/jws.h"
#include "core/oidc/idtokenvalidator.h"

#include <QJsonArray>
#include <QRegularExpression>

using namespace hotdesk;
using namespace hotdesk::test;

namespace {

const QString kUser = QStringLiteral("alice@corp.example");
const QString kCibaGrant = QStringLiteral("urn:openid:params:grant-type:ciba");

QByteArray form(const QList<std::pair<QString, QString>> &fields)
{
    QByteArray out;
    for (const auto &[name, value] : fields)
        out += (out.isEmpty() ? "" : "&") + QUrl::toPercentEncoding(name) + '=' + QUrl::toPercentEncoding(value);
    return out;
}

QJsonObject fingerprint()
{
    das::Fingerprint fp;
    fp.machineId = QStringLiteral("4c4c4544-0031-3910-8052-b6c04f4d3832");
    fp.osName = QStringLiteral("Debian GNU/Linux");
    fp.osVersion = QStringLiteral("12");
    fp.agentVersion = QStringLiteral("0.1.0");
    return fp.toJson();
}

QString errorOf(const HttpResult &r)
{
    return jsonOf(r).value(QLatin1String("error")).toString();
}

} // namespace

class TestIdpCiba : public QObject {
    Q_OBJECT

    DasFixture f;
    EnrolledDevice m_device;
    QString m_sharedId;
    jose::Jwk m_phone;

    QUrl idp(const QString &path) const { return f.server->endpoints().idp.resolved(QUrl(path)); }

    HttpResult backchannel(const QList<std::pair<QString, QString>> &fields)
    {
        return f.client->post(idp(QStringLiteral("/backchannel")), form(fields), "application/x-www-form-urlencoded");
    }

    HttpResult poll(const QString &authReqId)
    {
        return f.client->post(idp(QStringLiteral("/token")),
            form({{QStringLiteral("grant_type"), kCibaGrant}, {QStringLiteral("auth_req_id"), authReqId},
                {QStringLiteral("client_id"), QStringLiteral("hotdesk-agent")}}),
            "application/x-www-form-urlencoded");
    }

    // The DAS's answer to POST /v1/ciba-requests for the user.
    QJsonObject dasRequest()
    {
        const HttpResult r = f.postJson(QStringLiteral("/v1/ciba-requests"),
            {{QStringLiteral("user"), QStringLiteral("Alice@corp.example")}, {QStringLiteral("fingerprint"), fingerprint()}},
            f.deviceAuth(m_device));
        if (r.status != 201)
            qWarning("ciba-requests: %d %s", r.status, r.body.constData());
        return jsonOf(r);
    }

    // Claims as the DAS signs them; a test changes some and signs them with the DAS's own key.
    QJsonObject claims()
    {
        const double now = double(f.clock.secondsSinceEpoch());
        return {{QStringLiteral("iss"), QStringLiteral("hotdesk-agent")}, {QStringLiteral("aud"), f.idp()->issuer()},
            {QStringLiteral("scope"), QStringLiteral("openid")}, {QStringLiteral("login_hint"), m_sharedId},
            {QStringLiteral("binding_message"), QStringLiteral("42")},
            {QStringLiteral("jti"), QString::fromLatin1(*randomUrlSafeString(f.random, 16))}, {QStringLiteral("iat"), now},
            {QStringLiteral("nbf"), now}, {QStringLiteral("exp"), now + 120}};
    }

    QString signedByDas(const QJsonObject &payload)
    {
        auto key = f.das()->signingKeys().currentKey();
        return QString::fromLatin1(*jose::signCompact(compactJson(payload), *key, jose::Algorithm::ES256));
    }

    // Starts the request and answers auth_req_id.
    QString accepted(const QString &requestObject)
    {
        const HttpResult r = backchannel(
            {{QStringLiteral("client_id"), QStringLiteral("hotdesk-agent")}, {QStringLiteral("request"), requestObject}});
        if (r.status != 200)
            qWarning("backchannel: %d %s", r.status, r.body.constData());
        return jsonOf(r).value(QLatin1String("auth_req_id")).toString();
    }

    // Answers the user's newest challenge as the phone does; number is what the user typed.
    int answerOnPhone(const QString &decision, const QString &number) { return f.answerOnPhone(m_phone, kUser, decision, number); }

    // Waits out the IdP's interval (1 s here), so that the next poll is not too soon.
    static void waitInterval() { QTest::qWait(1100); }

private Q_SLOTS:
    void init()
    {
        f.clock.setSeconds(1'767'225'600);
        f.cibaInterval = std::chrono::seconds(1);
        f.faults.clear();
        f.start<stubs::push::PushService>();
        f.enroll(QStringLiteral("pc-desk-12"), m_device);
        const HttpResult user = f.postJson(QStringLiteral("/v1/users"),
            {{QStringLiteral("username"), QStringLiteral("alice")}, {QStringLiteral("domain"), QStringLiteral("corp.example")},
                {QStringLiteral("type"), QStringLiteral("AD")}},
            f.deviceAuth(m_device));
        QCOMPARE(user.status, 201);
        m_sharedId = jsonOf(user).value(QLatin1String("shared_id")).toString();
        m_phone = generatedKey(jose::Algorithm::ES256, QStringLiteral("phone"));
        const HttpResult enrolled = f.client->post(f.server->endpoints().push.resolved(QUrl(QStringLiteral("/v1/enroll"))),
            compactJson(QJsonObject {
                {QStringLiteral("user"), kUser}, {QStringLiteral("public_key"), publicHalf(m_phone).toPublicJson()}}));
        QCOMPARE(enrolled.status, 201);
    }

    void cleanup() { f.stop(); }

    void discoveryNamesTheBackchannel()
    {
        const HttpResult r = f.client->get(idp(QStringLiteral("/.well-known/openid-configuration")));
        QCOMPARE(r.status, 200);
        const QJsonObject doc = jsonOf(r);
        QCOMPARE(doc.value(QLatin1String("backchannel_authentication_endpoint")).toString(),
            f.idp()->issuer() + QStringLiteral("/backchannel"));
        QCOMPARE(doc.value(QLatin1String("backchannel_token_delivery_modes_supported")).toArray(),
            QJsonArray {QStringLiteral("poll")});
        QCOMPARE(doc.value(QLatin1String("backchannel_authentication_request_signing_alg_values_supported")).toArray(),
            QJsonArray {QStringLiteral("ES256")});
        QVERIFY(doc.value(QLatin1String("grant_types_supported")).toArray().contains(kCibaGrant));
    }

    void theDasSignsTheRequest()
    {
        const QJsonObject issued = dasRequest();
        QCOMPARE(issued.value(QLatin1String("shared_id")).toString(), m_sharedId);
        QCOMPARE(issued.value(QLatin1String("issuer")).toString(), f.idp()->issuer());
        const QString binding = issued.value(QLatin1String("binding_message")).toString();
        // oidc-provider's default rule (no spaces, at most 20 characters) and this IdP's number to match.
        QVERIFY(QRegularExpression(QStringLiteral("^[1-9][0-9]$")).match(binding).hasMatch());
        auto keys = jose::JwkSet::fromJson(f.client->get(f.at(QStringLiteral("/jwks"))).body);
        QVERIFY(keys);
        auto verified = jose::verifyCompact(issued.value(QLatin1String("request")).toString().toLatin1(), *keys);
        QVERIFY(verified);
        QCOMPARE(verified->header.alg, jose::Algorithm::ES256);
        const QJsonObject c = QJsonDocument::fromJson(verified->payload).object();
        QCOMPARE(c.value(QLatin1String("iss")).toString(), QStringLiteral("hotdesk-agent"));
        QCOMPARE(c.value(QLatin1String("aud")).toString(), f.idp()->issuer());
        QCOMPARE(c.value(QLatin1String("scope")).toString(), QStringLiteral("openid"));
        QCOMPARE(c.value(QLatin1String("login_hint")).toString(), m_sharedId);
        QCOMPARE(c.value(QLatin1String("binding_message")).toString(), binding);
        QCOMPARE(c.value(QLatin1String("requested_expiry")).toInt(), 120);
        for (const char *name : {"exp", "iat", "nbf", "jti"})
            QVERIFY2(c.contains(QLatin1String(name)), name);
        QVERIFY(c.value(QLatin1String("exp")).toDouble() - c.value(QLatin1String("iat")).toDouble() <= 120);
        // Without a device token, nothing.
        const HttpResult anonymous = f.postJson(QStringLiteral("/v1/ciba-requests"), {{QStringLiteral("user"), kUser}});
        QCOMPARE(anonymous.status, 401);
    }

    void aSignedRequestIsRequired()
    {
        HttpResult r = backchannel({{QStringLiteral("client_id"), QStringLiteral("hotdesk-agent")},
            {QStringLiteral("scope"), QStringLiteral("openid")}, {QStringLiteral("login_hint"), m_sharedId}});
        QCOMPARE(r.status, 400);
        QCOMPARE(errorOf(r), QStringLiteral("invalid_request"));
        r = backchannel({{QStringLiteral("client_id"), QStringLiteral("hotdesk-agent")}});
        QCOMPARE(errorOf(r), QStringLiteral("invalid_request"));
        // Signed by another key than the client's (the DAS's).
        const jose::Jwk stranger = generatedKey(jose::Algorithm::ES256, f.das()->signingKeys().currentKey()->kid());
        r = backchannel({{QStringLiteral("client_id"), QStringLiteral("hotdesk-agent")},
            {QStringLiteral("request"),
                QString::fromLatin1(*jose::signCompact(compactJson(claims()), stranger, jose::Algorithm::ES256))}});
        QCOMPARE(errorOf(r), QStringLiteral("invalid_request"));
        r = backchannel(
            {{QStringLiteral("client_id"), QStringLiteral("someone-else")}, {QStringLiteral("request"), signedByDas(claims())}});
        QCOMPARE(r.status, 401);
        QCOMPARE(errorOf(r), QStringLiteral("invalid_client"));
    }

    void badRequestObjects_data()
    {
        QTest::addColumn<QString>("member");
        QTest::addColumn<QJsonValue>("value"); // Undefined: removed
        QTest::addColumn<QString>("error");
        const QJsonValue removed(QJsonValue::Undefined);
        const QString invalid = QStringLiteral("invalid_request");
        QTest::newRow("no jti") << QStringLiteral("jti") << removed << invalid;
        QTest::newRow("no nbf") << QStringLiteral("nbf") << removed << invalid;
        QTest::newRow("no exp") << QStringLiteral("exp") << removed << invalid;
        QTest::newRow("other aud") << QStringLiteral("aud") << QJsonValue(QStringLiteral("https://other.example")) << invalid;
        QTest::newRow("other iss") << QStringLiteral("iss") << QJsonValue(QStringLiteral("other-client")) << invalid;
        QTest::newRow("long-lived") << QStringLiteral("exp")
                                    << QJsonValue(double(1'767'225'600 + 3600)) /* iat + 1 h */ << invalid;
        QTest::newRow("no login_hint") << QStringLiteral("login_hint") << removed << invalid;
        QTest::newRow("id_token_hint") << QStringLiteral("id_token_hint") << QJsonValue(QStringLiteral("x.y.z")) << invalid;
        QTest::newRow("ping mode") << QStringLiteral("client_notification_token") << QJsonValue(QStringLiteral("abc")) << invalid;
        QTest::newRow("no openid") << QStringLiteral("scope") << QJsonValue(QStringLiteral("profile"))
                                   << QStringLiteral("invalid_scope");
        QTest::newRow("no binding") << QStringLiteral("binding_message") << removed << QStringLiteral("invalid_binding_message");
        QTest::newRow("spaces") << QStringLiteral("binding_message") << QJsonValue(QStringLiteral("4 2"))
                                << QStringLiteral("invalid_binding_message");
        QTest::newRow("3 digits") << QStringLiteral("binding_message") << QJsonValue(QStringLiteral("123"))
                                  << QStringLiteral("invalid_binding_message");
        QTest::newRow("expiry text") << QStringLiteral("requested_expiry") << QJsonValue(QStringLiteral("soon")) << invalid;
        QTest::newRow("expiry 0") << QStringLiteral("requested_expiry") << QJsonValue(0) << invalid;
        QTest::newRow("other acr") << QStringLiteral("acr_values") << QJsonValue(QStringLiteral("urn:other"))
                                   << QStringLiteral("unmet_authentication_requirements");
        QTest::newRow("unknown user") << QStringLiteral("login_hint") << QJsonValue(QStringLiteral("0000"))
                                      << QStringLiteral("unknown_user_id");
    }

    void badRequestObjects()
    {
        QFETCH(QString, member);
        QFETCH(QJsonValue, value);
        QFETCH(QString, error);
        QJsonObject c = claims();
        if (value.isUndefined())
            c.remove(member);
        else
            c.insert(member, value);
        const HttpResult r = backchannel(
            {{QStringLiteral("client_id"), QStringLiteral("hotdesk-agent")}, {QStringLiteral("request"), signedByDas(c)}});
        QCOMPARE(r.status, 400);
        QCOMPARE(errorOf(r), error);
        QVERIFY(!jsonOf(r).value(QLatin1String("error_description")).toString().isEmpty());
    }

    void aRequestObjectIsUsedOnce()
    {
        const QString request = signedByDas(claims());
        QVERIFY(!accepted(request).isEmpty());
        const HttpResult again
            = backchannel({{QStringLiteral("client_id"), QStringLiteral("hotdesk-agent")}, {QStringLiteral("request"), request}});
        QCOMPARE(errorOf(again), QStringLiteral("invalid_request"));
    }

    void pendingThenApproved()
    {
        const QJsonObject issued = dasRequest();
        const HttpResult started = backchannel({{QStringLiteral("client_id"), QStringLiteral("hotdesk-agent")},
            {QStringLiteral("request"), issued.value(QLatin1String("request")).toString()}});
        QCOMPARE(started.status, 200);
        const QString id = jsonOf(started).value(QLatin1String("auth_req_id")).toString();
        QVERIFY(!id.isEmpty());
        QCOMPARE(jsonOf(started).value(QLatin1String("interval")).toInt(), 1);
        QCOMPARE(jsonOf(started).value(QLatin1String("expires_in")).toInt(), 60); // the push provider's longest challenge
        QCOMPARE(errorOf(poll(id)), QStringLiteral("authorization_pending"));
        // The phone asks for the number shown at the PC: the binding message.
        QCOMPARE(answerOnPhone(QStringLiteral("approve"), issued.value(QLatin1String("binding_message")).toString()), 200);
        waitInterval();
        const HttpResult tokens = poll(id);
        QCOMPARE(tokens.status, 200);
        auto keys = jose::JwkSet::fromJson(f.client->get(idp(QStringLiteral("/jwks"))).body);
        QVERIFY(keys);
        oidc::IdTokenRequirements rules;
        rules.issuer = f.idp()->issuer();
        rules.clientId = QStringLiteral("hotdesk-agent");
        rules.subject = m_sharedId;
        rules.acrValues = {QStringLiteral("urn:hotdesk:acr:push")};
        auto token
            = oidc::validateIdToken(jsonOf(tokens).value(QLatin1String("id_token")).toString().toLatin1(), *keys, rules, f.clock);
        QVERIFY2(token, token ? "" : qPrintable(token.error().message));
        QCOMPARE(token->claims().value(QLatin1String("urn:openid:params:jwt:claim:auth_req_id")).toString(), id);
        QCOMPARE(token->issuedAt, f.clock.secondsSinceEpoch());
        // The tokens are issued once.
        waitInterval();
        QCOMPARE(errorOf(poll(id)), QStringLiteral("invalid_grant"));
    }

    void deniedOnThePhone()
    {
        const QString id = accepted(dasRequest().value(QLatin1String("request")).toString());
        QCOMPARE(answerOnPhone(QStringLiteral("deny"), QString()), 200);
        QCOMPARE(errorOf(poll(id)), QStringLiteral("access_denied"));
    }

    void expiredWithoutAnswer()
    {
        const QString id = accepted(dasRequest().value(QLatin1String("request")).toString());
        QCOMPARE(errorOf(poll(id)), QStringLiteral("authorization_pending"));
        f.clock.advance(std::chrono::seconds(60));
        waitInterval();
        QCOMPARE(errorOf(poll(id)), QStringLiteral("expired_token"));
    }

    void pollingTooFastIsSlowedDown()
    {
        const QString id = accepted(dasRequest().value(QLatin1String("request")).toString());
        QCOMPARE(errorOf(poll(id)), QStringLiteral("authorization_pending"));
        const HttpResult fast = poll(id);
        QCOMPARE(errorOf(fast), QStringLiteral("slow_down"));
        // The interval is now 1 + 5 s: a poll after 1 s is still too soon.
        waitInterval();
        QCOMPARE(errorOf(poll(id)), QStringLiteral("slow_down"));
    }

    void tokenRequestsAreChecked()
    {
        QCOMPARE(errorOf(poll(QStringLiteral("no-such-request"))), QStringLiteral("invalid_grant"));
        QCOMPARE(errorOf(poll(QString())), QStringLiteral("invalid_request"));
        const QString id = accepted(dasRequest().value(QLatin1String("request")).toString());
        HttpResult r = f.client->post(idp(QStringLiteral("/token")),
            form({{QStringLiteral("grant_type"), kCibaGrant}, {QStringLiteral("auth_req_id"), id},
                {QStringLiteral("client_id"), QStringLiteral("other")}}),
            "application/x-www-form-urlencoded");
        QCOMPARE(r.status, 401);
        QCOMPARE(errorOf(r), QStringLiteral("invalid_client"));
        r = f.client->post(idp(QStringLiteral("/token")),
            form({{QStringLiteral("grant_type"), kCibaGrant}, {QStringLiteral("auth_req_id"), id},
                {QStringLiteral("auth_req_id"), id}, {QStringLiteral("client_id"), QStringLiteral("hotdesk-agent")}}),
            "application/x-www-form-urlencoded");
        QCOMPARE(errorOf(r), QStringLiteral("invalid_request"));
    }
};

QTEST_GUILESS_MAIN(TestIdpCiba)
#include "tst_idpciba.moc"

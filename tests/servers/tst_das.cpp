// The DAS over TLS: administrator tokens, signed activation and SPAKE2 enrollment, device tokens, users, request objects.
#include "app/stubs/common/clienttokens.h"
#include "app/stubs/das/dasservice.h"
#include "app/stubs/das/dasstore.h"
#include "app/stubs/idp/idpservice.h"
#include "core/das/devicetoken.h"
#include "core/das/enrollment.h"
#include "core/jose/base64url.h"
#include "core/jose/jws.h"
#include "fakeclock.h"
#include "httpsclient.h"
#include "rolehost.h"
#include "tokenfactory.h"

#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace hotdesk;
using namespace hotdesk::test;

namespace {

using Headers = QList<std::pair<QByteArray, QByteArray>>;

struct Device {
    QString id;
    jose::Jwk key;
};

template <typename R> QByteArray why(const R &result)
{
    return result ? QByteArray() : result.error().message.toUtf8();
}

QJsonObject json(const HttpResult &r)
{
    return QJsonDocument::fromJson(r.body).object();
}

// The slug of a problem's type, "" when the answer is not a problem.
QString problemType(const HttpResult &r)
{
    const QString type = json(r).value(QLatin1String("type")).toString();
    return type.startsWith(QLatin1String("urn:hotdesk:problem:")) ? type.mid(20) : type;
}

QString b64(const QByteArray &bytes)
{
    return QString::fromLatin1(jose::base64UrlEncode(bytes));
}

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QByteArray headerValue(const HttpResult &r, const QByteArray &name)
{
    for (const auto &[key, value] : r.headers) {
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    }
    return {};
}

const QString kUser = QStringLiteral("alice@corp.example");
const QString kSharedId = QStringLiteral("4f1c2a9e8b7d6c5f4e3d2c1b0a998877");

} // namespace

class TestDas : public QObject {
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;
    FakeClock m_clock;
    std::unique_ptr<stubs::ServiceHost> m_server;
    std::unique_ptr<HttpsClient> m_client;
    OpenSslRandom m_random;
    // The rows of one data-driven function share a server and an enrolled
    // device: enrolling costs three scrypt runs, and each row must leave the
    // store as it found it anyway.
    QString m_sharedBy;
    std::optional<Device> m_sharedDevice;

    // The DAS and the IdP it writes request objects for.
    void startServer(const QString &clientId = {})
    {
        m_client.reset();
        m_server.reset();
        stubs::HostOptions options;
        options.dataDir = m_dir->path();
        options.clock = &m_clock;
        if (!clientId.isEmpty())
            options.clientId = clientId;
        auto server = startRoles<stubs::das::DasService, stubs::idp::IdpService>(options);
        QVERIFY2(server.has_value(), why(server).constData());
        m_server = std::move(*server);
        m_client = std::make_unique<HttpsClient>(m_server->caFile());
    }

    QUrl at(const QString &path) const { return m_server->endpoints().das.resolved(QUrl(path)); }
    stubs::Store &store() { return *m_server->context().store; }
    stubs::das::DasService *das() const { return m_server->find<stubs::das::DasService>(); }
    stubs::idp::IdpService *idp() const { return m_server->find<stubs::idp::IdpService>(); }
    QString dasUrl() const { return das()->url(); }

    HttpResult post(const QString &path, const QByteArray &body, const Headers &headers = {},
        const QByteArray &contentType = "application/json")
    {
        return m_client->send(at(path), "POST", body, contentType, headers);
    }
    HttpResult postJson(const QString &path, const QJsonObject &body, const Headers &headers = {})
    {
        return post(path, compact(body), headers);
    }

    qint64 count(const QString &sql)
    {
        QSqlDatabase db = store().database();
        auto q = stubs::exec(db, sql);
        if (!q || !q->next())
            qFatal("query failed: %s", qPrintable(sql));
        return q->value(0).toLongLong();
    }

    QString adminToken(stubs::das::AdminRole role = stubs::das::AdminRole::Admin, const QString &subject = QStringLiteral("ops"))
    {
        auto token = stubs::das::createAdminToken(store(), role, subject, m_clock);
        if (!token)
            qFatal("createAdminToken: %s", qPrintable(token.error().message));
        return *token;
    }

    void newActivation(QByteArray &jwt)
    {
        const HttpResult r
            = post(QStringLiteral("/v1/activation"), {}, {{"Authorization", "Bearer " + adminToken().toLatin1()}}, {});
        QCOMPARE(r.status, 201);
        jwt = json(r).value(QLatin1String("activation")).toString().toLatin1();
        QVERIFY(!jwt.isEmpty());
    }

    void activationKeys(jose::JwkSet &keys)
    {
        const HttpResult r = m_client->get(at(QStringLiteral("/v1/activation-key")));
        QCOMPARE(r.status, 200);
        QVERIFY(!r.body.contains("\"d\""));
        auto set = jose::JwkSet::fromJson(r.body);
        QVERIFY2(set.has_value(), why(set).constData());
        keys = *set;
    }

    void verifiedActivation(const QByteArray &jwt, das::Activation &out)
    {
        jose::JwkSet keys;
        activationKeys(keys);
        if (QTest::currentTestFailed())
            return;
        auto activation = das::verifyActivation(jwt, keys, {dasUrl(), std::chrono::seconds(60)}, m_clock);
        QVERIFY2(activation.has_value(), why(activation).constData());
        out = *activation;
    }

    // The agent's side of flow 3 up to a registered device.
    void enroll(const QString &deviceId, Device &device)
    {
        QByteArray jwt;
        newActivation(jwt);
        if (QTest::currentTestFailed())
            return;
        das::Activation activation;
        verifiedActivation(jwt, activation);
        if (QTest::currentTestFailed())
            return;
        auto agent = das::DeviceEnrollment::create(activation, deviceId);
        QVERIFY2(agent.has_value(), why(agent).constData());
        auto pA = agent->start(m_random);
        QVERIFY(pA.has_value());
        HttpResult r = postJson(QStringLiteral("/v1/devices/%1/spake2").arg(activation.serviceUid),
            {{QStringLiteral("device_id"), deviceId}, {QStringLiteral("pA"), b64(*pA)}});
        QCOMPARE(r.status, 200);
        auto pB = jose::base64UrlDecode(json(r).value(QLatin1String("pB")).toString().toLatin1());
        QVERIFY(pB.has_value());
        auto macA = agent->finish(*pB);
        QVERIFY2(macA.has_value(), why(macA).constData());
        const jose::Jwk key = generatedKey(jose::Algorithm::ES256, {});
        auto keyMac = agent->keyMac(key);
        QVERIFY(keyMac.has_value());
        r = postJson(QStringLiteral("/v1/devices/%1/spake2/confirm").arg(activation.serviceUid),
            {{QStringLiteral("mac_a"), b64(*macA)}, {QStringLiteral("device_key"), key.toPublicJson()},
                {QStringLiteral("key_mac"), b64(*keyMac)}});
        QCOMPARE(r.status, 200);
        QCOMPARE(json(r).value(QLatin1String("device_id")).toString(), deviceId);
        auto macB = jose::base64UrlDecode(json(r).value(QLatin1String("mac_b")).toString().toLatin1());
        QVERIFY(macB.has_value());
        QVERIFY(agent->verifyServerConfirmation(*macB));
        device = Device {deviceId, key};
    }

    void sharedDevice()
    {
        if (m_sharedDevice)
            return;
        Device device;
        enroll(QStringLiteral("pc-shared"), device);
        if (!QTest::currentTestFailed())
            m_sharedDevice = device;
    }

    QByteArray deviceToken(const Device &device)
    {
        auto token = das::makeDeviceToken(device.key, device.id, dasUrl(), m_clock, m_random);
        if (!token)
            qFatal("makeDeviceToken: %s", qPrintable(token.error().message));
        return *token;
    }

    static Headers deviceAuth(const QByteArray &token) { return {{"Authorization", "DeviceToken " + token}}; }

    static QJsonObject twoFactorBody(const QString &user = kUser)
    {
        return {{QStringLiteral("user"), user}, {QStringLiteral("state"), QStringLiteral("st-8d1f0c")},
            {QStringLiteral("nonce"), QStringLiteral("n-51a9e2")},
            {QStringLiteral("code_challenge"), QStringLiteral("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")},
            {QStringLiteral("code_challenge_method"), QStringLiteral("S256")},
            {QStringLiteral("redirect_uri"), QStringLiteral("http://127.0.0.1:49152/callback")},
            {QStringLiteral("fingerprint"),
                QJsonObject {{QStringLiteral("machine_id"), QStringLiteral("m-1")},
                    {QStringLiteral("screens"), QJsonArray {QStringLiteral("1920x1080@1")}}}}};
    }

    void mapUser(const QString &user = kUser, const QString &sharedId = kSharedId)
    {
        auto ok = stubs::das::mapUser(store(), user, sharedId, m_clock);
        QVERIFY2(ok.has_value(), why(ok).constData());
    }

    // The payload of a request object after its signature verified against GET /jwks.
    void verifiedRequestObject(const QByteArray &jwt, QJsonObject &claims)
    {
        const HttpResult keys = m_client->get(at(QStringLiteral("/jwks")));
        QCOMPARE(keys.status, 200);
        auto set = jose::JwkSet::fromJson(keys.body);
        QVERIFY(set.has_value());
        jose::JwsVerifyOptions options;
        options.allowed = {jose::Algorithm::ES256};
        auto jws = jose::verifyCompact(jwt, *set, options);
        QVERIFY2(jws.has_value(), why(jws).constData());
        QCOMPARE(jws->header.typ, QStringLiteral("oauth-authz-req+jwt"));
        claims = QJsonDocument::fromJson(jws->payload).object();
    }

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void init()
    {
        m_clock.setSeconds(1'767'225'600);
        const QString function = QString::fromLatin1(QTest::currentTestFunction());
        if (m_server && function == m_sharedBy)
            return;
        m_sharedBy = function == QLatin1String("deviceTokens") || function == QLatin1String("badInput") ? function : QString();
        m_sharedDevice.reset();
        m_client.reset();
        m_server.reset();
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        startServer();
    }

    void cleanup()
    {
        if (!m_sharedBy.isEmpty() && !QTest::currentTestFailed())
            return;
        m_sharedBy.clear();
        m_client.reset();
        m_server.reset();
        m_dir.reset();
    }

    void cleanupTestCase()
    {
        m_client.reset();
        m_server.reset();
        m_dir.reset();
    }

    void adminTokensFromTheCommandLine()
    {
        // The command writes into the database of the running server (WAL).
        QProcess create;
        create.start(QStringLiteral(HOTDESK_STUBS_BINARY),
            {QStringLiteral("admin"), QStringLiteral("create-token"), QStringLiteral("--role"), QStringLiteral("admin"),
                QStringLiteral("--subject"), QStringLiteral("carol"), QStringLiteral("--data"), m_dir->path()});
        QVERIFY(create.waitForFinished(30000));
        QCOMPARE(create.exitCode(), 0);
        const QList<QByteArray> lines = create.readAllStandardOutput().trimmed().split('\n');
        const QByteArray token = lines.constLast().trimmed();
        QVERIFY(token.startsWith("hdat_"));
        QSqlDatabase db = store().database();
        auto identity = stubs::das::findAdminToken(db, token);
        QVERIFY(identity.has_value() && identity->has_value());
        QCOMPARE((*identity)->subject, QStringLiteral("carol"));
        QCOMPARE((*identity)->role, stubs::das::AdminRole::Admin);
        // Only the hash is stored.
        QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM admin_tokens WHERE token_hash LIKE '%hdat_%'")), 0);

        const HttpResult r = post(QStringLiteral("/v1/activation"), {}, {{"Authorization", "Bearer " + token}}, {});
        QCOMPARE(r.status, 201);

        QProcess bad;
        bad.start(QStringLiteral(HOTDESK_STUBS_BINARY),
            {QStringLiteral("admin"), QStringLiteral("create-token"), QStringLiteral("--role"), QStringLiteral("root"),
                QStringLiteral("--data"), m_dir->path()});
        QVERIFY(bad.waitForFinished(30000));
        QCOMPARE(bad.exitCode(), 2);

        QProcess map;
        map.start(QStringLiteral(HOTDESK_STUBS_BINARY),
            {QStringLiteral("admin"), QStringLiteral("map-user"), QStringLiteral("Dave@Corp.example"),
                QStringLiteral("shared-dave-1"), QStringLiteral("--data"), m_dir->path()});
        QVERIFY(map.waitForFinished(30000));
        QCOMPARE(map.exitCode(), 0);
        auto user = stubs::das::findUser(db, QStringLiteral("dave@corp.example"));
        QVERIFY(user.has_value() && user->has_value());
        QCOMPARE((*user)->sharedId, QStringLiteral("shared-dave-1"));

        QProcess badMap;
        badMap.start(QStringLiteral(HOTDESK_STUBS_BINARY),
            {QStringLiteral("admin"), QStringLiteral("map-user"), QStringLiteral("eve"), QStringLiteral("has space"),
                QStringLiteral("--data"), m_dir->path()});
        QVERIFY(badMap.waitForFinished(30000));
        QCOMPARE(badMap.exitCode(), 2);
    }

    void activationNeedsAnAdminToken_data()
    {
        QTest::addColumn<QByteArray>("authorization");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("type");
        QTest::newRow("none") << QByteArray() << 401 << QStringLiteral("admin-token-required");
        QTest::newRow("other scheme") << QByteArray("Basic b3BzOm9wcw==") << 401 << QStringLiteral("admin-token-required");
        QTest::newRow("unknown token") << QByteArray("Bearer hdat_not-a-token-this-das-made") << 401
                                       << QStringLiteral("invalid-admin-token");
        QTest::newRow("approver") << QByteArray("approver") << 403 << QStringLiteral("admin-role-required");
    }

    void activationNeedsAnAdminToken()
    {
        QFETCH(QByteArray, authorization);
        QFETCH(int, status);
        QFETCH(QString, type);
        if (authorization == "approver")
            authorization = "Bearer " + adminToken(stubs::das::AdminRole::Approver).toLatin1();
        Headers headers;
        if (!authorization.isEmpty())
            headers.append({"Authorization", authorization});
        const HttpResult r = post(QStringLiteral("/v1/activation"), {}, headers, {});
        QCOMPARE(r.status, status);
        QCOMPARE(r.contentType, QByteArray("application/problem+json"));
        QCOMPARE(problemType(r), type);
        if (status == 401)
            QVERIFY(headerValue(r, "WWW-Authenticate").startsWith("Bearer"));
        QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM das_activations")), 0);
    }

    void enrollsADevice()
    {
        QByteArray jwt;
        newActivation(jwt);
        if (QTest::currentTestFailed())
            return;
        das::Activation activation;
        verifiedActivation(jwt, activation);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(activation.dasUrl, dasUrl());
        QCOMPARE(activation.password.size(), 43);
        QVERIFY(activation.expiresAt - activation.issuedAt <= 600);
        auto header = jose::decodeUnverified(jwt);
        QCOMPARE(header->header.typ, QStringLiteral("hotdesk-activation+jwt"));
        // The activation key is its own, not the request-object key.
        QVERIFY(header->header.kid.startsWith(QLatin1String("das-activation-")));

        Device device;
        enroll(QStringLiteral("pc-lab-07"), device);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM das_devices WHERE device_id = 'pc-lab-07'")), 1);
        // Nothing of a finished exchange stays behind.
        QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM das_activations WHERE ke IS NOT NULL OR mac_a IS NOT NULL")), 0);
        mapUser();
        const HttpResult r = postJson(QStringLiteral("/v1/2fa-tokens"), twoFactorBody(), deviceAuth(deviceToken(device)));
        QCOMPARE(r.status, 201);
    }

    void enrollmentAgreesWithTheRfcImplementation()
    {
        das::Activation activation;
        activation.dasUrl = QStringLiteral("https://das.example:8443");
        activation.password = QByteArrayLiteral("Xq3v0dO2f5mJr8yT1uWk9zLb4cNe7pAs6gHi0jKl2mN");
        activation.serviceUid = QStringLiteral("c2VydmljZS11aWQtMDAx");
        const QString deviceId = QStringLiteral("pc-1");
        auto w = das::activationPasswordScalar(activation.password, activation.serviceUid);
        QVERIFY(w.has_value());
        const jose::Jwk key = generatedKey(jose::Algorithm::ES256, {});

        // The agent's DeviceEnrollment against pake::Spake2 as role B.
        auto agent = das::DeviceEnrollment::create(activation, deviceId);
        auto b = pake::Spake2::create(
            pake::Role::B, *w, deviceId.toUtf8(), activation.dasUrl.toUtf8(), QByteArrayView(das::kSpake2Aad));
        QVERIFY(agent.has_value() && b.has_value());
        auto pA = agent->start(m_random);
        auto pB = b->start(m_random);
        auto macB = b->finish(*pA);
        auto macA = agent->finish(*pB);
        QVERIFY(macA.has_value() && macB.has_value());
        QVERIFY(b->verifyPeerConfirmation(*macA));
        auto keyMac = agent->keyMac(key);
        QVERIFY(agent->verifyServerConfirmation(*macB));
        QCOMPARE(*keyMac, *das::deviceKeyMac(*b->sessionKey(), key));

        // The DAS's answerEnrollment against pake::Spake2 as role A.
        auto a = pake::Spake2::create(
            pake::Role::A, *w, deviceId.toUtf8(), activation.dasUrl.toUtf8(), QByteArrayView(das::kSpake2Aad));
        auto pA2 = a->start(m_random);
        auto exchange = das::answerEnrollment(*w, deviceId, activation.dasUrl, *pA2, m_random);
        QVERIFY2(exchange.has_value(), why(exchange).constData());
        QCOMPARE(*a->finish(exchange->pB), exchange->macA);
        QVERIFY(a->verifyPeerConfirmation(exchange->macB));
        QCOMPARE(*a->sessionKey(), exchange->ke);

        // Another DAS URL (idB) or device id (idA) gives other keys.
        auto elsewhere = das::answerEnrollment(*w, deviceId, QStringLiteral("https://other.example"), *pA2, m_random);
        QVERIFY(elsewhere->macA != exchange->macA);
    }

    void activationCheckedByTheAgent_data()
    {
        QTest::addColumn<QString>("change");
        QTest::addColumn<QString>("reason");
        QTest::newRow("payload altered") << QStringLiteral("payload") << QStringLiteral("bad_signature");
        QTest::newRow("other key") << QStringLiteral("other-key") << QStringLiteral("key_not_found");
        QTest::newRow("typ JWT") << QStringLiteral("typ") << QStringLiteral("invalid_claim");
        QTest::newRow("other audience") << QStringLiteral("aud") << QStringLiteral("audience_mismatch");
        QTest::newRow("one hour") << QStringLiteral("lifetime") << QStringLiteral("invalid_claim");
        QTest::newRow("expired") << QStringLiteral("expired") << QStringLiteral("expired");
        QTest::newRow("other DAS") << QStringLiteral("iss") << QStringLiteral("issuer_mismatch");
        QTest::newRow("short password") << QStringLiteral("password") << QStringLiteral("invalid_claim");
    }

    void activationCheckedByTheAgent()
    {
        QFETCH(QString, change);
        QFETCH(QString, reason);
        QByteArray jwt;
        newActivation(jwt);
        if (QTest::currentTestFailed())
            return;
        auto decoded = jose::decodeUnverified(jwt);
        QJsonObject claims = QJsonDocument::fromJson(decoded->payload).object();
        QJsonObject header {{QStringLiteral("alg"), QStringLiteral("ES256")},
            {QStringLiteral("typ"), QStringLiteral("hotdesk-activation+jwt")}, {QStringLiteral("kid"), decoded->header.kid}};
        jose::Jwk signer = *das()->activationKeys().currentKey();
        QByteArray token;
        if (change == QLatin1String("payload")) {
            claims.insert(QStringLiteral("service_uid"), QStringLiteral("AAAAAAAAAAAAAAAAAAAAAA"));
            const QList<QByteArray> parts = jwt.split('.');
            token = parts[0] + '.' + jose::base64UrlEncode(compact(claims)) + '.' + parts[2];
        } else {
            if (change == QLatin1String("other-key")) {
                signer = generatedKey(jose::Algorithm::ES256, QStringLiteral("attacker"));
                header.insert(QStringLiteral("kid"), QStringLiteral("attacker"));
            } else if (change == QLatin1String("typ")) {
                header.insert(QStringLiteral("typ"), QStringLiteral("JWT"));
            } else if (change == QLatin1String("aud")) {
                claims.insert(QStringLiteral("aud"), QStringLiteral("someone-else"));
            } else if (change == QLatin1String("lifetime")) {
                claims.insert(QStringLiteral("exp"), claims.value(QLatin1String("iat")).toInteger() + 3600);
            } else if (change == QLatin1String("expired")) {
                m_clock.advance(std::chrono::seconds(601 + 60));
            } else if (change == QLatin1String("iss")) {
                claims.insert(QStringLiteral("iss"), QStringLiteral("https://other-das.example"));
            } else if (change == QLatin1String("password")) {
                claims.insert(QStringLiteral("activation_password"), QStringLiteral("short"));
            }
            token = signRaw(compact(header), compact(claims), signer, jose::Algorithm::ES256);
        }
        jose::JwkSet keys;
        activationKeys(keys);
        auto activation = das::verifyActivation(token, keys, {dasUrl(), std::chrono::seconds(60)}, m_clock);
        QVERIFY(!activation.has_value());
        QCOMPARE(activation.error().codeName(), reason);
    }

    void wrongPasswordRegistersNothing()
    {
        QByteArray jwt;
        newActivation(jwt);
        if (QTest::currentTestFailed())
            return;
        das::Activation activation;
        verifiedActivation(jwt, activation);
        if (QTest::currentTestFailed())
            return;
        das::Activation guessed = activation;
        guessed.password = jose::base64UrlEncode(QByteArray(32, 'g'));
        const jose::Jwk key = generatedKey(jose::Algorithm::ES256, {});
        const QString spake = QStringLiteral("/v1/devices/%1/spake2").arg(activation.serviceUid);
        for (int attempt = 1; attempt <= das::kMaxConfirmationFailures; ++attempt) {
            auto agent = das::DeviceEnrollment::create(guessed, QStringLiteral("pc-x"));
            auto pA = agent->start(m_random);
            HttpResult r
                = postJson(spake, {{QStringLiteral("device_id"), QStringLiteral("pc-x")}, {QStringLiteral("pA"), b64(*pA)}});
            QCOMPARE(r.status, 200);
            auto macA = agent->finish(*jose::base64UrlDecode(json(r).value(QLatin1String("pB")).toString().toLatin1()));
            QVERIFY(macA.has_value());
            r = postJson(spake + QStringLiteral("/confirm"),
                {{QStringLiteral("mac_a"), b64(*macA)}, {QStringLiteral("device_key"), key.toPublicJson()},
                    {QStringLiteral("key_mac"), b64(*agent->keyMac(key))}});
            QCOMPARE(r.status, 403);
            QCOMPARE(problemType(r), QStringLiteral("confirmation-failed"));
            QVERIFY(!json(r).contains(QLatin1String("mac_b")));
            QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM das_devices")), 0);
            // A confirmation ends its exchange: repeating it is refused, not counted again.
            r = postJson(spake + QStringLiteral("/confirm"),
                {{QStringLiteral("mac_a"), b64(*macA)}, {QStringLiteral("device_key"), key.toPublicJson()},
                    {QStringLiteral("key_mac"), b64(*agent->keyMac(key))}});
            QCOMPARE(r.status, attempt < das::kMaxConfirmationFailures ? 409 : 410);
        }
        // Burnt: not even the right password gets in now.
        auto agent = das::DeviceEnrollment::create(activation, QStringLiteral("pc-x"));
        const HttpResult r = postJson(
            spake, {{QStringLiteral("device_id"), QStringLiteral("pc-x")}, {QStringLiteral("pA"), b64(*agent->start(m_random))}});
        QCOMPARE(r.status, 410);
        QCOMPARE(problemType(r), QStringLiteral("activation-locked"));
        const Device ghost {QStringLiteral("pc-x"), key};
        const HttpResult denied = postJson(QStringLiteral("/v1/2fa-tokens"), twoFactorBody(), deviceAuth(deviceToken(ghost)));
        QCOMPARE(denied.status, 401);
        QCOMPARE(problemType(denied), QStringLiteral("device-unknown"));
    }

    void keyMacBindsTheDeviceKey()
    {
        QByteArray jwt;
        newActivation(jwt);
        if (QTest::currentTestFailed())
            return;
        das::Activation activation;
        verifiedActivation(jwt, activation);
        if (QTest::currentTestFailed())
            return;
        auto agent = das::DeviceEnrollment::create(activation, QStringLiteral("pc-y"));
        const QString spake = QStringLiteral("/v1/devices/%1/spake2").arg(activation.serviceUid);
        HttpResult r = postJson(
            spake, {{QStringLiteral("device_id"), QStringLiteral("pc-y")}, {QStringLiteral("pA"), b64(*agent->start(m_random))}});
        QCOMPARE(r.status, 200);
        auto macA = agent->finish(*jose::base64UrlDecode(json(r).value(QLatin1String("pB")).toString().toLatin1()));
        // A key swapped in transit: mac_a is right, key_mac was made for another key.
        const jose::Jwk sent = generatedKey(jose::Algorithm::ES256, {});
        const jose::Jwk swapped = generatedKey(jose::Algorithm::ES256, {});
        r = postJson(spake + QStringLiteral("/confirm"),
            {{QStringLiteral("mac_a"), b64(*macA)}, {QStringLiteral("device_key"), swapped.toPublicJson()},
                {QStringLiteral("key_mac"), b64(*agent->keyMac(sent))}});
        QCOMPARE(r.status, 403);
        QCOMPARE(problemType(r), QStringLiteral("key-confirmation-failed"));
        QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM das_devices")), 0);
        QCOMPARE(count(QStringLiteral("SELECT failures FROM das_activations")), 1);
    }

    void activationIsSingleUse()
    {
        QByteArray jwt;
        newActivation(jwt);
        if (QTest::currentTestFailed())
            return;
        das::Activation activation;
        verifiedActivation(jwt, activation);
        if (QTest::currentTestFailed())
            return;
        auto run = [&](const QString &deviceId, HttpResult &confirm) {
            auto agent = das::DeviceEnrollment::create(activation, deviceId);
            const QString spake = QStringLiteral("/v1/devices/%1/spake2").arg(activation.serviceUid);
            HttpResult r = postJson(
                spake, {{QStringLiteral("device_id"), deviceId}, {QStringLiteral("pA"), b64(*agent->start(m_random))}});
            if (r.status != 200) {
                confirm = r;
                return;
            }
            auto macA = agent->finish(*jose::base64UrlDecode(json(r).value(QLatin1String("pB")).toString().toLatin1()));
            const jose::Jwk key = generatedKey(jose::Algorithm::ES256, {});
            confirm = postJson(spake + QStringLiteral("/confirm"),
                {{QStringLiteral("mac_a"), b64(*macA)}, {QStringLiteral("device_key"), key.toPublicJson()},
                    {QStringLiteral("key_mac"), b64(*agent->keyMac(key))}});
        };
        HttpResult first;
        run(QStringLiteral("pc-1"), first);
        QCOMPARE(first.status, 200);
        HttpResult second;
        run(QStringLiteral("pc-2"), second);
        QCOMPARE(second.status, 410);
        QCOMPARE(problemType(second), QStringLiteral("activation-used"));
        QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM das_devices")), 1);
    }

    void activationExpires()
    {
        QByteArray jwt;
        newActivation(jwt);
        if (QTest::currentTestFailed())
            return;
        das::Activation activation;
        verifiedActivation(jwt, activation);
        if (QTest::currentTestFailed())
            return;
        m_clock.advance(std::chrono::seconds(601));
        auto agent = das::DeviceEnrollment::create(activation, QStringLiteral("pc-late"));
        const HttpResult r = postJson(QStringLiteral("/v1/devices/%1/spake2").arg(activation.serviceUid),
            {{QStringLiteral("device_id"), QStringLiteral("pc-late")}, {QStringLiteral("pA"), b64(*agent->start(m_random))}});
        QCOMPARE(r.status, 410);
        QCOMPARE(problemType(r), QStringLiteral("activation-expired"));
    }

    void exchangeSurvivesARestart()
    {
        QByteArray jwt;
        newActivation(jwt);
        if (QTest::currentTestFailed())
            return;
        das::Activation activation;
        verifiedActivation(jwt, activation);
        if (QTest::currentTestFailed())
            return;
        auto agent = das::DeviceEnrollment::create(activation, QStringLiteral("pc-r"));
        const QString spake = QStringLiteral("/v1/devices/%1/spake2").arg(activation.serviceUid);
        HttpResult r = postJson(
            spake, {{QStringLiteral("device_id"), QStringLiteral("pc-r")}, {QStringLiteral("pA"), b64(*agent->start(m_random))}});
        QCOMPARE(r.status, 200);
        auto macA = agent->finish(*jose::base64UrlDecode(json(r).value(QLatin1String("pB")).toString().toLatin1()));
        startServer();
        if (QTest::currentTestFailed())
            return;
        const jose::Jwk key = generatedKey(jose::Algorithm::ES256, {});
        r = postJson(spake + QStringLiteral("/confirm"),
            {{QStringLiteral("mac_a"), b64(*macA)}, {QStringLiteral("device_key"), key.toPublicJson()},
                {QStringLiteral("key_mac"), b64(*agent->keyMac(key))}});
        QCOMPARE(r.status, 200);
        QVERIFY(
            agent->verifyServerConfirmation(*jose::base64UrlDecode(json(r).value(QLatin1String("mac_b")).toString().toLatin1())));
    }

    void reenrollmentReplacesTheKey()
    {
        Device first;
        enroll(QStringLiteral("pc-9"), first);
        Device second;
        enroll(QStringLiteral("pc-9"), second);
        if (QTest::currentTestFailed())
            return;
        mapUser();
        HttpResult r = postJson(QStringLiteral("/v1/2fa-tokens"), twoFactorBody(), deviceAuth(deviceToken(first)));
        QCOMPARE(r.status, 401);
        QCOMPARE(problemType(r), QStringLiteral("invalid-signature"));
        r = postJson(QStringLiteral("/v1/2fa-tokens"), twoFactorBody(), deviceAuth(deviceToken(second)));
        QCOMPARE(r.status, 201);
        QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM das_devices")), 1);
    }

    void deviceTokens_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("type");
        QTest::newRow("valid") << QStringLiteral("valid") << 201 << QString();
        QTest::newRow("kid omitted") << QStringLiteral("no-kid") << 201 << QString();
        QTest::newRow("absent") << QStringLiteral("absent") << 401 << QStringLiteral("device-token-required");
        QTest::newRow("bearer scheme") << QStringLiteral("bearer") << 401 << QStringLiteral("device-token-required");
        QTest::newRow("garbage") << QStringLiteral("garbage") << 401 << QStringLiteral("invalid-device-token");
        QTest::newRow("alg none") << QStringLiteral("none") << 401 << QStringLiteral("invalid-device-token");
        QTest::newRow("forged with another key") << QStringLiteral("forged") << 401 << QStringLiteral("invalid-signature");
        QTest::newRow("unknown device") << QStringLiteral("unknown") << 401 << QStringLiteral("device-unknown");
        QTest::newRow("expired") << QStringLiteral("expired") << 401 << QStringLiteral("token-expired");
        QTest::newRow("issued in the future") << QStringLiteral("future") << 401 << QStringLiteral("token-not-yet-valid");
        QTest::newRow("exp 61 s after iat") << QStringLiteral("long") << 401 << QStringLiteral("invalid-claims");
        QTest::newRow("wrong aud") << QStringLiteral("aud") << 401 << QStringLiteral("audience-mismatch");
        QTest::newRow("typ JWT") << QStringLiteral("typ") << 401 << QStringLiteral("invalid-claims");
        QTest::newRow("sub differs") << QStringLiteral("sub") << 401 << QStringLiteral("invalid-claims");
        QTest::newRow("no jti") << QStringLiteral("no-jti") << 401 << QStringLiteral("invalid-claims");
    }

    void deviceTokens()
    {
        QFETCH(QString, kind);
        QFETCH(int, status);
        QFETCH(QString, type);
        sharedDevice();
        if (QTest::currentTestFailed())
            return;
        const Device device = *m_sharedDevice;
        mapUser();
        const qint64 now = m_clock.secondsSinceEpoch();
        QJsonObject claims {{QStringLiteral("iss"), device.id}, {QStringLiteral("sub"), device.id},
            {QStringLiteral("aud"), dasUrl()}, {QStringLiteral("iat"), now}, {QStringLiteral("exp"), now + 60},
            {QStringLiteral("jti"), QString::fromLatin1(*randomUrlSafeString(m_random, 16))}};
        QJsonObject header {
            {QStringLiteral("alg"), QStringLiteral("ES256")}, {QStringLiteral("typ"), QStringLiteral("hotdesk-device+jwt")}};
        jose::Jwk signer = device.key;
        QByteArray token;
        Headers headers;
        if (kind == QLatin1String("valid")) {
            token = deviceToken(device);
        } else if (kind == QLatin1String("absent")) {
            token.clear();
        } else if (kind == QLatin1String("bearer")) {
            headers = {{"Authorization", "Bearer " + deviceToken(device)}};
        } else if (kind == QLatin1String("garbage")) {
            token = "not.a.jwt";
        } else if (kind == QLatin1String("none")) {
            token = jose::base64UrlEncode(R"({"alg":"none","typ":"hotdesk-device+jwt"})") + '.'
                + jose::base64UrlEncode(compact(claims)) + '.';
        } else if (kind == QLatin1String("expired")) {
            FakeClock past(now - 200);
            token = *das::makeDeviceToken(device.key, device.id, dasUrl(), past, m_random);
        } else if (kind == QLatin1String("future")) {
            FakeClock ahead(now + 120);
            token = *das::makeDeviceToken(device.key, device.id, dasUrl(), ahead, m_random);
        } else {
            if (kind == QLatin1String("forged"))
                signer = generatedKey(jose::Algorithm::ES256, {});
            else if (kind == QLatin1String("unknown")) {
                claims.insert(QStringLiteral("iss"), QStringLiteral("pc-nobody"));
                claims.insert(QStringLiteral("sub"), QStringLiteral("pc-nobody"));
            } else if (kind == QLatin1String("long"))
                claims.insert(QStringLiteral("exp"), now + 61);
            else if (kind == QLatin1String("aud"))
                claims.insert(QStringLiteral("aud"), idp()->issuer());
            else if (kind == QLatin1String("typ"))
                header.insert(QStringLiteral("typ"), QStringLiteral("JWT"));
            else if (kind == QLatin1String("sub"))
                claims.insert(QStringLiteral("sub"), QStringLiteral("pc-other"));
            else if (kind == QLatin1String("no-jti"))
                claims.remove(QStringLiteral("jti"));
            token = signRaw(compact(header), compact(claims), signer, jose::Algorithm::ES256);
        }
        if (headers.isEmpty() && !token.isEmpty())
            headers = deviceAuth(token);
        const HttpResult r = postJson(QStringLiteral("/v1/2fa-tokens"), twoFactorBody(), headers);
        QCOMPARE(r.status, status);
        if (status != 201) {
            QCOMPARE(problemType(r), type);
            QVERIFY(headerValue(r, "WWW-Authenticate").startsWith("DeviceToken"));
        }
    }

    void replayedDeviceTokenRefused()
    {
        Device device;
        enroll(QStringLiteral("pc-rp"), device);
        if (QTest::currentTestFailed())
            return;
        // A token spent on a refused request is spent all the same.
        const QByteArray early = deviceToken(device);
        HttpResult r = postJson(QStringLiteral("/v1/2fa-tokens"), twoFactorBody(), deviceAuth(early));
        QCOMPARE(r.status, 404);
        QCOMPARE(problemType(r), QStringLiteral("user-unknown"));
        mapUser();
        r = postJson(QStringLiteral("/v1/2fa-tokens"), twoFactorBody(), deviceAuth(early));
        QCOMPARE(r.status, 401);
        QCOMPARE(problemType(r), QStringLiteral("replayed-token"));

        const QByteArray token = deviceToken(device);
        r = postJson(QStringLiteral("/v1/2fa-tokens"), twoFactorBody(), deviceAuth(token));
        QCOMPARE(r.status, 201);
        m_clock.advance(std::chrono::seconds(20));
        r = postJson(QStringLiteral("/v1/2fa-tokens"), twoFactorBody(), deviceAuth(token));
        QCOMPARE(r.status, 401);
        QCOMPARE(problemType(r), QStringLiteral("replayed-token"));
        QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM seen_jti WHERE jti LIKE 'das-device:pc-rp:%'")), 2);
    }

    void requestsInFlightTogether()
    {
        // Requests that arrive together share one commit; each is still judged
        // alone: a token sent twice at once is spent once, and a refusal among
        // them spoils none of the others and spends its own jti all the same.
        Device device;
        enroll(QStringLiteral("pc-gc"), device);
        if (QTest::currentTestFailed())
            return;
        mapUser();
        const QByteArray twice = deviceToken(device);
        QList<std::pair<QByteArray, QJsonObject>> sent {{twice, twoFactorBody()}, {twice, twoFactorBody()},
            {deviceToken(device), twoFactorBody(QStringLiteral("mallory@corp.example"))}};
        for (int i = 0; i < 5; ++i)
            sent.append({deviceToken(device), twoFactorBody()});

        QNetworkAccessManager manager;
        QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
        ssl.addCaCertificates(m_server->caFile());
        std::vector<std::unique_ptr<QNetworkReply>> replies;
        QEventLoop loop;
        int finished = 0;
        for (const auto &[token, body] : sent) {
            QNetworkRequest request(at(QStringLiteral("/v1/2fa-tokens")));
            request.setSslConfiguration(ssl);
            request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
            request.setRawHeader("Authorization", "DeviceToken " + token);
            replies.emplace_back(manager.post(request, compact(body)));
            connect(replies.back().get(), &QNetworkReply::finished, &loop, [&] {
                if (++finished == int(sent.size()))
                    loop.quit();
            });
        }
        QTimer::singleShot(30000, &loop, &QEventLoop::quit);
        loop.exec();
        QCOMPARE(finished, int(sent.size()));

        std::vector<HttpResult> r;
        for (const auto &reply : replies) {
            HttpResult result;
            result.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            result.body = reply->readAll();
            r.push_back(result);
        }
        QCOMPARE(r[0].status + r[1].status, 201 + 401);
        QCOMPARE(problemType(r[0].status == 401 ? r[0] : r[1]), QStringLiteral("replayed-token"));
        QCOMPARE(r[2].status, 404);
        QCOMPARE(problemType(r[2]), QStringLiteral("user-unknown"));
        for (std::size_t i = 3; i < r.size(); ++i) {
            QCOMPARE(r[i].status, 201);
            QJsonObject claims;
            verifiedRequestObject(json(r[i]).value(QLatin1String("request")).toString().toLatin1(), claims);
            if (QTest::currentTestFailed())
                return;
            QCOMPARE(claims.value(QLatin1String("state")).toString(), QStringLiteral("st-8d1f0c"));
        }
        // Seven distinct tokens verified, and each is spent.
        QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM seen_jti WHERE jti LIKE 'das-device:pc-gc:%'")), 7);
    }

    // acr_values from the agent (the policy's alternate methods) go into the request object; malformed ones are refused.
    // hotdesk enroll without a token: an administrator's own sign-in at the IdP buys one activation.
    void administratorSignIn()
    {
        const QString boss = QStringLiteral("boss@corp.example");
        const QString bossId = QStringLiteral("b055b055b055b055b055b055b055b055");
        mapUser(boss, bossId);
        mapUser(); // alice: known, but no role
        QVERIFY(stubs::das::setUserRole(store(), boss, stubs::das::AdminRole::Admin, m_clock));
        QVERIFY(
            stubs::das::setUserRole(store(), QStringLiteral("approver@corp.example"), stubs::das::AdminRole::Approver, m_clock));

        auto signInBody = [](const QString &user) {
            QJsonObject body = twoFactorBody(user);
            body.remove(QStringLiteral("fingerprint"));
            return body;
        };
        // Nobody without the admin role gets a request object, so no phone is bothered.
        for (const QString &user : {kUser, QStringLiteral("approver@corp.example"), QStringLiteral("nobody@corp.example")}) {
            const HttpResult r = postJson(QStringLiteral("/v1/admin-sign-ins"), signInBody(user));
            QVERIFY2(r.status == 403 && r.body.contains("not-an-administrator"), r.body.constData());
        }
        QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM das_admin_sign_ins")), 0);
        const HttpResult badInput = postJson(QStringLiteral("/v1/admin-sign-ins"),
            QJsonObject {{QStringLiteral("user"), boss}, {QStringLiteral("state"), QStringLiteral("s")}});
        QCOMPARE(badInput.status, 400);

        const HttpResult started = postJson(QStringLiteral("/v1/admin-sign-ins"), signInBody(QStringLiteral("Boss@Corp.Example")));
        QVERIFY2(started.status == 201, started.body.constData());
        const QJsonObject answer = json(started);
        const QString signIn = answer.value(QLatin1String("sign_in")).toString();
        QVERIFY(signIn.size() >= 16);
        QCOMPARE(answer.value(QLatin1String("username")).toString(), boss);
        QCOMPARE(answer.value(QLatin1String("shared_id")).toString(), bossId);
        QJsonObject request;
        verifiedRequestObject(answer.value(QLatin1String("request")).toString().toLatin1(), request);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(request.value(QLatin1String("nonce")).toString(), QStringLiteral("n-51a9e2"));
        QCOMPARE(request.value(QLatin1String("claims")).toObject().value(QLatin1String("id_token")).toObject()
                     .value(QLatin1String("sub")).toObject().value(QLatin1String("value")).toString(),
            bossId);

        // ID tokens as the IdP would sign them, and as others might.
        auto idpKey = idp()->keyring().currentKey();
        QVERIFY(idpKey);
        auto strangerKey = jose::Jwk::generate(jose::Algorithm::ES256, idpKey->kid());
        QVERIFY(strangerKey);
        const QString issuer = idp()->issuer();
        auto idToken = [&](const std::function<void(QJsonObject &)> &edit, const jose::Jwk &key) {
            const qint64 now = m_clock.secondsSinceEpoch();
            QJsonObject claims {{QStringLiteral("iss"), issuer}, {QStringLiteral("aud"), QStringLiteral("hotdesk-agent")},
                {QStringLiteral("sub"), bossId}, {QStringLiteral("nonce"), QStringLiteral("n-51a9e2")},
                {QStringLiteral("iat"), now}, {QStringLiteral("exp"), now + 300}, {QStringLiteral("auth_time"), now}};
            edit(claims);
            auto jwt = jose::signCompact(QJsonDocument(claims).toJson(QJsonDocument::Compact), key, jose::Algorithm::ES256);
            if (!jwt)
                qFatal("sign: %s", qPrintable(jwt.error().message));
            return QString::fromLatin1(*jwt);
        };
        auto activate = [&](const QString &id, const QString &token) {
            return postJson(QStringLiteral("/v1/activation"),
                QJsonObject {{QStringLiteral("sign_in"), id}, {QStringLiteral("id_token"), token}});
        };
        const QList<std::pair<const char *, QString>> refused {
            {"another nonce", idToken([](QJsonObject &c) { c.insert(QStringLiteral("nonce"), QStringLiteral("n-other")); }, *idpKey)},
            {"another user", idToken([](QJsonObject &c) { c.insert(QStringLiteral("sub"), kSharedId); }, *idpKey)},
            {"another client", idToken([](QJsonObject &c) { c.insert(QStringLiteral("aud"), QStringLiteral("other")); }, *idpKey)},
            {"another issuer",
                idToken([](QJsonObject &c) { c.insert(QStringLiteral("iss"), QStringLiteral("https://idp.example")); }, *idpKey)},
            {"expired",
                idToken([&](QJsonObject &c) { c.insert(QStringLiteral("exp"), m_clock.secondsSinceEpoch() - 120); }, *idpKey)},
            {"not the IdP's key", idToken([](QJsonObject &) {}, *strangerKey)},
            {"not a JWT", QStringLiteral("not.a.jwt")},
        };
        for (const auto &[what, token] : refused) {
            const HttpResult r = activate(signIn, token);
            QVERIFY2(r.status == 401 && r.body.contains("invalid-id-token"), QByteArray(QByteArray(what) + ": " + r.body).constData());
        }
        QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM das_activations")), 0);
        const HttpResult unknown = activate(QStringLiteral("no-such-sign-in"), idToken([](QJsonObject &) {}, *idpKey));
        QVERIFY2(unknown.status == 404 && unknown.body.contains("sign-in-unknown"), unknown.body.constData());

        // The IdP's token for this sign-in: one activation, made by boss, and the sign-in is spent.
        const QString good = idToken([](QJsonObject &) {}, *idpKey);
        const HttpResult activated = activate(signIn, good);
        QVERIFY2(activated.status == 201, activated.body.constData());
        das::Activation activation;
        verifiedActivation(json(activated).value(QLatin1String("activation")).toString().toLatin1(), activation);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM das_activations WHERE created_by = 'boss@corp.example'")), 1);
        QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM das_events WHERE type = 'admin_signed_in'")), 1);
        const HttpResult again = activate(signIn, good);
        QVERIFY2(again.status == 410 && again.body.contains("sign-in-used"), again.body.constData());
        QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM das_activations")), 1);

        // A role revoked while the phone was in the pocket makes nothing.
        const HttpResult second = postJson(QStringLiteral("/v1/admin-sign-ins"), signInBody(boss));
        QCOMPARE(second.status, 201);
        QVERIFY(stubs::das::setUserRole(store(), boss, std::nullopt, m_clock));
        const HttpResult revoked = activate(json(second).value(QLatin1String("sign_in")).toString(), good);
        QVERIFY2(revoked.status == 403 && revoked.body.contains("not-an-administrator"), revoked.body.constData());
        QVERIFY(stubs::das::setUserRole(store(), boss, stubs::das::AdminRole::Admin, m_clock));

        // A sign-in lives ten minutes.
        const HttpResult third = postJson(QStringLiteral("/v1/admin-sign-ins"), signInBody(boss));
        QCOMPARE(third.status, 201);
        m_clock.advance(std::chrono::seconds(601));
        const HttpResult late = activate(json(third).value(QLatin1String("sign_in")).toString(), idToken([](QJsonObject &) {}, *idpKey));
        QVERIFY2(late.status == 410 && late.body.contains("sign-in-expired"), late.body.constData());

        // Each sign-in pushes to the administrator's phone: five per ten minutes.
        for (int i = 0; i < 5; ++i)
            QCOMPARE(postJson(QStringLiteral("/v1/admin-sign-ins"), signInBody(boss)).status, 201);
        const HttpResult limited = postJson(QStringLiteral("/v1/admin-sign-ins"), signInBody(boss));
        QVERIFY2(limited.status == 429 && limited.body.contains("rate-limited"), limited.body.constData());
        QVERIFY(!headerValue(limited, "Retry-After").isEmpty());
        QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM das_activations")), 1);
    }

    void requestObjectCarriesAcrValues()
    {
        Device device;
        enroll(QStringLiteral("pc-acr"), device);
        if (QTest::currentTestFailed())
            return;
        mapUser();
        QJsonObject body = twoFactorBody();
        const QString asked = QStringLiteral("urn:example:acr:hwk urn:hotdesk:acr:push");
        body.insert(QStringLiteral("acr_values"), asked);
        const HttpResult r = postJson(QStringLiteral("/v1/2fa-tokens"), body, deviceAuth(deviceToken(device)));
        QCOMPARE(r.status, 201);
        QJsonObject claims;
        verifiedRequestObject(json(r).value(QLatin1String("request")).toString().toLatin1(), claims);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(claims.value(QLatin1String("acr_values")).toString(), asked);

        // Without acr_values the request object has none.
        const HttpResult plain = postJson(QStringLiteral("/v1/2fa-tokens"), twoFactorBody(), deviceAuth(deviceToken(device)));
        QCOMPARE(plain.status, 201);
        QJsonObject plainClaims;
        verifiedRequestObject(json(plain).value(QLatin1String("request")).toString().toLatin1(), plainClaims);
        QVERIFY(!plainClaims.contains(QLatin1String("acr_values")));

        const QList<QJsonValue> bad {QJsonValue(QString()), QJsonValue(QStringLiteral("urn:a  urn:b")),
            QJsonValue(QStringLiteral("urn:a\nurn:b")), QJsonValue(QString(256, u'a')),
            QJsonValue(QStringLiteral("a b c d e f g h i")), QJsonValue(QJsonArray {QStringLiteral("urn:a")})};
        for (const QJsonValue &value : bad) {
            QJsonObject refused = twoFactorBody();
            refused.insert(QStringLiteral("acr_values"), value);
            const HttpResult answer = postJson(QStringLiteral("/v1/2fa-tokens"), refused, deviceAuth(deviceToken(device)));
            QVERIFY2(answer.status == 400, answer.body.constData());
        }
    }

    void requestObject()
    {
        Device device;
        enroll(QStringLiteral("pc-ro"), device);
        if (QTest::currentTestFailed())
            return;
        mapUser();
        const QJsonObject body = twoFactorBody(QStringLiteral("Alice@Corp.Example"));
        const HttpResult r = postJson(QStringLiteral("/v1/2fa-tokens"), body, deviceAuth(deviceToken(device)));
        QCOMPARE(r.status, 201);
        const QJsonObject answer = json(r);
        const QString issuer = idp()->issuer();
        QCOMPARE(answer.value(QLatin1String("client_id")).toString(), QStringLiteral("hotdesk-agent"));
        QCOMPARE(answer.value(QLatin1String("authorization_endpoint")).toString(), issuer + QStringLiteral("/authorize"));
        QJsonObject claims;
        verifiedRequestObject(answer.value(QLatin1String("request")).toString().toLatin1(), claims);
        if (QTest::currentTestFailed())
            return;
        const qint64 now = m_clock.secondsSinceEpoch();
        QCOMPARE(claims.value(QLatin1String("iss")).toString(), QStringLiteral("hotdesk-agent"));
        QCOMPARE(claims.value(QLatin1String("client_id")).toString(), QStringLiteral("hotdesk-agent"));
        QCOMPARE(claims.value(QLatin1String("aud")).toString(), issuer);
        QCOMPARE(claims.value(QLatin1String("response_type")).toString(), QStringLiteral("code"));
        QCOMPARE(claims.value(QLatin1String("scope")).toString(), QStringLiteral("openid"));
        QCOMPARE(claims.value(QLatin1String("prompt")).toString(), QStringLiteral("login"));
        for (const char *echoed : {"state", "nonce", "code_challenge", "code_challenge_method", "redirect_uri"})
            QCOMPARE(claims.value(QLatin1String(echoed)).toString(), body.value(QLatin1String(echoed)).toString());
        QCOMPARE(claims.value(QLatin1String("iat")).toInteger(), now);
        QCOMPARE(claims.value(QLatin1String("nbf")).toInteger(), now);
        QVERIFY(claims.value(QLatin1String("exp")).toInteger() > now);
        QVERIFY(claims.value(QLatin1String("exp")).toInteger() - claims.value(QLatin1String("iat")).toInteger() <= 120);
        QVERIFY(claims.value(QLatin1String("jti")).toString().size() >= 16);
        const QJsonObject sub = claims.value(QLatin1String("claims"))
                                    .toObject()
                                    .value(QLatin1String("id_token"))
                                    .toObject()
                                    .value(QLatin1String("sub"))
                                    .toObject();
        QCOMPARE(sub.value(QLatin1String("value")).toString(), kSharedId);
        QCOMPARE(sub.value(QLatin1String("essential")).toBool(), true);

        // Each request object has its own jti.
        const HttpResult again = postJson(QStringLiteral("/v1/2fa-tokens"), body, deviceAuth(deviceToken(device)));
        QJsonObject second;
        verifiedRequestObject(json(again).value(QLatin1String("request")).toString().toLatin1(), second);
        QVERIFY(second.value(QLatin1String("jti")).toString() != claims.value(QLatin1String("jti")).toString());
        // The fingerprint is kept with the device for recognition.
        QCOMPARE(count(QStringLiteral(
                     "SELECT COUNT(*) FROM das_devices WHERE device_id = 'pc-ro' AND fingerprint LIKE '%machine_id%'")),
            1);
    }

    void unknownUserIs404()
    {
        Device device;
        enroll(QStringLiteral("pc-u"), device);
        if (QTest::currentTestFailed())
            return;
        const HttpResult r = postJson(QStringLiteral("/v1/2fa-tokens"), twoFactorBody(QStringLiteral("mallory@corp.example")),
            deviceAuth(deviceToken(device)));
        QCOMPARE(r.status, 404);
        QCOMPARE(problemType(r), QStringLiteral("user-unknown"));
    }

    void otherIssuerAndClientId()
    {
        // --issuer makes the DAS discover the provider's endpoints; --client-id names the client.
        startServer(QStringLiteral("desk-client"));
        if (QTest::currentTestFailed())
            return;
        m_server->context().issuer = idp()->issuer();
        Device device;
        enroll(QStringLiteral("pc-op"), device);
        if (QTest::currentTestFailed())
            return;
        mapUser();
        HttpResult r = postJson(QStringLiteral("/v1/2fa-tokens"), twoFactorBody(), deviceAuth(deviceToken(device)));
        QCOMPARE(r.status, 201);
        QCOMPARE(json(r).value(QLatin1String("client_id")).toString(), QStringLiteral("desk-client"));
        QCOMPARE(
            json(r).value(QLatin1String("authorization_endpoint")).toString(), idp()->issuer() + QStringLiteral("/authorize"));
        QJsonObject claims;
        verifiedRequestObject(json(r).value(QLatin1String("request")).toString().toLatin1(), claims);
        QCOMPARE(claims.value(QLatin1String("iss")).toString(), QStringLiteral("desk-client"));
        QCOMPARE(claims.value(QLatin1String("aud")).toString(), idp()->issuer());

        m_server->context().issuer = QStringLiteral("https://127.0.0.1:1");
        r = postJson(QStringLiteral("/v1/2fa-tokens"), twoFactorBody(), deviceAuth(deviceToken(device)));
        QCOMPARE(r.status, 502);
        QCOMPARE(problemType(r), QStringLiteral("issuer-discovery-failed"));
    }

    void registersUsersThroughScim()
    {
        const QByteArray scimToken = *stubs::readScimClientToken(m_dir->path());
        const QUrl scim = m_server->endpoints().idp.resolved(QUrl(QStringLiteral("/scim/v2/Users")));
        HttpResult probe
            = m_client->send(scim, "POST", compact({{QStringLiteral("userName"), QStringLiteral("bob@corp.example")}}),
                "application/json", {{"Authorization", "Bearer " + scimToken}});
        QCOMPARE(probe.status, 201);
        const QString bobId = json(probe).value(QLatin1String("id")).toString();

        Device device;
        enroll(QStringLiteral("pc-reg"), device);
        if (QTest::currentTestFailed())
            return;
        const QJsonObject alice {{QStringLiteral("username"), QStringLiteral("Alice")},
            {QStringLiteral("domain"), QStringLiteral("CORP.example")},
            {QStringLiteral("sid"), QStringLiteral("S-1-5-21-1004336348-1177238915-682003330-1001")},
            {QStringLiteral("type"), QStringLiteral("AD")}};
        HttpResult r = postJson(QStringLiteral("/v1/users"), alice, deviceAuth(deviceToken(device)));
        QCOMPARE(r.status, 201);
        QCOMPARE(json(r).value(QLatin1String("username")).toString(), kUser);
        QCOMPARE(json(r).value(QLatin1String("registered")).toBool(), true);
        const QString sharedId = json(r).value(QLatin1String("shared_id")).toString();
        QVERIFY(sharedId.size() >= 16);
        // Known now: answered from the DAS, same id.
        r = postJson(QStringLiteral("/v1/users"), alice, deviceAuth(deviceToken(device)));
        QCOMPARE(r.status, 200);
        QCOMPARE(json(r).value(QLatin1String("shared_id")).toString(), sharedId);
        // The request object asks the IdP for exactly that subject.
        r = postJson(QStringLiteral("/v1/2fa-tokens"), twoFactorBody(), deviceAuth(deviceToken(device)));
        QCOMPARE(r.status, 201);
        QJsonObject claims;
        verifiedRequestObject(json(r).value(QLatin1String("request")).toString().toLatin1(), claims);
        QCOMPARE(claims.value(QLatin1String("claims"))[QLatin1String("id_token")][QLatin1String("sub")][QLatin1String("value")]
                     .toString(),
            sharedId);

        // Bob exists at the IdP already: 409 there, then found by filter.
        r = postJson(QStringLiteral("/v1/users"),
            {{QStringLiteral("username"), QStringLiteral("bob")}, {QStringLiteral("domain"), QStringLiteral("corp.example")},
                {QStringLiteral("type"), QStringLiteral("AD")}},
            deviceAuth(deviceToken(device)));
        QCOMPARE(r.status, 201);
        QCOMPARE(json(r).value(QLatin1String("shared_id")).toString(), bobId);

        // Another account with the same name.
        QJsonObject impostor = alice;
        impostor.insert(QStringLiteral("sid"), QStringLiteral("S-1-5-21-1-2-3-4242"));
        r = postJson(QStringLiteral("/v1/users"), impostor, deviceAuth(deviceToken(device)));
        QCOMPARE(r.status, 409);
        QCOMPARE(problemType(r), QStringLiteral("user-conflict"));
    }

    void registrationRelayFailures()
    {
        Device device;
        enroll(QStringLiteral("pc-relay"), device);
        if (QTest::currentTestFailed())
            return;
        const QJsonObject carol {{QStringLiteral("username"), QStringLiteral("carol")},
            {QStringLiteral("domain"), QStringLiteral("corp.example")}, {QStringLiteral("type"), QStringLiteral("AD")}};
        // Nothing listens there.
        das()->setUserDirectory(std::make_unique<stubs::ScimDirectory>(
            das()->serviceClient(), QUrl(QStringLiteral("https://127.0.0.1:1")), m_dir->path()));
        HttpResult r = postJson(QStringLiteral("/v1/users"), carol, deviceAuth(deviceToken(device)));
        QCOMPARE(r.status, 502);
        QCOMPARE(problemType(r), QStringLiteral("user-directory-failed"));
        QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM das_users")), 0);

        // The enterprise relay: the contract of docs/das-protocol.md, played by a small server here that,
        // like EnterpriseService, requires the bearer of DATADIR/enterprise-client-token.
        auto writeClientToken = [this](const QByteArray &token) {
            QFile file(stubs::enterpriseClientTokenPath(m_dir->path()));
            return file.open(QIODevice::WriteOnly) && file.write(token) == token.size();
        };
        const QByteArray clientToken = jose::base64UrlEncode(*m_random.bytes(32));
        QVERIFY(writeClientToken(clientToken));
        stubs::HttpService enterprise(QStringLiteral("enterprise"));
        QJsonObject relayed;
        enterprise.server().route(QStringLiteral("/v1/users"), QHttpServerRequest::Method::Post,
            [&relayed, clientToken](const QHttpServerRequest &request) {
                if (stubs::authorization(request, "Bearer") != clientToken)
                    return stubs::problemResponse({stubs::HttpStatus::Unauthorized, QStringLiteral("unauthorized"),
                        QStringLiteral("Client authentication required"), {}});
                relayed = QJsonDocument::fromJson(request.body()).object();
                return stubs::jsonResponse(
                    {{QStringLiteral("shared_id"), QStringLiteral("ent-7781")}}, stubs::HttpStatus::Created);
            });
        auto ca = stubs::LocalCa::loadOrCreate(m_dir->path());
        QVERIFY(ca.has_value());
        QVERIFY(enterprise.listen(*ca).has_value());
        das()->setUserDirectory(
            std::make_unique<stubs::EnterpriseDirectory>(das()->serviceClient(), enterprise.baseUrl(), m_dir->path()));
        r = postJson(QStringLiteral("/v1/users"), carol, deviceAuth(deviceToken(device)));
        QCOMPARE(r.status, 201);
        QCOMPARE(json(r).value(QLatin1String("shared_id")).toString(), QStringLiteral("ent-7781"));
        QCOMPARE(relayed.value(QLatin1String("username")).toString(), QStringLiteral("carol"));
        QCOMPARE(relayed.value(QLatin1String("domain")).toString(), QStringLiteral("corp.example"));
        // A DAS holding another token is turned away, and registers nobody.
        QVERIFY(writeClientToken(jose::base64UrlEncode(*m_random.bytes(32))));
        r = postJson(QStringLiteral("/v1/users"),
            {{QStringLiteral("username"), QStringLiteral("erin")}, {QStringLiteral("type"), QStringLiteral("AD")}},
            deviceAuth(deviceToken(device)));
        QCOMPARE(r.status, 502);
        QCOMPARE(problemType(r), QStringLiteral("user-directory-failed"));
        QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM das_users WHERE username = 'erin'")), 0);

        // Without any directory the administrator maps users by hand.
        das()->setUserDirectory(nullptr);
        r = postJson(QStringLiteral("/v1/users"),
            {{QStringLiteral("username"), QStringLiteral("dan")}, {QStringLiteral("type"), QStringLiteral("AD")}},
            deviceAuth(deviceToken(device)));
        QCOMPARE(r.status, 503);
        QCOMPARE(problemType(r), QStringLiteral("user-directory-unavailable"));
    }

    void jwksArePublic()
    {
        const HttpResult signing = m_client->get(at(QStringLiteral("/jwks")));
        const HttpResult activation = m_client->get(at(QStringLiteral("/v1/activation-key")));
        QCOMPARE(signing.status, 200);
        QCOMPARE(activation.status, 200);
        auto a = jose::JwkSet::fromJson(signing.body);
        auto b = jose::JwkSet::fromJson(activation.body);
        QVERIFY(a.has_value() && b.has_value());
        QCOMPARE(a->keys().size(), 1);
        QCOMPARE(b->keys().size(), 1);
        QVERIFY(a->keys().constFirst().kid() != b->keys().constFirst().kid());
        QVERIFY(!signing.body.contains("\"d\"") && !activation.body.contains("\"d\""));
    }

    void badInput_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("type");
        const QByteArray json = "application/json";
        const QByteArray big = "{\"pad\":\"" + QByteArray(70 * 1024, 'a') + "\"}";
        const QByteArray pA = jose::base64UrlEncode(QByteArray(QByteArray(1, '\x04') + QByteArray(64, '\x01')));
        const QByteArray mac = jose::base64UrlEncode(QByteArray(32, 'm'));
        const QByteArray p256
            = QJsonDocument(generatedKey(jose::Algorithm::ES256, {}).toPublicJson()).toJson(QJsonDocument::Compact);
        const QByteArray p256Private
            = QJsonDocument(generatedKey(jose::Algorithm::ES256, {}).toPrivateJson()).toJson(QJsonDocument::Compact);
        const QByteArray p384
            = QJsonDocument(generatedKey(jose::Algorithm::ES384, {}).toPublicJson()).toJson(QJsonDocument::Compact);
        auto confirm = [&](const QByteArray &key, const QByteArray &macA = {}) -> QByteArray {
            return "{\"mac_a\":\"" + (macA.isNull() ? mac : macA) + "\",\"device_key\":" + key + ",\"key_mac\":\"" + mac + "\"}";
        };
        const QString spake = QStringLiteral("/v1/devices/{uid}/spake2");
        const QString confirmPath = spake + QStringLiteral("/confirm");

        QTest::newRow("activation: not JSON")
            << QStringLiteral("/v1/activation") << QByteArray("{") << json << 400 << QStringLiteral("malformed-request");
        QTest::newRow("activation: array") << QStringLiteral("/v1/activation") << QByteArray("[]") << json << 400
                                           << QStringLiteral("malformed-request");
        QTest::newRow("activation: too large")
            << QStringLiteral("/v1/activation") << big << json << 413 << QStringLiteral("body-too-large");

        QTest::newRow("spake2: unknown uid")
            << QStringLiteral("/v1/devices/AAAAAAAAAAAAAAAAAAAAAA/spake2")
            << QByteArray("{\"device_id\":\"pc\",\"pA\":\"" + pA + "\"}") << json << 404 << QStringLiteral("activation-unknown");
        QTest::newRow("spake2: short uid") << QStringLiteral("/v1/devices/abc/spake2")
                                           << QByteArray("{\"device_id\":\"pc\",\"pA\":\"" + pA + "\"}") << json << 404
                                           << QStringLiteral("activation-unknown");
        QTest::newRow("spake2: not JSON") << spake << QByteArray("{\"device_id\":") << json << 400
                                          << QStringLiteral("malformed-request");
        QTest::newRow("spake2: duplicate member")
            << spake << QByteArray("{\"device_id\":\"a\",\"device_id\":\"b\",\"pA\":\"" + pA + "\"}") << json << 400
            << QStringLiteral("malformed-request");
        QTest::newRow("spake2: text/plain") << spake << QByteArray("{\"device_id\":\"pc\",\"pA\":\"" + pA + "\"}")
                                            << QByteArray("text/plain") << 415 << QStringLiteral("unsupported-media-type");
        QTest::newRow("spake2: no device_id")
            << spake << QByteArray("{\"pA\":\"" + pA + "\"}") << json << 400 << QStringLiteral("malformed-request");
        QTest::newRow("spake2: device_id number") << spake << QByteArray("{\"device_id\":7,\"pA\":\"" + pA + "\"}") << json << 400
                                                  << QStringLiteral("malformed-request");
        QTest::newRow("spake2: device_id with space") << spake << QByteArray("{\"device_id\":\"pc 1\",\"pA\":\"" + pA + "\"}")
                                                      << json << 400 << QStringLiteral("invalid-device-id");
        QTest::newRow("spake2: pA padded base64") << spake << QByteArray("{\"device_id\":\"pc\",\"pA\":\"" + pA + "==\"}") << json
                                                  << 400 << QStringLiteral("malformed-request");
        QTest::newRow("spake2: pA 64 bytes")
            << spake << QByteArray("{\"device_id\":\"pc\",\"pA\":\"" + jose::base64UrlEncode(QByteArray(64, 'p')) + "\"}") << json
            << 400 << QStringLiteral("malformed-request");
        QTest::newRow("spake2: pA off the curve") << spake << QByteArray("{\"device_id\":\"pc\",\"pA\":\"" + pA + "\"}") << json
                                                  << 400 << QStringLiteral("invalid-spake2-message");
        QTest::newRow("spake2: too large") << spake << big << json << 413 << QStringLiteral("body-too-large");

        QTest::newRow("confirm: before spake2")
            << confirmPath << confirm(p256) << json << 409 << QStringLiteral("spake2-not-started");
        QTest::newRow("confirm: key not an object")
            << confirmPath << confirm("\"key\"") << json << 400 << QStringLiteral("malformed-request");
        QTest::newRow("confirm: private key")
            << confirmPath << confirm(p256Private) << json << 400 << QStringLiteral("invalid-device-key");
        QTest::newRow("confirm: P-384 key") << confirmPath << confirm(p384) << json << 400
                                            << QStringLiteral("invalid-device-key");
        QTest::newRow("confirm: short mac_a")
            << confirmPath << confirm(p256, jose::base64UrlEncode("short")) << json << 400 << QStringLiteral("malformed-request");
        QTest::newRow("confirm: mac_a number")
            << confirmPath << QByteArray("{\"mac_a\":1,\"device_key\":" + p256 + ",\"key_mac\":\"" + mac + "\"}") << json << 400
            << QStringLiteral("malformed-request");

        QTest::newRow("users: no username") << QStringLiteral("/v1/users") << QByteArray("{\"type\":\"AD\"}") << json << 400
                                            << QStringLiteral("malformed-request");
        QTest::newRow("users: username number") << QStringLiteral("/v1/users") << QByteArray("{\"username\":5,\"type\":\"AD\"}")
                                                << json << 400 << QStringLiteral("malformed-request");
        QTest::newRow("users: LDAP type") << QStringLiteral("/v1/users") << QByteArray("{\"username\":\"a\",\"type\":\"LDAP\"}")
                                          << json << 400 << QStringLiteral("unsupported-user-type");
        QTest::newRow("users: bad sid") << QStringLiteral("/v1/users")
                                        << QByteArray("{\"username\":\"a\",\"sid\":\"S-1\",\"type\":\"AD\"}") << json << 400
                                        << QStringLiteral("malformed-request");
        QTest::newRow("users: quote in name")
            << QStringLiteral("/v1/users") << QByteArray("{\"username\":\"a\\\"b\",\"type\":\"AD\"}") << json << 400
            << QStringLiteral("malformed-request");
        QTest::newRow("users: bad domain") << QStringLiteral("/v1/users")
                                           << QByteArray("{\"username\":\"a\",\"domain\":\"corp example\",\"type\":\"AD\"}")
                                           << json << 400 << QStringLiteral("malformed-request");
        QTest::newRow("users: too large") << QStringLiteral("/v1/users") << big << json << 413
                                          << QStringLiteral("body-too-large");

        auto twoFactor = [](const char *member, const QJsonValue &value) {
            QJsonObject body = twoFactorBody();
            if (value.isUndefined())
                body.remove(QLatin1String(member));
            else
                body.insert(QLatin1String(member), value);
            return compact(body);
        };
        QTest::newRow("2fa: not JSON") << QStringLiteral("/v1/2fa-tokens") << QByteArray("nope") << json << 400
                                       << QStringLiteral("malformed-request");
        QTest::newRow("2fa: no state") << QStringLiteral("/v1/2fa-tokens") << twoFactor("state", QJsonValue::Undefined) << json
                                       << 400 << QStringLiteral("malformed-request");
        QTest::newRow("2fa: nonce array") << QStringLiteral("/v1/2fa-tokens") << twoFactor("nonce", QJsonArray {1}) << json << 400
                                          << QStringLiteral("malformed-request");
        QTest::newRow("2fa: plain PKCE") << QStringLiteral("/v1/2fa-tokens")
                                         << twoFactor("code_challenge_method", QStringLiteral("plain")) << json << 400
                                         << QStringLiteral("unsupported-challenge-method");
        QTest::newRow("2fa: short challenge")
            << QStringLiteral("/v1/2fa-tokens") << twoFactor("code_challenge", QStringLiteral("abc")) << json << 400
            << QStringLiteral("invalid-code-challenge");
        QTest::newRow("2fa: http redirect elsewhere")
            << QStringLiteral("/v1/2fa-tokens") << twoFactor("redirect_uri", QStringLiteral("http://evil.example/cb")) << json
            << 400 << QStringLiteral("invalid-redirect-uri");
        QTest::newRow("2fa: redirect with fragment")
            << QStringLiteral("/v1/2fa-tokens") << twoFactor("redirect_uri", QStringLiteral("https://app.example/cb#x")) << json
            << 400 << QStringLiteral("invalid-redirect-uri");
        QTest::newRow("2fa: fingerprint string")
            << QStringLiteral("/v1/2fa-tokens") << twoFactor("fingerprint", QStringLiteral("pc")) << json << 400
            << QStringLiteral("malformed-request");
        QTest::newRow("2fa: unknown user") << QStringLiteral("/v1/2fa-tokens")
                                           << twoFactor("user", QStringLiteral("zoe@corp.example")) << json << 404
                                           << QStringLiteral("user-unknown");
        QTest::newRow("2fa: too large") << QStringLiteral("/v1/2fa-tokens") << big << json << 413
                                        << QStringLiteral("body-too-large");
    }

    void badInput()
    {
        QFETCH(QString, path);
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, contentType);
        QFETCH(int, status);
        QFETCH(QString, type);
        Headers headers;
        if (path == QLatin1String("/v1/activation")) {
            headers = {{"Authorization", "Bearer " + adminToken().toLatin1()}};
        } else if (path.contains(QLatin1String("{uid}"))) {
            QByteArray jwt;
            newActivation(jwt);
            if (QTest::currentTestFailed())
                return;
            const QJsonObject claims = QJsonDocument::fromJson(jose::decodeUnverified(jwt)->payload).object();
            path.replace(QLatin1String("{uid}"), claims.value(QLatin1String("service_uid")).toString());
        } else if (!path.startsWith(QLatin1String("/v1/devices/"))) {
            sharedDevice();
            if (QTest::currentTestFailed())
                return;
            headers = deviceAuth(deviceToken(*m_sharedDevice));
        }
        const qint64 activationsBefore = count(QStringLiteral("SELECT COUNT(*) FROM das_activations"));
        const qint64 devicesBefore = count(QStringLiteral("SELECT COUNT(*) FROM das_devices"));
        const HttpResult r = post(path, body, headers, contentType);
        QCOMPARE(r.status, status);
        QCOMPARE(r.contentType, QByteArray("application/problem+json"));
        QCOMPARE(problemType(r), type);
        QVERIFY(!json(r).value(QLatin1String("title")).toString().isEmpty());
        // Refused means nothing written: no activation, exchange, device, user or fingerprint.
        QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM das_activations")), activationsBefore);
        QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM das_activations WHERE mac_a IS NOT NULL OR failures > 0")), 0);
        QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM das_devices")), devicesBefore);
        QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM das_devices WHERE fingerprint IS NOT NULL")), 0);
        QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM das_users")), 0);
    }
};

QTEST_GUILESS_MAIN(TestDas)
#include "tst_das.moc"

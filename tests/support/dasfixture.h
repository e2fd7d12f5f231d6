// A DAS and an IdP (and the roles a test adds) in-process over TLS on a fake clock, and the agent's steps DAS tests repeat:
// enroll, sign device tokens, call.
#pragma once

#include "app/stubs/das/dasservice.h"
#include "app/stubs/das/dasstore.h"
#include "app/stubs/idp/idpservice.h"
#include "core/das/devicetoken.h"
#include "core/das/enrollment.h"
#include "core/jose/base64url.h"
#include "fakeclock.h"
#include "httpsclient.h"
#include "rolehost.h"
#include "tokenfactory.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

namespace hotdesk::test {

using Headers = QList<std::pair<QByteArray, QByteArray>>;

// A PC as the DAS knows it after flow 3: its id and the private half of its device key.
struct EnrolledDevice {
    QString id;
    jose::Jwk key;
};

inline QJsonObject jsonOf(const HttpResult &r)
{
    return QJsonDocument::fromJson(r.body).object();
}

// The slug of a problem's type, "" when the answer is not a problem.
inline QString problemSlug(const HttpResult &r)
{
    const QString type = jsonOf(r).value(QLatin1String("type")).toString();
    const QLatin1String prefix("urn:hotdesk:problem:");
    return type.startsWith(prefix) ? type.mid(prefix.size()) : QString();
}

class DasFixture {
public:
    FakeClock clock;
    OpenSslRandom random;
    std::unique_ptr<QTemporaryDir> dir;
    std::unique_ptr<stubs::ServiceHost> server;
    std::unique_ptr<HttpsClient> client;
    QStringList faults; // --fault switches for the next start()
    std::optional<std::chrono::milliseconds> autoApprove; // --auto-approve for the next start()
    std::chrono::seconds cibaInterval {5}; // --ciba-interval for the next start()
    QString issuer; // --issuer for the next start(): an OpenID Provider outside; empty: the in-process IdP
    QString database; // --db for the next start(); empty: SQLite in the data directory
    std::optional<stubs::SmtpSettings> smtp; // --smtp for the next start()

    // Starts the DAS, the IdP and the Extra roles on a new data directory, or again on the current one when keepData is set.
    template <class... Extra> void start(bool keepData = false)
    {
        client.reset();
        server.reset();
        if (!keepData || !dir) {
            dir = std::make_unique<QTemporaryDir>();
            QVERIFY(dir->isValid());
        }
        stubs::HostOptions options;
        options.dataDir = dir->path();
        options.clock = &clock;
        options.faults = faults;
        options.autoApprove = autoApprove;
        options.cibaInterval = cibaInterval;
        options.issuer = issuer;
        options.database = database;
        options.smtp = smtp;
        auto started = startRoles<stubs::das::DasService, stubs::idp::IdpService, Extra...>(options);
        QVERIFY2(started.has_value(), started ? "" : qPrintable(started.error().message));
        server = std::move(*started);
        client = std::make_unique<HttpsClient>(server->caFile());
    }

    void stop()
    {
        client.reset();
        server.reset();
        dir.reset();
    }

    QUrl at(const QString &path) const { return server->endpoints().das.resolved(QUrl(path)); }
    stubs::Store &store() { return *server->context().store; }
    stubs::das::DasService *das() const { return server->find<stubs::das::DasService>(); }
    stubs::idp::IdpService *idp() const { return server->find<stubs::idp::IdpService>(); }
    QString dasUrl() const { return das()->url(); }

    HttpResult post(const QString &path, const QByteArray &body, const Headers &headers = {},
        const QByteArray &contentType = "application/json")
    {
        return client->send(at(path), "POST", body, contentType, headers);
    }
    HttpResult postJson(const QString &path, const QJsonObject &body, const Headers &headers = {})
    {
        return post(path, compactJson(body), headers);
    }
    HttpResult get(const QString &path, const Headers &headers = {}) { return client->send(at(path), "GET", {}, {}, headers); }

    // The first column of the first row of a query on the running server's database.
    QVariant scalar(const QString &sql, const QVariantList &values = {})
    {
        QSqlDatabase db = store().database();
        auto q = stubs::exec(db, sql, values);
        if (!q || !q->next())
            qFatal("query failed: %s", qPrintable(sql));
        return q->value(0);
    }
    qint64 count(const QString &sql, const QVariantList &values = {}) { return scalar(sql, values).toLongLong(); }

    QString adminToken(stubs::das::AdminRole role = stubs::das::AdminRole::Admin, const QString &subject = QStringLiteral("ops"))
    {
        auto token = stubs::das::createAdminToken(store(), role, subject, clock);
        if (!token)
            qFatal("createAdminToken: %s", qPrintable(token.error().message));
        return *token;
    }
    static Headers bearer(const QString &token) { return {{"Authorization", "Bearer " + token.toLatin1()}}; }

    void mapUser(const QString &user, const QString &sharedId)
    {
        auto ok = stubs::das::mapUser(store(), user, sharedId, clock);
        QVERIFY2(ok.has_value(), ok ? "" : qPrintable(ok.error().message));
    }

    // Flow 3 as the agent runs it: a signed activation from an administrator,
    // SPAKE2 with the DAS, and a fresh ES256 device key registered over it.
    void enroll(const QString &deviceId, EnrolledDevice &device)
    {
        const HttpResult issued = post(QStringLiteral("/v1/activation"), {}, bearer(adminToken()), {});
        QCOMPARE(issued.status, 201);
        const QByteArray jwt = jsonOf(issued).value(QLatin1String("activation")).toString().toLatin1();
        const HttpResult published = client->get(at(QStringLiteral("/v1/activation-key")));
        QCOMPARE(published.status, 200);
        auto keys = jose::JwkSet::fromJson(published.body);
        QVERIFY(keys.has_value());
        auto activation = das::verifyActivation(jwt, *keys, {dasUrl(), std::chrono::seconds(60)}, clock);
        QVERIFY2(activation.has_value(), activation ? "" : qPrintable(activation.error().message));
        auto agent = das::DeviceEnrollment::create(*activation, deviceId);
        QVERIFY(agent.has_value());
        auto pA = agent->start(random);
        QVERIFY(pA.has_value());
        const QString exchange = QStringLiteral("/v1/devices/%1/spake2").arg(activation->serviceUid);
        HttpResult r = postJson(exchange,
            {{QStringLiteral("device_id"), deviceId}, {QStringLiteral("pA"), QString::fromLatin1(jose::base64UrlEncode(*pA))}});
        QCOMPARE(r.status, 200);
        auto pB = jose::base64UrlDecode(jsonOf(r).value(QLatin1String("pB")).toString().toLatin1());
        QVERIFY(pB.has_value());
        auto macA = agent->finish(*pB);
        QVERIFY(macA.has_value());
        const jose::Jwk key = generatedKey(jose::Algorithm::ES256, {});
        auto keyMac = agent->keyMac(key);
        QVERIFY(keyMac.has_value());
        r = postJson(exchange + QStringLiteral("/confirm"),
            {{QStringLiteral("mac_a"), QString::fromLatin1(jose::base64UrlEncode(*macA))},
                {QStringLiteral("device_key"), key.toPublicJson()},
                {QStringLiteral("key_mac"), QString::fromLatin1(jose::base64UrlEncode(*keyMac))}});
        QCOMPARE(r.status, 200);
        auto macB = jose::base64UrlDecode(jsonOf(r).value(QLatin1String("mac_b")).toString().toLatin1());
        QVERIFY(macB.has_value() && agent->verifyServerConfirmation(*macB));
        device = EnrolledDevice {deviceId, key};
    }

    // A fresh device token for one request.
    QByteArray deviceToken(const EnrolledDevice &device)
    {
        auto token = das::makeDeviceToken(device.key, device.id, dasUrl(), clock, random);
        if (!token)
            qFatal("makeDeviceToken: %s", qPrintable(token.error().message));
        return *token;
    }
    Headers deviceAuth(const EnrolledDevice &device) { return {{"Authorization", "DeviceToken " + deviceToken(device)}}; }

    // Answers user's newest push challenge as their phone (key phone) does, at the push role this fixture started;
    // number is what the user typed there ("" for none). The push provider's status, 0 when there is no challenge.
    int answerOnPhone(const jose::Jwk &phone, const QString &user, const QString &decision, const QString &number)
    {
        const QUrl push = server->endpoints().push;
        const HttpResult list
            = client->get(push.resolved(QUrl(QStringLiteral("/v1/phones/") + user + QStringLiteral("/challenges"))));
        const QJsonArray challenges = jsonOf(list).value(QLatin1String("challenges")).toArray();
        if (list.status != 200 || challenges.isEmpty())
            return 0;
        const QJsonObject c = challenges.first().toObject();
        const QString id = c.value(QLatin1String("id")).toString();
        const QByteArray signedText = "hotdesk-push-v1\n" + id.toUtf8() + '\n'
            + c.value(QLatin1String("nonce")).toString().toUtf8() + '\n' + decision.toUtf8() + '\n' + number.toUtf8();
        auto sig = jose::createSignature(phone, jose::Algorithm::ES256, signedText);
        QJsonObject answer {{QStringLiteral("decision"), decision},
            {QStringLiteral("signature"), QString::fromLatin1(jose::base64UrlEncode(*sig))}};
        if (!number.isEmpty())
            answer.insert(QStringLiteral("number"), number.toInt());
        return client
            ->post(push.resolved(QUrl(QStringLiteral("/v1/challenges/") + id + QStringLiteral("/response"))), compactJson(answer))
            .status;
    }
};

} // namespace hotdesk::test

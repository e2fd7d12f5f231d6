// kill -9 during a burst of registrations: every acknowledged registration survives.
#include "app/stubs/common/clienttokens.h"
#include "app/stubs/common/store.h"
#include "core/das/devicetoken.h"
#include "core/das/enrollment.h"
#include "core/jose/base64url.h"
#include "dasfixture.h"
#include "httpsclient.h"
#include "tokenfactory.h"

#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace hotdesk;
using namespace hotdesk::test;

namespace {

constexpr int kBurst = 60;

} // namespace

class TestDurability : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void killDuringRegistrationBurst()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        startServers(dir.path());
        QVERIFY(m_process.state() == QProcess::Running);
        auto endpoints = stubs::readEndpoints(dir.path());
        QVERIFY(endpoints.has_value());
        const QUrl das = endpoints->das;
        HttpsClient client(dir.filePath(QStringLiteral("ca.pem")));

        // An administrator token from the command line, then the device enrolled as the agent does it.
        QProcess admin;
        admin.start(QStringLiteral(HOTDESK_STUBS_BINARY), {QStringLiteral("admin"), QStringLiteral("create-token"), QStringLiteral("--role"),
                                                           QStringLiteral("admin"), QStringLiteral("--data"), dir.path()});
        QVERIFY(admin.waitForFinished(30000));
        QCOMPARE(admin.exitCode(), 0);
        const QByteArray adminToken = admin.readAllStandardOutput().trimmed().split('\n').last();
        const EnrolledDevice device = enroll(client, das, adminToken);
        if (QTest::currentTestFailed())
            return;

        // The burst: many registrations in flight at once; kill -9 after a third are acknowledged.
        QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
        ssl.addCaCertificates(dir.filePath(QStringLiteral("ca.pem")));
        QNetworkAccessManager manager;
        SystemClock clock;
        OpenSslRandom random;
        QStringList acknowledged;
        int answered = 0;
        bool killed = false;
        for (int i = 0; i < kBurst; ++i) {
            const QString user = QStringLiteral("user%1").arg(i, 3, 10, QLatin1Char('0'));
            QNetworkRequest request(das.resolved(QUrl(QStringLiteral("/v1/users"))));
            request.setSslConfiguration(ssl);
            request.setTransferTimeout(20000);
            request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
            auto token = das::makeDeviceToken(device.key, device.id, dasUrl(das), clock, random);
            QVERIFY(token.has_value());
            request.setRawHeader("Authorization", "DeviceToken " + *token);
            const QJsonObject body{{QStringLiteral("username"), user}, {QStringLiteral("domain"), QStringLiteral("corp")},
                                   {QStringLiteral("sid"), QStringLiteral("S-1-5-21-%1").arg(i)}, {QStringLiteral("type"), QStringLiteral("AD")}};
            QNetworkReply *reply = manager.post(request, QJsonDocument(body).toJson(QJsonDocument::Compact));
            connect(reply, &QNetworkReply::finished, this, [&, reply, user] {
                const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
                if (status >= 200 && status < 300)
                    acknowledged << user;
                ++answered;
                reply->deleteLater();
                if (!killed && acknowledged.size() >= kBurst / 3) {
                    killed = true;
                    m_process.kill(); // SIGKILL: no chance to flush anything
                }
            });
        }
        QTRY_VERIFY_WITH_TIMEOUT(answered == kBurst, 60000);
        QVERIFY2(killed, "the burst finished before the kill; nothing was tested");
        QTRY_VERIFY_WITH_TIMEOUT(m_process.state() == QProcess::NotRunning, 10000);
        QCOMPARE(m_process.exitStatus(), QProcess::CrashExit);
        qInfo("%lld of %d registrations were acknowledged before kill -9", qint64(acknowledged.size()), kBurst);

        // Restart on the same directory: every acknowledged user is there, in the DAS and at the IdP.
        startServers(dir.path());
        auto store = stubs::Store::open(dir.filePath(QStringLiteral("stubs.db")), QStringLiteral("durability-check"));
        QVERIFY(store.has_value());
        QSqlDatabase db = store->database();
        auto scimToken = stubs::readScimClientToken(dir.path());
        QVERIFY(scimToken.has_value());
        auto restarted = stubs::readEndpoints(dir.path());
        QVERIFY(restarted.has_value());
        HttpsClient after(dir.filePath(QStringLiteral("ca.pem")));
        for (const QString &user : std::as_const(acknowledged)) {
            const QString name = user + QStringLiteral("@corp");
            auto q = stubs::exec(db, QStringLiteral("SELECT shared_id FROM das_users WHERE username = ?"), {name});
            QVERIFY(q.has_value());
            QVERIFY2(q->next(), qPrintable(QStringLiteral("acknowledged registration of %1 was lost").arg(name)));
            const QString sharedId = q->value(0).toString();
            const HttpResult scim = after.send(restarted->idp.resolved(QUrl(QStringLiteral("/scim/v2/Users/") + sharedId)), "GET", {}, {},
                                               {{"Authorization", "Bearer " + *scimToken}});
            QCOMPARE(scim.status, 200);
        }
        m_process.kill();
        m_process.waitForFinished(10000);
    }

private:
    void startServers(const QString &dataDir)
    {
        QFile::remove(QDir(dataDir).filePath(QStringLiteral("endpoints.json")));
        m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        m_process.start(QStringLiteral(HOTDESK_STUBS_BINARY), {QStringLiteral("all"), QStringLiteral("--data"), dataDir});
        QVERIFY(m_process.waitForStarted(10000));
        QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(QDir(dataDir).filePath(QStringLiteral("endpoints.json"))), 30000);
        // The summary lines come after endpoints.json; wait for the last one so every role listens.
        QTRY_VERIFY_WITH_TIMEOUT((m_output += m_process.readAllStandardOutput()).contains("ca "), 30000);
        m_output.clear();
    }

    static QString dasUrl(const QUrl &das)
    {
        QString url = das.toString();
        while (url.endsWith(QLatin1Char('/')))
            url.chop(1);
        return url;
    }

    EnrolledDevice enroll(HttpsClient &client, const QUrl &das, const QByteArray &adminToken)
    {
        SystemClock clock;
        OpenSslRandom random;
        EnrolledDevice device;
        const HttpResult issued = client.send(das.resolved(QUrl(QStringLiteral("/v1/activation"))), "POST", {}, {},
                                              {{"Authorization", "Bearer " + adminToken}});
        if (issued.status != 201) {
            QTest::qFail(qPrintable(QStringLiteral("activation answered %1").arg(issued.status)), __FILE__, __LINE__);
            return device;
        }
        const QByteArray jwt = jsonOf(issued).value(QLatin1String("activation")).toString().toLatin1();
        auto keys = jose::JwkSet::fromJson(client.get(das.resolved(QUrl(QStringLiteral("/v1/activation-key")))).body);
        auto activation = keys ? das::verifyActivation(jwt, *keys, {dasUrl(das), std::chrono::seconds(60)}, clock)
                               : Result<das::Activation>(tl::unexpected(keys.error()));
        auto agent = activation ? das::DeviceEnrollment::create(*activation, QStringLiteral("pc-burst"))
                                : Result<das::DeviceEnrollment>(tl::unexpected(activation.error()));
        auto pA = agent ? agent->start(random) : Result<QByteArray>(tl::unexpected(agent.error()));
        if (!pA) {
            QTest::qFail(qPrintable(pA.error().message), __FILE__, __LINE__);
            return device;
        }
        const QUrl exchange = das.resolved(QUrl(QStringLiteral("/v1/devices/%1/spake2").arg(activation->serviceUid)));
        HttpResult r = client.post(exchange, QJsonDocument(QJsonObject{{QStringLiteral("device_id"), QStringLiteral("pc-burst")},
                                                                       {QStringLiteral("pA"), QString::fromLatin1(jose::base64UrlEncode(*pA))}})
                                                 .toJson(QJsonDocument::Compact));
        auto pB = jose::base64UrlDecode(jsonOf(r).value(QLatin1String("pB")).toString().toLatin1());
        auto macA = pB ? agent->finish(*pB) : Result<QByteArray>(tl::unexpected(pB.error()));
        const jose::Jwk key = generatedKey(jose::Algorithm::ES256, {});
        auto keyMac = agent->keyMac(key);
        if (!macA || !keyMac) {
            QTest::qFail("SPAKE2 failed", __FILE__, __LINE__);
            return device;
        }
        r = client.post(QUrl(exchange.toString() + QStringLiteral("/confirm")),
                        QJsonDocument(QJsonObject{{QStringLiteral("mac_a"), QString::fromLatin1(jose::base64UrlEncode(*macA))},
                                                  {QStringLiteral("device_key"), key.toPublicJson()},
                                                  {QStringLiteral("key_mac"), QString::fromLatin1(jose::base64UrlEncode(*keyMac))}})
                            .toJson(QJsonDocument::Compact));
        if (r.status != 200) {
            QTest::qFail(qPrintable(QStringLiteral("confirm answered %1").arg(r.status)), __FILE__, __LINE__);
            return device;
        }
        device = EnrolledDevice{QStringLiteral("pc-burst"), key};
        return device;
    }

    QProcess m_process;
    QByteArray m_output;
};

QTEST_GUILESS_MAIN(TestDurability)
#include "tst_durability.moc"

// oidc::CibaClient in-process against the companion servers over TLS on loopback: the DAS signs the
// backchannel request, the IdP pushes it to the phone, the client polls and validates (docs/ciba.md).
#include "dasfixture.h"

#include "app/stubs/push/pushservice.h"
#include "core/das/dasclient.h"
#include "core/jose/base64url.h"
#include "core/jose/jws.h"
#include "core/net/httpclient.h"
#include "core/oidc/ciba.h"
#include "core/oidc/discovery.h"
#include "core/oidc/jwkscache.h"

#include <QJsonArray>
#include <QRegularExpression>
#include <QSignalSpy>

Q_DECLARE_METATYPE(hotdesk::ErrorCode)

using namespace hotdesk;
using namespace hotdesk::test;

namespace {

const QString kMachine = QStringLiteral("4c4c4544-0031-3910-8052-b6c04f4d3832");
const QString kUser = QStringLiteral("alice@corp.example");

QJsonObject fingerprint()
{
    das::Fingerprint fp;
    fp.machineId = kMachine;
    fp.osName = QStringLiteral("Debian GNU/Linux");
    fp.osVersion = QStringLiteral("12");
    fp.agentVersion = QStringLiteral("0.1.0");
    return fp.toJson();
}

template <typename T> std::optional<Result<T>> waitForResult(std::function<void(std::function<void(Result<T>)>)> call)
{
    std::optional<Result<T>> out;
    call([&out](Result<T> r) { out = std::move(r); });
    // Only a hung call meets this limit; it is not a measure of speed.
    if (!QTest::qWaitFor([&out] { return out.has_value(); }, 30000))
        qWarning("no answer within 30 s");
    return out;
}

} // namespace

class TestCibaClient : public QObject {
    Q_OBJECT

    DasFixture f;
    EnrolledDevice m_device;
    std::unique_ptr<net::HttpClient> m_http;
    std::unique_ptr<das::DasClient> m_das;
    std::unique_ptr<oidc::JwksCache> m_jwks;
    oidc::ProviderMetadata m_metadata;
    QString m_sharedId;
    jose::Jwk m_phone;

    struct Outcome {
        std::optional<oidc::IdToken> token;
        std::optional<Error> error;
        int finals = 0;
        QStringList pending;
        QString bindingMessage;
    };

    // Starts the servers, enrolls the PC, registers the user (flow 2) and reads the IdP's discovery document.
    void startServers()
    {
        f.start<stubs::push::PushService>();
        f.enroll(QStringLiteral("pc-desk-12"), m_device);
        auto trust = net::TlsTrust::fromBundle(f.server->caFile());
        QVERIFY(trust);
        m_http = std::make_unique<net::HttpClient>(*trust, net::Timeouts {});
        m_das = std::make_unique<das::DasClient>(
            *m_http, QList<QUrl> {QUrl(f.dasUrl())}, das::DeviceCredential {m_device.id, m_device.key}, f.clock, f.random);
        auto registered = waitForResult<das::RegisteredUser>([this](auto done) {
            m_das->registerUser({QStringLiteral("alice"), QStringLiteral("corp.example"), {}}, done);
        });
        QVERIFY(registered && *registered);
        m_sharedId = (*registered)->sharedId;
        auto metadata = waitForResult<oidc::ProviderMetadata>(
            [this](auto done) { oidc::fetchProviderMetadata(*m_http, f.idp()->issuer(), done); });
        QVERIFY2(metadata && *metadata, metadata && !*metadata ? qPrintable((*metadata).error().message) : "no metadata");
        m_metadata = **metadata;
        m_jwks = std::make_unique<oidc::JwksCache>(*m_http, m_metadata.jwksUri, f.clock);
    }

    // The phone of the user, enrolled at the push provider, for the tests that answer by hand.
    void enrollPhone()
    {
        m_phone = generatedKey(jose::Algorithm::ES256, QStringLiteral("phone"));
        const HttpResult enrolled = f.client->post(f.server->endpoints().push.resolved(QUrl(QStringLiteral("/v1/enroll"))),
            compactJson(QJsonObject {
                {QStringLiteral("user"), kUser}, {QStringLiteral("public_key"), publicHalf(m_phone).toPublicJson()}}));
        QCOMPARE(enrolled.status, 201);
    }

    // Answers the user's newest challenge as the phone does; number is what the user typed.
    int answerOnPhone(const QString &decision, const QString &number) { return f.answerOnPhone(m_phone, kUser, decision, number); }

    // The DAS's request object for the user.
    std::optional<das::CibaRequestObject> requestObject()
    {
        auto issued = waitForResult<das::CibaRequestObject>([this](auto done) {
            m_das->requestCiba({kUser, fingerprint(), {}, std::nullopt}, done);
        });
        if (!issued || !*issued) {
            qWarning("requestCiba: %s", issued ? qPrintable((*issued).error().message) : "no answer");
            return std::nullopt;
        }
        return **issued;
    }

    // Connects a client's signals to an outcome and starts it with the DAS's request object.
    void startClient(oidc::CibaClient &client, Outcome &outcome, const QString &subject = {})
    {
        connect(&client, &oidc::CibaClient::succeeded, this, [&outcome](const oidc::IdToken &t) {
            outcome.token = t;
            ++outcome.finals;
        });
        connect(&client, &oidc::CibaClient::failed, this, [&outcome](const Error &e) {
            outcome.error = e;
            ++outcome.finals;
        });
        connect(&client, &oidc::CibaClient::pending, this, [&outcome](const QString &answer) { outcome.pending << answer; });
        auto issued = requestObject();
        QVERIFY(issued);
        outcome.bindingMessage = issued->bindingMessage;
        QCOMPARE(issued->sharedId, m_sharedId);
        client.start({issued->requestObject, issued->clientId, subject.isEmpty() ? issued->sharedId : subject, {}});
    }

    void waitForEnd(const Outcome &outcome)
    {
        // Only a hung client meets this limit; it is not a measure of speed.
        QTRY_VERIFY_WITH_TIMEOUT(outcome.finals > 0, 60000);
    }

private Q_SLOTS:
    void init()
    {
        f.faults.clear();
        f.autoApprove.reset();
        f.cibaInterval = std::chrono::seconds(1);
    }

    void cleanup()
    {
        m_jwks.reset();
        m_das.reset();
        m_http.reset();
        f.stop();
    }

    void approvedOnThePhone()
    {
        startServers();
        enrollPhone();
        oidc::CibaClient client(*m_http, m_metadata, *m_jwks, f.clock);
        QSignalSpy accepted(&client, &oidc::CibaClient::accepted);
        Outcome outcome;
        startClient(client, outcome);
        // The number to match is two digits, as the PC shows it and the phone asks for it.
        QVERIFY(QRegularExpression(QStringLiteral("^[1-9][0-9]$")).match(outcome.bindingMessage).hasMatch());
        QTRY_COMPARE_WITH_TIMEOUT(accepted.size(), 1, 30000);
        QCOMPARE(accepted.at(0).at(2).toLongLong(), qint64(1)); // the IdP's interval
        QCOMPARE(answerOnPhone(QStringLiteral("approve"), outcome.bindingMessage), 200);
        waitForEnd(outcome);
        QVERIFY2(outcome.token, outcome.error ? qPrintable(outcome.error->message) : "no token");
        QCOMPARE(outcome.finals, 1);
        QCOMPARE(outcome.token->subject, m_sharedId);
        QCOMPARE(outcome.token->issuer, f.idp()->issuer());
        QCOMPARE(outcome.token->claims().value(QLatin1String("acr")).toString(), QStringLiteral("urn:hotdesk:acr:push"));
        QCOMPARE(outcome.token->claims().value(QLatin1String("urn:openid:params:jwt:claim:auth_req_id")).toString(),
            client.authReqId());
        QCOMPARE(client.slowDowns(), 0);
        QVERIFY(!client.isRunning());
    }

    void aWrongNumberOnThePhoneDenies()
    {
        startServers();
        enrollPhone();
        oidc::CibaClient client(*m_http, m_metadata, *m_jwks, f.clock);
        QSignalSpy accepted(&client, &oidc::CibaClient::accepted);
        Outcome outcome;
        startClient(client, outcome);
        QTRY_COMPARE_WITH_TIMEOUT(accepted.size(), 1, 30000);
        const QString wrong = QString::number(outcome.bindingMessage.toInt() == 99 ? 10 : outcome.bindingMessage.toInt() + 1);
        QCOMPARE(answerOnPhone(QStringLiteral("approve"), wrong), 403);
        waitForEnd(outcome);
        QVERIFY(outcome.error);
        QCOMPARE(outcome.error->code, ErrorCode::AccessDenied);
    }

    void deniedOnThePhone()
    {
        startServers();
        enrollPhone();
        oidc::CibaClient client(*m_http, m_metadata, *m_jwks, f.clock);
        QSignalSpy accepted(&client, &oidc::CibaClient::accepted);
        Outcome outcome;
        startClient(client, outcome);
        QTRY_COMPARE_WITH_TIMEOUT(accepted.size(), 1, 30000);
        QCOMPARE(answerOnPhone(QStringLiteral("deny"), QString()), 200);
        waitForEnd(outcome);
        QVERIFY(outcome.error);
        QCOMPARE(outcome.error->code, ErrorCode::AccessDenied);
        QCOMPARE(outcome.finals, 1);
    }

    void expiresWithoutAnAnswer()
    {
        startServers();
        enrollPhone();
        oidc::CibaClient client(*m_http, m_metadata, *m_jwks, f.clock);
        Outcome outcome;
        startClient(client, outcome);
        // The phone never answers; the IdP's time runs out (its clock is the test's).
        QTRY_VERIFY_WITH_TIMEOUT(!outcome.pending.isEmpty(), 30000);
        f.clock.advance(std::chrono::seconds(61));
        waitForEnd(outcome);
        QVERIFY(outcome.error);
        QCOMPARE(outcome.error->code, ErrorCode::Expired);
    }

    void slowDownIsHonoured()
    {
        // The IdP answers the first poll with slow_down (--fault ciba-slow-down) and
        // from then on answers slow_down again to any poll sooner than 1 + 5 s.
        f.faults = {QStringLiteral("ciba-slow-down")};
        f.autoApprove = std::chrono::milliseconds(0);
        startServers();
        oidc::CibaClient client(*m_http, m_metadata, *m_jwks, f.clock);
        Outcome outcome;
        startClient(client, outcome);
        waitForEnd(outcome);
        QVERIFY2(outcome.token, outcome.error ? qPrintable(outcome.error->message) : "no token");
        QCOMPARE(outcome.pending, QStringList {QStringLiteral("slow_down")});
        QCOMPARE(client.slowDowns(), 1);
        QCOMPARE(qint64(client.interval().count()), qint64(6));
    }

    void cancelStopsPolling()
    {
        startServers();
        enrollPhone();
        oidc::CibaClient client(*m_http, m_metadata, *m_jwks, f.clock);
        Outcome outcome;
        startClient(client, outcome);
        QTRY_VERIFY_WITH_TIMEOUT(!outcome.pending.isEmpty(), 30000);
        client.cancel();
        QCOMPARE(outcome.finals, 1);
        QCOMPARE(outcome.error->code, ErrorCode::Cancelled);
        const qsizetype polls = outcome.pending.size();
        // An approval now reaches nobody: the client neither polls again nor answers twice.
        QCOMPARE(answerOnPhone(QStringLiteral("approve"), outcome.bindingMessage), 200);
        QTest::qWait(2500);
        QCOMPARE(outcome.pending.size(), polls);
        QCOMPARE(outcome.finals, 1);
        QVERIFY(!outcome.token);
    }

    void givesUpAtItsOwnTimeout()
    {
        startServers();
        enrollPhone();
        oidc::CibaSettings settings;
        settings.timeout = std::chrono::milliseconds(1500);
        oidc::CibaClient client(*m_http, m_metadata, *m_jwks, f.clock, settings);
        Outcome outcome;
        startClient(client, outcome);
        waitForEnd(outcome);
        QVERIFY(outcome.error);
        QCOMPARE(outcome.error->code, ErrorCode::Timeout);
    }

    void aTokenForAnotherSubjectIsRefused()
    {
        f.autoApprove = std::chrono::milliseconds(0);
        startServers();
        oidc::CibaClient client(*m_http, m_metadata, *m_jwks, f.clock);
        Outcome outcome;
        // The caller expects another user than the one the DAS asked for.
        startClient(client, outcome, QStringLiteral("0123456789abcdef0123456789abcdef"));
        waitForEnd(outcome);
        QVERIFY(outcome.error);
        QCOMPARE(outcome.error->code, ErrorCode::SubjectMismatch);
        QVERIFY(!outcome.token);
    }

    void misbehavingIdpsFailClosed_data()
    {
        QTest::addColumn<int>("backchannelStatus");
        QTest::addColumn<QByteArray>("backchannelBody");
        QTest::addColumn<QByteArray>("tokenBody"); // a 400 answer of the token endpoint
        QTest::addColumn<ErrorCode>("expected");
        const QByteArray ok = "{\"auth_req_id\":\"r1\",\"expires_in\":60,\"interval\":1}";
        const QByteArray pending = "{\"error\":\"authorization_pending\"}";
        QTest::newRow("interval 0") << 200 << QByteArray("{\"auth_req_id\":\"r1\",\"expires_in\":60,\"interval\":0}") << pending
                                    << ErrorCode::MalformedAnswer;
        QTest::newRow("interval text") << 200 << QByteArray("{\"auth_req_id\":\"r1\",\"expires_in\":60,\"interval\":\"1\"}")
                                       << pending << ErrorCode::MalformedAnswer;
        QTest::newRow("no auth_req_id") << 200 << QByteArray("{\"expires_in\":60}") << pending << ErrorCode::MalformedAnswer;
        QTest::newRow("no expires_in") << 200 << QByteArray("{\"auth_req_id\":\"r1\"}") << pending << ErrorCode::MalformedAnswer;
        QTest::newRow("not JSON") << 200 << QByteArray("<html>") << pending << ErrorCode::MalformedAnswer;
        QTest::newRow("unknown user") << 400 << QByteArray("{\"error\":\"unknown_user_id\"}") << pending
                                      << ErrorCode::UserUnknown;
        QTest::newRow("refused") << 400 << QByteArray("{\"error\":\"invalid_request\",\"error_description\":\"no\"}") << pending
                                 << ErrorCode::ServerError;
        QTest::newRow("500") << 500 << QByteArray("{}") << pending << ErrorCode::ServerError;
        QTest::newRow("invalid_grant") << 200 << ok << QByteArray("{\"error\":\"invalid_grant\"}") << ErrorCode::ServerError;
        QTest::newRow("expired_token") << 200 << ok << QByteArray("{\"error\":\"expired_token\"}") << ErrorCode::Expired;
        QTest::newRow("access_denied") << 200 << ok << QByteArray("{\"error\":\"access_denied\"}") << ErrorCode::AccessDenied;
        QTest::newRow("no error member") << 200 << ok << QByteArray("{}") << ErrorCode::ServerError;
    }

    void misbehavingIdpsFailClosed()
    {
        QFETCH(int, backchannelStatus);
        QFETCH(QByteArray, backchannelBody);
        QFETCH(QByteArray, tokenBody);
        QFETCH(ErrorCode, expected);
        startServers();
        // An IdP of the test's making in place of the stubs' one, on the same CA.
        auto ca = stubs::LocalCa::loadOrCreate(f.dir->path());
        QVERIFY(ca);
        stubs::HttpService idp(QStringLiteral("idp"));
        idp.server().route(QStringLiteral("/backchannel"), QHttpServerRequest::Method::Post, [&] {
            return QHttpServerResponse("application/json", backchannelBody, QHttpServerResponse::StatusCode(backchannelStatus));
        });
        idp.server().route(QStringLiteral("/token"), QHttpServerRequest::Method::Post,
            [&] { return QHttpServerResponse("application/json", tokenBody, QHttpServerResponse::StatusCode::BadRequest); });
        QVERIFY(idp.listen(*ca));
        oidc::ProviderMetadata fake = m_metadata;
        fake.backchannelAuthenticationEndpoint = idp.baseUrl().resolved(QUrl(QStringLiteral("/backchannel")));
        fake.tokenEndpoint = idp.baseUrl().resolved(QUrl(QStringLiteral("/token")));
        oidc::CibaClient client(*m_http, fake, *m_jwks, f.clock);
        Outcome outcome;
        startClient(client, outcome);
        waitForEnd(outcome);
        QVERIFY(outcome.error);
        QCOMPARE(outcome.error->code, expected);
        QCOMPARE(outcome.finals, 1);
    }

    void anIdpWithoutCibaIsRefused()
    {
        startServers();
        oidc::ProviderMetadata without = m_metadata;
        without.backchannelAuthenticationEndpoint = QUrl();
        oidc::CibaClient client(*m_http, without, *m_jwks, f.clock);
        Outcome outcome;
        startClient(client, outcome);
        QCOMPARE(outcome.finals, 0); // never from inside start()
        waitForEnd(outcome);
        QCOMPARE(outcome.error->code, ErrorCode::Unsupported);
    }
};

QTEST_GUILESS_MAIN(TestCibaClient)
#include "tst_cibaclient.moc"

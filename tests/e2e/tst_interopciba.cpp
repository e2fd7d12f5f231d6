// Interoperability of OpenID CIBA (docs/ciba.md, docs/interop.md): the DAS signs the backchannel request
// and oidc::CibaClient runs it against the npm oidc-provider with features.ciba in poll mode.
#include "dasfixture.h"
#include "stubsprocess.h"

#include "core/das/dasclient.h"
#include "core/net/httpclient.h"
#include "core/oidc/ciba.h"
#include "core/oidc/discovery.h"
#include "core/oidc/jwkscache.h"

#include <QDateTime>
#include <QProcess>
#include <QTcpServer>

using namespace hotdesk;
using namespace hotdesk::test;

namespace {

const QString kUser = QStringLiteral("alice@corp.example");
const QString kSharedId = QStringLiteral("interop-alice-6f1d2c");

quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
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

} // namespace

class TestInteropCiba : public QObject {
    Q_OBJECT

    DasFixture f;
    EnrolledDevice m_device;
    quint16 m_port = 0;
    QProcess m_provider;
    QByteArray m_providerOutput;
    std::unique_ptr<net::HttpClient> m_http;
    std::unique_ptr<das::DasClient> m_das;
    std::unique_ptr<oidc::JwksCache> m_jwks;
    oidc::ProviderMetadata m_metadata;

    QString issuer() const { return QStringLiteral("https://127.0.0.1:%1").arg(m_port); }

    void startProvider(const QString &decision)
    {
        stopProcess(m_provider);
        m_providerOutput.clear();
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("NODE_EXTRA_CA_CERTS"), f.server->caFile());
        m_provider.setProcessEnvironment(env);
        m_provider.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        m_provider.start(QStringLiteral(HOTDESK_NODE),
            {QStringLiteral(HOTDESK_INTEROP_DIR "/provider.mjs"), QStringLiteral("--cert"),
                f.dir->filePath(QStringLiteral("server.pem")), QStringLiteral("--key"),
                f.dir->filePath(QStringLiteral("server-key.pem")), QStringLiteral("--client-jwks-uri"),
                f.dasUrl() + QStringLiteral("/jwks"), QStringLiteral("--port"), QString::number(m_port),
                QStringLiteral("--ciba-decision"), decision});
        QVERIFY(m_provider.waitForStarted(10000));
        QTRY_VERIFY_WITH_TIMEOUT(
            (m_providerOutput += m_provider.readAllStandardOutput()).contains('\n') || m_provider.state() == QProcess::NotRunning,
            30000);
        QCOMPARE(QString::fromUtf8(m_providerOutput.trimmed()), QString(QStringLiteral("issuer ") + issuer()));
        m_providerOutput.clear();
        std::optional<Result<oidc::ProviderMetadata>> metadata;
        oidc::fetchProviderMetadata(
            *m_http, issuer(), [&metadata](Result<oidc::ProviderMetadata> r) { metadata = std::move(r); });
        QTRY_VERIFY_WITH_TIMEOUT(metadata.has_value(), 30000);
        QVERIFY2(*metadata, !*metadata ? qPrintable(metadata->error().message) : "");
        m_metadata = **metadata;
        QVERIFY(m_metadata.backchannelAuthenticationEndpoint.isValid());
        m_jwks = std::make_unique<oidc::JwksCache>(*m_http, m_metadata.jwksUri, f.clock);
    }

    struct Outcome {
        std::optional<oidc::IdToken> token;
        std::optional<Error> error;
        QString bindingMessage;
        qint64 interval = 0;
    };

    Outcome signIn()
    {
        Outcome outcome;
        std::optional<Result<das::CibaRequestObject>> issued;
        m_das->requestCiba({kUser, fingerprint(), {}, std::nullopt}, [&issued](auto r) { issued = std::move(r); });
        if (!QTest::qWaitFor([&] { return issued.has_value(); }, 30000) || !*issued) {
            outcome.error = issued ? issued->error() : Error {ErrorCode::Timeout, QStringLiteral("the DAS did not answer")};
            return outcome;
        }
        outcome.bindingMessage = (*issued)->bindingMessage;
        oidc::CibaClient client(*m_http, m_metadata, *m_jwks, f.clock);
        connect(&client, &oidc::CibaClient::accepted, this,
            [&outcome](const QString &, qint64, qint64 interval) { outcome.interval = interval; });
        connect(&client, &oidc::CibaClient::succeeded, this, [&outcome](const oidc::IdToken &t) { outcome.token = t; });
        connect(&client, &oidc::CibaClient::failed, this, [&outcome](const Error &e) { outcome.error = e; });
        client.start({(*issued)->requestObject, (*issued)->clientId, (*issued)->sharedId, {}});
        // The provider gives no interval, so the client waits 5 s before each poll; only a hung client meets this limit.
        if (!QTest::qWaitFor([&] { return outcome.token || outcome.error; }, 60000))
            outcome.error = Error {ErrorCode::Timeout, QStringLiteral("the client did not finish within 60 s")};
        m_providerOutput += m_provider.readAllStandardOutput();
        return outcome;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_port = freePort();
        QVERIFY(m_port != 0);
        f.issuer = issuer();
        // oidc-provider checks the request objects' times against its real clock.
        f.clock.setSeconds(QDateTime::currentSecsSinceEpoch());
        f.start();
        f.mapUser(kUser, kSharedId);
        f.enroll(QStringLiteral("pc-desk-12"), m_device);
        auto trust = net::TlsTrust::fromBundle(f.server->caFile());
        QVERIFY(trust);
        m_http = std::make_unique<net::HttpClient>(*trust, net::Timeouts {});
        m_das = std::make_unique<das::DasClient>(
            *m_http, QList<QUrl> {QUrl(f.dasUrl())}, das::DeviceCredential {m_device.id, m_device.key}, f.clock, f.random);
    }

    void cleanupTestCase()
    {
        stopProcess(m_provider);
        m_jwks.reset();
        m_das.reset();
        m_http.reset();
        f.stop();
    }

    void approved()
    {
        startProvider(QStringLiteral("approve"));
        // The provider's clock is the real one: so is the client's for this test.
        f.clock.setSeconds(QDateTime::currentSecsSinceEpoch());
        const Outcome outcome = signIn();
        QVERIFY2(outcome.token, outcome.error ? qPrintable(outcome.error->message) : "no token");
        QCOMPARE(outcome.token->subject, kSharedId);
        QCOMPARE(outcome.token->issuer, issuer());
        QCOMPARE(outcome.interval, qint64(5)); // oidc-provider names no interval: CIBA's default
        // The provider's default binding_message rule took the number to match, and got it as the DAS wrote it.
        // (oidc-provider's own notices go to stdout too.)
        QStringList cibaLines;
        for (const QString &line : QString::fromUtf8(m_providerOutput).split(QLatin1Char('\n'))) {
            if (line.startsWith(QLatin1String("ciba ")))
                cibaLines << line;
        }
        QCOMPARE(cibaLines, QStringList {QStringLiteral("ciba %1 %2").arg(outcome.bindingMessage, kSharedId)});
    }

    void denied()
    {
        startProvider(QStringLiteral("deny"));
        f.clock.setSeconds(QDateTime::currentSecsSinceEpoch());
        const Outcome outcome = signIn();
        QVERIFY(!outcome.token);
        QVERIFY(outcome.error);
        QCOMPARE(outcome.error->code, ErrorCode::AccessDenied);
    }
};

QTEST_GUILESS_MAIN(TestInteropCiba)
#include "tst_interopciba.moc"

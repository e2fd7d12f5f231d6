// flow::ReauthFlow in-process against the companion servers: the happy path, flow 4's two ways back in, cancel, and the checks that are the agent's own.
#include "dasfixture.h"
#include "flowfollower.h"

#include "app/stubs/enterprise/enterpriseservice.h"
#include "app/stubs/push/pushservice.h"
#include "core/das/dasclient.h"
#include "core/device/localfingerprint.h"
#include "core/flow/reauthflow.h"
#include "core/net/httpclient.h"
#include "core/policy/serverpolicy.h"
#include "core/store/agentstate.h"

#include <QRegularExpression>
#include <QStandardPaths>
#include <QUrlQuery>
#include <QSignalSpy>
#include <QTcpSocket>

using namespace hotdesk;
using namespace hotdesk::test;

namespace {

const QString kMachine = QStringLiteral("4c4c4544-0031-3910-8052-b6c04f4d3832");

das::Fingerprint fingerprintOf(const QString &machineId)
{
    das::Fingerprint fp;
    fp.machineId = machineId;
    fp.osName = QStringLiteral("Debian GNU/Linux");
    fp.osVersion = QStringLiteral("12");
    fp.agentVersion = QStringLiteral("0.1.0");
    return fp;
}

} // namespace

class TestReauthFlow : public QObject {
    Q_OBJECT

    DasFixture f;
    EnrolledDevice m_device;
    std::unique_ptr<QTemporaryDir> m_stateDir;
    std::unique_ptr<store::AgentState> m_state;
    std::unique_ptr<net::HttpClient> m_http;
    std::unique_ptr<das::DasClient> m_das;
    std::unique_ptr<flow::ProviderSession> m_provider;
    std::unique_ptr<flow::LoopbackFrontend> m_frontend;
    policy::ServerSettings m_servers;
    QString m_machine = kMachine;
    bool m_followUrls = true;
    QUrl m_openedUrl;

    std::unique_ptr<flow::ReauthFlow> makeFlow()
    {
        return std::make_unique<flow::ReauthFlow>(m_servers, *m_http, *m_das, *m_provider, *m_state, *m_frontend,
            [this]() -> Result<das::Fingerprint> { return fingerprintOf(m_machine); }, f.clock, f.random);
    }

    struct Outcome {
        std::optional<flow::FlowResult> result;
        std::optional<Error> error;
        int signals = 0;
    };

    // Runs the flow to its end (or the test's patience).
    Outcome run(flow::ReauthFlow &reauth, const flow::FlowOptions &options)
    {
        Outcome outcome;
        connect(&reauth, &flow::ReauthFlow::succeeded, this, [&outcome](const flow::FlowResult &r) {
            outcome.result = r;
            ++outcome.signals;
        });
        connect(&reauth, &flow::ReauthFlow::failed, this, [&outcome](const Error &e) {
            outcome.error = e;
            ++outcome.signals;
        });
        reauth.start(options);
        // Only a hung flow meets this limit; it is not a measure of speed.
        QDeadlineTimer patience(60000);
        while (outcome.signals == 0 && !patience.hasExpired())
            QTest::qWait(10);
        return outcome;
    }

    QString lastCode()
    {
        QDir outbox(f.dir->filePath(QStringLiteral("outbox")));
        const QStringList files = outbox.entryList(QDir::Files, QDir::Time);
        QFile file(outbox.filePath(files.value(0)));
        if (files.isEmpty() || !file.open(QIODevice::ReadOnly))
            return {};
        static const QRegularExpression line(QStringLiteral("^Code: ([0-9]+)$"), QRegularExpression::MultilineOption);
        return line.match(QString::fromUtf8(file.readAll())).captured(1);
    }

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void init()
    {
        f.clock.setSeconds(1'767'225'600);
        f.autoApprove = std::chrono::milliseconds(0);
        // The flow asks the IdP, which asks its push provider; the enterprise server runs as in a deployment.
        f.start<stubs::push::PushService, stubs::enterprise::EnterpriseService>();
        f.enroll(QStringLiteral("pc-desk-12"), m_device);
        m_stateDir = std::make_unique<QTemporaryDir>();
        m_state = std::make_unique<store::AgentState>(m_stateDir->path());
        auto trust = net::TlsTrust::fromBundle(f.server->caFile());
        QVERIFY(trust);
        m_servers = {};
        m_servers.dasUrls = {QUrl(f.dasUrl())};
        m_servers.idpIssuer = f.idp()->issuer();
        m_servers.clientId = QStringLiteral("hotdesk-agent");
        m_servers.approvalTimeout = std::chrono::milliseconds(20000);
        m_http = std::make_unique<net::HttpClient>(*trust, net::Timeouts {});
        m_das = std::make_unique<das::DasClient>(
            *m_http, m_servers.dasUrls, das::DeviceCredential {m_device.id, m_device.key}, f.clock, f.random);
        m_provider = std::make_unique<flow::ProviderSession>(*m_http, m_servers.idpIssuer, f.clock);
        m_followUrls = true;
        m_machine = kMachine;
        m_openedUrl = QUrl();
        m_frontend = std::make_unique<flow::LoopbackFrontend>([this](const QUrl &url) -> Status {
            m_openedUrl = url;
            if (m_followUrls) {
                // A browser, once the flow has returned to the event loop.
                QTimer::singleShot(0, this, [this, url] {
                    FlowFollower browser(f.server->caFile());
                    browser.setRefreshDelayMs(20);
                    browser.follow(url, QStringLiteral("http://127.0.0.1:"));
                });
            }
            return {};
        });
    }

    void cleanup()
    {
        m_frontend.reset();
        m_provider.reset();
        m_das.reset();
        m_http.reset();
        m_state.reset();
        f.stop();
    }

    void signsInAndRemembersTheUser()
    {
        auto reauth = makeFlow();
        QSignalSpy steps(reauth.get(), &flow::ReauthFlow::progress);
        const Outcome outcome = run(*reauth, {QStringLiteral("Alice@Corp.Example")});
        QVERIFY2(outcome.result, outcome.error ? qPrintable(outcome.error->message) : "no result");
        QCOMPARE(outcome.signals, 1);
        QCOMPARE(outcome.result->user, QStringLiteral("alice@corp.example"));
        QCOMPARE(outcome.result->idToken.subject, outcome.result->sharedId);
        QVERIFY(!outcome.result->accessToken.isEmpty());
        auto known = m_state->knownUser(QStringLiteral("alice@corp.example"));
        QVERIFY(known && *known);
        QCOMPARE(**known, outcome.result->sharedId);
        QList<flow::Step> seen;
        for (const auto &args : steps)
            seen << args.at(0).value<flow::Step>();
        QCOMPARE(seen,
            (QList<flow::Step> {flow::Step::Discovery, flow::Step::Registration, flow::Step::RequestObject,
                flow::Step::WaitingForUser, flow::Step::CodeExchange, flow::Step::Validation}));
    }

    void secondFlowReusesDiscoveryAndKeys()
    {
        auto first = makeFlow();
        QVERIFY(run(*first, {QStringLiteral("alice")}).result);
        const int fetches = m_provider->jwks()->fetchCount();
        auto second = makeFlow();
        QSignalSpy steps(second.get(), &flow::ReauthFlow::progress);
        QVERIFY(run(*second, {QStringLiteral("alice")}).result);
        QCOMPARE(m_provider->jwks()->fetchCount(), fetches);
        // A known user is not registered again.
        for (const auto &args : steps)
            QVERIFY(args.at(0).value<flow::Step>() != flow::Step::Registration);
    }

    void cancelWhileWaitingForThePhone()
    {
        m_followUrls = false;
        auto reauth = makeFlow();
        Outcome outcome;
        int signals = 0;
        connect(reauth.get(), &flow::ReauthFlow::failed, this, [&](const Error &e) {
            outcome.error = e;
            ++signals;
        });
        connect(reauth.get(), &flow::ReauthFlow::succeeded, this, [&] { ++signals; });
        reauth->start({QStringLiteral("alice")});
        QTRY_VERIFY_WITH_TIMEOUT(m_openedUrl.isValid(), 30000);
        const QUrlQuery query(m_openedUrl);
        QVERIFY(query.hasQueryItem(QStringLiteral("request")));
        reauth->cancel();
        QCOMPARE(signals, 1);
        QCOMPARE(outcome.error->code, ErrorCode::Cancelled);
        // The browser arriving late finds nobody listening, and nothing more is reported.
        FlowFollower late(f.server->caFile());
        late.follow(m_openedUrl, QStringLiteral("http://127.0.0.1:"));
        QTest::qWait(200);
        QCOMPARE(signals, 1);
    }

    void aKnownUserWithAnotherSubjectIsRefused()
    {
        // This PC remembers a shared id for alice that the IdP does not issue.
        QVERIFY(m_state->rememberUser(QStringLiteral("alice"), QStringLiteral("not-alices-shared-id")));
        // The DAS must know alice for the request object; register her directly.
        const HttpResult users = f.postJson(QStringLiteral("/v1/users"),
            {{QStringLiteral("username"), QStringLiteral("alice")}, {QStringLiteral("type"), QStringLiteral("AD")}},
            {{QByteArray("Authorization"), QByteArray(QByteArray("DeviceToken ") + f.deviceToken(m_device))}});
        QCOMPARE(users.status, 201);
        auto reauth = makeFlow();
        const Outcome outcome = run(*reauth, {QStringLiteral("alice")});
        QVERIFY(!outcome.result);
        QCOMPARE(outcome.error->code, ErrorCode::SubjectMismatch);
    }

    void clientIdOfThePolicyMustMatch()
    {
        m_servers.clientId = QStringLiteral("another-client");
        auto reauth = makeFlow();
        const Outcome outcome = run(*reauth, {QStringLiteral("alice")});
        QVERIFY(!outcome.result);
        QCOMPARE(outcome.error->code, ErrorCode::MalformedAnswer);
        QVERIFY(outcome.error->message.contains(QLatin1String("another-client")));
    }

    void unrecognizedPcApprovedByAnAdministrator()
    {
        // First sign-in registers this PC's fingerprint; then it "moves" to another machine id.
        auto first = makeFlow();
        QVERIFY(run(*first, {QStringLiteral("alice")}).result);
        m_machine = QStringLiteral("9f2e1d0c-5b4a-4f3e-8d2c-1b0a99887766");
        auto reauth = makeFlow();
        connect(reauth.get(), &flow::ReauthFlow::approvalRequested, this, [this](const QString &id) {
            QTimer::singleShot(100, this, [this, id] {
                const HttpResult decided = f.postJson(QStringLiteral("/v1/admin/approval-requests/%1").arg(id),
                    {{QStringLiteral("decision"), QStringLiteral("approve")}},
                    DasFixture::bearer(f.adminToken(stubs::das::AdminRole::Approver, QStringLiteral("bob"))));
                QCOMPARE(decided.status, 200);
            });
        });
        flow::FlowOptions options {QStringLiteral("alice")};
        options.approvalPollInterval = std::chrono::milliseconds(50);
        const Outcome outcome = run(*reauth, options);
        QVERIFY2(outcome.result, outcome.error ? qPrintable(outcome.error->message) : "");
    }

    void unrecognizedPcDeniedByAnAdministrator()
    {
        auto first = makeFlow();
        QVERIFY(run(*first, {QStringLiteral("alice")}).result);
        m_machine = QStringLiteral("9f2e1d0c-5b4a-4f3e-8d2c-1b0a99887766");
        m_openedUrl = QUrl();
        auto reauth = makeFlow();
        connect(reauth.get(), &flow::ReauthFlow::approvalRequested, this, [this](const QString &id) {
            QTimer::singleShot(100, this, [this, id] {
                f.postJson(QStringLiteral("/v1/admin/approval-requests/%1").arg(id),
                    {{QStringLiteral("decision"), QStringLiteral("deny")}},
                    DasFixture::bearer(f.adminToken(stubs::das::AdminRole::Approver, QStringLiteral("bob"))));
            });
        });
        flow::FlowOptions options {QStringLiteral("alice")};
        options.approvalPollInterval = std::chrono::milliseconds(50);
        const Outcome outcome = run(*reauth, options);
        QVERIFY(!outcome.result);
        QCOMPARE(outcome.error->code, ErrorCode::AccessDenied);
        // Nothing was shown to the user: the flow stopped before the IdP.
        QVERIFY(m_openedUrl.isEmpty());
    }

    void unrecognizedPcRegisteredWithAOneTimeCode()
    {
        auto first = makeFlow();
        QVERIFY(run(*first, {QStringLiteral("alice")}).result);
        m_machine = QStringLiteral("9f2e1d0c-5b4a-4f3e-8d2c-1b0a99887766");
        auto reauth = makeFlow();
        QList<int> attempts;
        connect(reauth.get(), &flow::ReauthFlow::oneTimeCodeNeeded, this,
            [this, &attempts, &reauth](int digits, qint64, int attemptsLeft) {
                QCOMPARE(digits, 8);
                attempts << attemptsLeft;
                const QString code = lastCode();
                QString wrong;
                for (QChar ch : code)
                    wrong += QChar(u'0' + (ch.digitValue() + 1) % 10);
                // First a typing mistake, then the right code.
                QTimer::singleShot(0, this, [&reauth, attempts, code, wrong] {
                    reauth->provideOneTimeCode(attempts.size() == 1 ? wrong : code);
                });
            });
        flow::FlowOptions options {QStringLiteral("alice")};
        options.unrecognizedDevice = policy::UnrecognizedDevice::Code;
        const Outcome outcome = run(*reauth, options);
        QVERIFY2(outcome.result, outcome.error ? qPrintable(outcome.error->message) : "");
        QCOMPARE(attempts, (QList<int> {3, 2}));
    }

    void unrecognizedPcWithoutRecognitionFails()
    {
        auto first = makeFlow();
        QVERIFY(run(*first, {QStringLiteral("alice")}).result);
        m_machine = QStringLiteral("9f2e1d0c-5b4a-4f3e-8d2c-1b0a99887766");
        auto reauth = makeFlow();
        flow::FlowOptions options {QStringLiteral("alice")};
        options.unrecognizedDevice = policy::UnrecognizedDevice::Deny;
        const Outcome outcome = run(*reauth, options);
        QVERIFY(!outcome.result);
        QCOMPARE(outcome.error->code, ErrorCode::DeviceUnrecognized);
    }
};

QTEST_GUILESS_MAIN(TestReauthFlow)
#include "tst_reauthflow.moc"

// daemon::SignInService against the companion servers: the "agent" only relays the redirect it captured; forged responses,
// another subject, cancel, the deadline.
#include "dasfixture.h"
#include "flowfollower.h"

#include "app/daemon/signinservice.h"
#include "app/stubs/enterprise/enterpriseservice.h"
#include "app/stubs/push/pushservice.h"
#include "core/das/enroller.h"
#include "core/flow/progresstext.h"
#include "core/store/agentstate.h"
#include "core/store/filesecretstore.h"

#include <QSignalSpy>
#include <QStandardPaths>
#include <QUrlQuery>

#include <map>
#include <sys/stat.h>

using namespace hotdesk;
using namespace hotdesk::test;

namespace {

das::Fingerprint testFingerprint()
{
    das::Fingerprint fp;
    fp.machineId = QStringLiteral("4c4c4544-0031-3910-8052-b6c04f4d3832");
    fp.osName = QStringLiteral("Debian GNU/Linux");
    fp.osVersion = QStringLiteral("12");
    fp.agentVersion = QStringLiteral("0.1.0");
    return fp;
}

template <typename R> QByteArray why(const R &r)
{
    return r ? QByteArray() : (r.error().codeName() + QStringLiteral(": ") + r.error().message).toUtf8();
}

// Every message any part of the process logs while a test runs.
QStringList g_logged;
QtMessageHandler g_testHandler = nullptr; // Qt Test's own, which still gets every message
void recordMessage(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    g_logged << message;
    if (g_testHandler)
        g_testHandler(type, context, message);
}

QUrl withQueryItem(QUrl url, const QString &name, const QString &value)
{
    QUrlQuery query(url);
    query.removeAllQueryItems(name);
    query.addQueryItem(name, value);
    url.setQuery(query);
    return url;
}

} // namespace

class TestSignInService : public QObject {
    Q_OBJECT

    struct Outcome {
        std::optional<daemon::SignInResult> result;
        std::optional<Error> error;
        int signals = 0;
    };

    DasFixture f;
    std::unique_ptr<QTemporaryDir> m_stateDir;
    daemon::SignInSettings m_settings;
    std::unique_ptr<daemon::SignInService> m_service;
    std::map<QString, QUrl> m_urls;
    std::map<QString, Outcome> m_outcomes;
    QString m_deviceId;
    QByteArray m_privateD; // the device key's private part, which must never appear anywhere

    void makeService()
    {
        m_urls.clear();
        m_outcomes.clear();
        m_service = std::make_unique<daemon::SignInService>(
            m_settings, [] { return Result<das::Fingerprint>(testFingerprint()); }, f.clock, f.random);
        connect(m_service.get(), &daemon::SignInService::authorizationUrlReady, this,
            [this](const QString &id, const QUrl &url) { m_urls[id] = url; });
        connect(m_service.get(), &daemon::SignInService::succeeded, this,
            [this](const QString &id, const daemon::SignInResult &result) {
                m_outcomes[id].result = result;
                ++m_outcomes[id].signals;
            });
        connect(m_service.get(), &daemon::SignInService::failed, this, [this](const QString &id, const Error &error) {
            m_outcomes[id].error = error;
            ++m_outcomes[id].signals;
        });
    }

    // Flow 3 into the daemon's state directory: the device key as a file of the FileSecretStore.
    void enrollIntoStateDirectory()
    {
        const HttpResult published = f.client->get(f.at(QStringLiteral("/v1/activation-key")));
        QCOMPARE(published.status, 200);
        auto keys = jose::JwkSet::fromJson(published.body);
        QVERIFY(keys);
        das::EnrollTarget target {QUrl(f.dasUrl()), f.dasUrl(), *keys, QStringLiteral("pc-desk-12")};
        net::HttpClient http(m_settings.trust);
        store::FileSecretStore secrets(store::daemonSecretDirectory(m_settings.stateDirectory));
        store::AgentState state(m_settings.stateDirectory);
        das::Enroller enroller(http, secrets, state, f.clock, f.random);
        std::optional<Result<store::EnrollmentRecord>> enrolled;
        enroller.enroll(target, f.adminToken().toLatin1(), [&](Result<store::EnrollmentRecord> r) { enrolled = r; });
        QTRY_VERIFY_WITH_TIMEOUT(enrolled, 30000);
        QVERIFY2(*enrolled, why(*enrolled));
        m_deviceId = (*enrolled)->deviceId;
        auto key = secrets.read((*enrolled)->keyName);
        QVERIFY2(key, why(key));
        m_privateD = QJsonDocument::fromJson(*key).object().value(QLatin1String("d")).toString().toLatin1();
        QVERIFY(!m_privateD.isEmpty());
    }

    QString start(const QString &session, const QString &user = QStringLiteral("alice"))
    {
        auto id = m_service->start(session, flow::FlowOptions {user});
        if (!id)
            qFatal("start: %s", why(id).constData());
        return *id;
    }

    bool waitForUrl(const QString &id)
    {
        QDeadlineTimer patience(30000);
        while (!m_urls.count(id) && !m_outcomes.count(id) && !patience.hasExpired())
            QTest::qWait(10);
        return m_urls.count(id) != 0;
    }

    // Only a hung sign-in meets this limit; it is not a measure of speed.
    const Outcome &waitForOutcome(const QString &id)
    {
        QDeadlineTimer patience(60000);
        while (!m_outcomes.count(id) && !patience.hasExpired())
            QTest::qWait(10);
        return m_outcomes[id];
    }

    // What the agent does: shows the IdP's page (here: a browser without
    // JavaScript following it while the phone approves) and captures the redirect.
    QUrl captureRedirect(const QString &id)
    {
        FlowFollower browser(f.server->caFile());
        browser.setRefreshDelayMs(20);
        const FollowResult followed = browser.follow(m_urls.at(id), QStringLiteral("com.hotdesk.agent:"), true);
        if (!followed.reachedRedirect)
            qWarning("the browser stopped: %s", qPrintable(followed.error));
        return followed.redirect;
    }

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void init()
    {
        f.clock.setSeconds(1'767'225'600);
        f.autoApprove = std::chrono::milliseconds(0);
        f.start<stubs::push::PushService, stubs::enterprise::EnterpriseService>();
        m_stateDir = std::make_unique<QTemporaryDir>();
        QVERIFY(::chmod(QFile::encodeName(m_stateDir->path()).constData(), 0700) == 0);
        auto trust = net::TlsTrust::fromBundle(f.server->caFile());
        QVERIFY(trust);
        m_settings = {};
        m_settings.servers.dasUrls = {QUrl(f.dasUrl())};
        m_settings.servers.idpIssuer = f.idp()->issuer();
        m_settings.servers.clientId = QStringLiteral("hotdesk-agent");
        m_settings.servers.approvalTimeout = std::chrono::milliseconds(20000);
        m_settings.trust = *trust;
        m_settings.stateDirectory = m_stateDir->path();
        enrollIntoStateDirectory();
        makeService();
        g_logged.clear();
        g_testHandler = qInstallMessageHandler(recordMessage);
    }

    void cleanup()
    {
        qInstallMessageHandler(g_testHandler);
        // Nothing logged anything secret.
        for (const QString &line : std::as_const(g_logged))
            QVERIFY2(!line.contains(QLatin1String(m_privateD)), qPrintable(line));
        m_service.reset();
        f.stop();
    }

    void signsInWhenTheAgentRelaysTheRedirect()
    {
        QSignalSpy steps(m_service.get(), &daemon::SignInService::progress);
        const QString id = start(QStringLiteral("c2"));
        QCOMPARE(m_service->signInOf(QStringLiteral("c2")), std::optional<QString>(id));
        QVERIFY(waitForUrl(id));
        // The agent gets the IdP's URL with the signed request, nothing of the flow's own secrets.
        const QUrlQuery query(m_urls.at(id));
        QVERIFY(query.hasQueryItem(QStringLiteral("request")));
        QVERIFY(!query.hasQueryItem(QStringLiteral("code_verifier")));
        const QUrl redirect = captureRedirect(id);
        QVERIFY(redirect.isValid());
        QVERIFY2(m_service->deliverAuthorizationResponse(id, redirect), "the genuine response was refused");
        const Outcome &outcome = waitForOutcome(id);
        QVERIFY2(outcome.result, outcome.error ? qPrintable(outcome.error->message) : "no outcome");
        QCOMPARE(outcome.signals, 1);
        QCOMPARE(outcome.result->sessionId, QStringLiteral("c2"));
        QCOMPARE(outcome.result->user, QStringLiteral("alice"));
        QVERIFY(!outcome.result->sharedId.isEmpty());
        QVERIFY(outcome.result->authTime > 0);
        // The daemon remembers the shared id in its own state directory.
        auto known = store::AgentState(m_stateDir->path()).knownUser(QStringLiteral("alice"));
        QVERIFY(known && *known);
        QCOMPARE(**known, outcome.result->sharedId);
        QVERIFY(!steps.isEmpty());
        QCOMPARE(steps.first().at(0).toString(), id);
        // Each progress message comes with its id for the agent to translate; the id's English text is the message.
        for (const QList<QVariant> &step : std::as_const(steps)) {
            QVERIFY(!step.at(3).toString().isEmpty());
            QCOMPARE(flow::progressText(step.at(3).toString(), step.at(4).toStringList()), step.at(2).toString());
        }
        // Done: the id is gone, the session free, and the same response is not taken twice.
        QVERIFY(!m_service->signInOf(QStringLiteral("c2")));
        QCOMPARE(m_service->deliverAuthorizationResponse(id, redirect).error().code, ErrorCode::StateMismatch);
        QTest::qWait(50);
        QCOMPARE(m_outcomes[id].signals, 1);
        // The device key: a 0600 file in a 0700 directory, and the only file that holds it.
        const QString secrets = store::daemonSecretDirectory(m_stateDir->path());
        struct stat info { };
        QVERIFY(::stat(QFile::encodeName(secrets).constData(), &info) == 0);
        QCOMPARE(info.st_mode & 07777, mode_t(0700));
        const QStringList files = QDir(secrets).entryList(QDir::Files | QDir::Hidden);
        QCOMPARE(files.size(), 1);
        QVERIFY(::stat(QFile::encodeName(secrets + u'/' + files.first()).constData(), &info) == 0);
        QCOMPARE(info.st_mode & 07777, mode_t(0600));
        for (const QString &name : QDir(m_stateDir->path()).entryList(QDir::Files | QDir::Hidden)) {
            QFile file(m_stateDir->filePath(name));
            QVERIFY(file.open(QIODevice::ReadOnly));
            QVERIFY2(!file.readAll().contains(m_privateD), qPrintable(name));
        }
    }

    void forgedResponsesAreRefused_data()
    {
        QTest::addColumn<QString>("forgery");
        QTest::addColumn<bool>("keepsWaiting"); // refused by the relay: the genuine response still signs in
        QTest::newRow("wrong state") << QStringLiteral("wrong state") << false;
        QTest::newRow("another sign-in's response") << QStringLiteral("other response") << false;
        QTest::newRow("another sign-in's code") << QStringLiteral("other code") << false;
        QTest::newRow("garbage at the redirect URI") << QStringLiteral("garbage") << false;
        QTest::newRow("an error without state") << QStringLiteral("error") << false;
        QTest::newRow("another redirect URI") << QStringLiteral("other uri") << true;
        QTest::newRow("another scheme") << QStringLiteral("other scheme") << true;
        QTest::newRow("not a URL") << QStringLiteral("not a url") << true;
    }

    void forgedResponsesAreRefused()
    {
        QFETCH(QString, forgery);
        QFETCH(bool, keepsWaiting);
        // Two sessions sign in at once; the forger has both redirects.
        const QString other = start(QStringLiteral("c3"));
        const QString target = start(QStringLiteral("c4"));
        QVERIFY(waitForUrl(other) && waitForUrl(target));
        const QUrl otherRedirect = captureRedirect(other);
        const QUrl genuine = captureRedirect(target);
        QVERIFY(otherRedirect.isValid() && genuine.isValid());
        const QString otherCode = QUrlQuery(otherRedirect).queryItemValue(QStringLiteral("code"));
        QUrl forged;
        if (forgery == u"wrong state")
            forged = withQueryItem(genuine, QStringLiteral("state"), QStringLiteral("guessed-state"));
        else if (forgery == u"other response")
            forged = otherRedirect;
        else if (forgery == u"other code")
            forged = withQueryItem(genuine, QStringLiteral("code"), otherCode);
        else if (forgery == u"garbage")
            forged = QUrl(QStringLiteral("com.hotdesk.agent:/callback?%00%ff&&==&code"));
        else if (forgery == u"error")
            forged = QUrl(QStringLiteral("com.hotdesk.agent:/callback?error=access_denied"));
        else if (forgery == u"other uri")
            forged = QUrl(QStringLiteral("http://127.0.0.1:1/callback?") + genuine.query());
        else if (forgery == u"other scheme")
            forged = QUrl(QStringLiteral("com.evil.agent:/callback?") + genuine.query());
        else
            forged = QUrl(QStringLiteral("::: not a url"));
        const Status delivered = m_service->deliverAuthorizationResponse(target, forged);
        if (keepsWaiting) {
            QVERIFY(!delivered);
            QCOMPARE(delivered.error().code, ErrorCode::MalformedAnswer);
            // Refused, and the code in it is not repeated in the refusal.
            QVERIFY(!delivered.error().message.contains(QUrlQuery(genuine).queryItemValue(QStringLiteral("code"))));
            QTest::qWait(100);
            QVERIFY(!m_outcomes.count(target));
            QVERIFY(m_service->deliverAuthorizationResponse(target, genuine));
            const Outcome &outcome = waitForOutcome(target);
            QVERIFY2(outcome.result, outcome.error ? qPrintable(outcome.error->message) : "no outcome");
        } else {
            // Handed to the flow, which checks it and fails closed.
            QVERIFY2(delivered, why(delivered));
            const Outcome &outcome = waitForOutcome(target);
            QVERIFY(!outcome.result);
            QVERIFY(outcome.error);
            QCOMPARE(outcome.signals, 1);
            // Another sign-in's code passes the state check but not the IdP's PKCE check with this verifier.
            QCOMPARE(outcome.error->code, forgery == u"other code" ? ErrorCode::ServerError : ErrorCode::StateMismatch);
            if (forgery == u"other code")
                QVERIFY2(outcome.error->message.contains(QLatin1String("invalid_grant")), qPrintable(outcome.error->message));
            // The genuine response comes too late.
            QCOMPARE(m_service->deliverAuthorizationResponse(target, genuine).error().code, ErrorCode::StateMismatch);
        }
        QTest::qWait(50);
        QCOMPARE(m_outcomes[target].signals, 1);
        QVERIFY(m_service->cancel(other));
    }

    void aTokenForAnotherSubjectIsRefused()
    {
        // The daemon's users.json names a shared id for alice that the IdP does not issue.
        QVERIFY(store::AgentState(m_stateDir->path()).rememberUser(QStringLiteral("alice"), QStringLiteral("not-alices-id")));
        // The DAS must know alice for the request object; register her directly.
        auto key
            = store::FileSecretStore(store::daemonSecretDirectory(m_stateDir->path())).read(store::deviceKeyName(f.dasUrl()));
        QVERIFY(key);
        jose::JwkOptions options;
        options.allowPrivate = true;
        auto jwk = jose::Jwk::fromJson(*key, options);
        QVERIFY(jwk);
        const HttpResult users = f.postJson(QStringLiteral("/v1/users"),
            {{QStringLiteral("username"), QStringLiteral("alice")}, {QStringLiteral("type"), QStringLiteral("AD")}},
            f.deviceAuth(EnrolledDevice {m_deviceId, *jwk}));
        QCOMPARE(users.status, 201);
        const QString id = start(QStringLiteral("c5"));
        QVERIFY(waitForUrl(id));
        QVERIFY(m_service->deliverAuthorizationResponse(id, captureRedirect(id)));
        const Outcome &outcome = waitForOutcome(id);
        QVERIFY(!outcome.result);
        QCOMPARE(outcome.error->code, ErrorCode::SubjectMismatch);
    }

    void oneSignInPerSessionAndCancel()
    {
        const QString first = start(QStringLiteral("c6"));
        auto again = m_service->start(QStringLiteral("c6"), flow::FlowOptions {QStringLiteral("alice")});
        QVERIFY(!again);
        QCOMPARE(again.error().code, ErrorCode::Unsupported);
        // Cancelled before the flow even started: failed() at once, no URL ever.
        const QString early = start(QStringLiteral("c7"), QStringLiteral("bob"));
        QVERIFY(m_service->cancel(early));
        QCOMPARE(m_outcomes[early].error->code, ErrorCode::Cancelled);
        QVERIFY(waitForUrl(first));
        QVERIFY(m_service->cancel(first));
        QCOMPARE(m_outcomes[first].signals, 1);
        QCOMPARE(m_outcomes[first].error->code, ErrorCode::Cancelled);
        // The browser arriving late finds nobody waiting.
        const QUrl late = captureRedirect(first);
        QCOMPARE(m_service->deliverAuthorizationResponse(first, late).error().code, ErrorCode::StateMismatch);
        QCOMPARE(m_service->cancel(first).error().code, ErrorCode::StateMismatch);
        QTest::qWait(200);
        QCOMPARE(m_outcomes[first].signals, 1);
        QCOMPARE(m_outcomes[early].signals, 1);
        QVERIFY(!m_urls.count(early));
        // The session may sign in again.
        const QString next = start(QStringLiteral("c6"));
        QVERIFY(next != first);
        QVERIFY(waitForUrl(next));
        QVERIFY(m_service->deliverAuthorizationResponse(next, captureRedirect(next)));
        QVERIFY(waitForOutcome(next).result);
    }

    void badStartsAreRefused()
    {
        QCOMPARE(m_service->start(QString(), flow::FlowOptions {QStringLiteral("alice")}).error().code, ErrorCode::UserUnknown);
        QCOMPARE(
            m_service->start(QStringLiteral("c8"), flow::FlowOptions {QStringLiteral(" ")}).error().code, ErrorCode::UserUnknown);
        flow::FlowOptions admin {QStringLiteral("alice")};
        admin.administratorSignIn = true;
        QCOMPARE(m_service->start(QStringLiteral("c8"), admin).error().code, ErrorCode::Unsupported);
        QCOMPARE(m_service
                     ->start(QStringLiteral("c8"), flow::FlowOptions {QStringLiteral("alice")},
                         QStringLiteral("https://evil.example/callback"))
                     .error()
                     .code,
            ErrorCode::Unsupported);
        QVERIFY(!m_service->signInOf(QStringLiteral("c8")));
        QCOMPARE(
            m_service->deliverAuthorizationResponse(QStringLiteral("no-such-id"), QUrl()).error().code, ErrorCode::StateMismatch);
    }

    void nobodyCompletesTheSignIn()
    {
        m_settings.servers.approvalTimeout = std::chrono::milliseconds(300);
        m_settings.servers.responseTimeout = std::chrono::milliseconds(500);
        makeService();
        const QString id = start(QStringLiteral("c9"));
        QVERIFY(waitForUrl(id));
        const Outcome &outcome = waitForOutcome(id);
        QVERIFY(!outcome.result);
        QCOMPARE(outcome.error->code, ErrorCode::Timeout);
        QVERIFY(!m_service->signInOf(QStringLiteral("c9")));
    }

    void notEnrolledFails()
    {
        QTemporaryDir empty;
        QVERIFY(::chmod(QFile::encodeName(empty.path()).constData(), 0700) == 0);
        m_settings.stateDirectory = empty.path();
        makeService();
        const QString id = start(QStringLiteral("c10"));
        const Outcome &outcome = waitForOutcome(id);
        QCOMPARE(outcome.signals, 1);
        QCOMPARE(outcome.error->code, ErrorCode::NotEnrolled);
        QVERIFY(!m_urls.count(id));
    }
};

QTEST_GUILESS_MAIN(TestSignInService)
#include "tst_signinservice.moc"

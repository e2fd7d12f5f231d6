// Interoperability: "hotdesk login --browser print" against the npm oidc-provider, a standards OpenID Provider, with the DAS of hotdesk-stubs signing the request objects.
#include "stubsprocess.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkCookieJar>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QUrlQuery>

namespace {

// The account the test maps alice to at the DAS, and logs in with at the provider.
const QString kUser = QStringLiteral("alice@corp.example");
const QString kSharedId = QStringLiteral("interop-alice-6f1d2c");

// A free loopback port: bound once, then released for the provider to take.
quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

QJsonObject payloadOf(const QByteArray &jwt)
{
    const QList<QByteArray> parts = jwt.split('.');
    if (parts.size() != 3)
        return {};
    return QJsonDocument::fromJson(QByteArray::fromBase64(parts[1], QByteArray::Base64UrlEncoding)).object();
}

QString unescapeHtml(QString text)
{
    return text.replace(QLatin1String("&amp;"), QLatin1String("&")).replace(QLatin1String("&quot;"), QLatin1String("\""))
        .replace(QLatin1String("&#39;"), QLatin1String("'")).replace(QLatin1String("&lt;"), QLatin1String("<"))
        .replace(QLatin1String("&gt;"), QLatin1String(">"));
}

// A person at the provider's pages without JavaScript: follows redirects
// itself (so it sees where they go), keeps the provider's cookies, and
// submits the login and consent forms of oidc-provider's devInteractions.
class ProviderBrowser {
public:
    explicit ProviderBrowser(const QString &caFile)
    {
        m_ssl = QSslConfiguration::defaultConfiguration();
        m_ssl.addCaCertificates(caFile);
        m_manager.setCookieJar(new QNetworkCookieJar(&m_manager));
    }

    struct Outcome {
        QUrl redirect;    // the URL that left the provider for the agent, empty if none
        int loginForms = 0; // how often the provider asked for a login
        QString error;
    };

    // Drives the pages from url on, logging in as login, until a redirect
    // leaves for the agent's loopback listener, which gets it as a browser
    // would deliver it. When the provider asks for a login a second time (it
    // refused the first), the person gives up with the page's Cancel link.
    Outcome signIn(QUrl url, const QString &login, const QString &agentPrefix)
    {
        Outcome outcome;
        QByteArray form; // the body of a form being submitted, empty for a GET
        for (int step = 0; step < 30; ++step) {
            if (url.toString().startsWith(agentPrefix)) {
                outcome.redirect = url;
                send(url, {});
                return outcome;
            }
            const Page page = send(url, form);
            form.clear();
            if (page.status == 0) {
                outcome.error = QStringLiteral("%1: %2").arg(url.toString(), page.error);
                return outcome;
            }
            if (page.status >= 300 && page.status < 400) {
                url = url.resolved(QUrl::fromEncoded(page.location));
                continue;
            }
            const QString html = QString::fromUtf8(page.body);
            static const QRegularExpression formTag(QStringLiteral("<form[^>]*action=\"([^\"]+)\"[^>]*method=\"post\""));
            const auto action = formTag.match(html);
            if (page.status != 200 || !action.hasMatch()) {
                outcome.error = QStringLiteral("stopped at %1 with status %2: %3").arg(url.toString()).arg(page.status)
                                    .arg(html.left(400));
                return outcome;
            }
            QUrlQuery fields;
            static const QRegularExpression hidden(QStringLiteral("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\""));
            for (auto it = hidden.globalMatch(html); it.hasNext();) {
                const auto input = it.next();
                fields.addQueryItem(input.captured(1), unescapeHtml(input.captured(2)));
            }
            if (html.contains(QLatin1String("name=\"login\""))) {
                if (++outcome.loginForms > 1) {
                    static const QRegularExpression cancel(QStringLiteral("<a href=\"([^\"]+)\">\\[ Cancel \\]</a>"));
                    const auto link = cancel.match(html);
                    if (!link.hasMatch()) {
                        outcome.error = QStringLiteral("the second login page has no Cancel link");
                        return outcome;
                    }
                    url = url.resolved(QUrl(unescapeHtml(link.captured(1))));
                    continue;
                }
                fields.addQueryItem(QStringLiteral("login"), login);
                // devInteractions accepts any password; the form requires one.
                fields.addQueryItem(QStringLiteral("password"), QStringLiteral("any"));
            }
            form = fields.query(QUrl::FullyEncoded).toLatin1();
            url = url.resolved(QUrl(unescapeHtml(action.captured(1))));
        }
        outcome.error = QStringLiteral("too many steps");
        return outcome;
    }

private:
    struct Page {
        int status = 0;
        QByteArray location;
        QByteArray body;
        QString error;
    };

    Page send(const QUrl &url, const QByteArray &form)
    {
        QNetworkRequest request(url);
        request.setSslConfiguration(m_ssl);
        request.setTransferTimeout(30000);
        request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
        QNetworkReply *reply = nullptr;
        if (form.isEmpty()) {
            reply = m_manager.get(request);
        } else {
            request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/x-www-form-urlencoded"));
            reply = m_manager.post(request, form);
        }
        QEventLoop loop;
        QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
        loop.exec();
        reply->deleteLater();
        Page page;
        page.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        page.location = reply->rawHeader("Location");
        page.body = reply->readAll();
        page.error = reply->errorString();
        return page;
    }

    QNetworkAccessManager m_manager;
    QSslConfiguration m_ssl;
};

} // namespace

class TestInterop : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void policyNamesTheProvider();
    void signIn_data();
    void signIn();
    void administratorEnrollsThroughTheProvider();

private:
    struct Run {
        int exitCode = -1;
        QByteArray out;
        QByteArray err;
        QUrl openUrl;
        ProviderBrowser::Outcome browser;
    };
    // hotdesk login --browser print for kUser; the person logs in at the provider as login.
    Run loginPrint(const QString &login);
    // Any hotdesk command that signs in with --browser print; the person logs in as login.
    Run runPrint(const QStringList &args, const QString &login, const QString &stateDir);
    // (Re)starts the provider on its port, so its issuer stays the one the DAS knows.
    void startProvider(bool ignoresRequestedSub);

    QTemporaryDir m_dir;
    QString m_data;
    QString m_state;
    QString m_ca;
    QString m_policy;
    QString m_issuer;
    quint16 m_providerPort = 0;
    QString m_dasUrl;
    bool m_providerIgnoresSub = false;
    QProcess m_stubs;
    QProcess m_provider;
};

void TestInterop::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_data = m_dir.filePath(QStringLiteral("data"));
    m_state = m_dir.filePath(QStringLiteral("state"));
    QVERIFY(QDir().mkpath(m_data));
    m_ca = QDir(m_data).filePath(QStringLiteral("ca.pem"));
    m_policy = QDir(m_data).filePath(QStringLiteral("agent-policy.json"));

    // The provider's address first: the DAS writes request objects for it.
    // The DAS reads its discovery document only on the first request, so the
    // stubs may start before the provider, which needs the DAS's /jwks URL.
    m_providerPort = freePort();
    QVERIFY(m_providerPort != 0);
    m_issuer = QStringLiteral("https://127.0.0.1:%1").arg(m_providerPort);

    m_stubs.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    m_stubs.start(QStringLiteral(HOTDESK_STUBS_BINARY),
        {QStringLiteral("all"), QStringLiteral("--data"), m_data, QStringLiteral("--issuer"), m_issuer,
            QStringLiteral("--client-id"), QStringLiteral("hotdesk-agent")});
    QVERIFY(m_stubs.waitForStarted(10000));
    QByteArray stubsOutput;
    QTRY_VERIFY_WITH_TIMEOUT((stubsOutput += m_stubs.readAllStandardOutput()).contains("\nca "), 30000);
    static const QRegularExpression dasLine(QStringLiteral("^das (https://\\S+)$"), QRegularExpression::MultilineOption);
    const auto das = dasLine.match(QString::fromUtf8(stubsOutput));
    QVERIFY2(das.hasMatch(), stubsOutput.constData());

    m_dasUrl = das.captured(1);
    startProvider(false);
    if (QTest::currentTestFailed())
        return;

    // The DAS has no user directory with --issuer: the administrator maps the user.
    QProcess map;
    map.start(QStringLiteral(HOTDESK_STUBS_BINARY),
        {QStringLiteral("admin"), QStringLiteral("map-user"), kUser, kSharedId, QStringLiteral("--data"), m_data});
    QVERIFY(map.waitForFinished(30000));
    QVERIFY2(map.exitCode() == 0, map.readAllStandardError().constData());

    QProcess admin;
    admin.start(QStringLiteral(HOTDESK_STUBS_BINARY),
        {QStringLiteral("admin"), QStringLiteral("create-token"), QStringLiteral("--role"), QStringLiteral("admin"),
            QStringLiteral("--data"), m_data});
    QVERIFY(admin.waitForFinished(30000));
    QCOMPARE(admin.exitCode(), 0);
    const QByteArray token = admin.readAllStandardOutput().trimmed().split('\n').last();
    QVERIFY(token.startsWith("hdat_"));

    QProcess enroll;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("HOTDESK_STATE_DIR"), m_state);
    enroll.setProcessEnvironment(env);
    enroll.start(QStringLiteral(HOTDESK_BINARY),
        {QStringLiteral("enroll"), QStringLiteral("--policy"), m_policy, QStringLiteral("--admin-token"), QString::fromLatin1(token)});
    QVERIFY(enroll.waitForFinished(60000));
    QVERIFY2(enroll.exitCode() == 0, enroll.readAllStandardError().constData());
}

void TestInterop::startProvider(bool ignoresRequestedSub)
{
    hotdesk::test::stopProcess(m_provider);
    // TLS: the provider shows the stubs' server certificate (127.0.0.1, signed
    // by the CA of the data directory), which the agent's policy and the DAS
    // trust; node trusts that CA for the DAS's /jwks.
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("NODE_EXTRA_CA_CERTS"), m_ca);
    m_provider.setProcessEnvironment(env);
    m_provider.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    QStringList args{QStringLiteral(HOTDESK_INTEROP_DIR "/provider.mjs"), QStringLiteral("--cert"),
        QDir(m_data).filePath(QStringLiteral("server.pem")), QStringLiteral("--key"),
        QDir(m_data).filePath(QStringLiteral("server-key.pem")), QStringLiteral("--client-jwks-uri"),
        QString(m_dasUrl + QStringLiteral("/jwks")), QStringLiteral("--port"), QString::number(m_providerPort)};
    if (ignoresRequestedSub)
        args << QStringLiteral("--ignore-requested-sub");
    m_provider.start(QStringLiteral(HOTDESK_NODE), args);
    QVERIFY(m_provider.waitForStarted(10000));
    QByteArray output;
    QTRY_VERIFY_WITH_TIMEOUT((output += m_provider.readAllStandardOutput()).contains('\n')
                                 || m_provider.state() == QProcess::NotRunning,
        30000);
    QCOMPARE(QString::fromUtf8(output.trimmed()), QString(QStringLiteral("issuer ") + m_issuer));
    m_providerIgnoresSub = ignoresRequestedSub;
}

void TestInterop::cleanupTestCase()
{
    hotdesk::test::stopProcess(m_provider);
    hotdesk::test::stopProcess(m_stubs);
}

void TestInterop::policyNamesTheProvider()
{
    // With --issuer the stubs' agent policy expects the provider's tokens.
    const QJsonObject servers = hotdesk::test::readJsonFile(m_policy).value(QLatin1String("servers")).toObject();
    QCOMPARE(servers.value(QLatin1String("idp_issuer")).toString(), m_issuer);
    QCOMPARE(servers.value(QLatin1String("client_id")).toString(), QStringLiteral("hotdesk-agent"));
}

TestInterop::Run TestInterop::loginPrint(const QString &login)
{
    return runPrint({QStringLiteral("login"), QStringLiteral("--user"), kUser, QStringLiteral("--browser"), QStringLiteral("print"),
                        QStringLiteral("--policy"), m_policy},
        login, m_state);
}

TestInterop::Run TestInterop::runPrint(const QStringList &args, const QString &login, const QString &stateDir)
{
    Run run;
    QProcess agent;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("HOTDESK_STATE_DIR"), stateDir);
    agent.setProcessEnvironment(env);
    agent.start(QStringLiteral(HOTDESK_BINARY), args);
    if (!agent.waitForStarted(10000))
        return run;
    // The first stdout line is "open: URL"; it never comes when an early step fails.
    QByteArray out;
    QDeadlineTimer deadline(60000);
    while (!out.contains('\n') && agent.state() != QProcess::NotRunning && !deadline.hasExpired()) {
        agent.waitForReadyRead(200);
        out += agent.readAllStandardOutput();
    }
    if (out.startsWith("open: ")) {
        run.openUrl = QUrl::fromEncoded(out.mid(6, out.indexOf('\n') - 6));
        ProviderBrowser browser(m_ca);
        run.browser = browser.signIn(run.openUrl, login, QStringLiteral("http://127.0.0.1:"));
    }
    // Nothing reached the agent's listener: it would wait for its approval timeout.
    if (run.browser.redirect.isEmpty())
        agent.terminate();
    agent.waitForFinished(120000);
    run.exitCode = agent.exitStatus() == QProcess::NormalExit ? agent.exitCode() : -1;
    run.out = out + agent.readAllStandardOutput();
    run.err = agent.readAllStandardError();
    return run;
}

void TestInterop::signIn_data()
{
    QTest::addColumn<QString>("login");
    QTest::addColumn<bool>("providerIgnoresSub");
    QTest::addColumn<int>("loginForms");
    QTest::addColumn<QString>("reason"); // after "rejected:"; empty: signed in
    // The provider's account is the shared id the DAS asked for.
    QTest::newRow("the mapped account") << kSharedId << false << 1 << QString();
    // Another account: the request object's claims.id_token.sub.value is
    // essential, so the provider asks for a login again; the person cancels.
    QTest::newRow("another account") << QStringLiteral("mallory-3a9e") << false << 2 << QStringLiteral("access_denied");
    // A provider that ignores the requested sub issues a token for the other
    // account: the agent's own check refuses it.
    QTest::newRow("another account, sub ignored by the provider")
        << QStringLiteral("mallory-3a9e") << true << 1 << QStringLiteral("subject_mismatch");
}

void TestInterop::signIn()
{
    QFETCH(QString, login);
    QFETCH(bool, providerIgnoresSub);
    QFETCH(int, loginForms);
    QFETCH(QString, reason);
    if (providerIgnoresSub != m_providerIgnoresSub) {
        startProvider(providerIgnoresSub);
        if (QTest::currentTestFailed())
            return;
    }
    const Run run = loginPrint(login);
    QVERIFY2(run.openUrl.isValid() && !run.openUrl.isEmpty(), QByteArray(run.out + run.err).constData());
    QVERIFY2(run.browser.error.isEmpty(), qPrintable(run.browser.error));
    QVERIFY2(!run.browser.redirect.isEmpty(), run.err.constData());
    QCOMPARE(run.browser.loginForms, loginForms);

    // The agent sends the browser to the provider's own authorization endpoint
    // (from its discovery document) with the DAS's request object for the provider.
    QVERIFY2(run.openUrl.toString().startsWith(m_issuer + QLatin1Char('/')), run.out.constData());
    const QUrlQuery query(run.openUrl);
    QCOMPARE(query.queryItemValue(QStringLiteral("client_id")), QStringLiteral("hotdesk-agent"));
    const QJsonObject request = payloadOf(query.queryItemValue(QStringLiteral("request")).toLatin1());
    QCOMPARE(request.value(QLatin1String("aud")).toString(), m_issuer);
    QCOMPARE(request.value(QLatin1String("claims")).toObject().value(QLatin1String("id_token")).toObject()
                 .value(QLatin1String("sub")).toObject().value(QLatin1String("value")).toString(),
        kSharedId);
    // RFC 9207: the provider names itself in the response.
    QCOMPARE(QUrlQuery(run.browser.redirect).queryItemValue(QStringLiteral("iss"), QUrl::FullyDecoded), m_issuer);

    if (!reason.isEmpty()) {
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains(QByteArray("rejected: " + reason.toLatin1())), run.err.constData());
        // Nothing that looks like success: no claims on stdout.
        QVERIFY(!run.out.contains("\"sub\""));
        return;
    }
    QVERIFY2(run.exitCode == 0, run.err.constData());
    const qsizetype newline = run.out.indexOf('\n');
    const QJsonObject claims = QJsonDocument::fromJson(run.out.mid(newline + 1)).object();
    QVERIFY2(!claims.isEmpty(), run.out.constData());
    QCOMPARE(claims.value(QLatin1String("iss")).toString(), m_issuer);
    QCOMPARE(claims.value(QLatin1String("aud")).toString(), QStringLiteral("hotdesk-agent"));
    QCOMPARE(claims.value(QLatin1String("sub")).toString(), kSharedId);
    QCOMPARE(claims.value(QLatin1String("nonce")).toString(), request.value(QLatin1String("nonce")).toString());
}

// hotdesk enroll without a token against the standards provider: the DAS reads
// the provider's keys from its discovery document and checks the
// administrator's ID token itself before it makes the activation.
void TestInterop::administratorEnrollsThroughTheProvider()
{
    if (m_providerIgnoresSub) {
        startProvider(false);
        if (QTest::currentTestFailed())
            return;
    }
    const QString boss = QStringLiteral("boss@corp.example");
    const QString bossAccount = QStringLiteral("boss-7c1d0e5a");
    auto stubsAdmin = [&](const QStringList &args) {
        return !hotdesk::test::stubsCommand(QStringLiteral(HOTDESK_STUBS_BINARY), m_data, QStringList {QStringLiteral("admin")} + args)
                    .isNull();
    };
    QVERIFY(stubsAdmin({QStringLiteral("map-user"), boss, bossAccount}));
    QVERIFY(stubsAdmin({QStringLiteral("grant"), boss, QStringLiteral("--role"), QStringLiteral("admin")}));

    const Run run = runPrint({QStringLiteral("enroll"), QStringLiteral("--policy"), m_policy, QStringLiteral("--admin-user"), boss,
                                 QStringLiteral("--browser"), QStringLiteral("print")},
        bossAccount, m_dir.filePath(QStringLiteral("state-boss")));
    QVERIFY2(run.browser.error.isEmpty(), qPrintable(run.browser.error));
    QVERIFY2(run.exitCode == 0, run.err.constData());
    const QList<QByteArray> lines = run.out.trimmed().split('\n');
    QCOMPARE(lines.size(), 2);
    QVERIFY2(lines.at(0).startsWith(QByteArray("open: " + m_issuer.toLatin1() + '/')), lines.at(0).constData());
    QVERIFY2(lines.at(1).startsWith(QByteArray("enrolled ")) && lines.at(1).endsWith(m_dasUrl.toLatin1()), lines.at(1).constData());
    QVERIFY2(run.err.contains("signed in; the ID token is valid"), run.err.constData());
}

QTEST_GUILESS_MAIN(TestInterop)
#include "tst_interop.moc"

// End to end: "hotdesk login" against "hotdesk-stubs all" over TLS on loopback, in print and system mode, and every way it must fail.
#include "core/store/recoverycodestore.h"
#include "core/store/secretstore.h"
#include "flowfollower.h"
#include "stubsprocess.h"

#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QUrlQuery>

#include <optional>

using namespace hotdesk::test;

namespace {

// A port nothing listens on: bound once, then released.
quint16 deadPort()
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

} // namespace

class TestLogin : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void printMode();
    void systemMode();
    void secondFlowForKnownUser();
    void embeddedMode();
    void serverFaults_data();
    void serverFaults();
    void slowServerTimesOut();
    void phoneDenies();
    void nobodyApprovesInTime();
    void identityProviderDown();
    void firstDasDownFailsOver();
    void wrongStateIsRejected();
    void notEnrolled();
    void doctorAllGood();
    void doctorNamesEachProblem();
    void doctorChecksAlternateMethods();
    void recoveryCodesAfterASignIn();
    void embeddedBrowserWithoutADisplaySaysSo();
    // Last: enrolling again with the same DAS replaces the device key the other functions use.
    void enrollsWithAnAdministratorsSignIn();

private:
    void startStubs(const QStringList &faults = {}, bool autoApprove = true, int approveDelayMs = 0);
    void stopStubs();
    QString policyWith(const std::function<void(QJsonObject &servers)> &edit);
    struct Run {
        int exitCode = -1;
        QByteArray out;
        QByteArray err;
        QUrl openUrl;
        FollowResult follow;
    };
    // Runs hotdesk login --browser print, follows the printed URL like a browser would.
    Run loginPrint(const QString &user, const QString &policy = {}, const QString &stateDir = {});
    // Runs any hotdesk command that signs in with --browser print, following the URL.
    Run runPrint(const QStringList &args, const QString &stateDir = {});
    QProcessEnvironment agentEnvironment() const;

    QTemporaryDir m_dir;
    QString m_data;
    QString m_state;
    QString m_ca;
    QString m_policy;
    QProcess m_stubs;
    QByteArray m_stubsOutput;
    quint16 m_portBase = 0;
};

QProcessEnvironment TestLogin::agentEnvironment() const
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("HOTDESK_STATE_DIR"), m_state);
    return env;
}

void TestLogin::startStubs(const QStringList &faults, bool autoApprove, int approveDelayMs)
{
    stopStubs();
    QFile::remove(QDir(m_data).filePath(QStringLiteral("endpoints.json")));
    QStringList args{QStringLiteral("all"), QStringLiteral("--data"), m_data, QStringLiteral("--port-base"),
        QString::number(m_portBase)};
    if (autoApprove)
        args << QStringLiteral("--auto-approve=%1").arg(approveDelayMs);
    for (const QString &fault : faults)
        args << QStringLiteral("--fault") << fault;
    m_stubs.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    m_stubs.start(QStringLiteral(HOTDESK_STUBS_BINARY), args);
    QVERIFY(m_stubs.waitForStarted(10000));
    m_stubsOutput.clear();
    QTRY_VERIFY_WITH_TIMEOUT((m_stubsOutput += m_stubs.readAllStandardOutput()).contains("\nca "), 30000);
    QVERIFY(QFile::exists(m_policy));
}

void TestLogin::stopStubs()
{
    stopProcess(m_stubs);
}

QString TestLogin::policyWith(const std::function<void(QJsonObject &servers)> &edit)
{
    QJsonObject policy = readJsonFile(m_policy);
    QJsonObject servers = policy.value(QLatin1String("servers")).toObject();
    edit(servers);
    policy.insert(QStringLiteral("servers"), servers);
    static int counter = 0;
    const QString file = m_dir.filePath(QStringLiteral("policy-%1.json").arg(++counter));
    writeJsonFile(file, policy);
    return file;
}

void TestLogin::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_data = m_dir.filePath(QStringLiteral("data"));
    m_state = m_dir.filePath(QStringLiteral("state"));
    QVERIFY(QDir().mkpath(m_data));
    m_ca = QDir(m_data).filePath(QStringLiteral("ca.pem"));
    m_policy = QDir(m_data).filePath(QStringLiteral("agent-policy.json"));
    m_portBase = freePortBase();
    QVERIFY(m_portBase != 0);
    startStubs();

    QProcess admin;
    admin.start(QStringLiteral(HOTDESK_STUBS_BINARY),
        {QStringLiteral("admin"), QStringLiteral("create-token"), QStringLiteral("--role"), QStringLiteral("admin"),
            QStringLiteral("--data"), m_data});
    QVERIFY(admin.waitForFinished(30000));
    QCOMPARE(admin.exitCode(), 0);
    const QByteArray token = admin.readAllStandardOutput().trimmed().split('\n').last();
    QVERIFY(token.startsWith("hdat_"));

    QProcess enroll;
    enroll.setProcessEnvironment(agentEnvironment());
    enroll.start(QStringLiteral(HOTDESK_BINARY),
        {QStringLiteral("enroll"), QStringLiteral("--policy"), m_policy, QStringLiteral("--admin-token"), QString::fromLatin1(token)});
    QVERIFY(enroll.waitForFinished(60000));
    QVERIFY2(enroll.exitCode() == 0, enroll.readAllStandardError().constData());
}

void TestLogin::cleanupTestCase()
{
    stopStubs();
}

TestLogin::Run TestLogin::loginPrint(const QString &user, const QString &policy, const QString &stateDir)
{
    return runPrint({QStringLiteral("login"), QStringLiteral("--user"), user, QStringLiteral("--browser"), QStringLiteral("print"),
                        QStringLiteral("--policy"), policy.isEmpty() ? m_policy : policy},
        stateDir);
}

TestLogin::Run TestLogin::runPrint(const QStringList &args, const QString &stateDir)
{
    Run run;
    QProcess agent;
    QProcessEnvironment env = agentEnvironment();
    if (!stateDir.isEmpty())
        env.insert(QStringLiteral("HOTDESK_STATE_DIR"), stateDir);
    agent.setProcessEnvironment(env);
    agent.start(QStringLiteral(HOTDESK_BINARY), args);
    if (!agent.waitForStarted(10000))
        return run;
    // The first stdout line is "open: URL"; it may never come when an early step fails.
    QByteArray out;
    QDeadlineTimer deadline(60000);
    while (!out.contains('\n') && agent.state() != QProcess::NotRunning && !deadline.hasExpired()) {
        agent.waitForReadyRead(200);
        out += agent.readAllStandardOutput();
    }
    if (out.startsWith("open: ")) {
        run.openUrl = QUrl::fromEncoded(out.mid(6, out.indexOf('\n') - 6));
        FlowFollower follower(m_ca);
        run.follow = follower.follow(run.openUrl, QStringLiteral("http://127.0.0.1:"));
    }
    agent.waitForFinished(120000);
    run.exitCode = agent.exitStatus() == QProcess::NormalExit ? agent.exitCode() : -1;
    run.out = out + agent.readAllStandardOutput();
    run.err = agent.readAllStandardError();
    return run;
}

void TestLogin::printMode()
{
    const Run run = loginPrint(QStringLiteral("alice"));
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QVERIFY(run.follow.reachedRedirect);
    // stdout: exactly the "open:" line, then the claims.
    const qsizetype newline = run.out.indexOf('\n');
    QVERIFY(run.out.startsWith("open: https://127.0.0.1:"));
    const QJsonObject claims = QJsonDocument::fromJson(run.out.mid(newline + 1)).object();
    QVERIFY2(!claims.isEmpty(), run.out.constData());
    const QJsonObject policy = readJsonFile(m_policy).value(QLatin1String("servers")).toObject();
    QCOMPARE(claims.value(QLatin1String("iss")).toString(), policy.value(QLatin1String("idp_issuer")).toString());
    QCOMPARE(claims.value(QLatin1String("aud")).toString(), QStringLiteral("hotdesk-agent"));
    QVERIFY(claims.value(QLatin1String("sub")).toString().size() >= 16);
    QVERIFY(!claims.value(QLatin1String("nonce")).toString().isEmpty());
    // The authorization URL carries a request object for this user, signed by the DAS.
    const QUrlQuery query(run.openUrl);
    QCOMPARE(query.queryItemValue(QStringLiteral("client_id")), QStringLiteral("hotdesk-agent"));
    const QJsonObject request = payloadOf(query.queryItemValue(QStringLiteral("request")).toLatin1());
    QCOMPARE(request.value(QLatin1String("claims")).toObject().value(QLatin1String("id_token")).toObject()
                 .value(QLatin1String("sub")).toObject().value(QLatin1String("value")).toString(),
        claims.value(QLatin1String("sub")).toString());
    QVERIFY(run.err.contains("hotdesk: Approve the sign-in on your phone."));
}

void TestLogin::systemMode()
{
    QProcess agent;
    QProcessEnvironment env = agentEnvironment();
    env.insert(QStringLiteral("BROWSER"), QStringLiteral(HOTDESK_TEST_BROWSER));
    env.insert(QStringLiteral("HOTDESK_TEST_CA"), m_ca);
    agent.setProcessEnvironment(env);
    agent.start(QStringLiteral(HOTDESK_BINARY),
        {QStringLiteral("login"), QStringLiteral("--user"), QStringLiteral("bob@corp.example"), QStringLiteral("--browser"),
            QStringLiteral("system"), QStringLiteral("--policy"), m_policy});
    QVERIFY(agent.waitForFinished(120000));
    const QByteArray err = agent.readAllStandardError();
    QVERIFY2(agent.exitCode() == 0, err.constData());
    const QByteArray out = agent.readAllStandardOutput();
    // Only the claims: no "open:" line outside print mode.
    const QJsonObject claims = QJsonDocument::fromJson(out).object();
    QVERIFY2(!claims.isEmpty(), out.constData());
    QCOMPARE(claims.value(QLatin1String("aud")).toString(), QStringLiteral("hotdesk-agent"));
    QVERIFY(err.contains("bob@corp.example signed in"));
}

void TestLogin::secondFlowForKnownUser()
{
    // alice is in this PC's list of users now: no registration again, same subject.
    const Run first = loginPrint(QStringLiteral("carol"));
    QVERIFY2(first.exitCode == 0, first.err.constData());
    QVERIFY(first.err.contains("Registering carol"));
    const Run second = loginPrint(QStringLiteral("carol"));
    QVERIFY2(second.exitCode == 0, second.err.constData());
    QVERIFY(!second.err.contains("Registering"));
    const auto sub = [](const Run &r) {
        return QJsonDocument::fromJson(r.out.mid(r.out.indexOf('\n') + 1)).object().value(QLatin1String("sub")).toString();
    };
    QCOMPARE(sub(second), sub(first));
}

void TestLogin::embeddedMode()
{
    // A real WebEngine window on the X display of ./dev test; the phone approves
    // after 1.5 s, so the waiting page is on screen for a while.
    if (qEnvironmentVariableIsEmpty("DISPLAY"))
        QFAIL("the embedded browser needs an X display: run the suite with ./dev test (Xvfb)");
    startStubs({}, true, 1500);
    const QString screenshot = QDir::current().filePath(QStringLiteral("login-embedded-waiting.png"));
    QFile::remove(screenshot);
    QProcess agent;
    QProcessEnvironment env = agentEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("xcb"));
    env.insert(QStringLiteral("HOTDESK_SCREENSHOT"), screenshot);
    agent.setProcessEnvironment(env);
    agent.start(QStringLiteral(HOTDESK_BINARY),
        {QStringLiteral("login"), QStringLiteral("--user"), QStringLiteral("alice"), QStringLiteral("--policy"), m_policy});
    QVERIFY(agent.waitForFinished(120000));
    const QByteArray err = agent.readAllStandardError();
    QVERIFY2(agent.exitCode() == 0, err.constData());
    // WebEngine came as a module with the sign-in (docs/embedded-browser.md) and found what it
    // needs from before QApplication: the shared OpenGL context and the redirect scheme.
    QVERIFY2(!err.contains("initialized from a plugin"), err.constData());
    QVERIFY2(!err.contains("must be set before QCoreApplication"), err.constData());
    QVERIFY2(!err.contains("Too late to register scheme"), err.constData());
    const QJsonObject claims = QJsonDocument::fromJson(agent.readAllStandardOutput()).object();
    QCOMPARE(claims.value(QLatin1String("aud")).toString(), QStringLiteral("hotdesk-agent"));
    // The waiting page was shown and saved as a test artifact.
    QImage image(screenshot);
    QVERIFY2(!image.isNull(), qPrintable(screenshot));
    QVERIFY(image.width() > 100 && image.height() > 100);
    startStubs();
}

void TestLogin::serverFaults_data()
{
    QTest::addColumn<QString>("fault");
    QTest::addColumn<QString>("reason");
    QTest::newRow("wrong-key") << "wrong-key" << "bad_signature";
    QTest::newRow("wrong-iss") << "wrong-iss" << "issuer_mismatch";
    QTest::newRow("wrong-aud") << "wrong-aud" << "audience_mismatch";
    QTest::newRow("expired") << "expired" << "expired";
    QTest::newRow("wrong-nonce") << "wrong-nonce" << "nonce_mismatch";
    QTest::newRow("no-nonce") << "no-nonce" << "nonce_missing";
    QTest::newRow("garbage") << "garbage" << "malformed_answer";
    QTest::newRow("500") << "500" << "server_error";
}

void TestLogin::serverFaults()
{
    QFETCH(QString, fault);
    QFETCH(QString, reason);
    startStubs({fault});
    const Run run = loginPrint(QStringLiteral("alice"));
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains(QByteArray(QByteArray("rejected: ") + reason.toLatin1())), run.err.constData());
    // Nothing that looks like success: no claims on stdout.
    QVERIFY(!run.out.contains("\"sub\""));
    startStubs();
}

void TestLogin::slowServerTimesOut()
{
    startStubs({QStringLiteral("slow=6")});
    const QString policy = policyWith([](QJsonObject &servers) {
        servers.insert(QStringLiteral("response_timeout"), QStringLiteral("PT2S"));
    });
    const Run run = loginPrint(QStringLiteral("alice"), policy);
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("rejected: timeout"), run.err.constData());
    startStubs();
}

void TestLogin::phoneDenies()
{
    startStubs({}, false);
    // The phone says no as soon as the challenge is there.
    QProcess phone;
    phone.start(QStringLiteral("/bin/sh"),
        {QStringLiteral("-c"),
            QStringLiteral("for i in $(seq 1 100); do \"%1\" phone deny alice --data \"%2\" >/dev/null 2>&1 && exit 0; sleep 0.2; done; exit 1")
                .arg(QStringLiteral(HOTDESK_STUBS_BINARY), m_data)});
    const Run run = loginPrint(QStringLiteral("alice"));
    phone.waitForFinished(30000);
    QCOMPARE(phone.exitCode(), 0);
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("rejected: access_denied"), run.err.constData());
    startStubs();
}

void TestLogin::nobodyApprovesInTime()
{
    startStubs({}, false);
    const QString policy = policyWith([](QJsonObject &servers) {
        servers.insert(QStringLiteral("approval_timeout"), QStringLiteral("PT3S"));
        servers.insert(QStringLiteral("response_timeout"), QStringLiteral("PT2S"));
    });
    QProcess agent;
    agent.setProcessEnvironment(agentEnvironment());
    agent.start(QStringLiteral(HOTDESK_BINARY),
        {QStringLiteral("login"), QStringLiteral("--user"), QStringLiteral("alice"), QStringLiteral("--browser"),
            QStringLiteral("print"), QStringLiteral("--policy"), policy});
    // Nobody opens the URL and no phone answers: the agent gives up by itself.
    QVERIFY(agent.waitForFinished(60000));
    QCOMPARE(agent.exitCode(), 1);
    const QByteArray err = agent.readAllStandardError();
    QVERIFY2(err.contains("rejected: timeout"), err.constData());
    startStubs();
}

void TestLogin::identityProviderDown()
{
    const QString policy = policyWith([](QJsonObject &servers) {
        servers.insert(QStringLiteral("idp_issuer"), QStringLiteral("https://127.0.0.1:%1").arg(deadPort()));
    });
    const Run run = loginPrint(QStringLiteral("alice"), policy);
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("rejected: unreachable"), run.err.constData());
}

void TestLogin::firstDasDownFailsOver()
{
    const QString policy = policyWith([](QJsonObject &servers) {
        QJsonArray das = servers.value(QLatin1String("das")).toArray();
        das.prepend(QStringLiteral("https://127.0.0.1:%1").arg(deadPort()));
        servers.insert(QStringLiteral("das"), das);
    });
    const Run run = loginPrint(QStringLiteral("alice"), policy);
    QVERIFY2(run.exitCode == 0, run.err.constData());
}

void TestLogin::wrongStateIsRejected()
{
    QProcess agent;
    agent.setProcessEnvironment(agentEnvironment());
    agent.start(QStringLiteral(HOTDESK_BINARY),
        {QStringLiteral("login"), QStringLiteral("--user"), QStringLiteral("alice"), QStringLiteral("--browser"),
            QStringLiteral("print"), QStringLiteral("--policy"), m_policy});
    QByteArray out;
    QTRY_VERIFY_WITH_TIMEOUT((out += agent.readAllStandardOutput()).contains('\n'), 30000);
    QVERIFY(out.startsWith("open: "));
    const QUrl open = QUrl::fromEncoded(out.mid(6, out.indexOf('\n') - 6));
    const QJsonObject request = payloadOf(QUrlQuery(open).queryItemValue(QStringLiteral("request")).toLatin1());
    // Someone else's authorization response arrives at the agent's listener.
    QUrl forged(request.value(QLatin1String("redirect_uri")).toString());
    QVERIFY(forged.isValid());
    QUrlQuery q;
    q.addQueryItem(QStringLiteral("code"), QStringLiteral("stolen-code"));
    q.addQueryItem(QStringLiteral("state"), QStringLiteral("not-the-state-of-this-flow"));
    q.addQueryItem(QStringLiteral("iss"), request.value(QLatin1String("aud")).toString());
    forged.setQuery(q);
    FlowFollower browser(m_ca);
    browser.follow(forged, QStringLiteral("never"));
    QVERIFY(agent.waitForFinished(30000));
    QCOMPARE(agent.exitCode(), 1);
    const QByteArray err = agent.readAllStandardError();
    QVERIFY2(err.contains("rejected: state_mismatch"), err.constData());
}

void TestLogin::notEnrolled()
{
    QTemporaryDir empty;
    const Run run = loginPrint(QStringLiteral("alice"), {}, empty.path());
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("rejected: not_enrolled"), run.err.constData());
}

void TestLogin::doctorAllGood()
{
    QProcess doctor;
    doctor.setProcessEnvironment(agentEnvironment());
    doctor.start(QStringLiteral(HOTDESK_BINARY), {QStringLiteral("doctor"), QStringLiteral("--policy"), m_policy});
    QVERIFY(doctor.waitForFinished(60000));
    const QByteArray err = doctor.readAllStandardError();
    QVERIFY2(doctor.exitCode() == 0, err.constData());
    QCOMPARE(doctor.readAllStandardOutput(), QByteArray());
    QVERIFY(err.contains("every check passed"));
    QVERIFY(err.contains("(discovery)"));
    QVERIFY(err.contains("device key in the keychain"));
}

void TestLogin::doctorChecksAlternateMethods()
{
    const auto doctorWith = [this](const QJsonArray &methods) {
        QJsonObject policy = readJsonFile(m_policy);
        QJsonObject failure = policy.value(QLatin1String("failure")).toObject();
        failure.insert(QStringLiteral("alternate_methods"), methods);
        policy.insert(QStringLiteral("failure"), failure);
        const QString file = m_dir.filePath(QStringLiteral("policy-acr-%1.json").arg(methods.size()));
        writeJsonFile(file, policy);
        QProcess doctor;
        doctor.setProcessEnvironment(agentEnvironment());
        doctor.start(QStringLiteral(HOTDESK_BINARY), {QStringLiteral("doctor"), QStringLiteral("--policy"), file});
        doctor.waitForFinished(60000);
        // ok lines go to stderr, one line per problem to stdout.
        return std::make_pair(doctor.exitCode(), QByteArray(doctor.readAllStandardError() + doctor.readAllStandardOutput()));
    };
    const auto [good, goodErr] = doctorWith({QStringLiteral("urn:example:acr:hwk"), QStringLiteral("urn:hotdesk:acr:push")});
    QVERIFY2(good == 0, goodErr.constData());
    QVERIFY2(goodErr.contains("alternate methods: the identity provider offers urn:hotdesk:acr:push"), goodErr.constData());
    const auto [bad, badErr] = doctorWith({QStringLiteral("urn:example:acr:hwk")});
    QCOMPARE(bad, 1);
    QVERIFY2(badErr.contains("none of failure.alternate_methods (urn:example:acr:hwk)"), badErr.constData());
}

void TestLogin::doctorNamesEachProblem()
{
    // A dead second DAS and an IdP that is not there, on a PC without an enrollment.
    const quint16 dead = deadPort();
    const QString policy = policyWith([dead](QJsonObject &servers) {
        QJsonArray das = servers.value(QLatin1String("das")).toArray();
        das.append(QStringLiteral("https://127.0.0.1:%1").arg(dead));
        servers.insert(QStringLiteral("das"), das);
        servers.insert(QStringLiteral("idp_issuer"), QStringLiteral("https://127.0.0.1:%1").arg(dead));
    });
    QTemporaryDir empty;
    QProcess doctor;
    QProcessEnvironment env = agentEnvironment();
    env.insert(QStringLiteral("HOTDESK_STATE_DIR"), empty.path());
    doctor.setProcessEnvironment(env);
    doctor.start(QStringLiteral(HOTDESK_BINARY), {QStringLiteral("doctor"), QStringLiteral("--policy"), policy});
    QVERIFY(doctor.waitForFinished(60000));
    QCOMPARE(doctor.exitCode(), 1);
    const QList<QByteArray> lines = doctor.readAllStandardOutput().trimmed().split('\n');
    QCOMPARE(lines.size(), 3);
    QVERIFY2(lines[0].startsWith(QStringLiteral("das https://127.0.0.1:%1: ").arg(dead).toUtf8()), lines[0].constData());
    QVERIFY2(lines[1].startsWith(QStringLiteral("idp https://127.0.0.1:%1: ").arg(dead).toUtf8()), lines[1].constData());
    QVERIFY2(lines[2].startsWith("enrollment: "), lines[2].constData());
    // The DAS that works is reported as such.
    QVERIFY(doctor.readAllStandardError().contains("ok       das "));
}

void TestLogin::recoveryCodesAfterASignIn()
{
    const QString user = QStringLiteral("dave");
    QJsonObject policy = readJsonFile(m_policy);
    const QString refusing = m_dir.filePath(QStringLiteral("policy-no-recovery.json"));
    writeJsonFile(refusing, policy);
    QJsonObject failure = policy.value(QLatin1String("failure")).toObject();
    failure.insert(QStringLiteral("recovery_codes"), QJsonObject {{QStringLiteral("enabled"), true}, {QStringLiteral("count"), 5}});
    policy.insert(QStringLiteral("failure"), failure);
    const QString allowing = m_dir.filePath(QStringLiteral("policy-recovery.json"));
    writeJsonFile(allowing, policy);

    // Without the policy's consent there are no codes, and nobody is asked to sign in.
    QProcess refused;
    refused.setProcessEnvironment(agentEnvironment());
    refused.start(QStringLiteral(HOTDESK_BINARY), {QStringLiteral("recovery-codes"), QStringLiteral("--user"), user,
                                                      QStringLiteral("--browser"), QStringLiteral("print"), QStringLiteral("--policy"), refusing});
    QVERIFY(refused.waitForFinished(60000));
    QCOMPARE(refused.exitCode(), 1);
    QVERIFY(refused.readAllStandardOutput().isEmpty());
    QVERIFY(refused.readAllStandardError().contains("does not allow recovery codes"));

    // With it: a sign-in first, then five codes on stdout after the "open:" line.
    const Run run = runPrint({QStringLiteral("recovery-codes"), QStringLiteral("--user"), user, QStringLiteral("--browser"),
        QStringLiteral("print"), QStringLiteral("--policy"), allowing});
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QVERIFY(run.follow.reachedRedirect);
    QList<QByteArray> lines = run.out.trimmed().split('\n');
    QVERIFY(lines.takeFirst().startsWith("open: https://127.0.0.1:"));
    QCOMPARE(lines.size(), 5);
    static const QRegularExpression shape(QStringLiteral("^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$"));
    for (const QByteArray &line : std::as_const(lines))
        QVERIFY2(shape.match(QString::fromLatin1(line)).hasMatch(), line.constData());
    QVERIFY(run.err.contains("dave signed in"));

    // They are dave's in the keychain: one is accepted once, and four remain.
    hotdesk::store::KeychainSecretStore keychain;
    hotdesk::OpenSslRandom random;
    hotdesk::store::RecoveryCodeStore codes(keychain, random);
    std::optional<hotdesk::Result<hotdesk::store::RecoveryCodeAccepted>> used;
    codes.consume(user, QString::fromLatin1(lines.at(2)), [&](hotdesk::Result<hotdesk::store::RecoveryCodeAccepted> r) { used = r; });
    QTRY_VERIFY_WITH_TIMEOUT(used.has_value(), 30000);
    QVERIFY2(*used, *used ? "" : qPrintable((*used).error().message));
    QCOMPARE((*used)->remaining, 4);
    bool deleted = false;
    keychain.deleteSecret(hotdesk::store::RecoveryCodeStore::keyFor(user), [&](hotdesk::Status) { deleted = true; });
    QTRY_VERIFY(deleted);
}

// Over SSH there is no display: the default (embedded) browser cannot open,
// and the command says so and what to use, instead of Qt aborting.
void TestLogin::embeddedBrowserWithoutADisplaySaysSo()
{
    QProcessEnvironment env = agentEnvironment();
    for (const char *name : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"})
        env.remove(QLatin1String(name));
    const QList<QStringList> commands {
        {QStringLiteral("login"), QStringLiteral("--user"), QStringLiteral("alice"), QStringLiteral("--policy"), m_policy},
        {QStringLiteral("enroll"), QStringLiteral("--admin-user"), QStringLiteral("boss"), QStringLiteral("--policy"), m_policy,
            QStringLiteral("--state-dir"), m_dir.filePath(QStringLiteral("state-ssh"))},
    };
    for (const QStringList &args : commands) {
        QProcess agent;
        agent.setProcessEnvironment(env);
        agent.start(QStringLiteral(HOTDESK_BINARY), args);
        QVERIFY(agent.waitForFinished(60000));
        const QByteArray err = agent.readAllStandardError();
        QCOMPARE(agent.exitStatus(), QProcess::NormalExit);
        QVERIFY2(agent.exitCode() == 1, err.constData());
        QVERIFY2(err.contains("rejected: unsupported") && err.contains("needs a display; use --browser system or --browser print"),
            err.constData());
        QVERIFY(agent.readAllStandardOutput().isEmpty());
    }
}

void TestLogin::enrollsWithAnAdministratorsSignIn()
{
    auto stubsAdmin = [&](const QStringList &args) {
        return !stubsCommand(QStringLiteral(HOTDESK_STUBS_BINARY), m_data, QStringList {QStringLiteral("admin")} + args).isNull();
    };
    QVERIFY(stubsAdmin({QStringLiteral("grant"), QStringLiteral("boss"), QStringLiteral("--role"), QStringLiteral("admin")}));
    const QString state = m_dir.filePath(QStringLiteral("state-boss"));
    auto enrollAs = [&](const QString &admin) {
        return runPrint({QStringLiteral("enroll"), QStringLiteral("--policy"), m_policy, QStringLiteral("--admin-user"), admin,
                            QStringLiteral("--browser"), QStringLiteral("print")},
            state);
    };

    // Without the DAS's admin role nobody is asked to approve anything, and nothing is enrolled.
    const Run refused = enrollAs(QStringLiteral("carol"));
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(!refused.out.contains("open: "), refused.out.constData());
    QVERIFY2(refused.err.contains("rejected: access_denied") && refused.err.contains("not-an-administrator"),
        refused.err.constData());
    QVERIFY(!QFile::exists(QDir(state).filePath(QStringLiteral("enrollments.json"))));

    // boss signs in at the IdP (the phone approves), and the DAS gives that sign-in an activation.
    const Run run = enrollAs(QStringLiteral("boss"));
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QVERIFY(run.follow.reachedRedirect);
    const QList<QByteArray> lines = run.out.trimmed().split('\n');
    QCOMPARE(lines.size(), 2);
    QVERIFY(lines.at(0).startsWith("open: https://127.0.0.1:"));
    QVERIFY2(lines.at(1).startsWith("enrolled "), lines.at(1).constData());
    QVERIFY2(run.err.contains("boss signed in; the ID token is valid") && run.err.contains("SPAKE2"), run.err.constData());

    // The enrollment is a real one: a user signs in on this PC with it.
    const Run login = loginPrint(QStringLiteral("erin"), m_policy, state);
    QVERIFY2(login.exitCode == 0, login.err.constData());

    // The same in the embedded browser, the default, on the X display of ./dev test.
    if (qEnvironmentVariableIsEmpty("DISPLAY"))
        QFAIL("the embedded browser needs an X display: run the suite with ./dev test (Xvfb)");
    QProcess embedded;
    QProcessEnvironment env = agentEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("xcb"));
    env.insert(QStringLiteral("HOTDESK_STATE_DIR"), m_dir.filePath(QStringLiteral("state-boss-embedded")));
    embedded.setProcessEnvironment(env);
    embedded.start(QStringLiteral(HOTDESK_BINARY),
        {QStringLiteral("enroll"), QStringLiteral("--policy"), m_policy, QStringLiteral("--admin-user"), QStringLiteral("boss")});
    QVERIFY(embedded.waitForFinished(120000));
    const QByteArray embeddedErr = embedded.readAllStandardError();
    QVERIFY2(embedded.exitCode() == 0, embeddedErr.constData());
    QVERIFY2(embedded.readAllStandardOutput().startsWith("enrolled "), embeddedErr.constData());
    QVERIFY2(embeddedErr.contains("boss signed in; the ID token is valid"), embeddedErr.constData());

    // Taking the role away stops the next enrollment.
    QVERIFY(stubsAdmin({QStringLiteral("revoke"), QStringLiteral("boss")}));
    const Run revoked = enrollAs(QStringLiteral("boss"));
    QCOMPARE(revoked.exitCode, 1);
    QVERIFY2(revoked.err.contains("not-an-administrator"), revoked.err.constData());
}

QTEST_GUILESS_MAIN(TestLogin)
#include "tst_login.moc"

// End to end: "hotdesk open URL" against the enterprise gateway of "hotdesk-stubs all": public and missing paths, activation,
// sign-in, refusals.
#include "flowfollower.h"
#include "stubsprocess.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

using namespace hotdesk::test;

namespace {

// The stdout of a run: the "open: URL" line of print mode, if any, and what follows it.
struct Output {
    QByteArray openLine;
    QByteArray body;
};

Output split(const QByteArray &out)
{
    if (!out.startsWith("open: "))
        return {{}, out};
    const qsizetype newline = out.indexOf('\n');
    return {out.left(newline), out.mid(newline + 1)};
}

} // namespace

class TestOpen : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void usage_data();
    void usage();
    void publicUrlNeedsNoSignIn();
    void missingPathIsAServerError();
    void notEnrolledWithoutToken();
    void enrollsSignsInAndOpens();
    void secondTimeNeedsNoEnrollment();
    void gatewayNotInPolicy();
    void phoneDenies();

private:
    void startStubs(bool autoApprove = true);
    void stopStubs();
    struct Run {
        int exitCode = -1;
        QByteArray out;
        QByteArray err;
        FollowResult follow;
        bool followed = false;
    };
    // Runs hotdesk with args (print mode) and, when it prints "open: URL",
    // follows that URL as a browser would.
    Run runAgent(const QStringList &args, const QByteArray &input = {});
    Run open(const QString &path, const QStringList &extra = {}, const QByteArray &input = {});
    QString enterprise(const QString &path) const { return m_enterprise + path; }
    QString sharedIdOf(const QString &user);

    QTemporaryDir m_dir;
    QString m_data;
    QString m_state;
    QString m_ca;
    QString m_policy;
    QString m_enterprise;
    QByteArray m_adminToken;
    QProcess m_stubs;
    quint16 m_portBase = 0;
};

void TestOpen::startStubs(bool autoApprove)
{
    stopStubs();
    QFile::remove(QDir(m_data).filePath(QStringLiteral("endpoints.json")));
    QStringList args {
        QStringLiteral("all"), QStringLiteral("--data"), m_data, QStringLiteral("--port-base"), QString::number(m_portBase)};
    if (autoApprove)
        args << QStringLiteral("--auto-approve=0");
    m_stubs.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    m_stubs.start(QStringLiteral(HOTDESK_STUBS_BINARY), args);
    QVERIFY(m_stubs.waitForStarted(10000));
    QByteArray output;
    QTRY_VERIFY_WITH_TIMEOUT((output += m_stubs.readAllStandardOutput()).contains("\nca "), 30000);
    for (const QByteArray &line : output.split('\n')) {
        if (line.startsWith("enterprise "))
            m_enterprise = QString::fromUtf8(line.mid(11).trimmed());
    }
    QVERIFY(m_enterprise.startsWith(QLatin1String("https://127.0.0.1:")));
    QVERIFY(QFile::exists(m_policy));
}

void TestOpen::stopStubs()
{
    stopProcess(m_stubs);
}

void TestOpen::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_data = m_dir.filePath(QStringLiteral("data"));
    m_state = m_dir.filePath(QStringLiteral("state"));
    QVERIFY(QDir().mkpath(m_data));
    m_ca = QDir(m_data).filePath(QStringLiteral("ca.pem"));
    m_policy = QDir(m_data).filePath(QStringLiteral("agent-policy.json"));
    m_portBase = freePortBase(30000, 13, 89);
    QVERIFY(m_portBase != 0);
    startStubs();

    QProcess admin;
    admin.start(QStringLiteral(HOTDESK_STUBS_BINARY),
        {QStringLiteral("admin"), QStringLiteral("create-token"), QStringLiteral("--role"), QStringLiteral("admin"),
            QStringLiteral("--data"), m_data});
    QVERIFY(admin.waitForFinished(30000));
    QCOMPARE(admin.exitCode(), 0);
    m_adminToken = admin.readAllStandardOutput().trimmed().split('\n').last();
    QVERIFY(m_adminToken.startsWith("hdat_"));
}

void TestOpen::cleanupTestCase()
{
    stopStubs();
}

TestOpen::Run TestOpen::runAgent(const QStringList &args, const QByteArray &input)
{
    Run run;
    QProcess agent;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("HOTDESK_STATE_DIR"), m_state);
    env.remove(QStringLiteral("HOTDESK_ADMIN_TOKEN"));
    agent.setProcessEnvironment(env);
    agent.start(QStringLiteral(HOTDESK_BINARY), args);
    if (!agent.waitForStarted(10000))
        return run;
    if (!input.isEmpty())
        agent.write(input);
    agent.closeWriteChannel();
    // The first stdout line is "open: URL" when a sign-in starts; there is none when no sign-in is needed or an early step fails.
    QByteArray out;
    QDeadlineTimer deadline(60000);
    while (!out.contains('\n') && agent.state() != QProcess::NotRunning && !deadline.hasExpired()) {
        agent.waitForReadyRead(200);
        out += agent.readAllStandardOutput();
    }
    if (out.startsWith("open: ")) {
        run.followed = true;
        FlowFollower follower(m_ca);
        run.follow = follower.follow(QUrl::fromEncoded(out.mid(6, out.indexOf('\n') - 6)), QStringLiteral("http://127.0.0.1:"));
    }
    agent.waitForFinished(120000);
    run.exitCode = agent.exitStatus() == QProcess::NormalExit ? agent.exitCode() : -1;
    run.out = out + agent.readAllStandardOutput();
    run.err = agent.readAllStandardError();
    return run;
}

TestOpen::Run TestOpen::open(const QString &path, const QStringList &extra, const QByteArray &input)
{
    return runAgent(QStringList {QStringLiteral("open"), enterprise(path), QStringLiteral("--browser"), QStringLiteral("print"),
                        QStringLiteral("--policy"), m_policy}
            + extra,
        input);
}

// The IdP's id for a user, from a "hotdesk login" of that user.
QString TestOpen::sharedIdOf(const QString &user)
{
    const Run login = runAgent({QStringLiteral("login"), QStringLiteral("--user"), user, QStringLiteral("--browser"),
        QStringLiteral("print"), QStringLiteral("--policy"), m_policy});
    if (login.exitCode != 0)
        return {};
    return QJsonDocument::fromJson(split(login.out).body).object().value(QLatin1String("sub")).toString();
}

void TestOpen::usage_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::newRow("no URL") << QStringList {QStringLiteral("open")};
    QTest::newRow("two URLs") << QStringList {
        QStringLiteral("open"), QStringLiteral("https://a.example/"), QStringLiteral("https://b.example/")};
    QTest::newRow("relative URL") << QStringList {QStringLiteral("open"), QStringLiteral("/resources/x")};
    QTest::newRow("plain http elsewhere") << QStringList {
        QStringLiteral("open"), QStringLiteral("http://gw.example/resources/x")};
    QTest::newRow("another scheme") << QStringList {QStringLiteral("open"), QStringLiteral("ftp://127.0.0.1/x")};
    QTest::newRow("unknown browser") << QStringList {
        QStringLiteral("open"), QStringLiteral("https://gw.example/"), QStringLiteral("--browser"), QStringLiteral("lynx")};
    QTest::newRow("empty token") << QStringList {
        QStringLiteral("open"), QStringLiteral("https://gw.example/"), QStringLiteral("--admin-token"), QStringLiteral("")};
}

void TestOpen::usage()
{
    QFETCH(QStringList, args);
    const Run run = runAgent(args);
    QCOMPARE(run.exitCode, 2);
    QVERIFY(run.out.isEmpty());
    QVERIFY2(run.err.contains("hotdesk open --help"), run.err.constData());
}

void TestOpen::publicUrlNeedsNoSignIn()
{
    // The distribution site is public: the page comes back as it is, on a PC that is not even enrolled.
    const Run run = open(QStringLiteral("/download/"));
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QVERIFY(!run.followed);
    QVERIFY2(run.out.startsWith("<!DOCTYPE html>"), run.out.constData());
    QVERIFY(run.out.contains("Hotdesk downloads"));
    QVERIFY2(!run.err.contains("signed in") && !run.err.contains("protected by Hotdesk"), run.err.constData());
}

void TestOpen::missingPathIsAServerError()
{
    const Run run = open(QStringLiteral("/no-such-place"));
    QCOMPARE(run.exitCode, 1);
    QVERIFY(!run.followed);
    QVERIFY(run.out.isEmpty());
    QVERIFY2(run.err.contains("rejected: server_error\n"), run.err.constData());
    QVERIFY2(run.err.contains("answered 404 not-found"), run.err.constData());
}

void TestOpen::notEnrolledWithoutToken()
{
    const Run run = open(QStringLiteral("/resources/report"), {QStringLiteral("--user"), QStringLiteral("dora")});
    QCOMPARE(run.exitCode, 1);
    // No sign-in was started, so nothing on stdout.
    QVERIFY(!run.followed);
    QVERIFY(run.out.isEmpty());
    QVERIFY2(run.err.contains("rejected: not_enrolled\n"), run.err.constData());
    // Where Hotdesk comes from (the gateway's rel="install" link) and what the administrator does.
    QVERIFY2(run.err.contains(enterprise(QStringLiteral("/download/")).toUtf8()), run.err.constData());
    QVERIFY2(run.err.contains("hotdesk enroll"), run.err.constData());
    QVERIFY2(run.err.contains("--admin-token"), run.err.constData());
    QVERIFY(!QFile::exists(QDir(m_state).filePath(QStringLiteral("enrollments.json"))));
}

void TestOpen::enrollsSignsInAndOpens()
{
    // The token on standard input, as an administrator at the PC would type it.
    const Run run = open(QStringLiteral("/resources/report"),
        {QStringLiteral("--user"), QStringLiteral("dora"), QStringLiteral("--admin-token"), QStringLiteral("-")},
        m_adminToken + '\n');
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QVERIFY(run.followed);
    QVERIFY2(run.follow.reachedRedirect, qPrintable(run.follow.error));
    QVERIFY2(run.err.contains("enrolling it with the administrator token"), run.err.constData());
    QVERIFY2(run.err.contains("hotdesk: enrolled "), run.err.constData());
    QVERIFY2(run.err.contains("Registering dora"), run.err.constData());
    QVERIFY2(run.err.contains("dora signed in"), run.err.constData());
    QVERIFY(QFile::exists(QDir(m_state).filePath(QStringLiteral("enrollments.json"))));
    // stdout: the one "open:" line, then the gateway's resource and nothing else.
    const Output output = split(run.out);
    QVERIFY(output.openLine.startsWith("open: https://127.0.0.1:"));
    const QJsonObject resource = QJsonDocument::fromJson(output.body).object();
    QVERIFY2(!resource.isEmpty(), run.out.constData());
    QCOMPARE(resource.value(QLatin1String("resource")).toString(), QStringLiteral("/resources/report"));
    QCOMPARE(resource.value(QLatin1String("client_id")).toString(), QStringLiteral("hotdesk-agent"));
    // The resource names the user: the IdP's id for dora.
    const QString sub = resource.value(QLatin1String("sub")).toString();
    QVERIFY(sub.size() >= 16);
    QCOMPARE(sharedIdOf(QStringLiteral("dora")), sub);
}

void TestOpen::secondTimeNeedsNoEnrollment()
{
    const QByteArray enrollments = [this] {
        QFile f(QDir(m_state).filePath(QStringLiteral("enrollments.json")));
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }();
    QVERIFY(!enrollments.isEmpty());
    // Without a token: the enrollment of the first time is used.
    const Run run = open(QStringLiteral("/resources/other"), {QStringLiteral("--user"), QStringLiteral("dora")});
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QVERIFY(!run.err.contains("enroll"));
    QVERIFY(!run.err.contains("Registering"));
    QCOMPARE(QJsonDocument::fromJson(split(run.out).body).object().value(QLatin1String("resource")).toString(),
        QStringLiteral("/resources/other"));
    // With one: it is not spent on an enrollment the PC has.
    const Run again = open(QStringLiteral("/resources/other"),
        {QStringLiteral("--user"), QStringLiteral("dora"), QStringLiteral("--admin-token"), QString::fromLatin1(m_adminToken)});
    QVERIFY2(again.exitCode == 0, again.err.constData());
    QVERIFY2(!again.err.contains("enroll"), again.err.constData());
    QFile f(QDir(m_state).filePath(QStringLiteral("enrollments.json")));
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), enrollments);
}

void TestOpen::gatewayNotInPolicy()
{
    // A server that answers like the gateway but that the policy does not name gets no access token: no sign-in starts.
    QJsonObject policy = readJsonFile(m_policy);
    QJsonObject servers = policy.value(QLatin1String("servers")).toObject();
    QVERIFY(servers.contains(QLatin1String("gateways")));
    servers.insert(QStringLiteral("gateways"), QJsonArray {QStringLiteral("https://gateway.example")});
    policy.insert(QStringLiteral("servers"), servers);
    const QString file = m_dir.filePath(QStringLiteral("policy-other-gateway.json"));
    QFile f(file);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QJsonDocument(policy).toJson());
    f.close();
    const Run run = runAgent({QStringLiteral("open"), enterprise(QStringLiteral("/resources/report")), QStringLiteral("--user"),
        QStringLiteral("dora"), QStringLiteral("--browser"), QStringLiteral("print"), QStringLiteral("--policy"), file});
    QCOMPARE(run.exitCode, 1);
    QVERIFY(!run.followed);
    QVERIFY(run.out.isEmpty());
    QVERIFY2(run.err.contains("rejected: unsupported\n"), run.err.constData());
    QVERIFY2(run.err.contains("servers.gateways"), run.err.constData());
}

void TestOpen::phoneDenies()
{
    startStubs(false);
    QProcess phone;
    phone.start(QStringLiteral("/bin/sh"),
        {QStringLiteral("-c"),
            QStringLiteral("for i in $(seq 1 100); do \"%1\" phone deny dora --data \"%2\" >/dev/null 2>&1 && exit 0; sleep 0.2; "
                           "done; exit 1")
                .arg(QStringLiteral(HOTDESK_STUBS_BINARY), m_data)});
    const Run run = open(QStringLiteral("/resources/report"), {QStringLiteral("--user"), QStringLiteral("dora")});
    phone.waitForFinished(30000);
    QCOMPARE(phone.exitCode(), 0);
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("rejected: access_denied"), run.err.constData());
    // The sign-in started, and nothing of the resource came out.
    QVERIFY(run.followed);
    const Output output = split(run.out);
    QVERIFY(output.openLine.startsWith("open: "));
    QVERIFY2(output.body.isEmpty(), run.out.constData());
    startStubs();
}

QTEST_GUILESS_MAIN(TestOpen)
#include "tst_open.moc"

// A split deployment across hosts: the IdP on one address (its own copy of the data directory, its own
// certificate name), the DAS, push provider and enterprise server on another, each told where the
// others are with --peer; then an agent enrolls and signs in across both.
#include "flowfollower.h"
#include "stubsprocess.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QProcess>
#include <QSslCertificate>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace hotdesk::test;

namespace {

// 127.0.0.2 stands for the second host: all of 127/8 is loopback on Linux.
const QString kOtherHost = QStringLiteral("127.0.0.2");

bool copyTree(const QString &from, const QString &to)
{
    QDir source(from);
    if (!QDir().mkpath(to))
        return false;
    for (const QFileInfo &entry : source.entryInfoList(QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot | QDir::Hidden)) {
        const QString target = QDir(to).filePath(entry.fileName());
        if (entry.isDir() ? !copyTree(entry.filePath(), target) : !QFile::copy(entry.filePath(), target))
            return false;
        if (entry.isFile())
            QFile::setPermissions(target, entry.permissions());
    }
    return true;
}

} // namespace

class TestStubsSplit : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_a; // the first host's data directory
    QString m_b; // the second host's copy
    quint16 m_base = 0;
    std::vector<std::unique_ptr<QProcess>> m_roles;

    // Starts one role and waits for its "ROLE https://..." line.
    bool startRole(const QString &role, const QStringList &args)
    {
        auto p = std::make_unique<QProcess>();
        p->setProcessChannelMode(QProcess::ForwardedErrorChannel);
        p->start(QStringLiteral(HOTDESK_STUBS_BINARY), QStringList {role} + args);
        if (!p->waitForStarted(10000))
            return false;
        QByteArray out;
        QDeadlineTimer deadline(30000);
        while (!out.contains((role + u' ').toLatin1()) && p->state() == QProcess::Running && !deadline.hasExpired()) {
            p->waitForReadyRead(200);
            out += p->readAllStandardOutput();
        }
        const bool up = out.contains((role + u' ').toLatin1());
        if (!up)
            qWarning("%s did not start: %s", qPrintable(role), out.constData());
        m_roles.push_back(std::move(p));
        return up;
    }

    QString url(const QString &host, int offset) const { return QStringLiteral("https://%1:%2").arg(host).arg(m_base + offset); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_a = m_dir.filePath(QStringLiteral("host-a"));
        m_b = m_dir.filePath(QStringLiteral("host-b"));
        m_base = freePortBase(21000);
        QVERIFY(m_base != 0);
        // A first run makes the CA, keys and client tokens; the second host gets a copy of them.
        {
            StubsProcess first(QStringLiteral(HOTDESK_STUBS_BINARY), m_a, m_base);
            first.start();
        }
        QVERIFY(copyTree(m_a, m_b));
    }

    void cleanupTestCase()
    {
        for (auto &p : m_roles)
            stopProcess(*p);
    }

    void badSplitOptionsAreUsageErrors_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::newRow("listen not an address") << QStringList {QStringLiteral("idp"), QStringLiteral("--listen"), QStringLiteral("example.org")};
        QTest::newRow("any address without a name") << QStringList {QStringLiteral("idp"), QStringLiteral("--listen"), QStringLiteral("0.0.0.0")};
        QTest::newRow("peer without a port") << QStringList {QStringLiteral("das"), QStringLiteral("--peer"), QStringLiteral("idp=https://idp.example")};
        QTest::newRow("peer over http") << QStringList {QStringLiteral("das"), QStringLiteral("--peer"), QStringLiteral("idp=http://idp.example:8443")};
        QTest::newRow("unknown role") << QStringList {QStringLiteral("das"), QStringLiteral("--peer"), QStringLiteral("mail=https://m.example:25")};
        QTest::newRow("peer is this role") << QStringList {QStringLiteral("das"), QStringLiteral("--peer"), QStringLiteral("das=https://d.example:443")};
    }
    void badSplitOptionsAreUsageErrors()
    {
        QFETCH(QStringList, args);
        QProcess p;
        p.start(QStringLiteral(HOTDESK_STUBS_BINARY), args + QStringList {QStringLiteral("--data"), m_dir.filePath(QStringLiteral("unused"))});
        QVERIFY(p.waitForFinished(10000));
        QCOMPARE(p.exitCode(), 2);
        QVERIFY(!p.readAllStandardError().isEmpty());
    }

    void agentSignsInAcrossTwoHosts()
    {
        // Host B: the identity provider, reached as 127.0.0.2.
        QVERIFY(startRole(QStringLiteral("idp"),
            {QStringLiteral("--data"), m_b, QStringLiteral("--port-base"), QString::number(m_base), QStringLiteral("--listen"), kOtherHost,
                QStringLiteral("--peer"), QStringLiteral("das=") + url(QStringLiteral("127.0.0.1"), 0), QStringLiteral("--peer"),
                QStringLiteral("push=") + url(QStringLiteral("127.0.0.1"), 2)}));
        // Its certificate now names that host, signed by the same CA.
        QFile cert(QDir(m_b).filePath(QStringLiteral("server.pem")));
        QVERIFY(cert.open(QIODevice::ReadOnly));
        const QSslCertificate serverB(cert.readAll());
        QVERIFY(serverB.subjectAlternativeNames().values(QSsl::IpAddressEntry).contains(kOtherHost));

        // Host A: push (with the phones), enterprise, and the DAS last.
        const QStringList onA {QStringLiteral("--data"), m_a, QStringLiteral("--port-base"), QString::number(m_base), QStringLiteral("--peer"),
            QStringLiteral("idp=") + url(kOtherHost, 1)};
        QVERIFY(startRole(QStringLiteral("push"), onA + QStringList {QStringLiteral("--auto-approve=0")}));
        QVERIFY(startRole(QStringLiteral("enterprise"), onA));
        QVERIFY(startRole(QStringLiteral("das"), onA));

        // The agent's policy from host A points at the IdP on host B.
        const QString policy = QDir(m_a).filePath(QStringLiteral("agent-policy.json"));
        const QJsonObject servers = readJsonFile(policy).value(QLatin1String("servers")).toObject();
        QCOMPARE(servers.value(QLatin1String("idp_issuer")).toString(), url(kOtherHost, 1));

        StubsProcess admin(QStringLiteral(HOTDESK_STUBS_BINARY), m_a, m_base);
        const QByteArray token = admin.createAdminToken();
        QVERIFY(token.startsWith("hdat_"));
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("HOTDESK_STATE_DIR"), m_dir.filePath(QStringLiteral("agent")));
        QProcess enroll;
        enroll.setProcessEnvironment(env);
        enroll.start(QStringLiteral(HOTDESK_BINARY),
            {QStringLiteral("enroll"), QStringLiteral("--policy"), policy, QStringLiteral("--admin-token"), QString::fromLatin1(token)});
        QVERIFY(enroll.waitForFinished(60000));
        QVERIFY2(enroll.exitCode() == 0, enroll.readAllStandardError().constData());

        // A new user: the DAS registers her through the enterprise server at the IdP's SCIM
        // endpoint on host B; the IdP checks the DAS's request object against host A's keys
        // and pushes to the phone at host A.
        QProcess login;
        login.setProcessEnvironment(env);
        login.start(QStringLiteral(HOTDESK_BINARY), {QStringLiteral("login"), QStringLiteral("--user"), QStringLiteral("erin"),
                                                         QStringLiteral("--browser"), QStringLiteral("print"), QStringLiteral("--policy"), policy});
        QVERIFY(login.waitForStarted(10000));
        QByteArray out;
        QDeadlineTimer deadline(60000);
        while (!out.contains('\n') && login.state() == QProcess::Running && !deadline.hasExpired()) {
            login.waitForReadyRead(200);
            out += login.readAllStandardOutput();
        }
        QVERIFY2(out.startsWith(QByteArray("open: " + url(kOtherHost, 1).toLatin1())), out.constData());
        FlowFollower follower(QDir(m_a).filePath(QStringLiteral("ca.pem")));
        const FollowResult followed
            = follower.follow(QUrl::fromEncoded(out.mid(6, out.indexOf('\n') - 6)), QStringLiteral("http://127.0.0.1:"));
        QVERIFY(followed.reachedRedirect);
        QVERIFY(login.waitForFinished(60000));
        const QByteArray err = login.readAllStandardError();
        QVERIFY2(login.exitCode() == 0, err.constData());
        out += login.readAllStandardOutput();
        const QJsonObject claims = QJsonDocument::fromJson(out.mid(out.indexOf('\n') + 1)).object();
        QCOMPARE(claims.value(QLatin1String("iss")).toString(), url(kOtherHost, 1));
        QVERIFY(err.contains("Registering erin"));
    }
};

QTEST_GUILESS_MAIN(TestStubsSplit)
#include "tst_stubssplit.moc"

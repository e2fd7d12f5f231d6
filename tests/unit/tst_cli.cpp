// The hotdesk command line as scripts see it: exit codes, stdout, stderr.
#include "tokenfactory.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace hotdesk;
using namespace hotdesk::test;
using jose::Algorithm;

namespace {

constexpr qint64 kNow = 1'767'225'600;

struct Run {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

// Serves one fixed body to every HTTP request on loopback.
class TinyHttpServer : public QTcpServer {
public:
    explicit TinyHttpServer(QByteArray body) : m_body(std::move(body))
    {
        connect(this, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = nextPendingConnection()) {
                connect(socket, &QTcpSocket::readyRead, socket, [this, socket] {
                    m_request += socket->readAll();
                    if (!m_request.contains("\r\n\r\n"))
                        return;
                    socket->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: "
                                  + QByteArray::number(m_body.size()) + "\r\n\r\n" + m_body);
                    socket->disconnectFromHost();
                });
                connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
    }

private:
    QByteArray m_body;
    QByteArray m_request;
};

} // namespace

class TestCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_key = generatedKey(Algorithm::ES256, QStringLiteral("idp-1"));
        m_jwks = m_dir.filePath(QStringLiteral("jwks.json"));
        writeFile(m_jwks, compactJson(jose::JwkSet({publicHalf(m_key)}).toPublicJson()));
        const QJsonObject claims{{QStringLiteral("iss"), QStringLiteral("https://idp.example.org")},
                                 {QStringLiteral("sub"), QStringLiteral("alice-shared-id")},
                                 {QStringLiteral("aud"), QStringLiteral("hotdesk-pc")},
                                 {QStringLiteral("exp"), kNow + 300},
                                 {QStringLiteral("iat"), kNow},
                                 {QStringLiteral("nonce"), QStringLiteral("n1")}};
        m_token = *jose::signCompact(compactJson(claims), m_key, Algorithm::ES256);
    }

    void tokenVerifyAccepts()
    {
        const Run r = run({QStringLiteral("token"), QStringLiteral("verify"), QStringLiteral("--jwks"), m_jwks,
                           QStringLiteral("--issuer"), QStringLiteral("https://idp.example.org"), QStringLiteral("--audience"),
                           QStringLiteral("hotdesk-pc"), QStringLiteral("--nonce"), QStringLiteral("n1"), QStringLiteral("--now"),
                           QString::number(kNow + 10), QString::fromLatin1(m_token)});
        QCOMPARE(r.exitCode, 0);
        const QJsonObject claims = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(claims.value(QLatin1String("sub")).toString(), QStringLiteral("alice-shared-id"));
        QVERIFY(!r.err.contains("rejected"));
    }

    void tokenVerifyFromStdin()
    {
        const Run r = run({QStringLiteral("token"), QStringLiteral("verify"), QStringLiteral("--jwks"), m_jwks,
                           QStringLiteral("--issuer"), QStringLiteral("https://idp.example.org"), QStringLiteral("--audience"),
                           QStringLiteral("hotdesk-pc"), QStringLiteral("--now"), QString::number(kNow), QStringLiteral("-")},
                          m_token + "\n");
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains("alice-shared-id"));
    }

    void tokenVerifyRejects_data()
    {
        QTest::addColumn<QStringList>("extra");
        QTest::addColumn<QByteArray>("reason");
        const QString later = QString::number(kNow + 3600);
        QTest::newRow("expired") << QStringList{QStringLiteral("--now"), later} << QByteArray("expired");
        QTest::newRow("zero leeway just after exp") << QStringList{QStringLiteral("--now"), QString::number(kNow + 300), QStringLiteral("--leeway"), QStringLiteral("0")}
                                                    << QByteArray("expired");
        QTest::newRow("issuer") << QStringList{QStringLiteral("--now"), QString::number(kNow), QStringLiteral("--issuer"), QStringLiteral("https://other.example.org")}
                                << QByteArray("issuer_mismatch");
        QTest::newRow("audience") << QStringList{QStringLiteral("--now"), QString::number(kNow), QStringLiteral("--audience"), QStringLiteral("someone-else")}
                                  << QByteArray("audience_mismatch");
        QTest::newRow("nonce") << QStringList{QStringLiteral("--now"), QString::number(kNow), QStringLiteral("--nonce"), QStringLiteral("n2")}
                               << QByteArray("nonce_mismatch");
    }
    void tokenVerifyRejects()
    {
        QFETCH(QStringList, extra);
        QFETCH(QByteArray, reason);
        const Run r = run(QStringList{QStringLiteral("token"), QStringLiteral("verify"), QStringLiteral("--jwks"), m_jwks} + extra
                          + QStringList{QString::fromLatin1(m_token)});
        QCOMPARE(r.exitCode, 1);
        QVERIFY(r.out.isEmpty());
        const QList<QByteArray> lines = r.err.split('\n');
        QVERIFY2(lines.contains("rejected: " + reason), r.err.constData());
        // The human explanation follows the machine-readable line.
        QVERIFY(r.err.contains("hotdesk: "));
    }

    void tamperedTokenIsBadSignature()
    {
        QByteArray tampered = m_token;
        tampered[tampered.indexOf('.') + 5] ^= 1;
        const Run r = run({QStringLiteral("jws"), QStringLiteral("verify"), QStringLiteral("--jwks"), m_jwks, QString::fromLatin1(tampered)});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.startsWith("rejected: "), r.err.constData());
    }

    void jwsVerifyPrintsAnyPayload()
    {
        const QByteArray payload("not JSON at all \x01\x02", 18);
        const QByteArray jws = *jose::signCompact(payload, m_key, Algorithm::ES256);
        const Run r = run({QStringLiteral("jws"), QStringLiteral("verify"), QStringLiteral("--jwks"), m_jwks, QString::fromLatin1(jws)});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out, payload);
    }

    void jwsVerifyHmacOnlyWithOctKey()
    {
        const jose::Jwk hmac = generatedKey(Algorithm::HS256, QStringLiteral("shared"));
        const QString octFile = m_dir.filePath(QStringLiteral("oct.json"));
        writeFile(octFile, compactJson(QJsonObject{{QStringLiteral("keys"), QJsonArray{hmac.toPrivateJson()}}}));
        const QByteArray jws = *jose::signCompact("hello", hmac, Algorithm::HS256);
        Run r = run({QStringLiteral("jws"), QStringLiteral("verify"), QStringLiteral("--jwks"), octFile, QString::fromLatin1(jws)});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out, QByteArray("hello"));
        // The same HS256 token against a set of public keys: alg not allowed.
        r = run({QStringLiteral("jws"), QStringLiteral("verify"), QStringLiteral("--jwks"), m_jwks, QString::fromLatin1(jws)});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.startsWith("rejected: alg_not_allowed"), r.err.constData());
    }

    void jwksOverHttpOnLoopback()
    {
        TinyHttpServer server(compactJson(jose::JwkSet({publicHalf(m_key)}).toPublicJson()));
        QVERIFY(server.listen(QHostAddress::LocalHost));
        const QString url = QStringLiteral("http://127.0.0.1:%1/jwks").arg(server.serverPort());
        QProcess process;
        process.start(QStringLiteral(HOTDESK_BINARY), {QStringLiteral("jws"), QStringLiteral("verify"), QStringLiteral("--jwks"), url,
                                                       QString::fromLatin1(m_token)});
        // Keep serving while the command runs.
        QTRY_VERIFY_WITH_TIMEOUT(process.state() == QProcess::NotRunning, 30000);
        QCOMPARE(process.exitCode(), 0);
        QVERIFY(process.readAllStandardOutput().contains("alice-shared-id"));
    }

    void plainHttpElsewhereIsRefused()
    {
        const Run r = run({QStringLiteral("jws"), QStringLiteral("verify"), QStringLiteral("--jwks"),
                           QStringLiteral("http://idp.example.org/jwks"), QString::fromLatin1(m_token)});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.startsWith("rejected: unsupported"), r.err.constData());
    }

    void missingJwksFile()
    {
        const Run r = run({QStringLiteral("jws"), QStringLiteral("verify"), QStringLiteral("--jwks"), m_dir.filePath(QStringLiteral("nope.json")),
                           QString::fromLatin1(m_token)});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.startsWith("rejected: io"), r.err.constData());
    }

    void usageErrors_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::newRow("no --jwks") << QStringList{QStringLiteral("token"), QStringLiteral("verify"), QStringLiteral("x.y.z")};
        QTest::newRow("no token") << QStringList{QStringLiteral("token"), QStringLiteral("verify"), QStringLiteral("--jwks"), QStringLiteral("f")};
        QTest::newRow("two tokens") << QStringList{QStringLiteral("jws"), QStringLiteral("verify"), QStringLiteral("--jwks"), QStringLiteral("f"), QStringLiteral("a"), QStringLiteral("b")};
        QTest::newRow("unknown option") << QStringList{QStringLiteral("token"), QStringLiteral("verify"), QStringLiteral("--jwks"), QStringLiteral("f"), QStringLiteral("--frobnicate"), QStringLiteral("t")};
        QTest::newRow("bad leeway") << QStringList{QStringLiteral("token"), QStringLiteral("verify"), QStringLiteral("--jwks"), QStringLiteral("f"), QStringLiteral("--leeway"), QStringLiteral("soon"), QStringLiteral("t")};
        QTest::newRow("bad now") << QStringList{QStringLiteral("token"), QStringLiteral("verify"), QStringLiteral("--jwks"), QStringLiteral("f"), QStringLiteral("--now"), QStringLiteral("-5"), QStringLiteral("t")};
        QTest::newRow("unknown command") << QStringList{QStringLiteral("frobnicate")};
        QTest::newRow("unknown verb") << QStringList{QStringLiteral("token"), QStringLiteral("sign")};
        QTest::newRow("agent: unknown option") << QStringList{QStringLiteral("--frobnicate")};
    }
    void usageErrors()
    {
        QFETCH(QStringList, args);
        const Run r = run(args);
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.out.isEmpty());
        QVERIFY(!r.err.isEmpty());
        for (const QByteArray &line : r.err.split('\n'))
            QVERIFY2(!line.startsWith("rejected:"), "a usage error is not a rejection");
    }

    void helpAndVersion()
    {
        Run r = run({QStringLiteral("token"), QStringLiteral("verify"), QStringLiteral("--help")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains("--jwks"));
        r = run({QStringLiteral("--version")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.startsWith("hotdesk "));
    }

private:
    static void writeFile(const QString &path, const QByteArray &bytes)
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(bytes);
    }

    static Run run(const QStringList &args, const QByteArray &input = {})
    {
        QProcess process;
        process.start(QStringLiteral(HOTDESK_BINARY), args);
        if (!process.waitForStarted(10000))
            return {};
        process.write(input);
        process.closeWriteChannel();
        if (!process.waitForFinished(30000)) {
            process.kill();
            return {};
        }
        Run r;
        r.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
        r.out = process.readAllStandardOutput();
        r.err = process.readAllStandardError();
        return r;
    }

    QTemporaryDir m_dir;
    jose::Jwk m_key;
    QString m_jwks;
    QByteArray m_token;
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"

// HttpClient against loopback servers that misbehave on purpose: trust, timeouts, size limits, cancel, no redirects.
#include "app/stubs/common/localca.h"
#include "core/net/httpclient.h"
#include "core/net/proxy.h"
#include "recordingproxy.h"
#include "waitfor.h"

#include <QFile>
#include <QPointer>
#include <QSslKey>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QScopeGuard>
#include <QTest>

using namespace hotdesk;
using namespace hotdesk::test;
using namespace std::chrono_literals;

namespace {

// A TLS server with the companion servers' certificate that answers by path:
// /json a JSON object; /late the same two seconds late; /big and /stream 5000
// bytes (with and without Content-Length); /redirect a 302; /problem a 503
// problem document. Every answer closes the connection.
class RawTlsServer : public QTcpServer {
public:
    explicit RawTlsServer(const stubs::LocalCa &ca)
        : m_ca(ca)
    {
    }

    QUrl url(const QString &path) const { return QUrl(QStringLiteral("https://127.0.0.1:%1%2").arg(serverPort()).arg(path)); }
    int requests() const { return m_requests; }

protected:
    void incomingConnection(qintptr descriptor) override
    {
        auto *socket = new QSslSocket(this);
        if (!socket->setSocketDescriptor(descriptor)) {
            delete socket;
            return;
        }
        socket->setLocalCertificate(m_ca.serverCertificate());
        socket->setPrivateKey(m_ca.serverKey());
        socket->setPeerVerifyMode(QSslSocket::VerifyNone);
        auto buffer = std::make_shared<QByteArray>();
        connect(socket, &QSslSocket::readyRead, socket, [this, socket, buffer] {
            buffer->append(socket->readAll());
            if (!buffer->contains("\r\n\r\n"))
                return;
            const QList<QByteArray> requestLine = buffer->left(buffer->indexOf("\r\n")).split(' ');
            buffer->clear();
            ++m_requests;
            answer(socket, requestLine.value(1));
        });
        connect(socket, &QSslSocket::disconnected, socket, &QObject::deleteLater);
        socket->startServerEncryption();
    }

private:
    static void write(QSslSocket *socket, const QByteArray &status, const QByteArray &headers, const QByteArray &body)
    {
        socket->write("HTTP/1.1 " + status + "\r\nConnection: close\r\n" + headers + "\r\n" + body);
        socket->disconnectFromHost();
    }

    static void answer(QSslSocket *socket, const QByteArray &path)
    {
        const QByteArray json = "{\"ok\":true}";
        const QByteArray jsonHeaders
            = "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(json.size()) + "\r\n";
        if (path == "/json") {
            write(socket, "200 OK", jsonHeaders, json);
        } else if (path == "/late") {
            QTimer::singleShot(2000, socket, [socket, jsonHeaders, json] { write(socket, "200 OK", jsonHeaders, json); });
        } else if (path == "/big") {
            write(socket, "200 OK", "Content-Type: text/plain\r\nContent-Length: 5000\r\n", QByteArray(5000, 'x'));
        } else if (path == "/stream") {
            // No length: the body ends when the connection does, so only counting can stop it.
            write(socket, "200 OK", "Content-Type: text/plain\r\n", QByteArray(5000, 'x'));
        } else if (path == "/redirect") {
            write(socket, "302 Found", "Location: /json\r\nContent-Length: 0\r\n", {});
        } else if (path == "/problem") {
            const QByteArray problem
                = "{\"type\":\"urn:hotdesk:problem:busy\",\"title\":\"Busy\",\"detail\":\"come back later\",\"status\":503}";
            write(socket, "503 Service Unavailable",
                "Content-Type: application/problem+json\r\nContent-Length: " + QByteArray::number(problem.size()) + "\r\n",
                problem);
        } else {
            write(socket, "404 Not Found", "Content-Length: 0\r\n", {});
        }
    }

    const stubs::LocalCa &m_ca;
    int m_requests = 0;
};

using Answer = std::optional<Result<net::HttpResponse>>;

Answer call(net::HttpClient &http, const net::HttpRequest &request)
{
    return waitFor<net::HttpResponse>([&](auto done) { http.send(request, std::move(done)); });
}

} // namespace

class TestHttpClient : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        auto ca = stubs::LocalCa::loadOrCreate(m_dir.path());
        QVERIFY2(ca.has_value(), ca ? "" : qPrintable(ca.error().message));
        m_ca = *ca;
        m_server = std::make_unique<RawTlsServer>(m_ca);
        QVERIFY(m_server->listen(QHostAddress::LocalHost));
        auto trust = net::TlsTrust::fromBundle(m_ca.caFile());
        QVERIFY(trust.has_value());
        m_trust = *trust;
    }

    void trustedThroughTheBundle()
    {
        net::HttpClient http(m_trust);
        const Answer answer = call(http, net::HttpRequest::get(m_server->url(QStringLiteral("/json"))));
        QVERIFY2(answer && *answer, whyNot(answer));
        QCOMPARE((*answer)->status, 200);
        QCOMPARE((*answer)->mediaType(), QByteArray("application/json"));
        const auto object = net::jsonObjectOf(**answer, QStringLiteral("the test answer"));
        QVERIFY(object.has_value());
        QCOMPARE(object->value(QLatin1String("ok")).toBool(), true);
    }

    void untrustedCertificates_data()
    {
        QTest::addColumn<bool>("otherCa");
        QTest::newRow("system store only") << false;
        QTest::newRow("another CA in the bundle") << true;
    }
    void untrustedCertificates()
    {
        QFETCH(bool, otherCa);
        net::TlsTrust trust;
        QTemporaryDir otherDir;
        if (otherCa) {
            auto other = stubs::LocalCa::loadOrCreate(otherDir.path());
            QVERIFY(other.has_value());
            auto otherTrust = net::TlsTrust::fromBundle(other->caFile());
            QVERIFY(otherTrust.has_value());
            trust = *otherTrust;
        }
        net::HttpClient http(trust);
        const Answer answer = call(http, net::HttpRequest::get(m_server->url(QStringLiteral("/json"))));
        QVERIFY(answer.has_value());
        QVERIFY2(!*answer, "an untrusted certificate was accepted");
        QCOMPARE(answer->error().code, ErrorCode::Tls);
        QVERIFY(answer->error().message.contains(QLatin1String("CA bundle")));
    }

    void silentPeerIsUnreachable()
    {
        // Accepts TCP and never speaks: TLS never completes, so the connect timeout ends it.
        QTcpServer silent;
        QVERIFY(silent.listen(QHostAddress::LocalHost));
        net::HttpClient http(m_trust, net::Timeouts {300ms, 60000ms});
        const Answer answer
            = call(http, net::HttpRequest::get(QUrl(QStringLiteral("https://127.0.0.1:%1/json").arg(silent.serverPort()))));
        QVERIFY(answer.has_value());
        QVERIFY(!*answer);
        QCOMPARE(answer->error().code, ErrorCode::Unreachable);
        QVERIFY2(answer->error().message.contains(QLatin1String("300 ms")), qPrintable(answer->error().message));
    }

    void lateAnswerIsTimeout()
    {
        net::HttpClient http(m_trust, net::Timeouts {60000ms, 300ms});
        const int before = m_server->requests();
        const Answer answer = call(http, net::HttpRequest::get(m_server->url(QStringLiteral("/late"))));
        QVERIFY(answer.has_value());
        QVERIFY(!*answer);
        QCOMPARE(answer->error().code, ErrorCode::Timeout);
        // The request did reach the server: this is the response timeout, not the connect one.
        QCOMPARE(m_server->requests(), before + 1);
    }

    void sizeLimit_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<qint64>("limit");
        QTest::addColumn<bool>("tooLarge");
        QTest::newRow("Content-Length over the limit") << QStringLiteral("/big") << qint64(1000) << true;
        QTest::newRow("no length, body over the limit") << QStringLiteral("/stream") << qint64(1000) << true;
        QTest::newRow("exactly the limit") << QStringLiteral("/big") << qint64(5000) << false;
        QTest::newRow("small answer") << QStringLiteral("/json") << qint64(1000) << false;
    }
    void sizeLimit()
    {
        QFETCH(QString, path);
        QFETCH(qint64, limit);
        QFETCH(bool, tooLarge);
        net::HttpClient http(m_trust);
        net::HttpRequest request = net::HttpRequest::get(m_server->url(path));
        request.maxResponseBytes = limit;
        const Answer answer = call(http, request);
        QVERIFY(answer.has_value());
        if (tooLarge) {
            QVERIFY2(!*answer, "an oversized answer was accepted");
            QCOMPARE(answer->error().code, ErrorCode::TooLarge);
        } else {
            QVERIFY2(*answer, whyNot(answer));
            QCOMPARE((*answer)->status, 200);
        }
    }

    void cancelAnswersCancelledOnce_data()
    {
        QTest::addColumn<bool>("afterSending");
        QTest::newRow("while connecting") << false;
        QTest::newRow("waiting for the answer") << true;
    }
    void cancelAnswersCancelledOnce()
    {
        QFETCH(bool, afterSending);
        net::HttpClient http(m_trust);
        int calls = 0;
        std::optional<Result<net::HttpResponse>> last;
        const int before = m_server->requests();
        QPointer<net::HttpCall> pending
            = http.send(net::HttpRequest::get(m_server->url(QStringLiteral("/late"))), [&](Result<net::HttpResponse> r) {
                  ++calls;
                  last = std::move(r);
              });
        QVERIFY(pending);
        if (afterSending)
            QTRY_COMPARE_WITH_TIMEOUT(m_server->requests(), before + 1, 20000);
        pending->cancel();
        QTRY_COMPARE_WITH_TIMEOUT(calls, 1, 20000);
        QVERIFY(last.has_value() && !*last);
        QCOMPARE(last->error().code, ErrorCode::Cancelled);
        // Cancelling again, and letting the late answer come, calls nobody.
        if (pending)
            pending->cancel();
        QTRY_VERIFY(pending.isNull());
        QTest::qWait(2500);
        QCOMPARE(calls, 1);
    }

    void cancelAllStopsEveryCall()
    {
        net::HttpClient http(m_trust);
        int first = 0;
        int second = 0;
        ErrorCode firstCode = ErrorCode::Malformed;
        ErrorCode secondCode = ErrorCode::Malformed;
        http.send(net::HttpRequest::get(m_server->url(QStringLiteral("/late"))), [&](Result<net::HttpResponse> r) {
            ++first;
            firstCode = r ? ErrorCode::Malformed : r.error().code;
        });
        http.send(net::HttpRequest::get(m_server->url(QStringLiteral("/late"))), [&](Result<net::HttpResponse> r) {
            ++second;
            secondCode = r ? ErrorCode::Malformed : r.error().code;
        });
        http.cancelAll();
        QTRY_VERIFY_WITH_TIMEOUT(first == 1 && second == 1, 20000);
        QCOMPARE(firstCode, ErrorCode::Cancelled);
        QCOMPARE(secondCode, ErrorCode::Cancelled);
        QTRY_VERIFY(http.findChildren<net::HttpCall *>().isEmpty());
        QCOMPARE(first, 1);
        QCOMPARE(second, 1);
    }

    void refusedConnectionIsUnreachable()
    {
        quint16 port = 0;
        {
            QTcpServer closed;
            QVERIFY(closed.listen(QHostAddress::LocalHost));
            port = closed.serverPort();
        }
        net::HttpClient http(m_trust);
        const Answer answer = call(http, net::HttpRequest::get(QUrl(QStringLiteral("https://127.0.0.1:%1/json").arg(port))));
        QVERIFY(answer.has_value());
        QVERIFY(!*answer);
        QCOMPARE(answer->error().code, ErrorCode::Unreachable);
    }

    void redirectsAreNotFollowed()
    {
        net::HttpClient http(m_trust);
        const Answer answer = call(http, net::HttpRequest::get(m_server->url(QStringLiteral("/redirect"))));
        QVERIFY2(answer && *answer, whyNot(answer));
        QCOMPARE((*answer)->status, 302);
        QCOMPARE((*answer)->header("location"), QByteArray("/json"));
    }

    void problemDocuments()
    {
        net::HttpClient http(m_trust);
        const Answer answer = call(http, net::HttpRequest::get(m_server->url(QStringLiteral("/problem"))));
        QVERIFY2(answer && *answer, whyNot(answer));
        QCOMPARE((*answer)->status, 503);
        QVERIFY(!(*answer)->isSuccess());
        const auto problem = net::problemOf(**answer);
        QVERIFY(problem.has_value());
        QCOMPARE(problem->slug, QStringLiteral("busy"));
        const QString described = net::describeAnswer(**answer);
        QVERIFY2(described.contains(QLatin1String("503")) && described.contains(QLatin1String("busy"))
                && described.contains(QLatin1String("come back later")),
            qPrintable(described));
    }

    void bundleFiles_data()
    {
        QTest::addColumn<QString>("content"); // "(missing)" for no file
        QTest::addColumn<QString>("error"); // expected code name, "" for success
        QTest::newRow("missing file") << QStringLiteral("(missing)") << QStringLiteral("io");
        QTest::newRow("empty file") << QString() << QStringLiteral("malformed");
        QTest::newRow("not PEM") << QStringLiteral("hello, world\n") << QStringLiteral("malformed");
        QTest::newRow("the stubs' CA") << QStringLiteral("(ca)") << QString();
    }
    void bundleFiles()
    {
        QFETCH(QString, content);
        QFETCH(QString, error);
        QTemporaryDir dir;
        QString file = dir.filePath(QStringLiteral("bundle.pem"));
        if (content == QLatin1String("(ca)")) {
            file = m_ca.caFile();
        } else if (content != QLatin1String("(missing)")) {
            QFile f(file);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(content.toUtf8());
        }
        const auto trust = net::TlsTrust::fromBundle(file);
        if (error.isEmpty()) {
            QVERIFY2(trust.has_value(), trust ? "" : qPrintable(trust.error().message));
            QCOMPARE(trust->extraCertificates().size(), 1);
            QVERIFY(trust->configuration().caCertificates().contains(m_ca.caCertificate()));
        } else {
            QVERIFY(!trust.has_value());
            QCOMPARE(trust.error().codeName(), error);
            QVERIFY(trust.error().message.contains(file));
        }
    }

    // servers.proxy: the three forms, and what is refused.
    void proxySettings_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("mode"); // -1: refused
        using M = net::ProxySetting::Mode;
        QTest::newRow("system") << QStringLiteral("system") << int(M::System);
        QTest::newRow("empty is system") << QString() << int(M::System);
        QTest::newRow("none") << QStringLiteral("none") << int(M::None);
        QTest::newRow("http proxy") << QStringLiteral("http://proxy.corp.example:3128") << int(M::Http);
        QTest::newRow("trailing slash") << QStringLiteral("http://proxy.corp.example:3128/") << int(M::Http);
        QTest::newRow("no port") << QStringLiteral("http://proxy.corp.example") << -1;
        QTest::newRow("https scheme") << QStringLiteral("https://proxy.corp.example:3128") << -1;
        QTest::newRow("socks") << QStringLiteral("socks5://proxy.corp.example:1080") << -1;
        QTest::newRow("password") << QStringLiteral("http://u:secret@proxy.corp.example:3128") << -1;
        QTest::newRow("path") << QStringLiteral("http://proxy.corp.example:3128/pac") << -1;
        QTest::newRow("word") << QStringLiteral("auto") << -1;
    }
    void proxySettings()
    {
        QFETCH(QString, text);
        QFETCH(int, mode);
        const auto setting = net::ProxySetting::parse(text);
        if (mode < 0) {
            QVERIFY(!setting.has_value());
            QCOMPARE(setting.error().code, ErrorCode::PolicyInvalid);
            QVERIFY(!setting.error().message.contains(QLatin1String("secret")));
        } else {
            QVERIFY2(setting.has_value(), setting ? "" : qPrintable(setting.error().message));
            QCOMPARE(int(setting->mode), mode);
        }
    }

    // With an HTTP proxy in the policy, a server elsewhere is reached through it
    // (an HTTPS tunnel: CONNECT), while this PC's loopback is reached directly.
    void httpProxyIsUsedExceptForLoopback()
    {
        RecordingProxy proxy;
        QVERIFY(proxy.isListening());
        QByteArray &seen = proxy.seen;
        auto setting = net::ProxySetting::parse(proxy.url());
        QVERIFY(setting.has_value());
        net::HttpClient http(m_trust, net::Timeouts {std::chrono::milliseconds(5000), std::chrono::milliseconds(5000)});
        http.setProxy(*setting);

        const Answer far = call(http, net::HttpRequest::get(QUrl(QStringLiteral("https://das.hotdesk-proxy-test.invalid/v1/x"))));
        QVERIFY(far.has_value());
        QVERIFY(!*far); // the proxy refused to connect onwards
        QVERIFY2(seen.startsWith("CONNECT das.hotdesk-proxy-test.invalid:443 HTTP/1.1\r\n"), seen.constData());

        seen.clear();
        const Answer near = call(http, net::HttpRequest::get(m_server->url(QStringLiteral("/json"))));
        QVERIFY2(near && *near, whyNot(near));
        QCOMPARE((*near)->status, 200);
        QVERIFY(seen.isEmpty());
    }

    // "system": Debian's Qt asks libproxy, which without desktop proxy settings
    // reads https_proxy and no_proxy (as /etc/environment or a login script sets them).
    void systemProxyFromTheEnvironment()
    {
        RecordingProxy proxy;
        QVERIFY(proxy.isListening());
        QByteArray &seen = proxy.seen;
        const QByteArray saved[] = {qgetenv("https_proxy"), qgetenv("no_proxy"), qgetenv("all_proxy")};
        const auto restore = qScopeGuard([&] {
            const char *names[] = {"https_proxy", "no_proxy", "all_proxy"};
            for (int i = 0; i < 3; ++i) {
                if (saved[i].isEmpty())
                    qunsetenv(names[i]);
                else
                    qputenv(names[i], saved[i]);
            }
        });
        qputenv("https_proxy", proxy.url().toLatin1());
        qunsetenv("no_proxy");
        qunsetenv("all_proxy");
        auto setting = net::ProxySetting::parse(QStringLiteral("system"));
        QVERIFY(setting.has_value());
        QCOMPARE(setting->mode, net::ProxySetting::Mode::System);
        net::HttpClient http(m_trust, net::Timeouts {std::chrono::milliseconds(5000), std::chrono::milliseconds(5000)});
        http.setProxy(*setting);

        const Answer far = call(http, net::HttpRequest::get(QUrl(QStringLiteral("https://das.hotdesk-proxy-test.invalid/v1/x"))));
        QVERIFY(far.has_value() && !*far);
        QVERIFY2(seen.startsWith("CONNECT das.hotdesk-proxy-test.invalid:443 HTTP/1.1\r\n"), seen.constData());

        // The loopback servers are reached directly even when the environment names a proxy.
        seen.clear();
        const Answer near = call(http, net::HttpRequest::get(m_server->url(QStringLiteral("/json"))));
        QVERIFY2(near && *near, whyNot(near));
        QVERIFY(seen.isEmpty());

        // no_proxy naming the host takes it out: the request goes direct (and finds no such host).
        qputenv("no_proxy", "das.hotdesk-proxy-test.invalid");
        const Answer excluded
            = call(http, net::HttpRequest::get(QUrl(QStringLiteral("https://das.hotdesk-proxy-test.invalid/v1/x"))));
        QVERIFY(excluded.has_value() && !*excluded);
        QVERIFY2(seen.isEmpty(), seen.constData());
    }

    void loopbackHosts_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addColumn<bool>("loopback");
        QTest::newRow("127.0.0.1") << QStringLiteral("127.0.0.1") << true;
        QTest::newRow("127.8.9.10") << QStringLiteral("127.8.9.10") << true;
        QTest::newRow("::1") << QStringLiteral("::1") << true;
        QTest::newRow("localhost") << QStringLiteral("LocalHost") << true;
        QTest::newRow("10.0.0.1") << QStringLiteral("10.0.0.1") << false;
        QTest::newRow("name") << QStringLiteral("localhost.corp.example") << false;
    }
    void loopbackHosts()
    {
        QFETCH(QString, host);
        QFETCH(bool, loopback);
        QCOMPARE(net::PolicyProxyFactory::isLoopbackHost(host), loopback);
    }

private:
    QTemporaryDir m_dir;
    stubs::LocalCa m_ca;
    net::TlsTrust m_trust;
    std::unique_ptr<RawTlsServer> m_server;
};

QTEST_GUILESS_MAIN(TestHttpClient)
#include "tst_httpclient.moc"

// The embedded sign-in browser with real WebEngine under Xvfb, against loopback HTTPS sites.
#include "app/stubs/common/localca.h"
#include "core/net/proxy.h"
#include "recordingproxy.h"
#include "ui/authbrowser.h"
#include "ui/certificatecheck.h"
#include "ui/uiinit.h"

#include <QApplication>
#include <QDir>
#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponse>
#include <QLabel>
#include <QPushButton>
#include <QScopeGuard>
#include <QSet>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QUrlQuery>
#include <QWebEngineDownloadRequest>
#include <QWebEnginePage>
#include <QWebEngineProfile>
#include <QWebEngineView>

#include <map>
#include <memory>

using namespace hotdesk;
using namespace hotdesk::ui;
using namespace std::chrono_literals;

namespace {

using Page = std::function<QHttpServerResponse()>;

QHttpServerResponse html(const QString &body)
{
    return QHttpServerResponse(QByteArrayLiteral("text/html; charset=utf-8"), body.toUtf8());
}

QHttpServerResponse found(const QUrl &target)
{
    QHttpServerResponse response(QHttpServerResponse::StatusCode::Found);
    response.setHeader("Location", target.toString(QUrl::FullyEncoded).toUtf8());
    return response;
}

// A loopback HTTPS site with fixed pages. It records every HTTP request it gets.
class TestSite {
public:
    explicit TestSite(const stubs::LocalCa &ca)
    {
        m_server.route(QStringLiteral("/<arg>"), [this](const QUrl &, const QHttpServerRequest &request) {
            const QString path = request.url().path();
            m_requests << path;
            const auto page = m_pages.find(path);
            if (page == m_pages.end())
                return QHttpServerResponse(QHttpServerResponse::StatusCode::NotFound);
            return page->second();
        });
        m_server.sslSetup(ca.serverCertificate(), ca.serverKey());
    }

    bool listen(quint16 port = 0)
    {
        m_port = m_server.listen(QHostAddress::LocalHost, port);
        return m_port != 0;
    }
    QUrl url(const QString &path) const { return QUrl(QStringLiteral("https://127.0.0.1:%1%2").arg(m_port).arg(path)); }
    QUrl origin() const { return url(QString()); }
    void page(const QString &path, Page page) { m_pages[path] = std::move(page); }
    const QStringList &requests() const { return m_requests; }

private:
    QHttpServer m_server;
    quint16 m_port = 0;
    std::map<QString, Page> m_pages;
    QStringList m_requests;
};

// Stands where the agent's loopback redirect listener would: it counts every
// connection and every byte, so a test sees whether the browser reached it.
class Listener : public QTcpServer {
public:
    Listener()
    {
        connect(this, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = nextPendingConnection()) {
                ++connections;
                connect(socket, &QTcpSocket::readyRead, socket, [this, socket] { bytes += socket->readAll().size(); });
            }
        });
    }
    int connections = 0;
    qint64 bytes = 0;
};

// Accepts connections and never says a word.
class SilentServer : public QTcpServer {
public:
    SilentServer()
    {
        connect(this, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = nextPendingConnection())
                socket->setParent(this);
        });
    }
};

QString script(const QString &code)
{
    return QStringLiteral("<!doctype html><html><head><title>script</title></head><body><p>working</p><script>") + code
        + QStringLiteral("</script></body></html>");
}

// Different colours in the image: a blank (or black) grab has one.
int colourCount(const QImage &image)
{
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 4)
        for (int x = 0; x < image.width(); x += 4)
            colours.insert(image.pixel(x, y));
    return int(colours.size());
}

// Whether this process has the WebEngine module mapped (Linux: /proc/self/maps).
bool moduleLoaded()
{
    QFile maps(QStringLiteral("/proc/self/maps"));
    return maps.open(QIODevice::ReadOnly) && maps.readAll().contains("libhotdesk_webengine");
}

// The module's view: the widget hands it out as a plain QWidget.
QWebEngineView *webView(const AuthBrowserWidget *browser)
{
    return qobject_cast<QWebEngineView *>(browser->view());
}

QVariant runJavaScript(QWebEnginePage *page, const QString &code)
{
    QVariant result;
    bool done = false;
    page->runJavaScript(code, [&](const QVariant &value) {
        result = value;
        done = true;
    });
    if (!QTest::qWaitFor([&] { return done; }, 10000))
        qWarning("runJavaScript: no answer within 10 s");
    return result;
}

} // namespace

class TestAuthBrowser : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::optional<stubs::LocalCa> m_ca;
    std::optional<stubs::LocalCa> m_otherCa;
    std::unique_ptr<TestSite> m_site;
    std::unique_ptr<TestSite> m_otherSite; // certificate from a CA the options may or may not name
    std::unique_ptr<Listener> m_listener;
    QUrl m_loopbackRedirect;
    QUrl m_schemeRedirect {QStringLiteral("com.hotdesk.agent:/callback")};
    QList<QUrl> m_opened;

    AuthBrowserOptions options(const QString &path, const QUrl &redirect = {})
    {
        AuthBrowserOptions o;
        o.authorizationUrl = m_site->url(path);
        o.redirectUri = redirect.isEmpty() ? m_loopbackRedirect : redirect;
        o.allowedOrigin = m_site->origin();
        o.extraCaCertificates = {m_ca->caCertificate()};
        o.title = QStringLiteral("Sign in to Hotdesk");
        o.openExternally = [this](const QUrl &url) { m_opened << url; };
        return o;
    }

    // A started browser in a visible window; the caller owns it.
    std::unique_ptr<AuthBrowserWidget> startBrowser(const AuthBrowserOptions &o)
    {
        auto browser = std::make_unique<AuthBrowserWidget>();
        browser->resize(800, 700);
        browser->show();
        if (!QTest::qWaitForWindowExposed(browser.get()))
            return nullptr;
        const Status started = browser->start(o);
        if (!started) {
            qWarning("start: %s", qPrintable(started.error().message));
            return nullptr;
        }
        return browser;
    }

    QUrl redirectTarget(const QUrl &redirect, const QString &code)
    {
        QUrl target = redirect;
        QUrlQuery query;
        query.addQueryItem(QStringLiteral("code"), code);
        query.addQueryItem(QStringLiteral("state"), QStringLiteral("st-42_x"));
        query.addQueryItem(QStringLiteral("iss"), m_site->origin().toString());
        target.setQuery(query);
        return target;
    }

private Q_SLOTS:
    void initTestCase()
    {
        qInfo("platform: %s", qPrintable(QGuiApplication::platformName()));
        QVERIFY(m_dir.isValid());
        QVERIFY(QDir(m_dir.path()).mkpath(QStringLiteral("ca")) && QDir(m_dir.path()).mkpath(QStringLiteral("other-ca")));
        auto ca = stubs::LocalCa::loadOrCreate(m_dir.filePath(QStringLiteral("ca")));
        QVERIFY2(ca.has_value(), ca ? "" : qPrintable(ca.error().message));
        m_ca = *ca;
        auto other = stubs::LocalCa::loadOrCreate(m_dir.filePath(QStringLiteral("other-ca")));
        QVERIFY2(other.has_value(), other ? "" : qPrintable(other.error().message));
        m_otherCa = *other;

        m_listener = std::make_unique<Listener>();
        QVERIFY(m_listener->listen(QHostAddress::LocalHost));
        m_loopbackRedirect = QUrl(QStringLiteral("http://127.0.0.1:%1/callback").arg(m_listener->serverPort()));

        m_site = std::make_unique<TestSite>(*m_ca);
        QVERIFY(m_site->listen());
        m_otherSite = std::make_unique<TestSite>(*m_otherCa);
        QVERIFY(m_otherSite->listen());

        const QString page = QStringLiteral(
            "<!doctype html><html><head><title>IdP page</title></head>"
            "<body style='margin:0;font:20px sans-serif'>"
            "<div style='background:#1d4ed8;color:white;padding:24px'>Hotdesk test identity provider</div>"
            "<p style='padding:24px'>Approve the sign-in on your phone. Number: <b style='color:#b91c1c'>42</b></p>"
            "</body></html>");
        m_site->page(QStringLiteral("/page"), [page] { return html(page); });
        m_otherSite->page(QStringLiteral("/page"), [page] { return html(page); });

        for (const auto &[name, redirect] : {std::pair {QStringLiteral("loopback"), m_loopbackRedirect},
                 std::pair {QStringLiteral("scheme"), m_schemeRedirect}}) {
            const QUrl target = redirectTarget(redirect, QStringLiteral("code+1/") + name);
            m_site->page(QStringLiteral("/302-") + name, [target] { return found(target); });
            m_site->page(QStringLiteral("/js-") + name, [target] {
                return html(script(QStringLiteral("setTimeout(function(){location.replace('%1');},100);")
                                       .arg(target.toString(QUrl::FullyEncoded))));
            });
        }
        const QUrl elsewhere = m_loopbackRedirect.resolved(QUrl(QStringLiteral("/elsewhere?code=c1&state=s1")));
        m_site->page(QStringLiteral("/302-elsewhere"), [elsewhere] { return found(elsewhere); });
        const QUrl away(QStringLiteral("https://example.invalid/away"));
        m_site->page(QStringLiteral("/302-away"), [away] { return found(away); });

        m_site->page(QStringLiteral("/links"), [] {
            return html(
                QStringLiteral("<!doctype html><html><head><title>links</title></head><body style='margin:0'>"
                               "<a id='help' href='https://example.invalid/help' style='display:block;width:300px;height:80px;"
                               "background:#16a34a'>Help</a>"
                               "<a id='blank' target='_blank' href='/popup-target' style='display:block;width:300px;height:80px;"
                               "background:#ca8a04'>New window</a>"
                               "</body></html>"));
        });
        m_site->page(QStringLiteral("/script-away"), [] {
            return html(script(QStringLiteral(
                "setTimeout(function(){location.href='https://example.invalid/scripted';document.title='tried';},100);")));
        });
        m_site->page(QStringLiteral("/popup"), [] {
            return html(script(
                QStringLiteral("var w = window.open('/popup-target', 'x'); document.title = w ? 'window' : 'no-window';")));
        });
        m_site->page(QStringLiteral("/popup-target"), [] { return html(QStringLiteral("<title>popup</title>")); });
        m_site->page(QStringLiteral("/geolocation"), [] {
            return html(
                script(QStringLiteral("navigator.geolocation.getCurrentPosition(function(){document.title='geo-granted';},"
                                      "function(e){document.title='geo-' + (e.code === 1 ? 'denied' : 'error-' + e.code);});")));
        });
        m_site->page(QStringLiteral("/download-page"),
            [] { return html(script(QStringLiteral("setTimeout(function(){location.href='/file';},100);"))); });
        m_site->page(QStringLiteral("/file"), [] {
            QHttpServerResponse response(QByteArrayLiteral("application/octet-stream"), QByteArrayLiteral("payload"));
            response.setHeader("Content-Disposition", "attachment; filename=\"payload.bin\"");
            return response;
        });
        const QString callback = m_loopbackRedirect.toString();
        QUrl httpsCallback = m_loopbackRedirect;
        httpsCallback.setScheme(QStringLiteral("https"));
        const QString secureCallback = httpsCallback.toString();
        m_site->page(QStringLiteral("/subresources"), [callback, secureCallback] {
            return html(QStringLiteral("<!doctype html><html><head><title>sub</title></head><body>"
                                       "<img src='%1?code=img'><iframe src='%1?code=frame'></iframe>"
                                       "<img src='com.hotdesk.agent:/callback?code=img'>"
                                       "<img src='%2?code=img-https'>"
                                       "<script>fetch('%1?code=fetch').then(function(){document.title='fetched';},"
                                       "function(){document.title='fetch-blocked';});</script></body></html>")
                            .arg(callback, secureCallback));
        });
        const QUrl late = redirectTarget(m_loopbackRedirect, QStringLiteral("late"));
        m_site->page(QStringLiteral("/slow-redirect"), [late] {
            return html(script(
                QStringLiteral("setTimeout(function(){location.replace('%1');},1500);").arg(late.toString(QUrl::FullyEncoded))));
        });
    }

    void init()
    {
        m_opened.clear();
        m_listener->connections = 0;
        m_listener->bytes = 0;
    }

    void matchesRedirectUri_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<QString>("redirect");
        QTest::addColumn<bool>("matches");
        const QString loopback = QStringLiteral("http://127.0.0.1:5555/callback");
        const QString scheme = QStringLiteral("com.hotdesk.agent:/callback");
        QTest::newRow("same") << loopback << loopback << true;
        QTest::newRow("with query") << loopback + QStringLiteral("?code=a&state=b") << loopback << true;
        QTest::newRow("with fragment") << loopback + QStringLiteral("#x") << loopback << true;
        QTest::newRow("other port") << QStringLiteral("http://127.0.0.1:5556/callback?code=a") << loopback << false;
        QTest::newRow("other path") << QStringLiteral("http://127.0.0.1:5555/callback2") << loopback << false;
        QTest::newRow("trailing slash") << QStringLiteral("http://127.0.0.1:5555/callback/") << loopback << false;
        QTest::newRow("https") << QStringLiteral("https://127.0.0.1:5555/callback") << loopback << false;
        QTest::newRow("localhost") << QStringLiteral("http://localhost:5555/callback") << loopback << false;
        QTest::newRow("scheme") << scheme + QStringLiteral("?code=a") << scheme << true;
        QTest::newRow("scheme other path") << QStringLiteral("com.hotdesk.agent:/other?code=a") << scheme << false;
        QTest::newRow("other scheme") << QStringLiteral("com.evil.agent:/callback?code=a") << scheme << false;
        QTest::newRow("empty redirect") << loopback << QString() << false;
    }

    void matchesRedirectUri()
    {
        QFETCH(QString, url);
        QFETCH(QString, redirect);
        QFETCH(bool, matches);
        QCOMPARE(hotdesk::ui::matchesRedirectUri(QUrl(url), QUrl(redirect)), matches);
    }

    void validateOptions_data()
    {
        QTest::addColumn<QString>("authorization");
        QTest::addColumn<QString>("origin");
        QTest::addColumn<QString>("redirect");
        QTest::addColumn<bool>("valid");
        const QString auth = QStringLiteral("https://idp.example/authorize?request=x");
        const QString loopback = QStringLiteral("http://127.0.0.1:5555/callback");
        QTest::newRow("loopback redirect") << auth << QString() << loopback << true;
        QTest::newRow("ipv6 loopback") << auth << QString() << QStringLiteral("http://[::1]:5555/callback") << true;
        QTest::newRow("scheme redirect") << auth << QString() << QStringLiteral("com.hotdesk.agent:/callback") << true;
        QTest::newRow("explicit origin") << auth << QStringLiteral("https://idp.example:443") << loopback << true;
        QTest::newRow("plain http idp") << QStringLiteral("http://idp.example/authorize") << QString() << loopback << false;
        QTest::newRow("http loopback idp") << QStringLiteral("http://127.0.0.1:8080/authorize") << QString() << loopback << true;
        QTest::newRow("outside origin") << auth << QStringLiteral("https://other.example") << loopback << false;
        QTest::newRow("other port") << auth << QStringLiteral("https://idp.example:8443") << loopback << false;
        QTest::newRow("not a web url") << QStringLiteral("file:///etc/passwd") << QString() << loopback << false;
        QTest::newRow("remote redirect") << auth << QString() << QStringLiteral("http://203.0.113.5:5555/callback") << false;
        QTest::newRow("https redirect") << auth << QString() << QStringLiteral("https://127.0.0.1:5555/callback") << false;
        QTest::newRow("no port") << auth << QString() << QStringLiteral("http://127.0.0.1/callback") << false;
        QTest::newRow("other scheme") << auth << QString() << QStringLiteral("com.evil:/callback") << false;
    }

    void validateOptions()
    {
        QFETCH(QString, authorization);
        QFETCH(QString, origin);
        QFETCH(QString, redirect);
        QFETCH(bool, valid);
        AuthBrowserOptions o;
        o.authorizationUrl = QUrl(authorization);
        o.allowedOrigin = QUrl(origin);
        o.redirectUri = QUrl(redirect);
        const Status status = hotdesk::ui::validateOptions(o);
        QVERIFY2(status.has_value() == valid, status ? "accepted" : qPrintable(status.error().message));
    }

    void certificateChain_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addColumn<bool>("withCa");
        QTest::addColumn<bool>("withOtherCa");
        QTest::addColumn<bool>("trusted");
        QTest::newRow("ip, own CA") << QStringLiteral("127.0.0.1") << true << false << true;
        QTest::newRow("localhost, own CA") << QStringLiteral("localhost") << true << false << true;
        QTest::newRow("ipv6, own CA") << QStringLiteral("::1") << true << false << true;
        QTest::newRow("both CAs") << QStringLiteral("127.0.0.1") << true << true << true;
        QTest::newRow("other CA only") << QStringLiteral("127.0.0.1") << false << true << false;
        QTest::newRow("no CA") << QStringLiteral("127.0.0.1") << false << false << false;
        QTest::newRow("wrong ip") << QStringLiteral("10.0.0.1") << true << false << false;
        QTest::newRow("wrong name") << QStringLiteral("idp.example") << true << false << false;
        QTest::newRow("no host") << QString() << true << false << false;
    }

    void certificateChain()
    {
        QFETCH(QString, host);
        QFETCH(bool, withCa);
        QFETCH(bool, withOtherCa);
        QFETCH(bool, trusted);
        QList<QSslCertificate> anchors;
        if (withCa)
            anchors << m_ca->caCertificate();
        if (withOtherCa)
            anchors << m_otherCa->caCertificate();
        const Status status = verifyCertificateChain({m_ca->serverCertificate()}, host, anchors);
        QVERIFY2(status.has_value() == trusted, status ? "trusted" : qPrintable(status.error().message));
        if (!status)
            QCOMPARE(status.error().code, ErrorCode::Tls);
    }

    void certificateChainEmpty()
    {
        const Status status = verifyCertificateChain({}, QStringLiteral("127.0.0.1"), {m_ca->caCertificate()});
        QVERIFY(!status);
        QCOMPARE(status.error().code, ErrorCode::Tls);
    }

    void noWebEngineBeforeStart()
    {
        AuthBrowserWidget browser;
        browser.show();
        QVERIFY(QTest::qWaitForWindowExposed(&browser));
        QVERIFY(browser.view() == nullptr);
        QVERIFY(browser.grabPage().isNull());
        QVERIFY(!browser.isRunning());
        // The module comes with start(), not with the widget.
        QVERIFY(QFile::exists(QStringLiteral("/proc/self/maps")));
        QVERIFY(!moduleLoaded());
    }

    void invalidOptionsStartNothing()
    {
        AuthBrowserWidget browser;
        AuthBrowserOptions o = options(QStringLiteral("/page"));
        o.redirectUri = QUrl(QStringLiteral("https://127.0.0.1:5555/callback"));
        const Status started = browser.start(o);
        QVERIFY(!started);
        QCOMPARE(started.error().code, ErrorCode::Malformed);
        QVERIFY(browser.view() == nullptr);
        QVERIFY(!browser.isRunning());
    }

    // Runs before any browser starts: the module is loaded once per process.
    void missingModuleIsUnsupported()
    {
        const QByteArray missing = QDir::current().filePath(QStringLiteral("no-such-module.so")).toLocal8Bit();
        qputenv("HOTDESK_WEBENGINE_MODULE", missing);
        AuthBrowserWidget browser;
        const Status started = browser.start(options(QStringLiteral("/page")));
        qunsetenv("HOTDESK_WEBENGINE_MODULE");
        QVERIFY(!started);
        QCOMPARE(started.error().code, ErrorCode::Unsupported);
        QVERIFY2(started.error().message.contains(QString::fromLocal8Bit(missing)), qPrintable(started.error().message));
        QVERIFY(browser.view() == nullptr);
        QVERIFY(!browser.isRunning());
    }

    void redirectCaptured_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("kind");
        QTest::newRow("HTTP 302 to loopback") << QStringLiteral("/302-loopback") << QStringLiteral("loopback");
        QTest::newRow("script to loopback") << QStringLiteral("/js-loopback") << QStringLiteral("loopback");
        QTest::newRow("HTTP 302 to private-use scheme") << QStringLiteral("/302-scheme") << QStringLiteral("scheme");
        QTest::newRow("script to private-use scheme") << QStringLiteral("/js-scheme") << QStringLiteral("scheme");
    }

    void redirectCaptured()
    {
        QFETCH(QString, path);
        QFETCH(QString, kind);
        const QUrl redirect = kind == QLatin1String("loopback") ? m_loopbackRedirect : m_schemeRedirect;
        auto browser = startBrowser(options(path, redirect));
        QVERIFY(browser);
        QSignalSpy redirected(browser.get(), &AuthBrowserWidget::redirected);
        QSignalSpy failed(browser.get(), &AuthBrowserWidget::failed);
        QVERIFY(redirected.wait(20000));
        // A moment for a second capture or a late request to show up.
        QTest::qWait(500);
        QCOMPARE(redirected.size(), 1);
        QCOMPARE(failed.size(), 0);
        QVERIFY(browser->isFinished());

        const QUrl url = redirected.first().first().toUrl();
        QVERIFY2(hotdesk::ui::matchesRedirectUri(url, redirect), qPrintable(url.toString()));
        const QUrlQuery query(url);
        QCOMPARE(query.queryItemValue(QStringLiteral("code"), QUrl::FullyDecoded), QStringLiteral("code+1/") + kind);
        QCOMPARE(query.queryItemValue(QStringLiteral("state"), QUrl::FullyDecoded), QStringLiteral("st-42_x"));
        QCOMPARE(query.queryItemValue(QStringLiteral("iss"), QUrl::FullyDecoded), m_site->origin().toString());
        // Captured before any request left: the loopback listener saw nothing at all.
        QCOMPARE(m_listener->connections, 0);
        QCOMPARE(m_listener->bytes, qint64(0));
    }

    // Only the main frame's navigation is the authorization response; anything
    // else aimed at the redirect endpoint is blocked before it leaves.
    void subresourcesToRedirectEndpointBlocked()
    {
        auto browser = startBrowser(options(QStringLiteral("/subresources")));
        QVERIFY(browser);
        QSignalSpy redirected(browser.get(), &AuthBrowserWidget::redirected);
        QTRY_COMPARE_WITH_TIMEOUT(webView(browser.get())->title(), QStringLiteral("fetch-blocked"), 20000);
        QTest::qWait(300);
        QCOMPARE(redirected.size(), 0);
        QCOMPARE(m_listener->connections, 0);
        QVERIFY(browser->isRunning());
    }

    void otherPathOnRedirectEndpointBlocked()
    {
        auto browser = startBrowser(options(QStringLiteral("/302-elsewhere")));
        QVERIFY(browser);
        QSignalSpy redirected(browser.get(), &AuthBrowserWidget::redirected);
        QSignalSpy failed(browser.get(), &AuthBrowserWidget::failed);
        QVERIFY(failed.wait(20000));
        QCOMPARE(failed.first().first().value<Error>().code, ErrorCode::Unsupported);
        QCOMPARE(redirected.size(), 0);
        QCOMPARE(m_listener->connections, 0);
    }

    void redirectOutsideOriginBlocked()
    {
        auto browser = startBrowser(options(QStringLiteral("/302-away")));
        QVERIFY(browser);
        QSignalSpy failed(browser.get(), &AuthBrowserWidget::failed);
        QVERIFY(failed.wait(20000));
        const Error error = failed.first().first().value<Error>();
        QCOMPARE(error.code, ErrorCode::Unsupported);
        QVERIFY2(error.message.contains(QLatin1String("example.invalid")), qPrintable(error.message));
        QVERIFY(m_opened.isEmpty());
    }

    void foreignLinkOpensOutside()
    {
        auto browser = startBrowser(options(QStringLiteral("/links")));
        QVERIFY(browser);
        QSignalSpy loaded(browser.get(), &AuthBrowserWidget::pageLoaded);
        QVERIFY(loaded.wait(20000));
        QWebEngineView *view = webView(browser.get());
        const QUrl before = view->url();
        QTRY_VERIFY(view->focusProxy() != nullptr);

        const QVariantList rect = runJavaScript(view->page(),
            QStringLiteral("var r = document.getElementById('help').getBoundingClientRect(); [r.left + 20, r.top + 20]"))
                                      .toList();
        QCOMPARE(rect.size(), 2);
        QTest::mouseClick(view->focusProxy(), Qt::LeftButton, {}, QPoint(rect.at(0).toInt(), rect.at(1).toInt()));
        QTRY_COMPARE_WITH_TIMEOUT(m_opened.size(), 1, 10000);
        QCOMPARE(m_opened.first(), QUrl(QStringLiteral("https://example.invalid/help")));
        QTest::qWait(300);
        QCOMPARE(view->url(), before);
        QVERIFY(browser->isRunning());
        QVERIFY2(browser->statusText().contains(QLatin1String("example.invalid")), qPrintable(browser->statusText()));
    }

    void scriptNavigationOutsideBlocked()
    {
        auto browser = startBrowser(options(QStringLiteral("/script-away")));
        QVERIFY(browser);
        QWebEngineView *view = webView(browser.get());
        QTRY_COMPARE_WITH_TIMEOUT(view->title(), QStringLiteral("tried"), 20000);
        QTest::qWait(500);
        QCOMPARE(view->url(), m_site->url(QStringLiteral("/script-away")));
        QVERIFY(browser->isRunning());
        // Not a person's click: nothing is handed to the system browser either.
        QVERIFY2(m_opened.isEmpty(), qPrintable(m_opened.value(0).toString()));
    }

    void windowOpenGivesNoWindow()
    {
        const int before = int(m_site->requests().count(QStringLiteral("/popup-target")));
        const int windows = int(QApplication::topLevelWidgets().size());
        auto browser = startBrowser(options(QStringLiteral("/popup")));
        QVERIFY(browser);
        QTRY_COMPARE_WITH_TIMEOUT(webView(browser.get())->title(), QStringLiteral("no-window"), 20000);
        QTest::qWait(300);
        QCOMPARE(int(m_site->requests().count(QStringLiteral("/popup-target"))), before);
        QCOMPARE(int(QApplication::topLevelWidgets().size()), windows + 1); // the browser itself
        QVERIFY(m_opened.isEmpty());
    }

    void blankTargetLinkGoesOutside()
    {
        const int before = int(m_site->requests().count(QStringLiteral("/popup-target")));
        auto browser = startBrowser(options(QStringLiteral("/links")));
        QVERIFY(browser);
        QSignalSpy loaded(browser.get(), &AuthBrowserWidget::pageLoaded);
        QVERIFY(loaded.wait(20000));
        QWebEngineView *view = webView(browser.get());
        QTRY_VERIFY(view->focusProxy() != nullptr);
        const QVariantList rect = runJavaScript(view->page(),
            QStringLiteral("var r = document.getElementById('blank').getBoundingClientRect(); [r.left + 20, r.top + 20]"))
                                      .toList();
        QCOMPARE(rect.size(), 2);
        QTest::mouseClick(view->focusProxy(), Qt::LeftButton, {}, QPoint(rect.at(0).toInt(), rect.at(1).toInt()));
        QTRY_COMPARE_WITH_TIMEOUT(m_opened.size(), 1, 10000);
        QCOMPARE(m_opened.first(), m_site->url(QStringLiteral("/popup-target")));
        QTest::qWait(300);
        QCOMPARE(int(m_site->requests().count(QStringLiteral("/popup-target"))), before);
        QCOMPARE(view->url(), m_site->url(QStringLiteral("/links")));
    }

    void certificate_data()
    {
        QTest::addColumn<bool>("caListed");
        QTest::newRow("CA not in the extra list") << false;
        QTest::newRow("CA in the extra list") << true;
    }

    void certificate()
    {
        QFETCH(bool, caListed);
        const qsizetype before = m_otherSite->requests().size();
        AuthBrowserOptions o = options(QStringLiteral("/page"));
        o.authorizationUrl = m_otherSite->url(QStringLiteral("/page"));
        o.allowedOrigin = m_otherSite->origin();
        o.extraCaCertificates = {m_ca->caCertificate()};
        if (caListed)
            o.extraCaCertificates << m_otherCa->caCertificate();
        auto browser = startBrowser(o);
        QVERIFY(browser);
        QSignalSpy loaded(browser.get(), &AuthBrowserWidget::pageLoaded);
        QSignalSpy failed(browser.get(), &AuthBrowserWidget::failed);
        if (caListed) {
            QVERIFY(loaded.wait(20000));
            QCOMPARE(failed.size(), 0);
            QCOMPARE(webView(browser.get())->title(), QStringLiteral("IdP page"));
            QVERIFY(m_otherSite->requests().size() > before);
            return;
        }
        QVERIFY(failed.wait(20000));
        const Error error = failed.first().first().value<Error>();
        QCOMPARE(error.code, ErrorCode::Tls);
        QVERIFY2(error.message.contains(m_otherSite->origin().toString()), qPrintable(error.message));
        QTest::qWait(300);
        QCOMPARE(loaded.size(), 0);
        // Refused during the handshake: not one HTTP request reached the server.
        QCOMPARE(m_otherSite->requests().size(), before);
        QVERIFY(browser->findChild<QPushButton *>(QStringLiteral("authbrowser-retry"))->isVisible());
    }

    void unreachableThenRetry()
    {
        quint16 port = 0;
        {
            QTcpServer probe;
            QVERIFY(probe.listen(QHostAddress::LocalHost));
            port = probe.serverPort();
        }
        TestSite late(*m_ca);
        late.page(QStringLiteral("/page"), [] { return html(QStringLiteral("<title>back</title><p>back again</p>")); });
        AuthBrowserOptions o = options(QStringLiteral("/page"));
        o.authorizationUrl = QUrl(QStringLiteral("https://127.0.0.1:%1/page").arg(port));
        o.allowedOrigin = QUrl();
        auto browser = startBrowser(o);
        QVERIFY(browser);
        QSignalSpy failed(browser.get(), &AuthBrowserWidget::failed);
        QSignalSpy loaded(browser.get(), &AuthBrowserWidget::pageLoaded);
        QVERIFY(failed.wait(20000));
        const Error error = failed.first().first().value<Error>();
        QCOMPARE(error.code, ErrorCode::Unreachable);
        QVERIFY2(error.message.contains(QStringLiteral("127.0.0.1:%1").arg(port)), qPrintable(error.message));
        auto *message = browser->findChild<QLabel *>(QStringLiteral("authbrowser-message"));
        QVERIFY(message->isVisible());
        QCOMPARE(message->text(), error.message);
        auto *retry = browser->findChild<QPushButton *>(QStringLiteral("authbrowser-retry"));
        QVERIFY(retry->isVisible());
        QVERIFY(retry->focusPolicy() & Qt::TabFocus);
        QVERIFY(!retry->accessibleName().isEmpty());

        QVERIFY(browser->grab().save(QDir::current().filePath(QStringLiteral("authbrowser-unreachable.png"))));

        // The IdP comes back: Retry loads the authorization URL again.
        QVERIFY(late.listen(port));
        QTest::mouseClick(retry, Qt::LeftButton);
        QVERIFY(loaded.wait(20000));
        QCOMPARE(webView(browser.get())->title(), QStringLiteral("back"));
        QVERIFY(!message->isVisible());
        QCOMPARE(failed.size(), 1);
    }

    void silentServerTimesOut()
    {
        SilentServer silent;
        QVERIFY(silent.listen(QHostAddress::LocalHost));
        AuthBrowserOptions o = options(QStringLiteral("/page"));
        o.authorizationUrl = QUrl(QStringLiteral("https://127.0.0.1:%1/authorize").arg(silent.serverPort()));
        o.allowedOrigin = QUrl();
        o.loadTimeout = 1500ms;
        auto browser = startBrowser(o);
        QVERIFY(browser);
        QSignalSpy failed(browser.get(), &AuthBrowserWidget::failed);
        QVERIFY(failed.wait(20000));
        QCOMPARE(failed.first().first().value<Error>().code, ErrorCode::Timeout);
    }

    // servers.proxy reaches the embedded browser as Qt's application proxy
    // (net::applyToApplication, as the agent does at start): an IdP elsewhere is
    // asked for through the proxy. The proxy here refuses to go on, so the page
    // cannot load, and the browser says so.
    void applicationProxyCarriesTheSignIn()
    {
        test::RecordingProxy proxy;
        QVERIFY(proxy.isListening());
        const QByteArray &seen = proxy.seen;
        auto setting = net::ProxySetting::parse(proxy.url());
        QVERIFY(setting.has_value());
        net::applyToApplication(*setting);
        const auto restore = qScopeGuard([] { net::applyToApplication(net::ProxySetting {}); });

        AuthBrowserOptions o = options(QStringLiteral("/page"));
        o.authorizationUrl = QUrl(QStringLiteral("https://idp.hotdesk-proxy-test.invalid/authorize"));
        o.allowedOrigin = QUrl(QStringLiteral("https://idp.hotdesk-proxy-test.invalid"));
        auto browser = startBrowser(o);
        QVERIFY(browser);
        QSignalSpy failed(browser.get(), &AuthBrowserWidget::failed);
        QSignalSpy redirected(browser.get(), &AuthBrowserWidget::redirected);
        QVERIFY(failed.wait(20000));
        QVERIFY2(seen.startsWith("CONNECT idp.hotdesk-proxy-test.invalid:443 HTTP/1.1\r\n"), seen.constData());
        QVERIFY(redirected.isEmpty());
    }

    void permissionsDenied()
    {
        auto browser = startBrowser(options(QStringLiteral("/geolocation")));
        QVERIFY(browser);
        QTRY_COMPARE_WITH_TIMEOUT(webView(browser.get())->title(), QStringLiteral("geo-denied"), 20000);
    }

    void downloadsCancelled()
    {
        auto browser = startBrowser(options(QStringLiteral("/download-page")));
        QVERIFY(browser);
        int requests = 0;
        QWebEngineDownloadRequest::DownloadState state = QWebEngineDownloadRequest::DownloadRequested;
        // Connected after the widget's own handler, so this sees what it decided.
        connect(webView(browser.get())->page()->profile(), &QWebEngineProfile::downloadRequested, this,
            [&](QWebEngineDownloadRequest *request) {
                ++requests;
                state = request->state();
            });
        QTRY_COMPARE_WITH_TIMEOUT(requests, 1, 20000);
        QCOMPARE(state, QWebEngineDownloadRequest::DownloadCancelled);
        QVERIFY(browser->isRunning());
    }

    void cancelButton()
    {
        auto browser = startBrowser(options(QStringLiteral("/slow-redirect")));
        QVERIFY(browser);
        QSignalSpy loaded(browser.get(), &AuthBrowserWidget::pageLoaded);
        QSignalSpy cancelled(browser.get(), &AuthBrowserWidget::cancelled);
        QSignalSpy redirected(browser.get(), &AuthBrowserWidget::redirected);
        QVERIFY(loaded.wait(20000));
        auto *cancel = browser->findChild<QPushButton *>(QStringLiteral("authbrowser-cancel"));
        QVERIFY(cancel);
        QVERIFY(!cancel->accessibleName().isEmpty());
        QVERIFY(cancel->focusPolicy() & Qt::TabFocus);
        QTest::mouseClick(cancel, Qt::LeftButton);
        QCOMPARE(cancelled.size(), 1);
        // The page's timer would have sent the browser to the redirect URI by now.
        QTest::qWait(2500);
        QCOMPARE(cancelled.size(), 1);
        QCOMPARE(redirected.size(), 0);
        QCOMPARE(m_listener->connections, 0);
        QVERIFY(browser->isFinished());
    }

    void dialogEscapeCancels_data()
    {
        QTest::addColumn<bool>("inPage");
        QTest::newRow("focus on the dialog") << false;
        QTest::newRow("focus in the page") << true;
    }

    void dialogEscapeCancels()
    {
        QFETCH(bool, inPage);
        AuthBrowserDialog dialog;
        QSignalSpy cancelled(dialog.browser(), &AuthBrowserWidget::cancelled);
        QSignalSpy loaded(dialog.browser(), &AuthBrowserWidget::pageLoaded);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        QVERIFY(dialog.start(options(QStringLiteral("/page"))));
        QVERIFY(loaded.wait(20000));
        QCOMPARE(dialog.windowTitle(), QStringLiteral("Sign in to Hotdesk"));
        if (inPage) {
            QWebEngineView *view = webView(dialog.browser());
            QTRY_VERIFY(view->focusProxy() != nullptr);
            view->focusProxy()->setFocus();
            QTRY_VERIFY(view->focusProxy()->hasFocus());
            // WebEngine hands keys the page does not use back to its parents, asynchronously.
            QTest::keyClick(view->focusProxy(), Qt::Key_Escape);
            QTRY_COMPARE_WITH_TIMEOUT(cancelled.size(), 1, 5000);
        } else {
            QTest::keyClick(&dialog, Qt::Key_Escape);
        }
        QCOMPARE(cancelled.size(), 1);
        QCOMPARE(dialog.result(), int(QDialog::Rejected));
        QVERIFY(!dialog.isVisible());
    }

    void dialogAcceptsRedirect()
    {
        AuthBrowserDialog dialog;
        dialog.show();
        QVERIFY(dialog.start(options(QStringLiteral("/302-scheme"), m_schemeRedirect)));
        QTRY_VERIFY_WITH_TIMEOUT(!dialog.isVisible(), 20000);
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QVERIFY(hotdesk::ui::matchesRedirectUri(dialog.redirectedUrl(), m_schemeRedirect));
    }

    void screenshot()
    {
        auto browser = startBrowser(options(QStringLiteral("/page")));
        QVERIFY(browser);
        QVERIFY(moduleLoaded());
        QSignalSpy loaded(browser.get(), &AuthBrowserWidget::pageLoaded);
        QVERIFY(loaded.wait(20000));
        QCOMPARE(webView(browser.get())->title(), QStringLiteral("IdP page"));
        // Painting follows the load; wait until the page's colours are on screen.
        QImage image;
        QTRY_VERIFY_WITH_TIMEOUT((image = browser->grabPage(), colourCount(image) >= 3), 10000);
        const QString file = QDir::current().filePath(QStringLiteral("authbrowser.png"));
        QVERIFY(image.save(file));
        qInfo("screenshot: %s (%dx%d, %d colours)", qPrintable(file), image.width(), image.height(), colourCount(image));
        // The whole widget too: title, status line and buttons around the page.
        QVERIFY(browser->grab().save(QDir::current().filePath(QStringLiteral("authbrowser-widget.png"))));
    }
};

int main(int argc, char **argv)
{
    hotdesk::ui::prepareApplication();
    QApplication app(argc, argv);
    TestAuthBrowser test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_authbrowser.moc"

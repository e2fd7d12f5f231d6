// flow::RelayFrontend: which redirect URIs it relays, and which authorization responses it hands to the flow.
#include "core/flow/relayfrontend.h"

#include <QSignalSpy>
#include <QTest>

using namespace hotdesk;
using namespace hotdesk::flow;

class TestRelayFrontend : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void redirectUris_data()
    {
        QTest::addColumn<QString>("uri");
        QTest::addColumn<bool>("relayed");
        // The embedded browser's, as the IdP registers it for the agent.
        QTest::newRow("private-use") << QStringLiteral("com.hotdesk.agent:/callback") << true;
        QTest::newRow("loopback v4") << QStringLiteral("http://127.0.0.1:49152/callback") << true;
        QTest::newRow("loopback v6") << QStringLiteral("http://[::1]:49152/callback") << true;
        QTest::newRow("localhost") << QStringLiteral("http://localhost:49152/callback") << false;
        QTest::newRow("https loopback") << QStringLiteral("https://127.0.0.1:49152/callback") << false;
        QTest::newRow("no port") << QStringLiteral("http://127.0.0.1/callback") << false;
        QTest::newRow("other path") << QStringLiteral("http://127.0.0.1:49152/other") << false;
        QTest::newRow("query") << QStringLiteral("http://127.0.0.1:49152/callback?x=1") << false;
        QTest::newRow("user info") << QStringLiteral("http://u@127.0.0.1:49152/callback") << false;
        QTest::newRow("remote host") << QStringLiteral("http://10.0.0.1:49152/callback") << false;
        QTest::newRow("private-use other path") << QStringLiteral("com.hotdesk.agent:/other") << false;
        QTest::newRow("another scheme") << QStringLiteral("com.evil.agent:/callback") << false;
        QTest::newRow("empty") << QString() << false;
    }

    void redirectUris()
    {
        QFETCH(QString, uri);
        QFETCH(bool, relayed);
        QCOMPARE(bool(RelayFrontend::checkRedirectUri(uri)), relayed);
        RelayFrontend frontend(uri);
        auto prepared = frontend.prepare();
        QCOMPARE(bool(prepared), relayed);
        if (relayed)
            QCOMPARE(*prepared, uri);
        else
            QCOMPARE(prepared.error().code, ErrorCode::Unsupported);
    }

    void theDefaultIsTheEmbeddedBrowsersUri()
    {
        RelayFrontend frontend;
        QCOMPARE(*frontend.prepare(), QStringLiteral("com.hotdesk.agent:/callback"));
    }

    void handsOnlyTheResponseAtTheRedirectUriToTheFlow()
    {
        RelayFrontend frontend;
        QSignalSpy opened(&frontend, &RelayFrontend::authorizationUrlReady);
        QSignalSpy redirected(&frontend, &AuthorizationFrontend::redirected);
        const QUrl response(QStringLiteral("com.hotdesk.agent:/callback?code=c0de&state=s&iss=https%3A%2F%2Fidp"));
        QVERIFY(frontend.prepare());
        // Before the page is open, nothing is waited for.
        QCOMPARE(frontend.deliver(response).error().code, ErrorCode::StateMismatch);
        const QUrl authorization(QStringLiteral("https://idp.example/authorize?client_id=a&request=jwt"));
        frontend.open(authorization);
        QCOMPARE(opened.size(), 1);
        QCOMPARE(opened.first().at(0).toUrl(), authorization);
        QVERIFY(frontend.isWaiting());
        for (const QString &elsewhere : {QStringLiteral("com.hotdesk.agent:/other?code=c0de"),
                 QStringLiteral("com.evil.agent:/callback?code=c0de"), QStringLiteral("http://127.0.0.1:1/callback?code=c0de"),
                 QStringLiteral("com.hotdesk.agent://host/callback?code=c0de"), QString()}) {
            const Status refused = frontend.deliver(QUrl(elsewhere));
            QVERIFY2(!refused, qPrintable(elsewhere));
            QCOMPARE(refused.error().code, ErrorCode::MalformedAnswer);
            QVERIFY2(!refused.error().message.contains(QLatin1String("c0de")), qPrintable(refused.error().message));
        }
        // Refusals leave it waiting; the first response at the redirect URI goes to the flow, once.
        QVERIFY(frontend.isWaiting());
        QCOMPARE(redirected.size(), 0);
        QVERIFY(frontend.deliver(response));
        QCOMPARE(redirected.size(), 1);
        QCOMPARE(redirected.first().at(0).toUrl(), response);
        QCOMPARE(frontend.deliver(response).error().code, ErrorCode::StateMismatch);
        QCOMPARE(redirected.size(), 1);
    }

    void closedTakesNothing()
    {
        RelayFrontend frontend(QStringLiteral("http://127.0.0.1:49152/callback"));
        QSignalSpy redirected(&frontend, &AuthorizationFrontend::redirected);
        QVERIFY(frontend.prepare());
        frontend.open(QUrl(QStringLiteral("https://idp.example/authorize")));
        frontend.close();
        QCOMPARE(frontend.deliver(QUrl(QStringLiteral("http://127.0.0.1:49152/callback?code=1&state=s"))).error().code,
            ErrorCode::StateMismatch);
        // prepare() for the next sign-in does not reopen it either.
        QVERIFY(frontend.prepare());
        QVERIFY(!frontend.isWaiting());
        QCOMPARE(redirected.size(), 0);
    }
};

QTEST_GUILESS_MAIN(TestRelayFrontend)
#include "tst_relayfrontend.moc"

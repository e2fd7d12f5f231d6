// RFC 8288 Link header parsing: several links, quoted and multiple rel values, relative targets, malformed parts.
#include "core/net/httpclient.h"
#include "core/net/linkheader.h"

#include <QTest>

using namespace hotdesk;

class TestLinkHeader : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void parse_data()
    {
        QTest::addColumn<QByteArray>("header");
        QTest::addColumn<QStringList>("targets"); // every link parsed, in order
        QTest::addColumn<QString>("install"); // the target of the first rel="install" link, or empty

        const QString site = QStringLiteral("https://gw.example/download/");
        QTest::newRow("the gateway's") << QByteArray("<https://gw.example/download/>; rel=\"install\"") << QStringList {site}
                                       << site;
        QTest::newRow("token rel") << QByteArray("<https://gw.example/download/>;rel=install") << QStringList {site} << site;
        QTest::newRow("several rel values") << QByteArray("<https://gw.example/download/>; rel=\"preload install\"")
                                            << QStringList {site} << site;
        QTest::newRow("rel values padded") << QByteArray("<https://gw.example/download/>; rel=\"  install   next \"")
                                           << QStringList {site} << site;
        QTest::newRow("case-insensitive") << QByteArray("<https://gw.example/download/>; REL=\"Install\"") << QStringList {site}
                                          << site;
        QTest::newRow("whitespace around = and ;")
            << QByteArray("<https://gw.example/download/> ;\trel = \"install\" ") << QStringList {site} << site;
        QTest::newRow("second of two links")
            << QByteArray("<https://gw.example/a>; rel=next, <https://gw.example/download/>; rel=install")
            << QStringList {QStringLiteral("https://gw.example/a"), site} << site;
        QTest::newRow("first install wins") << QByteArray(
            "<https://gw.example/download/>; rel=install, <https://other.example/>; rel=install")
                                            << QStringList {site, QStringLiteral("https://other.example/")} << site;
        QTest::newRow("comma and semicolon in a quoted title")
            << QByteArray("<https://gw.example/download/>; title=\"Hotdesk, the agent; get it\"; rel=install")
            << QStringList {site} << site;
        QTest::newRow("escaped quote") << QByteArray(
            "<https://gw.example/download/>; title=\"say \\\"hi\\\", then\"; rel=install")
                                       << QStringList {site} << site;
        QTest::newRow("comma in the target")
            << QByteArray("<https://gw.example/a,b>; rel=install") << QStringList {QStringLiteral("https://gw.example/a,b")}
            << QStringLiteral("https://gw.example/a,b");
        QTest::newRow("only the first rel counts")
            << QByteArray("<https://gw.example/download/>; rel=next; rel=install") << QStringList {site} << QString();
        QTest::newRow("relative target") << QByteArray("</download/>; rel=install") << QStringList {site} << site;
        QTest::newRow("empty elements") << QByteArray(" , ,<https://gw.example/download/>; rel=install,,") << QStringList {site}
                                        << site;
        QTest::newRow("another relation") << QByteArray("<https://gw.example/download/>; rel=\"installer\"") << QStringList {site}
                                          << QString();
        QTest::newRow("install as another parameter")
            << QByteArray("<https://gw.example/download/>; title=install") << QStringList {site} << QString();
        QTest::newRow("rel without a value")
            << QByteArray("<https://gw.example/download/>; rel") << QStringList {site} << QString();
        QTest::newRow("malformed before a good one")
            << QByteArray("garbage \"with, quotes\", <https://gw.example/download/>; rel=install") << QStringList {site} << site;
        QTest::newRow("missing semicolon") << QByteArray("<https://gw.example/download/> rel=install") << QStringList {}
                                           << QString();
        QTest::newRow("unterminated target")
            << QByteArray("<https://gw.example/download/; rel=install") << QStringList {} << QString();
        QTest::newRow("unterminated quote") << QByteArray("<https://gw.example/download/>; rel=\"install") << QStringList {}
                                            << QString();
        QTest::newRow("space in the target")
            << QByteArray("<https://gw.example/down load/>; rel=install") << QStringList {} << QString();
        QTest::newRow("empty parameter value")
            << QByteArray("<https://gw.example/download/>; rel=") << QStringList {} << QString();
        QTest::newRow("trailing junk") << QByteArray("<https://gw.example/download/>; rel=install x") << QStringList {}
                                       << QString();
        QTest::newRow("empty") << QByteArray() << QStringList {} << QString();
    }

    void parse()
    {
        QFETCH(QByteArray, header);
        QFETCH(QStringList, targets);
        QFETCH(QString, install);
        const QList<net::WebLink> links
            = net::parseLinkHeader(header, QUrl(QStringLiteral("https://gw.example/resources/report?x=1")));
        QStringList parsed;
        QString installTarget;
        for (const net::WebLink &link : links) {
            parsed << link.target.toString();
            if (installTarget.isEmpty() && link.hasRel(u"install"))
                installTarget = link.target.toString();
        }
        QCOMPARE(parsed, targets);
        QCOMPARE(installTarget, install);
    }

    void parameters()
    {
        const auto links = net::parseLinkHeader(
            "<a>; Title=\"x\\\\y\"; title=second; rel=\"Install NEXT\"", QUrl(QStringLiteral("https://gw.example/r/")));
        QCOMPARE(links.size(), 1);
        QCOMPARE(links[0].target, QUrl(QStringLiteral("https://gw.example/r/a")));
        QCOMPARE(links[0].param(u"title").value_or(QString()), QStringLiteral("x\\y"));
        QCOMPARE(links[0].rels, (QStringList {QStringLiteral("install"), QStringLiteral("next")}));
        QVERIFY(!links[0].param(u"anchor"));
    }

    void everyLinkFieldOfAnAnswer()
    {
        net::HttpResponse answer;
        answer.url = QUrl(QStringLiteral("https://gw.example/resources/x"));
        answer.headers = {{"Link", "</a>; rel=next"}, {"Content-Type", "text/html"}, {"link", "</download/>; rel=install"}};
        const auto links = net::linksOf(answer);
        QCOMPARE(links.size(), 2);
        QVERIFY(links[1].hasRel(u"install"));
        QCOMPARE(links[1].target, QUrl(QStringLiteral("https://gw.example/download/")));
    }
};

QTEST_GUILESS_MAIN(TestLinkHeader)
#include "tst_linkheader.moc"

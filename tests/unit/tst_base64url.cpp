// Strict base64url: canonical encodings decode, everything else is an error.
#include "core/jose/base64url.h"

#include <QTest>

using namespace hotdesk;

class TestBase64Url : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roundTrip_data()
    {
        QTest::addColumn<QByteArray>("raw");
        QTest::addColumn<QByteArray>("encoded");
        // RFC 4648 §10 vectors in the URL alphabet without padding.
        QTest::newRow("empty") << QByteArray() << QByteArray();
        QTest::newRow("f") << QByteArray("f") << QByteArray("Zg");
        QTest::newRow("fo") << QByteArray("fo") << QByteArray("Zm8");
        QTest::newRow("foo") << QByteArray("foo") << QByteArray("Zm9v");
        QTest::newRow("foob") << QByteArray("foob") << QByteArray("Zm9vYg");
        QTest::newRow("fooba") << QByteArray("fooba") << QByteArray("Zm9vYmE");
        QTest::newRow("foobar") << QByteArray("foobar") << QByteArray("Zm9vYmFy");
        QTest::newRow("url alphabet") << QByteArray("\xfb\xff\xbf", 3) << QByteArray("-_-_");
    }
    void roundTrip()
    {
        QFETCH(QByteArray, raw);
        QFETCH(QByteArray, encoded);
        QCOMPARE(jose::base64UrlEncode(raw), encoded);
        auto decoded = jose::base64UrlDecode(encoded);
        QVERIFY(decoded.has_value());
        QCOMPARE(*decoded, raw);
    }

    void rejects_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("padding") << QByteArray("Zg==");
        QTest::newRow("single pad") << QByteArray("Zm8=");
        QTest::newRow("plus") << QByteArray("+/+/");
        QTest::newRow("slash") << QByteArray("Zm9/");
        QTest::newRow("space") << QByteArray("Zm9 v");
        QTest::newRow("newline") << QByteArray("Zm9v\n");
        QTest::newRow("length 1 mod 4") << QByteArray("Zm9vY");
        QTest::newRow("non-zero trailing bits (2)") << QByteArray("Zh");
        QTest::newRow("non-zero trailing bits (4)") << QByteArray("Zm9");
        QTest::newRow("nul") << QByteArray("Zm\0v", 4);
        QTest::newRow("high byte") << QByteArray("Zm\xc3\xa9");
    }
    void rejects()
    {
        QFETCH(QByteArray, text);
        auto decoded = jose::base64UrlDecode(text);
        QVERIFY(!decoded.has_value());
        QCOMPARE(decoded.error().code, ErrorCode::Malformed);
    }
};

QTEST_GUILESS_MAIN(TestBase64Url)
#include "tst_base64url.moc"

// The strict JSON reader accepts RFC 8259 documents and refuses the ambiguous ones.
#include "core/jose/strictjson.h"

#include <QJsonArray>
#include <QTest>

using namespace hotdesk;

class TestStrictJson : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void accepts_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QJsonValue>("expected");
        QTest::newRow("object") << QByteArray("{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}")
                                << QJsonValue(QJsonObject{{QStringLiteral("a"), 1},
                                                          {QStringLiteral("b"), QJsonArray{true, false, QJsonValue()}},
                                                          {QStringLiteral("c"), QStringLiteral("x")}});
        QTest::newRow("whitespace") << QByteArray(" \t\r\n{ \"a\" : 1 } \n") << QJsonValue(QJsonObject{{QStringLiteral("a"), 1}});
        QTest::newRow("escapes") << QByteArray("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"") << QJsonValue(QStringLiteral("\"\\/\b\f\n\r\t"));
        QTest::newRow("bmp escape") << QByteArray("\"\\u00e9\"") << QJsonValue(QStringLiteral("\u00e9"));
        QTest::newRow("surrogate pair") << QByteArray("\"\\ud83d\\ude00\"") << QJsonValue(QString::fromUtf8("\xf0\x9f\x98\x80"));
        QTest::newRow("utf8") << QByteArray("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"") << QJsonValue(QString::fromUtf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
        QTest::newRow("numbers") << QByteArray("[0,-1,1.5,1e3,-2.5E-2,1767225600]")
                                 << QJsonValue(QJsonArray{0, -1, 1.5, 1000, -0.025, 1767225600.0});
        QTest::newRow("scalar top level") << QByteArray("42") << QJsonValue(42);
        QTest::newRow("empty containers") << QByteArray("[{},[]]") << QJsonValue(QJsonArray{QJsonObject(), QJsonArray()});
    }
    void accepts()
    {
        QFETCH(QByteArray, text);
        QFETCH(QJsonValue, expected);
        auto value = jose::parseStrictJson(text);
        QVERIFY2(value.has_value(), qPrintable(value ? QString() : value.error().message));
        QCOMPARE(*value, expected);
    }

    void rejects_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("duplicate member") << QByteArray("{\"alg\":\"ES256\",\"alg\":\"none\"}");
        QTest::newRow("nested duplicate") << QByteArray("{\"a\":{\"b\":1,\"b\":2}}");
        QTest::newRow("duplicate by escape") << QByteArray("{\"alg\":1,\"\\u0061lg\":2}");
        QTest::newRow("trailing comma") << QByteArray("{\"a\":1,}");
        QTest::newRow("trailing garbage") << QByteArray("{\"a\":1} x");
        QTest::newRow("two values") << QByteArray("{} {}");
        QTest::newRow("bom") << QByteArray("\xef\xbb\xbf{}");
        QTest::newRow("single quotes") << QByteArray("{'a':1}");
        QTest::newRow("unquoted name") << QByteArray("{a:1}");
        QTest::newRow("comment") << QByteArray("{/*x*/}");
        QTest::newRow("leading zero") << QByteArray("[01]");
        QTest::newRow("plus sign") << QByteArray("[+1]");
        QTest::newRow("bare dot") << QByteArray("[1.]");
        QTest::newRow("hex") << QByteArray("[0x10]");
        QTest::newRow("infinity") << QByteArray("[1e999]");
        QTest::newRow("NaN") << QByteArray("[NaN]");
        QTest::newRow("control char") << QByteArray("\"a\tb\"");
        QTest::newRow("lone high surrogate") << QByteArray("\"\\ud83d\"");
        QTest::newRow("lone low surrogate") << QByteArray("\"\\ude00\"");
        QTest::newRow("bad escape") << QByteArray("\"\\x41\"");
        QTest::newRow("short unicode escape") << QByteArray("\"\\u12\"");
        QTest::newRow("overlong utf8") << QByteArray("\"\xc0\xaf\"");
        QTest::newRow("utf8 surrogate") << QByteArray("\"\xed\xa0\x80\"");
        QTest::newRow("utf8 above max") << QByteArray("\"\xf4\x90\x80\x80\"");
        QTest::newRow("truncated utf8") << QByteArray("\"\xe2\x82\"");
        QTest::newRow("nul escape") << QByteArray("\"a\\u0000b\"");
        QTest::newRow("unterminated string") << QByteArray("\"abc");
        QTest::newRow("unterminated object") << QByteArray("{\"a\":1");
        QTest::newRow("too deep") << QByteArray(40, '[') + QByteArray(40, ']');
        QTest::newRow("truncated literal") << QByteArray("[tru]");
    }
    void rejects()
    {
        QFETCH(QByteArray, text);
        auto value = jose::parseStrictJson(text);
        QVERIFY(!value.has_value());
        QCOMPARE(value.error().code, ErrorCode::Malformed);
        QVERIFY(!value.error().message.isEmpty());
    }

    void sizeLimit()
    {
        auto value = jose::parseStrictJson(QByteArray("[1,2,3]"), {32, 4});
        QVERIFY(!value.has_value());
        QCOMPARE(value.error().code, ErrorCode::TooLarge);
    }

    // The view accepts what parseStrictJsonObject accepts and reads each member as it does.
    void viewReadsAsTheReader_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("claims") << QByteArray(
            "{\"iss\":\"https://id.example\",\"exp\":1767225900,\"iat\":1767225600.75,"
            "\"aud\":[\"a\",\"b\"],\"name\":\"Zo\xc3\xab\",\"ok\":true,\"no\":false,\"z\":null}");
        QTest::newRow("escaped names and values")
            << QByteArray("{\"n\\u0061me\":\"Zo\\u00eb \\ud83d\\ude00\",\"q\\\"\":\"a\\/b\\n\"}");
        QTest::newRow("nested") << QByteArray("{\"x\":{\"y\":[1.5e3,-0.25,{\"y\":1}]},\"y\":{}}");
        QTest::newRow("long numbers") << QByteArray("{\"a\":123456789012345678,\"b\":1e-3,\"c\":0.1234567890123456}");
        QTest::newRow("whitespace") << QByteArray(" \t\r\n{ \"a\" : [ 1 , 2 ] } \n");
        QTest::newRow("empty") << QByteArray("{}");
    }
    void viewReadsAsTheReader()
    {
        QFETCH(QByteArray, text);
        const auto object = jose::parseStrictJsonObject(text);
        QVERIFY(object.has_value());
        const auto view = jose::StrictJsonObjectView::parse(text);
        QVERIFY2(view.has_value(), qPrintable(view ? QString() : view.error().message));
        QCOMPARE(view->members().size(), object->size());
        for (auto it = object->begin(); it != object->end(); ++it) {
            const auto value = view->value(it.key().toUtf8());
            QCOMPARE(value.type(), it.value().type());
            QCOMPARE(value.toJsonValue(), it.value());
            if (it.value().isString())
                QCOMPARE(value.toString(), it.value().toString());
            if (it.value().isDouble())
                QCOMPARE(value.toDouble(), it.value().toDouble());
        }
        QCOMPARE(view->toObject(), *object);
    }

    void viewMembers()
    {
        const QByteArray text(
            "{\"sub\":\"u-1\",\"n\\u0061me\":\"Zo\\u00eb\",\"exp\":17.9,\"amr\":[\"pwd\"],\"v\":true,\"f\":false}");
        const auto view = jose::StrictJsonObjectView::parse(text);
        QVERIFY(view.has_value());
        QCOMPARE(view->value("sub").toString(), QStringLiteral("u-1"));
        QCOMPARE(view->value("name").toString(), QString::fromUtf8("Zo\xc3\xab")); // found by its decoded name
        QVERIFY(!view->contains("n\\u0061me"));
        QCOMPARE(view->value("exp").toDouble(), 17.9);
        QVERIFY(view->value("exp").text() == "17.9");
        QVERIFY(view->value("amr").isArray());
        QCOMPARE(view->value("amr").toJsonValue(), QJsonValue(QJsonArray {QStringLiteral("pwd")}));
        QVERIFY(view->value("v").isTrue());
        QVERIFY(!view->value("f").isTrue());
        QCOMPARE(view->value("f").type(), QJsonValue::Bool);
        // Absent, and of another type: nothing to read.
        QVERIFY(view->value("nonce").isUndefined());
        QVERIFY(!view->contains("nonce"));
        QVERIFY(view->value("sub").toDouble() == 0);
        QVERIFY(view->value("exp").toString().isNull());
    }

    // Everything parseStrictJsonObject refuses, the view refuses with the same words.
    void viewRejects_data()
    {
        rejects_data();
        QTest::newRow("array") << QByteArray("[]");
        QTest::newRow("scalar") << QByteArray("42");
        QTest::newRow("duplicate by escape at the top") << QByteArray("{\"sub\":\"a\",\"s\\u0075b\":\"b\"}");
        QTest::newRow("duplicate after a nested object") << QByteArray("{\"a\":{\"b\":1},\"a\":2}");
        QTest::newRow("number out of range in a member") << QByteArray("{\"exp\":1e400}");
        QTest::newRow("truncated after a member") << QByteArray("{\"a\":1,");
    }
    void viewRejects()
    {
        QFETCH(QByteArray, text);
        const auto object = jose::parseStrictJsonObject(text);
        QVERIFY(!object.has_value());
        const auto view = jose::StrictJsonObjectView::parse(text);
        QVERIFY(!view.has_value());
        QCOMPARE(view.error().code, object.error().code);
        QCOMPARE(view.error().message, object.error().message);
    }

    void viewSizeLimit()
    {
        const auto view = jose::StrictJsonObjectView::parse(QByteArray("{\"a\":1}"), {32, 4});
        QVERIFY(!view.has_value());
        QCOMPARE(view.error().code, ErrorCode::TooLarge);
    }

    void objectRequired()
    {
        QVERIFY(!jose::parseStrictJsonObject(QByteArray("[]")).has_value());
        QVERIFY(jose::parseStrictJsonObject(QByteArray("{}")).has_value());
    }
};

QTEST_GUILESS_MAIN(TestStrictJson)
#include "tst_strictjson.moc"

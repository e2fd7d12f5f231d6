// One-time recovery codes: generation, one-time use, forgiving input, hashes only at rest, damaged or tampered sets.
#include "core/jose/strictjson.h"
#include "core/policy/recoverycodes.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

using namespace hotdesk;
using namespace hotdesk::policy;

namespace {

// Hands out the given byte strings in turn, then fails.
class ScriptedRandom final : public RandomSource {
public:
    explicit ScriptedRandom(QList<QByteArray> chunks)
        : m_chunks(std::move(chunks))
    {
    }
    Result<QByteArray> bytes(qsizetype count) override
    {
        if (m_chunks.isEmpty())
            return fail(ErrorCode::CryptoFailure, QStringLiteral("scripted random source ran dry"));
        QByteArray next = m_chunks.takeFirst();
        if (next.size() != count)
            qFatal("the code asked for %lld random bytes", qlonglong(count));
        return next;
    }

private:
    QList<QByteArray> m_chunks;
};

const PasswordHashCost kFast = PasswordHashCost::minimum();

template <typename R> QByteArray why(const R &r)
{
    return r ? QByteArray() : (r.error().codeName() + QStringLiteral(": ") + r.error().message).toUtf8();
}

RecoveryCodes::Generated generated(int count = 10)
{
    OpenSslRandom random;
    auto g = RecoveryCodes::generate(random, count, kFast);
    if (!g)
        qFatal("generate failed: %s", why(g).constData());
    return std::move(*g);
}

} // namespace

class TestRecoveryCodes : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void encoding_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("code");
        QTest::newRow("zeros") << QByteArray(5, '\0') << QStringLiteral("0000-0000");
        QTest::newRow("ones") << QByteArray(5, '\xff') << QStringLiteral("ZZZZ-ZZZZ");
        QTest::newRow("each group 1") << QByteArray::fromHex("0842108421") << QStringLiteral("1111-1111");
        // 0x0123456789 = 00000 00100 10001 10100 01010 11001 11100 01001
        QTest::newRow("mixed") << QByteArray::fromHex("0123456789") << QStringLiteral("04HMASW9");
    }
    void encoding()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, code);
        if (!code.contains(u'-'))
            code.insert(4, u'-');
        ScriptedRandom random({bytes});
        auto g = RecoveryCodes::generate(random, 1, kFast);
        QVERIFY2(g, why(g));
        QCOMPARE(g->plain, QStringList {code});
        auto used = g->codes.consume(code);
        QVERIFY(used && *used);
    }

    void generatesDistinctCodesAndKeepsOnlyHashes()
    {
        auto g = generated(10);
        QCOMPARE(g.plain.size(), 10);
        QCOMPARE(g.codes.remaining(), 10);
        QCOMPARE(g.codes.issued(), 10);
        static const QRegularExpression shape(QStringLiteral("^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$"));
        for (const QString &code : g.plain)
            QVERIFY2(shape.match(code).hasMatch(), qPrintable(code));
        QCOMPARE(QSet<QString>(g.plain.begin(), g.plain.end()).size(), 10);
        const QByteArray json = QJsonDocument(g.codes.toJson()).toJson();
        for (const QString &code : g.plain) {
            QVERIFY(!json.contains(code.toLatin1()));
            QVERIFY(!json.contains(code.toLatin1().replace("-", "")));
        }
        const QJsonArray hashes = g.codes.toJson().value(QLatin1String("hashes")).toArray();
        QCOMPARE(hashes.size(), 10);
        // Salted: no two hashes alike (each has its own salt).
        QSet<QString> distinct;
        for (const QJsonValue &h : hashes) {
            QVERIFY(h.toString().startsWith(QLatin1String("$argon2id$v=19$")));
            distinct.insert(h.toString());
        }
        QCOMPARE(distinct.size(), 10);
    }

    void aRepeatedRandomCodeIsDrawnAgain()
    {
        ScriptedRandom random({QByteArray(5, '\x11'), QByteArray(5, '\x11'), QByteArray(5, '\x22')});
        auto g = RecoveryCodes::generate(random, 2, kFast);
        QVERIFY2(g, why(g));
        QCOMPARE(g->plain.size(), 2);
        QVERIFY(g->plain.at(0) != g->plain.at(1));
    }

    void eachCodeWorksOnce()
    {
        auto g = generated(5);
        for (int i = 0; i < 5; ++i) {
            auto used = g.codes.consume(g.plain.at(i));
            QVERIFY2(used && *used, qPrintable(g.plain.at(i)));
            QCOMPARE(g.codes.remaining(), 4 - i);
            auto again = g.codes.consume(g.plain.at(i));
            QVERIFY(again && !*again);
        }
        QCOMPARE(g.codes.issued(), 5);
    }

    void wrongCodes_data()
    {
        QTest::addColumn<QString>("typed");
        QTest::newRow("empty") << QString();
        QTest::newRow("too short") << QStringLiteral("ABCD-EFG");
        QTest::newRow("too long") << QStringLiteral("ABCD-EFGHJ");
        QTest::newRow("U is not in the alphabet") << QStringLiteral("UUUU-UUUU");
        QTest::newRow("punctuation") << QStringLiteral("ABCD_EFGH");
        QTest::newRow("non-ASCII") << QStringLiteral("ABCD-EFG\u00c9");
        QTest::newRow("well-formed but not issued") << QStringLiteral("0000-0000");
    }
    void wrongCodes()
    {
        QFETCH(QString, typed);
        ScriptedRandom random({QByteArray::fromHex("0123456789")});
        auto g = RecoveryCodes::generate(random, 1, kFast);
        QVERIFY2(g, why(g));
        auto used = g->codes.consume(typed);
        QVERIFY2(used, why(used));
        QVERIFY(!*used);
        QCOMPARE(g->codes.remaining(), 1);
    }

    void typingIsForgiven_data()
    {
        QTest::addColumn<QString>("typed");
        // The code is 04HM-ASW9 in every row.
        QTest::newRow("as shown") << QStringLiteral("04HM-ASW9");
        QTest::newRow("lower case") << QStringLiteral("04hm-asw9");
        QTest::newRow("no hyphen") << QStringLiteral("04HMASW9");
        QTest::newRow("spaces") << QStringLiteral(" 04HM ASW9 ");
        QTest::newRow("O for zero") << QStringLiteral("O4HM-ASW9");
        QTest::newRow("o for zero") << QStringLiteral("o4hm-asw9");
    }
    void typingIsForgiven()
    {
        QFETCH(QString, typed);
        ScriptedRandom random({QByteArray::fromHex("0123456789")});
        auto g = RecoveryCodes::generate(random, 1, kFast);
        QVERIFY2(g, why(g));
        QCOMPARE(g->plain.first(), QStringLiteral("04HM-ASW9"));
        auto used = g->codes.consume(typed);
        QVERIFY(used && *used);
    }

    void iAndLReadAsOne() { QCOMPARE(RecoveryCodes::normalize(u"il1I-L1il"), std::optional<QByteArray>("11111111")); }

    void serializationKeepsUsedCodesUsed()
    {
        auto g = generated(4);
        QVERIFY(*g.codes.consume(g.plain.at(1)));
        const QByteArray text = QJsonDocument(g.codes.toJson()).toJson();
        auto object = jose::parseStrictJsonObject(text);
        QVERIFY(object);
        auto back = RecoveryCodes::fromJson(*object);
        QVERIFY2(back, why(back));
        QCOMPARE(back->remaining(), 3);
        QCOMPARE(back->issued(), 4);
        QVERIFY(!*back->consume(g.plain.at(1)));
        QVERIFY(*back->consume(g.plain.at(3)));
        QVERIFY(*back->consume(g.plain.at(0)));
        QVERIFY(*back->consume(g.plain.at(2)));
        QCOMPARE(back->remaining(), 0);
        QCOMPARE(QJsonDocument(back->toJson()).toJson(QJsonDocument::Compact),
            QByteArray("{\"algorithm\":\"argon2id\",\"hashes\":[],\"issued\":4,\"version\":1}"));
    }

    // A changed byte of a stored hash must not let the code (or anything) through.
    void tamperedHashVerifiesNothing()
    {
        auto g = generated(1);
        QJsonObject o = g.codes.toJson();
        QString hash = o.value(QLatin1String("hashes")).toArray().first().toString();
        const qsizetype last = hash.size() - 3;
        hash[last] = hash.at(last) == u'A' ? u'B' : u'A';
        o.insert(QStringLiteral("hashes"), QJsonArray {hash});
        auto tampered = RecoveryCodes::fromJson(o);
        QVERIFY2(tampered, why(tampered));
        auto used = tampered->consume(g.plain.first());
        QVERIFY(used && !*used);
        QCOMPARE(tampered->remaining(), 1);
    }

    void damagedSets_data()
    {
        QTest::addColumn<QByteArray>("json");
        const QByteArray good = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
        const auto set = [](const QByteArray &hash) -> QByteArray {
            return "{\"version\":1,\"algorithm\":\"argon2id\",\"issued\":2,\"hashes\":[\"" + hash + "\"]}";
        };
        QTest::newRow("version") << QByteArray("{\"version\":2,\"algorithm\":\"argon2id\",\"issued\":1,\"hashes\":[]}");
        QTest::newRow("algorithm") << QByteArray("{\"version\":1,\"algorithm\":\"sha256\",\"issued\":1,\"hashes\":[]}");
        QTest::newRow("unknown member") << QByteArray(
            "{\"version\":1,\"algorithm\":\"argon2id\",\"issued\":1,\"hashes\":[],\"plain\":[]}");
        QTest::newRow("issued missing") << QByteArray("{\"version\":1,\"algorithm\":\"argon2id\",\"hashes\":[]}");
        QTest::newRow("more hashes than issued") << QByteArray(
            "{\"version\":1,\"algorithm\":\"argon2id\",\"issued\":1,\"hashes\":[\"" + good + "\",\"" + good + "\"]}");
        QTest::newRow("hashes not an array")
            << QByteArray("{\"version\":1,\"algorithm\":\"argon2id\",\"issued\":1,\"hashes\":\"x\"}");
        QTest::newRow("a plain code") << set("04HM-ASW9");
        QTest::newRow("argon2i") << set(QByteArray(good).replace("$argon2id$", "$argon2i$"));
        QTest::newRow("4 GiB of memory") << set(QByteArray(good).replace("m=8,", "m=4194304,"));
        QTest::newRow("a million passes") << set(QByteArray(good).replace("t=1,", "t=1000000,"));
        QTest::newRow("parallel lanes") << set(QByteArray(good).replace("p=1", "p=4"));
        QTest::newRow("a number") << QByteArray("{\"version\":1,\"algorithm\":\"argon2id\",\"issued\":1,\"hashes\":[7]}");
    }
    void damagedSets()
    {
        QFETCH(QByteArray, json);
        auto object = jose::parseStrictJsonObject(json);
        QVERIFY2(object, why(object));
        auto codes = RecoveryCodes::fromJson(*object);
        QVERIFY(!codes);
        QCOMPARE(codes.error().code, ErrorCode::Malformed);
        QVERIFY2(codes.error().message.contains(QLatin1String("generate new recovery codes")), qPrintable(codes.error().message));
    }

    // The base of the rows above loads: each row fails for its own reason.
    void aForeignButWellFormedHashLoads()
    {
        auto object = jose::parseStrictJsonObject("{\"version\":1,\"algorithm\":\"argon2id\",\"issued\":2,\"hashes\":"
                                                  "[\"$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
                                                  "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g\"]}");
        QVERIFY2(object, why(object));
        auto codes = RecoveryCodes::fromJson(*object);
        QVERIFY2(codes, why(codes));
        QCOMPARE(codes->remaining(), 1);
        auto used = codes->consume(u"04HM-ASW9");
        QVERIFY(used && !*used);
    }

    void badCounts()
    {
        OpenSslRandom random;
        for (int count : {0, -1, 101}) {
            auto g = RecoveryCodes::generate(random, count, kFast);
            QVERIFY(!g);
            QCOMPARE(g.error().code, ErrorCode::Malformed);
        }
    }

    void aFailingRandomSourceFails()
    {
        ScriptedRandom random({QByteArray(5, '\x01')});
        auto g = RecoveryCodes::generate(random, 2, kFast);
        QVERIFY(!g);
        QCOMPARE(g.error().code, ErrorCode::CryptoFailure);
    }

    // The product's cost, once (one hash, a few hundred milliseconds): Argon2id
    // with 64 MiB and 2 passes in the stored string, which fromJson accepts.
    void productCost()
    {
        OpenSslRandom random;
        auto g = RecoveryCodes::generate(random, 1);
        QVERIFY2(g, why(g));
        const QString hash = g->codes.toJson().value(QLatin1String("hashes")).toArray().first().toString();
        QVERIFY2(hash.startsWith(QLatin1String("$argon2id$v=19$m=65536,t=2,p=1$")), qPrintable(hash));
        auto back = RecoveryCodes::fromJson(g->codes.toJson());
        QVERIFY2(back, why(back));
        QCOMPARE(back->remaining(), 1);
    }
};

QTEST_GUILESS_MAIN(TestRecoveryCodes)
#include "tst_recoverycodes.moc"

// PKCE S256 and the random strings behind state, nonce and verifiers.
#include "core/oidc/pkce.h"
#include "core/random.h"

#include <QSet>
#include <QTest>

#include <cctype>

using namespace hotdesk;

namespace {

// Hands out fixed bytes, so a test can replay a published example.
class ScriptedRandom final : public RandomSource {
public:
    explicit ScriptedRandom(QByteArray bytes) : m_bytes(std::move(bytes)) {}
    Result<QByteArray> bytes(qsizetype count) override
    {
        if (count > m_bytes.size())
            return fail(ErrorCode::CryptoFailure, QStringLiteral("script exhausted"));
        QByteArray out = m_bytes.left(count);
        m_bytes.remove(0, count);
        return out;
    }

private:
    QByteArray m_bytes;
};

} // namespace

class TestPkce : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void rfc7636AppendixB()
    {
        // The 32 octets of RFC 7636 Appendix B.
        const unsigned char octets[] = {116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186,
                                        22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121};
        ScriptedRandom random(QByteArray(reinterpret_cast<const char *>(octets), sizeof octets));
        auto pair = oidc::generatePkce(random);
        QVERIFY(pair.has_value());
        QCOMPARE(pair->verifier, QByteArray("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        QCOMPARE(pair->challenge, QByteArray("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }

    void verifierRules_data()
    {
        QTest::addColumn<QByteArray>("verifier");
        QTest::addColumn<bool>("ok");
        QTest::newRow("43 chars") << QByteArray(43, 'a') << true;
        QTest::newRow("128 chars") << QByteArray(128, '~') << true;
        QTest::newRow("42 chars") << QByteArray(42, 'a') << false;
        QTest::newRow("129 chars") << QByteArray(129, 'a') << false;
        QTest::newRow("plus sign") << QByteArray(42, 'a') + '+' << false;
        QTest::newRow("space") << QByteArray(42, 'a') + ' ' << false;
    }
    void verifierRules()
    {
        QFETCH(QByteArray, verifier);
        QFETCH(bool, ok);
        QCOMPARE(oidc::pkceChallengeS256(verifier).has_value(), ok);
    }

    void randomStringsAreUrlSafeAndDistinct()
    {
        OpenSslRandom random;
        QSet<QByteArray> seen;
        for (int i = 0; i < 200; ++i) {
            auto s = randomUrlSafeString(random, 32);
            QVERIFY(s.has_value());
            QCOMPARE(s->size(), 43);
            for (char c : *s)
                QVERIFY(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
            seen.insert(*s);
        }
        QCOMPARE(seen.size(), 200);
    }

    void randomFailureIsReported()
    {
        ScriptedRandom empty{QByteArray()};
        auto pair = oidc::generatePkce(empty);
        QVERIFY(!pair.has_value());
        QCOMPARE(pair.error().code, ErrorCode::CryptoFailure);
    }
};

QTEST_GUILESS_MAIN(TestPkce)
#include "tst_pkce.moc"

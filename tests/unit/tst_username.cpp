// User names: the canonical form that agent and servers store and compare, and which names mean the same account.
#include "core/username.h"

#include <QTest>

using namespace hotdesk;

class TestUserName : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void canonicalForm_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("canonical");
        QTest::newRow("already canonical") << "alice"
                                           << "alice";
        QTest::newRow("capitals") << "Alice"
                                  << "alice";
        QTest::newRow("with domain") << "Alice@Corp.Example"
                                     << "alice@corp.example";
        QTest::newRow("non-ASCII") << QStringLiteral("J\u00D6RG") << QStringLiteral("j\u00F6rg");
        QTest::newRow("empty") << ""
                               << "";
    }
    void canonicalForm()
    {
        QFETCH(QString, name);
        QFETCH(QString, canonical);
        QCOMPARE(canonicalUserName(name), canonical);
        // The canonical form is a fixed point: stored names compare as they were stored.
        QCOMPARE(canonicalUserName(canonical), canonical);
    }

    void sameAccount_data()
    {
        QTest::addColumn<QString>("a");
        QTest::addColumn<QString>("b");
        QTest::addColumn<bool>("same");
        QTest::addColumn<bool>("aNamesB");
        QTest::newRow("equal") << "alice"
                               << "alice" << true << true;
        QTest::newRow("case only") << "ALICE@corp.example"
                                   << "alice@Corp.Example" << true << true;
        QTest::newRow("no domain names the account with one") << "alice"
                                                              << "alice@corp.example" << false << true;
        QTest::newRow("a domain does not name the bare account") << "alice@corp.example"
                                                                 << "alice" << false << false;
        QTest::newRow("another domain") << "alice@other.example"
                                        << "alice@corp.example" << false << false;
        QTest::newRow("a prefix is not the name") << "ali"
                                                  << "alice@corp.example" << false << false;
        QTest::newRow("another user") << "bob"
                                      << "alice" << false << false;
        QTest::newRow("empty name") << ""
                                    << "@corp.example" << false << false;
    }
    void sameAccount()
    {
        QFETCH(QString, a);
        QFETCH(QString, b);
        QFETCH(bool, same);
        QFETCH(bool, aNamesB);
        QCOMPARE(sameUser(a, b), same);
        QCOMPARE(sameUser(b, a), same);
        QCOMPARE(namesUser(a, b), aNamesB);
    }
};

QTEST_GUILESS_MAIN(TestUserName)
#include "tst_username.moc"

// The rule for the agent's test overrides (core/trustoverrides.h): which builds and users may change what the agent trusts.
#include "core/trustoverrides.h"

#include <QTest>

#include <unistd.h>

using namespace hotdesk;

class TestTrustOverrides : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void rule_data()
    {
        QTest::addColumn<bool>("testBuild");
        QTest::addColumn<uint>("realUid");
        QTest::addColumn<bool>("allowed");
        QTest::newRow("test build, root") << true << 0u << true;
        QTest::newRow("test build, a user") << true << 1000u << true;
        QTest::newRow("test build, nobody") << true << 65534u << true;
        QTest::newRow("package, root") << false << 0u << true;
        QTest::newRow("package, a user") << false << 1000u << false;
        QTest::newRow("package, nobody") << false << 65534u << false;
        QTest::newRow("package, uid 1") << false << 1u << false;
    }
    void rule()
    {
        QFETCH(bool, testBuild);
        QFETCH(uint, realUid);
        QFETCH(bool, allowed);
        QCOMPARE(overridesAllowed(testBuild, uid_t(realUid)), allowed);
    }

    // The CMake option reaches the code: the build this test is part of says what it was configured with.
    void enrollmentGoesToTheDaemonInReleaseBuilds()
    {
        QVERIFY(enrollsForDaemon(false, false)); // a release build: always, so a non-root caller is refused
        QVERIFY(enrollsForDaemon(true, false));
        QVERIFY(enrollsForDaemon(true, true)); // a test build with --system
        QVERIFY(!enrollsForDaemon(false, true)); // a test build without: the keychain, as the tests expect
    }

    void buildFlagFollowsTheCMakeOption()
    {
        QCOMPARE(isTestBuild(), bool(HOTDESK_TEST_HOOKS_CONFIGURED));
        QCOMPARE(overridesAllowed(), overridesAllowed(isTestBuild(), ::getuid()));
    }

    void messageNamesTheOverride()
    {
        const QString message = overrideIgnoredMessage(QStringLiteral("HOTDESK_STATE_DIR"));
        QVERIFY2(message.startsWith(QLatin1String("hotdesk: HOTDESK_STATE_DIR is ignored: ")), qPrintable(message));
        QVERIFY2(message.contains(QLatin1String("only for root")), qPrintable(message));
        QVERIFY2(message.contains(QLatin1String("HOTDESK_TEST_HOOKS=OFF")), qPrintable(message));
    }

    // Where the rule allows it, the variable's value is what the agent uses; unset stays empty either way.
    void variableWhereAllowed()
    {
        qunsetenv("HOTDESK_TRUST_TEST_VARIABLE");
        QCOMPARE(trustedOverrideVariable("HOTDESK_TRUST_TEST_VARIABLE"), QString());
        qputenv("HOTDESK_TRUST_TEST_VARIABLE", "/somewhere");
        const QString value = trustedOverrideVariable("HOTDESK_TRUST_TEST_VARIABLE");
        qunsetenv("HOTDESK_TRUST_TEST_VARIABLE");
        QCOMPARE(value, overridesAllowed() ? QStringLiteral("/somewhere") : QString());
    }
};

QTEST_GUILESS_MAIN(TestTrustOverrides)
#include "tst_trustoverrides.moc"

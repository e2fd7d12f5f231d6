// daemon::PasswordCheck through real Linux-PAM (pam_start_confdir with service files the test writes): the stock
// pam_permit, pam_deny and pam_exec modules stand for a right password, a wrong one and a module that never returns.
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "app/daemon/passwordcheck.h"

#include <optional>

using namespace hotdesk::daemon;

class TestPasswordCheck : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;

    // A PAM directory whose hotdesk-offline service is the one auth line given.
    QString serviceDir(const QString &name, const QByteArray &authLine)
    {
        const QString dir = m_dir.filePath(name);
        QFile service(dir + QStringLiteral("/hotdesk-offline"));
        if (!QDir().mkpath(dir) || !service.open(QIODevice::WriteOnly))
            return {};
        service.write("auth " + authLine + "\naccount required pam_permit.so\n");
        return dir;
    }

    static std::optional<PasswordOutcome> checkAndWait(PasswordCheck &check, int waitMs = 10000)
    {
        std::optional<PasswordOutcome> outcome;
        check.check(QStringLiteral("alice"), QByteArrayLiteral("secret"), [&](const PasswordOutcome &o) { outcome = o; });
        if (!QTest::qWaitFor([&] { return outcome.has_value(); }, waitMs))
            return std::nullopt;
        return outcome;
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void aModuleThatSaysYesAccepts()
    {
        PasswordCheck check(serviceDir(QStringLiteral("permit"), "required pam_permit.so"));
        const auto outcome = checkAndWait(check);
        QVERIFY(outcome);
        QCOMPARE(int(outcome->verdict), int(PasswordVerdict::Accepted));
    }

    void aModuleThatSaysNoRejects()
    {
        PasswordCheck check(serviceDir(QStringLiteral("deny"), "required pam_deny.so"));
        const auto outcome = checkAndWait(check);
        QVERIFY(outcome);
        QCOMPARE(int(outcome->verdict), int(PasswordVerdict::Rejected));
    }

    void aMissingServiceIsUnavailable()
    {
        PasswordCheck check(m_dir.filePath(QStringLiteral("nowhere")));
        const auto outcome = checkAndWait(check);
        QVERIFY(outcome);
        QVERIFY(outcome->verdict == PasswordVerdict::Unavailable || outcome->verdict == PasswordVerdict::Rejected);
        QVERIFY(outcome->verdict != PasswordVerdict::Accepted);
    }

    // A module that does not return: each check times out, and once kMaxWorkers of them are still
    // inside PAM the next is refused at once instead of leaving one more thread behind.
    void hungChecksDoNotPileUp()
    {
        const QString dir = serviceDir(QStringLiteral("hang"), "required pam_exec.so quiet /bin/sleep 15");
        PasswordCheck check(dir, std::chrono::milliseconds(300));
        for (int i = 0; i < PasswordCheck::kMaxWorkers; ++i) {
            const auto outcome = checkAndWait(check);
            QVERIFY(outcome);
            QCOMPARE(int(outcome->verdict), int(PasswordVerdict::TimedOut));
        }
        QCOMPARE(check.workersRunning(), PasswordCheck::kMaxWorkers);
        const auto refused = checkAndWait(check);
        QVERIFY(refused);
        QCOMPARE(int(refused->verdict), int(PasswordVerdict::Unavailable));
        QVERIFY2(refused->detail.contains(QLatin1String("have not returned")), qPrintable(refused->detail));
        QCOMPARE(check.workersRunning(), PasswordCheck::kMaxWorkers);
    }
};

QTEST_GUILESS_MAIN(TestPasswordCheck)
#include "tst_passwordcheck.moc"

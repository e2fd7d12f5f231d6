// hotdesk doctor's file checks where hotdeskd enforces (app/agent/doctordaemon.h): the PAM profile and the policy's trust.
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "app/agent/doctordaemon.h"

#include <sys/stat.h>
#include <unistd.h>

using namespace hotdesk::cli;

namespace {

// The lines a check printed, each as "ok ...", "note ..." or "problem WHAT: MESSAGE".
struct Recorded {
    QStringList lines;
    DoctorLines sink()
    {
        return {[this](const QString &what) { lines << QStringLiteral("ok ") + what; },
            [this](const QString &what) { lines << QStringLiteral("note ") + what; },
            [this](
                const QString &what, const QString &message) { lines << QStringLiteral("problem %1: %2").arg(what, message); }};
    }
};

bool writeFile(const QString &path, const QByteArray &text, mode_t mode)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(text) == text.size() && (file.close(), true)
        && ::chmod(QFile::encodeName(path).constData(), mode) == 0;
}

} // namespace

class TestDoctorChecks : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void pamProfile_data()
    {
        QTest::addColumn<QByteArray>("commonAuth"); // empty: no such file
        QTest::addColumn<bool>("moduleThere");
        QTest::addColumn<QString>("expected"); // the start of the only line
        const QByteArray unix = "auth\t[success=1 default=ignore]\tpam_unix.so nullok\nauth\trequisite\tpam_deny.so\n";
        const QByteArray hotdesk = "auth\trequired\tpam_hotdesk.so failmode=secure\n";
        QTest::newRow("off") << unix << true << QStringLiteral("note pam: pam_hotdesk is not enabled in ");
        QTest::newRow("commented out") << QByteArray("# " + hotdesk + unix) << false
                                       << QStringLiteral("note pam: pam_hotdesk is not enabled in ");
        QTest::newRow("on") << QByteArray(unix + hotdesk) << true << QStringLiteral("ok pam: pam_hotdesk is enabled in ");
        QTest::newRow("on, module missing") << QByteArray(unix + hotdesk) << false << QStringLiteral("problem pam: ");
        QTest::newRow("unreadable") << QByteArray() << true << QStringLiteral("note pam: ");
    }

    void pamProfile()
    {
        QFETCH(QByteArray, commonAuth);
        QFETCH(bool, moduleThere);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString stack = dir.filePath(QStringLiteral("common-auth"));
        const QString module = dir.filePath(QStringLiteral("pam_hotdesk.so"));
        if (!commonAuth.isEmpty())
            QVERIFY(writeFile(stack, commonAuth, 0644));
        if (moduleThere)
            QVERIFY(writeFile(module, "stand-in", 0644));
        Recorded recorded;
        checkPamProfile(recorded.sink(), stack, module);
        QCOMPARE(recorded.lines.size(), 1);
        QVERIFY2(recorded.lines.constFirst().startsWith(expected), qPrintable(recorded.lines.constFirst()));
        if (expected.startsWith(u"problem"))
            QVERIFY(recorded.lines.constFirst().contains(module + QStringLiteral(" is missing: every sign-in")));
    }

    void policyTrust_data()
    {
        QTest::addColumn<int>("mode");
        QTest::addColumn<QString>("expected");
        QTest::newRow("0644") << 0644 << QStringLiteral("ok policy %1 is root's and writable by nobody else");
        QTest::newRow("0600") << 0600 << QStringLiteral("ok policy %1 is root's and writable by nobody else");
        QTest::newRow("0664") << 0664 << QStringLiteral("problem policy %1: hotdeskd refuses it (owner uid 0, mode 0664): ");
        QTest::newRow("0646") << 0646 << QStringLiteral("problem policy %1: hotdeskd refuses it (owner uid 0, mode 0646): ");
    }

    void policyTrust()
    {
        if (::geteuid() != 0)
            QSKIP("the trusted policy file is root's: only root can make one; CI runs as root");
        QFETCH(int, mode);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString file = dir.filePath(QStringLiteral("policy.json"));
        QVERIFY(writeFile(file, "{}", mode_t(mode)));
        Recorded recorded;
        checkPolicyTrust(recorded.sink(), file);
        QCOMPARE(recorded.lines.size(), 1);
        QVERIFY2(recorded.lines.constFirst().startsWith(expected.arg(file)), qPrintable(recorded.lines.constFirst()));
    }
};

QTEST_GUILESS_MAIN(TestDoctorChecks)
#include "tst_doctorchecks.moc"

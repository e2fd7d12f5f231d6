// PolicyStore: the last valid policy stays when a new file is invalid, changes are followed (also when an editor replaces the
// file), no file means no policy and a reason.
#include "core/policy/policystore.h"
#include "core/policy/serverpolicy.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <cstdio>
#include <sys/stat.h>
#include <unistd.h>

using namespace hotdesk;
using namespace hotdesk::policy;
using namespace std::chrono_literals;

namespace {

QByteArray policyWithIdle(const char *idle)
{
    return QByteArray("{\n  \"version\": 1,\n"
                      "  \"servers\": {\"das\": [\"https://das.example\"], \"idp_issuer\": \"https://idp.example\", "
                      "\"client_id\": \"agent\"},\n"
                      "  \"triggers\": {\"idle\": \"")
        + idle + "\"}\n}\n";
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

// What editors and configuration tools do: write a new file beside it, then rename it over the old one.
bool replaceByRename(const QString &path, const QByteArray &bytes)
{
    const QString temporary = path + QStringLiteral(".new");
    return writeFile(temporary, bytes)
        && std::rename(QFile::encodeName(temporary).constData(), QFile::encodeName(path).constData()) == 0;
}

} // namespace

class TestPolicyStore : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void loadsAndFollowsChanges();
    void invalidFileKeepsTheLastValidPolicy();
    void replacedFileIsStillWatched();
    void noFileMeansNoPolicy();
    void folderCreatedLater();
    void invalidAtStartMeansNoPolicy();
    void removedFileKeepsThePolicy();
    void managedSettingsTakePrecedence();
    void untrustedFileIsNoPolicy();
    void platformLocationIsAlwaysChecked();

private:
    QTemporaryDir m_dir;
    int m_count = 0;
    QString nextFile() { return m_dir.filePath(QStringLiteral("policy-%1/policy.json").arg(++m_count)); }
};

void TestPolicyStore::initTestCase()
{
    QVERIFY(m_dir.isValid());
}

void TestPolicyStore::loadsAndFollowsChanges()
{
    const QString file = nextFile();
    QVERIFY(QDir().mkpath(QFileInfo(file).path()));
    QVERIFY(writeFile(file, policyWithIdle("PT15M")));
    PolicyStore store(file);
    QSignalSpy changed(&store, &PolicyStore::policyChanged);
    QSignalSpy rejected(&store, &PolicyStore::policyRejected);
    QVERIFY(store.start());
    QCOMPARE(changed.count(), 1);
    QCOMPARE(store.policy().triggers.idle, std::optional<std::chrono::seconds>(15min));
    QCOMPARE(store.policy().sourceFile, file);
    QVERIFY(store.reason().isEmpty());

    QVERIFY(writeFile(file, policyWithIdle("PT5M")));
    QTRY_COMPARE(changed.count(), 2);
    QCOMPARE(store.policy().triggers.idle, std::optional<std::chrono::seconds>(5min));
    QCOMPARE(changed.last().at(0).value<Policy>().triggers.idle, std::optional<std::chrono::seconds>(5min));
    QCOMPARE(rejected.count(), 0);
}

void TestPolicyStore::invalidFileKeepsTheLastValidPolicy()
{
    const QString file = nextFile();
    QVERIFY(QDir().mkpath(QFileInfo(file).path()));
    QVERIFY(writeFile(file, policyWithIdle("PT15M")));
    PolicyStore store(file);
    QSignalSpy changed(&store, &PolicyStore::policyChanged);
    QSignalSpy rejected(&store, &PolicyStore::policyRejected);
    QVERIFY(store.start());

    // Half of it would be usable (the servers); none of it applies.
    QVERIFY(writeFile(file, policyWithIdle("soon")));
    QTRY_COMPARE(rejected.count(), 1);
    const auto problems = rejected.constFirst().at(0).value<QList<PolicyProblem>>();
    QCOMPARE(problems.size(), 1);
    QCOMPARE(problems.constFirst().line, 4);
    QCOMPARE(problems.constFirst().column, 24);
    QCOMPARE(problems.constFirst().message, QStringLiteral("triggers.idle: \"soon\" is not an ISO 8601 duration such as PT15M"));
    QCOMPARE(store.problems(), problems);
    QVERIFY(store.hasPolicy());
    QCOMPARE(store.policy().triggers.idle, std::optional<std::chrono::seconds>(15min));
    QVERIFY(store.reason().isEmpty());
    QCOMPARE(changed.count(), 1);

    // Corrected: it applies, and the problems are gone.
    QVERIFY(writeFile(file, policyWithIdle("PT10M")));
    QTRY_COMPARE(changed.count(), 2);
    QCOMPARE(store.policy().triggers.idle, std::optional<std::chrono::seconds>(10min));
    QVERIFY(store.problems().isEmpty());
    QCOMPARE(rejected.count(), 1);
}

void TestPolicyStore::replacedFileIsStillWatched()
{
    const QString file = nextFile();
    QVERIFY(QDir().mkpath(QFileInfo(file).path()));
    QVERIFY(writeFile(file, policyWithIdle("PT15M")));
    PolicyStore store(file);
    QSignalSpy changed(&store, &PolicyStore::policyChanged);
    QVERIFY(store.start());

    QVERIFY(replaceByRename(file, policyWithIdle("PT3M")));
    QTRY_COMPARE(changed.count(), 2);
    QCOMPARE(store.policy().triggers.idle, std::optional<std::chrono::seconds>(3min));
    // The new file is watched as well: a plain write to it is seen.
    QVERIFY(writeFile(file, policyWithIdle("PT4M")));
    QTRY_COMPARE(changed.count(), 3);
    QCOMPARE(store.policy().triggers.idle, std::optional<std::chrono::seconds>(4min));
    QVERIFY(replaceByRename(file, policyWithIdle("PT6M")));
    QTRY_COMPARE(changed.count(), 4);
    QCOMPARE(store.policy().triggers.idle, std::optional<std::chrono::seconds>(6min));
}

void TestPolicyStore::noFileMeansNoPolicy()
{
    const QString file = nextFile();
    QVERIFY(QDir().mkpath(QFileInfo(file).path()));
    PolicyStore store(file);
    QSignalSpy changed(&store, &PolicyStore::policyChanged);
    QSignalSpy rejected(&store, &PolicyStore::policyRejected);
    QVERIFY(!store.start());
    QVERIFY(!store.hasPolicy());
    QVERIFY2(store.reason().startsWith(QStringLiteral("No valid policy: cannot read the policy %1").arg(file)),
        qPrintable(store.reason()));
    QVERIFY2(store.reason().endsWith(QStringLiteral("The administrator must install one at %1.").arg(file)),
        qPrintable(store.reason()));
    QCOMPARE(rejected.count(), 1);
    QCOMPARE(store.problems().constFirst().line, 0);

    // Installed later: the folder is watched, the policy applies.
    QVERIFY(writeFile(file, policyWithIdle("PT15M")));
    QTRY_COMPARE(changed.count(), 1);
    QVERIFY(store.hasPolicy());
    QVERIFY(store.reason().isEmpty());
}

void TestPolicyStore::folderCreatedLater()
{
    // Neither /etc/hotdesk nor the file exist yet when the agent starts.
    const QString file = nextFile();
    PolicyStore store(file);
    QSignalSpy changed(&store, &PolicyStore::policyChanged);
    QVERIFY(!store.start());
    QVERIFY(QDir().mkpath(QFileInfo(file).path()));
    QVERIFY(writeFile(file, policyWithIdle("PT15M")));
    QTRY_COMPARE(changed.count(), 1);
    QVERIFY(store.hasPolicy());
    // From now on the file itself is followed.
    QVERIFY(writeFile(file, policyWithIdle("PT20M")));
    QTRY_COMPARE(changed.count(), 2);
    QCOMPARE(store.policy().triggers.idle, std::optional<std::chrono::seconds>(20min));
}

void TestPolicyStore::invalidAtStartMeansNoPolicy()
{
    const QString file = nextFile();
    QVERIFY(QDir().mkpath(QFileInfo(file).path()));
    QVERIFY(writeFile(file, QByteArray("{\n  \"version\": 1,\n  \"servers\": {}\n}\n")));
    PolicyStore store(file);
    QSignalSpy rejected(&store, &PolicyStore::policyRejected);
    QVERIFY(!store.start());
    QCOMPARE(rejected.count(), 1);
    QCOMPARE(store.problems().size(), 3); // das, idp_issuer, client_id
    QCOMPARE(store.reason(),
        QStringLiteral("No valid policy: %1:3:14: servers: the required member \"das\" is missing (and 2 more). The "
                       "administrator can list every problem with 'hotdesk policy check %1'.")
            .arg(file));
}

void TestPolicyStore::removedFileKeepsThePolicy()
{
    const QString file = nextFile();
    QVERIFY(QDir().mkpath(QFileInfo(file).path()));
    QVERIFY(writeFile(file, policyWithIdle("PT15M")));
    PolicyStore store(file);
    QSignalSpy rejected(&store, &PolicyStore::policyRejected);
    QVERIFY(store.start());
    QVERIFY(QFile::remove(file));
    QTRY_COMPARE(rejected.count(), 1);
    QVERIFY(store.hasPolicy());
    QCOMPARE(store.policy().triggers.idle, std::optional<std::chrono::seconds>(15min));
    QVERIFY(store.problems().constFirst().message.contains(file));
}

void TestPolicyStore::managedSettingsTakePrecedence()
{
    // Registry values and configuration profiles arrive as QSettings; an INI file stands in for them here.
    const QString ini = m_dir.filePath(QStringLiteral("managed.ini"));
    {
        QSettings settings(ini, QSettings::IniFormat);
        settings.setValue(QStringLiteral("triggers/idle"), QStringLiteral("PT5M"));
        settings.setValue(QStringLiteral("triggers/on_unlock"), QStringLiteral("true"));
        settings.setValue(
            QStringLiteral("triggers/sensitive_apps"), QStringList {QStringLiteral("gnucash"), QStringLiteral("payroll.exe")});
        settings.setValue(QStringLiteral("triggers/schedule"), QStringLiteral("[{\"days\": [\"mon\"], \"at\": \"07:00\"}]"));
        settings.setValue(QStringLiteral("failure/max_attempts"), QStringLiteral("3"));
        settings.setValue(QStringLiteral("failure/exempt_users"), QStringLiteral("breakglass\nops-emergency"));
        // A Group Policy list: a subkey with values named 1, 2, ..., 10, in that order (not 1, 10, 2).
        settings.setValue(QStringLiteral("failure/alternate_methods/10"), QStringLiteral("urn:c"));
        settings.setValue(QStringLiteral("failure/alternate_methods/2"), QStringLiteral("urn:b"));
        settings.setValue(QStringLiteral("failure/alternate_methods/1"), QStringLiteral("urn:a"));
        settings.setValue(QStringLiteral("servers/client_id"), QStringLiteral("12345"));
    }
    QSettings settings(ini, QSettings::IniFormat);
    const QJsonObject managed = managedSettingsToJson(settings);
    const QJsonObject file = QJsonDocument::fromJson(policyWithIdle("PT15M")).object();
    const QJsonObject merged = mergeManagedSettings(file, managed);
    const QList<PolicyProblem> problems = validatePolicy(QJsonDocument(merged).toJson());
    QVERIFY2(problems.isEmpty(), qPrintable(formatProblems(QStringLiteral("merged"), problems)));
    auto policy = parsePolicy(QJsonDocument(merged).toJson(), QStringLiteral("merged"));
    QVERIFY2(policy.has_value(), policy ? "" : qPrintable(policy.error().message));
    QCOMPARE(policy->triggers.idle, std::optional<std::chrono::seconds>(5min));
    QVERIFY(policy->triggers.onUnlock);
    QCOMPARE(policy->triggers.sensitiveApps, (QStringList {QStringLiteral("gnucash"), QStringLiteral("payroll.exe")}));
    QCOMPARE(policy->triggers.schedule.size(), 1);
    QCOMPARE(policy->failure.maxAttempts, 3);
    QCOMPARE(policy->failure.exemptUsers, (QStringList {QStringLiteral("breakglass"), QStringLiteral("ops-emergency")}));
    QCOMPARE(policy->failure.alternateMethods,
        (QStringList {QStringLiteral("urn:a"), QStringLiteral("urn:b"), QStringLiteral("urn:c")}));
    // A string member stays a string even when it looks like a number; the file's other members stay.
    QCOMPARE(policy->servers.clientId, QStringLiteral("12345"));
    QCOMPARE(policy->servers.idpIssuer, QStringLiteral("https://idp.example"));
}

void TestPolicyStore::untrustedFileIsNoPolicy()
{
    if (::geteuid() != 0)
        QSKIP("needs root: a trusted policy is root's, and the refusal needs a file chown'ed to uid 65534 (CI runs as root)");
    const QString file = nextFile();
    const QByteArray path = QFile::encodeName(file);
    QVERIFY(QDir().mkpath(QFileInfo(file).path()));
    QVERIFY(writeFile(file, policyWithIdle("PT15M")));
    QCOMPARE(::chown(path.constData(), 65534, 65534), 0);
    PolicyStore store(file);
    store.requireTrustedFile(0); // what the platform location always gets
    QSignalSpy changed(&store, &PolicyStore::policyChanged);
    QSignalSpy rejected(&store, &PolicyStore::policyRejected);
    // Like a missing policy: none applies, and the agent stays locked with the reason.
    QVERIFY(!store.start());
    QVERIFY(!store.hasPolicy());
    QVERIFY2(store.reason().startsWith(QStringLiteral("No valid policy: %1: not trusted: it is owned by ").arg(file)),
        qPrintable(store.reason()));
    QVERIFY2(store.reason().endsWith(QStringLiteral("Run 'chown root:root %1 && chmod 644 %1'.").arg(file)),
        qPrintable(store.reason()));
    QCOMPARE(rejected.count(), 1);

    QCOMPARE(::chown(path.constData(), 0, 0), 0);
    store.reload();
    QCOMPARE(changed.count(), 1);
    QVERIFY(store.hasPolicy());

    // Made writable by others while in force: the last trusted policy stays, the new text is not read.
    QVERIFY(writeFile(file, policyWithIdle("PT1M")));
    QCOMPARE(::chmod(path.constData(), 0666), 0);
    store.reload();
    QCOMPARE(rejected.count(), 2);
    QVERIFY2(rejected.last().at(0).value<QList<PolicyProblem>>().constFirst().message.contains(QLatin1String("mode 0666")),
        qPrintable(store.problems().constFirst().message));
    QVERIFY(store.hasPolicy());
    QCOMPARE(store.policy().triggers.idle, std::optional<std::chrono::seconds>(15min));
    QCOMPARE(changed.count(), 1);
}

void TestPolicyStore::platformLocationIsAlwaysChecked()
{
    QVERIFY(isPlatformPolicyFile(defaultPolicyFile()));
    QVERIFY(isPlatformPolicyFile(QStringLiteral("/etc/hotdesk/../hotdesk/./policy.json")));
    QVERIFY(!isPlatformPolicyFile(m_dir.filePath(QStringLiteral("policy.json"))));
    QVERIFY(!isPlatformPolicyFile(QStringLiteral("/etc/hotdesk/policy.json.new")));
}

QTEST_GUILESS_MAIN(TestPolicyStore)
#include "tst_policystore.moc"

// The policy file's trust (as sshd's StrictModes): owner, mode and folders checked on real files, chown'ed and chmod'ed.
#include "core/policy/policytrust.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <sys/stat.h>
#include <unistd.h>

using namespace hotdesk;
using namespace hotdesk::policy;

namespace {

constexpr uid_t kNobody = 65534;
const QByteArray kText = "{\"version\": 1}\n"; // trust is about the file, not its content

bool writeFile(const QString &path, const QByteArray &bytes, mode_t mode = 0644)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(bytes) != bytes.size())
        return false;
    f.close();
    return ::chmod(QFile::encodeName(path).constData(), mode) == 0;
}

bool chownTo(const QString &path, uid_t uid)
{
    return ::lchown(QFile::encodeName(path).constData(), uid, uid) == 0;
}

bool chmodTo(const QString &path, mode_t mode)
{
    return ::chmod(QFile::encodeName(path).constData(), mode) == 0;
}

} // namespace

class TestPolicyTrust : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void trustedFile_data();
    void trustedFile();
    void untrustedFile_data();
    void untrustedFile();
    void untrustedFolder_data();
    void untrustedFolder();
    void fifoIsRefusedWithoutWaiting();
    void unreadable();
    void tooLarge();
    void ownerIsAParameter();

private:
    QString path(const QString &name) const { return m_dir->filePath(name); }
    QString makeFolder(const QString &name, mode_t mode)
    {
        const QString folder = path(name);
        if (!QDir().mkpath(folder) || !chmodTo(folder, mode))
            qFatal("cannot make %s", qPrintable(folder));
        return folder;
    }

    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestPolicyTrust::initTestCase()
{
    if (::geteuid() != 0)
        QSKIP("needs root: a trusted file is root's, and the refusals need files chown'ed to uid 65534 (CI runs as root)");
}

void TestPolicyTrust::init()
{
    // A fresh root-owned 0700 folder below /tmp (root's, sticky) for each test.
    m_dir = std::make_unique<QTemporaryDir>(QDir::tempPath() + QStringLiteral("/policytrust-XXXXXX"));
    QVERIFY(m_dir->isValid());
}

void TestPolicyTrust::trustedFile_data()
{
    QTest::addColumn<QString>("written"); // where the file is
    QTest::addColumn<QString>("read"); // the name it is read by
    QTest::addColumn<int>("mode");
    const QString plain = QStringLiteral("real/policy.json");
    QTest::newRow("0644") << plain << plain << 0644;
    QTest::newRow("0600") << plain << plain << 0600;
    QTest::newRow("0444") << plain << plain << 0444;
    QTest::newRow("in root's folder with the sticky bit")
        << QStringLiteral("sticky/policy.json") << QStringLiteral("sticky/policy.json") << 0644;
    QTest::newRow("through a linked folder") << plain << QStringLiteral("link/policy.json") << 0644;
    QTest::newRow("with . and .. steps") << plain << QStringLiteral("real/../real/./policy.json") << 0644;
}

void TestPolicyTrust::trustedFile()
{
    QFETCH(QString, written);
    QFETCH(QString, read);
    QFETCH(int, mode);
    makeFolder(QStringLiteral("sticky"), 01777);
    makeFolder(QStringLiteral("real"), 0755);
    QVERIFY(QFile::link(path(QStringLiteral("real")), path(QStringLiteral("link"))));
    QVERIFY(writeFile(path(written), kText, mode_t(mode)));
    const Result<QByteArray> bytes = readTrustedPolicyFile(path(read), 0);
    QVERIFY2(bytes.has_value(), qPrintable(bytes ? QString() : bytes.error().message));
    QCOMPARE(*bytes, kText);
}

void TestPolicyTrust::untrustedFile_data()
{
    QTest::addColumn<int>("owner");
    QTest::addColumn<int>("mode");
    QTest::newRow("owned by 65534") << int(kNobody) << 0644;
    QTest::newRow("0666") << 0 << 0666;
    QTest::newRow("g+w") << 0 << 0664;
    QTest::newRow("o+w only") << 0 << 0602;
}

void TestPolicyTrust::untrustedFile()
{
    QFETCH(int, owner);
    QFETCH(int, mode);
    const QString file = path(QStringLiteral("policy.json"));
    QVERIFY(writeFile(file, kText, mode_t(mode)));
    QVERIFY(chownTo(file, uid_t(owner)));
    const Result<QByteArray> read = readTrustedPolicyFile(file, 0);
    QVERIFY(!read);
    QCOMPARE(read.error().code, ErrorCode::PolicyUntrusted);
    QCOMPARE(read.error().codeName(), QStringLiteral("policy_untrusted"));
    const QString message = read.error().message;
    QVERIFY2(message.startsWith(file + QStringLiteral(": not trusted: it is owned by ")), qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("(uid %1) with mode %2").arg(owner).arg(mode, 4, 8, QLatin1Char('0'))),
        qPrintable(message));
    QVERIFY2(message.endsWith(QStringLiteral("Run 'chown root:root %1 && chmod 644 %1'").arg(file)), qPrintable(message));
}

void TestPolicyTrust::untrustedFolder_data()
{
    QTest::addColumn<QString>("setup");
    QTest::addColumn<QString>("expected"); // a fragment of the message; FOLDER stands for the folder's path
    QTest::newRow("symbolic link as the file") << QStringLiteral("symlink") << QStringLiteral("it is a symbolic link");
    QTest::newRow("folder 0777 without sticky bit")
        << QStringLiteral("folder 0777") << QStringLiteral("the folder FOLDER above it is owned by root (uid 0) with mode 0777");
    QTest::newRow("folder 0775") << QStringLiteral("folder 0775")
                                 << QStringLiteral("the folder FOLDER above it is owned by root (uid 0) with mode 0775");
    QTest::newRow("folder owned by 65534") << QStringLiteral("folder nobody")
                                           << QStringLiteral("the folder FOLDER above it is owned by ");
    QTest::newRow("sticky folder owned by 65534")
        << QStringLiteral("sticky nobody") << QStringLiteral("the folder FOLDER above it is owned by ");
    QTest::newRow("folder two levels up 0777") << QStringLiteral(
        "grandparent 0777") << QStringLiteral("the folder FOLDER above it is owned by root (uid 0) with mode 0777");
    QTest::newRow("second hard link in a sticky folder")
        << QStringLiteral("hard link") << QStringLiteral("it has 2 hard links in a folder others can write to");
}

void TestPolicyTrust::untrustedFolder()
{
    QFETCH(QString, setup);
    QFETCH(QString, expected);
    const QString folder = makeFolder(QStringLiteral("etc"), 0755);
    QString file = folder + QStringLiteral("/policy.json");
    const QString culprit = folder;
    QVERIFY(writeFile(file, kText));
    if (setup == u"symlink") {
        // A root-owned, trusted file behind it does not help: the link could be pointed elsewhere.
        QVERIFY(QFile::rename(file, folder + QStringLiteral("/real.json")));
        QVERIFY(QFile::link(folder + QStringLiteral("/real.json"), file));
    } else if (setup == u"folder 0777") {
        QVERIFY(chmodTo(folder, 0777));
    } else if (setup == u"folder 0775") {
        QVERIFY(chmodTo(folder, 0775));
    } else if (setup == u"folder nobody") {
        QVERIFY(chownTo(folder, kNobody));
    } else if (setup == u"sticky nobody") {
        QVERIFY(chmodTo(folder, 01777));
        QVERIFY(chownTo(folder, kNobody));
    } else if (setup == u"grandparent 0777") {
        const QString inner = makeFolder(QStringLiteral("etc/hotdesk"), 0755);
        file = inner + QStringLiteral("/policy.json");
        QVERIFY(writeFile(file, kText));
        QVERIFY(chmodTo(folder, 0777));
    } else if (setup == u"hard link") {
        QVERIFY(chmodTo(folder, 01777));
        QVERIFY(
            ::link(QFile::encodeName(file).constData(), QFile::encodeName(folder + QStringLiteral("/other")).constData()) == 0);
    }
    const Result<QByteArray> read = readTrustedPolicyFile(file, 0);
    QVERIFY(!read);
    QCOMPARE(read.error().code, ErrorCode::PolicyUntrusted);
    const QString message = read.error().message;
    QVERIFY2(message.startsWith(file + QStringLiteral(": not trusted: ")), qPrintable(message));
    QVERIFY2(message.contains(QString(expected).replace(QLatin1String("FOLDER"), culprit)), qPrintable(message));
    if (expected.contains(QLatin1String("FOLDER")))
        QVERIFY2(message.endsWith(QStringLiteral("Run 'chown root:root %1 && chmod go-w %1'").arg(culprit)), qPrintable(message));
}

void TestPolicyTrust::fifoIsRefusedWithoutWaiting()
{
    const QString file = path(QStringLiteral("policy.json"));
    QCOMPARE(::mkfifo(QFile::encodeName(file).constData(), 0644), 0);
    QElapsedTimer timer;
    timer.start();
    const Result<QByteArray> read = readTrustedPolicyFile(file, 0);
    QVERIFY(timer.elapsed() < 5000); // no writer ever comes: an open without O_NONBLOCK would wait forever
    QVERIFY(!read);
    QCOMPARE(read.error().code, ErrorCode::PolicyUntrusted);
    QVERIFY2(read.error().message.contains(QLatin1String("it is not a regular file")), qPrintable(read.error().message));
}

void TestPolicyTrust::unreadable()
{
    const QString missing = path(QStringLiteral("absent.json"));
    Result<QByteArray> read = readTrustedPolicyFile(missing, 0);
    QVERIFY(!read);
    QCOMPARE(read.error().code, ErrorCode::Io);
    QCOMPARE(read.error().message, QStringLiteral("cannot read the policy %1: No such file or directory").arg(missing));
    const QString inMissingFolder = path(QStringLiteral("absent/policy.json"));
    read = readTrustedPolicyFile(inMissingFolder, 0);
    QVERIFY(!read);
    QCOMPARE(read.error().code, ErrorCode::Io);
    QCOMPARE(read.error().message, QStringLiteral("cannot read the policy %1: No such file or directory").arg(inMissingFolder));
    const QString folder = makeFolder(QStringLiteral("policy.json"), 0755);
    read = readTrustedPolicyFile(folder, 0);
    QVERIFY(!read);
    QCOMPARE(read.error().code, ErrorCode::Io);
    QCOMPARE(read.error().message, QStringLiteral("cannot read the policy %1: it is a folder").arg(folder));
}

void TestPolicyTrust::tooLarge()
{
    const QString file = path(QStringLiteral("policy.json"));
    QVERIFY(writeFile(file, QByteArray(1024 * 1024, ' ')));
    QVERIFY(readTrustedPolicyFile(file, 0).has_value()); // exactly 1 MiB is allowed
    QVERIFY(writeFile(file, QByteArray(1024 * 1024 + 1, ' ')));
    const Result<QByteArray> read = readTrustedPolicyFile(file, 0);
    QVERIFY(!read);
    QCOMPARE(read.error().code, ErrorCode::TooLarge);
}

void TestPolicyTrust::ownerIsAParameter()
{
    // hotdeskd passes 0; the owner asked for is the one accepted, and only that one.
    const QString file = path(QStringLiteral("policy.json"));
    QVERIFY(writeFile(file, kText));
    QVERIFY(chownTo(file, kNobody));
    QVERIFY(readTrustedPolicyFile(file, kNobody).has_value());
    const Result<QByteArray> read = readTrustedPolicyFile(file, 0);
    QVERIFY(!read);
    QVERIFY(chownTo(file, 0));
    const Result<QByteArray> asNobody = readTrustedPolicyFile(file, kNobody);
    QVERIFY(!asNobody);
    QVERIFY2(asNobody.error().message.contains(QLatin1String("Run 'chown ")), qPrintable(asNobody.error().message));
}

QTEST_GUILESS_MAIN(TestPolicyTrust)
#include "tst_policytrust.moc"

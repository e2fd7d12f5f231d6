// store::FileSecretStore: modes, owners, links planted in place of a secret or of the directory, atomic replacement.
#include "core/store/filesecretstore.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

using namespace hotdesk;
using namespace hotdesk::store;

namespace {

const QString kKey = QStringLiteral("device-key:https://das.corp.example:8443");
const QByteArray kSecret = R"({"kty":"EC","crv":"P-256","d":"c2VjcmV0LXBhcnQ"})";

template <typename R> QByteArray why(const R &r)
{
    return r ? QByteArray() : (r.error().codeName() + QStringLiteral(": ") + r.error().message).toUtf8();
}

mode_t modeOf(const QString &path)
{
    struct stat info { };
    if (::lstat(QFile::encodeName(path).constData(), &info) != 0)
        return 0;
    return info.st_mode & 07777;
}

ino_t inodeOf(const QString &path)
{
    struct stat info { };
    return ::lstat(QFile::encodeName(path).constData(), &info) == 0 ? info.st_ino : 0;
}

bool writeFile(const QString &path, const QByteArray &data, mode_t mode)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(data) != data.size())
        return false;
    file.close();
    return ::chmod(QFile::encodeName(path).constData(), mode) == 0;
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

} // namespace

class TestFileSecretStore : public QObject {
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_root;
    QString m_dir; // the store's directory, not created yet

    QString secretPath(const QString &key = kKey) const { return m_dir + u'/' + *FileSecretStore::fileNameFor(key); }

    // A store whose directory exists with mode 0700.
    FileSecretStore prepared()
    {
        FileSecretStore store(m_dir);
        if (!QDir().mkdir(m_dir) || ::chmod(QFile::encodeName(m_dir).constData(), 0700) != 0)
            qFatal("cannot create %s", qPrintable(m_dir));
        return store;
    }

private Q_SLOTS:
    void init()
    {
        m_root = std::make_unique<QTemporaryDir>();
        QVERIFY(m_root->isValid());
        m_dir = m_root->filePath(QStringLiteral("secrets"));
    }

    void writesPrivateFilesInAPrivateDirectory()
    {
        // Whatever the umask: the directory is 0700 and the file 0600.
        const mode_t old = ::umask(0277);
        FileSecretStore store(m_dir);
        auto written = store.write(kKey, kSecret);
        ::umask(old);
        QVERIFY2(written, why(written));
        QCOMPARE(modeOf(m_dir), mode_t(0700));
        QCOMPARE(modeOf(secretPath()), mode_t(0600));
        QCOMPARE(readFile(secretPath()), kSecret);
        auto read = store.read(kKey);
        QVERIFY2(read, why(read));
        QCOMPARE(*read, kSecret);
        // One file, and no temporary file left behind.
        QCOMPARE(QDir(m_dir).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot),
            QStringList {*FileSecretStore::fileNameFor(kKey)});
    }

    void keysCannotNameAnotherPath_data()
    {
        QTest::addColumn<QString>("key");
        QTest::newRow("parent") << QStringLiteral("../../escaped");
        QTest::newRow("absolute") << QStringLiteral("/tmp/escaped");
        QTest::newRow("dot") << QStringLiteral(".");
        QTest::newRow("slashes and nul") << QString::fromUtf8("a/b\0c", 5);
        QTest::newRow("unicode") << QStringLiteral("schl\u00fcssel/..");
    }

    void keysCannotNameAnotherPath()
    {
        QFETCH(QString, key);
        FileSecretStore store(m_dir);
        const Status written = store.write(key, kSecret);
        QVERIFY2(written, why(written));
        QCOMPARE(*store.read(key), kSecret);
        // The directory holds the one file; nothing appeared beside it.
        const QStringList inside = QDir(m_dir).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot);
        QCOMPARE(inside.size(), 1);
        QVERIFY(inside.first().startsWith(QLatin1String("secret-")));
        QCOMPARE(QDir(m_root->path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot),
            QStringList {QStringLiteral("secrets")});
        QVERIFY(store.remove(key));
        QCOMPARE(store.read(key).error().code, ErrorCode::NotEnrolled);
    }

    void badKeysAndSizesAreRefused()
    {
        FileSecretStore store(m_dir);
        QCOMPARE(store.write(QString(), kSecret).error().code, ErrorCode::Malformed);
        QCOMPARE(store.write(QString(181, u'k'), kSecret).error().code, ErrorCode::TooLarge);
        QVERIFY(store.write(QString(180, u'k'), kSecret));
        QCOMPARE(store.write(kKey, QByteArray(64 * 1024 + 1, 'x')).error().code, ErrorCode::TooLarge);
        QVERIFY(!QFile::exists(secretPath()));
    }

    void missingSecretsAndDirectory()
    {
        FileSecretStore store(m_dir);
        // Reading and deleting create nothing.
        QCOMPARE(store.read(kKey).error().code, ErrorCode::NotEnrolled);
        QVERIFY(store.remove(kKey));
        QVERIFY(!QFileInfo::exists(m_dir));
        QVERIFY(store.write(kKey, kSecret));
        QCOMPARE(store.read(QStringLiteral("other")).error().code, ErrorCode::NotEnrolled);
        QVERIFY(store.remove(kKey));
        QVERIFY(!QFileInfo::exists(secretPath()));
        QCOMPARE(store.read(kKey).error().code, ErrorCode::NotEnrolled);
        // A parent that does not exist is not created.
        FileSecretStore deep(m_root->filePath(QStringLiteral("no/such/dir")));
        QCOMPARE(deep.write(kKey, kSecret).error().code, ErrorCode::Io);
    }

    void replacesAtomically()
    {
        FileSecretStore store(m_dir);
        QVERIFY(store.write(kKey, "first"));
        const ino_t before = inodeOf(secretPath());
        // A reader holding the old file keeps reading the old secret, whole.
        QFile old(secretPath());
        QVERIFY(old.open(QIODevice::ReadOnly));
        QVERIFY(store.write(kKey, "second, longer"));
        QCOMPARE(old.readAll(), QByteArray("first"));
        QVERIFY(inodeOf(secretPath()) != before);
        QCOMPARE(*store.read(kKey), QByteArray("second, longer"));
        QCOMPARE(QDir(m_dir).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot).size(), 1);
    }

    void aLinkPlantedInPlaceOfASecretIsNeitherReadNorFollowed()
    {
        FileSecretStore store = prepared();
        const QString target = m_root->filePath(QStringLiteral("planted"));
        QVERIFY(writeFile(target, "planted key", 0600));
        QVERIFY(QFile::link(target, secretPath()));
        auto read = store.read(kKey);
        QVERIFY(!read);
        QCOMPARE(read.error().code, ErrorCode::Io);
        QVERIFY2(read.error().message.contains(QLatin1String("symbolic link")), qPrintable(read.error().message));
        // Writing replaces the link itself; the file it pointed to is untouched.
        QVERIFY(store.write(kKey, kSecret));
        QCOMPARE(readFile(target), QByteArray("planted key"));
        QVERIFY(!QFileInfo(secretPath()).isSymLink());
        QCOMPARE(*store.read(kKey), kSecret);
    }

    void unsafeSecretFilesAreRefused_data()
    {
        QTest::addColumn<QString>("plant");
        QTest::addColumn<QString>("message");
        QTest::newRow("group-readable") << QStringLiteral("mode 0640") << QStringLiteral("has mode 0640");
        QTest::newRow("world-readable") << QStringLiteral("mode 0604") << QStringLiteral("has mode 0604");
        QTest::newRow("hard link") << QStringLiteral("hard link") << QStringLiteral("has 2 links");
        QTest::newRow("fifo") << QStringLiteral("fifo") << QStringLiteral("not a regular file");
        QTest::newRow("directory") << QStringLiteral("directory") << QStringLiteral("not a regular file");
        QTest::newRow("another owner") << QStringLiteral("owner 65534") << QStringLiteral("belongs to uid 65534");
    }

    void unsafeSecretFilesAreRefused()
    {
        QFETCH(QString, plant);
        QFETCH(QString, message);
        FileSecretStore store = prepared();
        const QByteArray path = QFile::encodeName(secretPath());
        if (plant == u"owner 65534" && ::geteuid() != 0)
            QSKIP("only root can give a file to another uid; CI runs as root");
        if (plant.startsWith(u"mode "))
            QVERIFY(writeFile(secretPath(), kSecret, mode_t(plant.mid(5).toUInt(nullptr, 8))));
        else if (plant == u"hard link") {
            QVERIFY(writeFile(secretPath(), kSecret, 0600));
            QVERIFY(::link(path.constData(), QFile::encodeName(m_dir + QStringLiteral("/copy")).constData()) == 0);
        } else if (plant == u"fifo")
            QVERIFY(::mkfifo(path.constData(), 0600) == 0);
        else if (plant == u"directory")
            QVERIFY(::mkdir(path.constData(), 0700) == 0);
        else {
            QVERIFY(writeFile(secretPath(), kSecret, 0600));
            QVERIFY(::chown(path.constData(), 65534, 65534) == 0);
        }
        // A FIFO must not block the read: it returns at once with the refusal.
        auto read = store.read(kKey);
        QVERIFY(!read);
        QCOMPARE(read.error().code, ErrorCode::Io);
        QVERIFY2(read.error().message.contains(message), qPrintable(read.error().message));
        QVERIFY2(read.error().message.contains(secretPath()), qPrintable(read.error().message));
        QVERIFY(!read.error().message.contains(QLatin1String(kSecret)));
    }

    void unsafeDirectoriesAreRefused_data()
    {
        QTest::addColumn<QString>("plant");
        QTest::addColumn<QString>("message");
        QTest::newRow("0755") << QStringLiteral("mode 0755") << QStringLiteral("has mode 0755, not 0700; run chmod 700");
        QTest::newRow("0750") << QStringLiteral("mode 0750") << QStringLiteral("has mode 0750");
        QTest::newRow("0711") << QStringLiteral("mode 0711") << QStringLiteral("has mode 0711");
        QTest::newRow("0500") << QStringLiteral("mode 0500") << QStringLiteral("has mode 0500");
        QTest::newRow("link") << QStringLiteral("link") << QStringLiteral("is not a directory");
        QTest::newRow("file") << QStringLiteral("file") << QStringLiteral("is not a directory");
        QTest::newRow("another owner") << QStringLiteral("owner 65534") << QStringLiteral("belongs to uid 65534");
    }

    void unsafeDirectoriesAreRefused()
    {
        QFETCH(QString, plant);
        QFETCH(QString, message);
        if (plant == u"owner 65534" && ::geteuid() != 0)
            QSKIP("only root can give a directory to another uid; CI runs as root");
        const QByteArray path = QFile::encodeName(m_dir);
        const QString real = m_root->filePath(QStringLiteral("real"));
        if (plant == u"link") {
            // A link to a directory that would itself pass.
            QVERIFY(QDir().mkdir(real) && ::chmod(QFile::encodeName(real).constData(), 0700) == 0);
            QVERIFY(QFile::link(real, m_dir));
        } else if (plant == u"file") {
            QVERIFY(writeFile(m_dir, "x", 0600));
        } else {
            QVERIFY(QDir().mkdir(m_dir));
            QVERIFY(::chmod(path.constData(), plant.startsWith(u"mode ") ? plant.mid(5).toUInt(nullptr, 8) : 0700) == 0);
            if (plant == u"owner 65534")
                QVERIFY(::chown(path.constData(), 65534, 65534) == 0);
        }
        FileSecretStore store(m_dir);
        for (const Status &refused :
            {store.write(kKey, kSecret), Status(store.read(kKey).map([](auto &&) {})), store.remove(kKey)}) {
            QVERIFY(!refused);
            QCOMPARE(refused.error().code, ErrorCode::Io);
            QVERIFY2(refused.error().message.contains(message), qPrintable(refused.error().message));
            QVERIFY2(refused.error().message.contains(m_dir), qPrintable(refused.error().message));
        }
        QVERIFY(!QFileInfo::exists(secretPath()));
        QVERIFY(!QFileInfo::exists(real + u'/' + *FileSecretStore::fileNameFor(kKey)));
    }

    void preparesAnotherPrivateDirectory()
    {
        const QString state = m_root->filePath(QStringLiteral("state"));
        const QString what = QStringLiteral("state directory");
        QVERIFY(preparePrivateDirectory(state, what));
        QCOMPARE(modeOf(state), mode_t(0700));
        QVERIFY(preparePrivateDirectory(state, what));
        QVERIFY(::chmod(QFile::encodeName(state).constData(), 0750) == 0);
        const Status refused = preparePrivateDirectory(state, what);
        QVERIFY(!refused);
        QCOMPARE(refused.error().message,
            QStringLiteral("the state directory %1 has mode 0750, not 0700; run chmod 700 %1").arg(state));
    }

    void callbacksRunLaterNeverInsideTheCall()
    {
        FileSecretStore store(m_dir);
        bool inside = true;
        std::optional<Status> written;
        store.writeSecret(kKey, kSecret, [&](Status s) {
            QVERIFY(!inside);
            written = s;
        });
        std::optional<Result<QByteArray>> read;
        store.readSecret(kKey, [&](Result<QByteArray> r) {
            QVERIFY(!inside);
            read = r;
        });
        std::optional<Status> removed;
        store.deleteSecret(kKey, [&](Status s) {
            QVERIFY(!inside);
            removed = s;
        });
        inside = false;
        QVERIFY(!written && !read && !removed);
        QTRY_VERIFY(written && read && removed);
        QVERIFY(*written);
        QVERIFY(*read);
        QCOMPARE(**read, kSecret);
        QVERIFY(*removed);
        QVERIFY(!QFileInfo::exists(secretPath()));
        QVERIFY(store.where().contains(m_dir));
    }
};

QTEST_GUILESS_MAIN(TestFileSecretStore)
#include "tst_filesecretstore.moc"

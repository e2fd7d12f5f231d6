// LinuxPathWatcher on a real temporary tree: file operations, new subdirectories, missing paths, prefix-sharing siblings.
#include "core/platform/linux/linuxpathwatcher.h"

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace hotdesk::platform;
using namespace std::chrono_literals;

namespace {

struct Touch {
    QString path;
    TouchKind kind;
};

void write(const QString &path, const QByteArray &data = "x", QIODevice::OpenMode mode = QIODevice::WriteOnly)
{
    QFile f(path);
    if (!f.open(mode))
        qFatal("cannot write %s", qPrintable(path));
    f.write(data);
}

void readAll(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(path));
    f.readAll();
}

} // namespace

class TestPathWatcher : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<LinuxPathWatcher> m_watcher;
    std::unique_ptr<QSignalSpy> m_spy;

    QString path(const QString &relative) const { return m_dir->filePath(relative); }

    void watch(const QStringList &relative, std::chrono::milliseconds window = 0ms)
    {
        LinuxPathWatcher::Options o;
        o.duplicateWindow = window;
        m_watcher = std::make_unique<LinuxPathWatcher>(o);
        m_spy = std::make_unique<QSignalSpy>(m_watcher.get(), &PathWatcher::touched);
        QStringList absolute;
        for (const QString &r : relative)
            absolute << path(r);
        m_watcher->setPaths(absolute);
    }

    QList<Touch> touches() const
    {
        QList<Touch> out;
        for (const auto &args : std::as_const(*m_spy))
            out << Touch {args.at(0).toString(), args.at(1).value<TouchKind>()};
        return out;
    }

    int count(const QString &relative, TouchKind kind) const
    {
        int n = 0;
        for (const Touch &t : touches())
            n += (t.path == path(relative) && t.kind == kind) ? 1 : 0;
        return n;
    }

    // Waits (bounded) until this touch has been reported.
    bool seen(const QString &relative, TouchKind kind)
    {
        for (int i = 0; i < 100 && count(relative, kind) == 0; ++i)
            m_spy->wait(100);
        return count(relative, kind) > 0;
    }

    QByteArray describe() const
    {
        QStringList lines;
        for (const Touch &t : touches())
            lines << touchKindName(t.kind) + QLatin1Char(' ') + t.path;
        return lines.join(QLatin1Char('\n')).toUtf8();
    }

    bool anyBelow(const QString &relative) const
    {
        const QString prefix = path(relative);
        for (const Touch &t : touches()) {
            if (t.path == prefix || t.path.startsWith(prefix + QLatin1Char('/')))
                return true;
        }
        return false;
    }

private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        QVERIFY(QDir(m_dir->path()).mkpath(QStringLiteral("payroll")));
    }

    void cleanup()
    {
        m_spy.reset();
        m_watcher.reset();
        m_dir.reset();
    }

    void fileOperations()
    {
        watch({QStringLiteral("payroll")});
        write(path(QStringLiteral("payroll/salaries.ods")), "1");
        QVERIFY2(seen(QStringLiteral("payroll/salaries.ods"), TouchKind::Created), describe());
        QVERIFY2(seen(QStringLiteral("payroll/salaries.ods"), TouchKind::Modified), describe());
        QVERIFY2(seen(QStringLiteral("payroll/salaries.ods"), TouchKind::Written), describe());

        readAll(path(QStringLiteral("payroll/salaries.ods")));
        QVERIFY2(seen(QStringLiteral("payroll/salaries.ods"), TouchKind::Opened), describe());

        write(path(QStringLiteral("payroll/salaries.ods")), "2", QIODevice::Append);
        QVERIFY2(count(QStringLiteral("payroll/salaries.ods"), TouchKind::Modified) >= 1, describe());

        QVERIFY(QFile::rename(path(QStringLiteral("payroll/salaries.ods")), path(QStringLiteral("payroll/2026.ods"))));
        QVERIFY2(seen(QStringLiteral("payroll/salaries.ods"), TouchKind::MovedFrom), describe());
        QVERIFY2(seen(QStringLiteral("payroll/2026.ods"), TouchKind::MovedTo), describe());

        QVERIFY(QFile::remove(path(QStringLiteral("payroll/2026.ods"))));
        QVERIFY2(seen(QStringLiteral("payroll/2026.ods"), TouchKind::Deleted), describe());

        // A copy out of the tree opens the original.
        write(path(QStringLiteral("payroll/copy-me")), "data");
        QVERIFY(seen(QStringLiteral("payroll/copy-me"), TouchKind::Written));
        m_spy->clear();
        QVERIFY(QFile::copy(path(QStringLiteral("payroll/copy-me")), path(QStringLiteral("elsewhere"))));
        QVERIFY2(seen(QStringLiteral("payroll/copy-me"), TouchKind::Opened), describe());
    }

    void newSubdirectoryThenAFileInIt()
    {
        watch({QStringLiteral("payroll")});
        QCOMPARE(m_watcher->watchCount(), 1);
        // The file comes right after the directory, possibly before its watch exists.
        QVERIFY(QDir(path(QStringLiteral("payroll"))).mkpath(QStringLiteral("2026/q1")));
        write(path(QStringLiteral("payroll/2026/q1/march.ods")));
        QVERIFY2(seen(QStringLiteral("payroll/2026"), TouchKind::Created), describe());
        QVERIFY2(seen(QStringLiteral("payroll/2026/q1/march.ods"), TouchKind::Created), describe());
        // And the new directories are watched from now on.
        QTRY_COMPARE(m_watcher->watchCount(), 3);
        readAll(path(QStringLiteral("payroll/2026/q1/march.ods")));
        QVERIFY2(seen(QStringLiteral("payroll/2026/q1/march.ods"), TouchKind::Opened), describe());
    }

    void existingTreeIsWatchedRecursively()
    {
        QVERIFY(QDir(path(QStringLiteral("payroll"))).mkpath(QStringLiteral("a/b/c")));
        write(path(QStringLiteral("payroll/a/b/c/deep.txt")));
        watch({QStringLiteral("payroll")});
        QCOMPARE(m_watcher->watchCount(), 4);
        write(path(QStringLiteral("payroll/a/b/c/deep.txt")), "y", QIODevice::Append);
        QVERIFY2(seen(QStringLiteral("payroll/a/b/c/deep.txt"), TouchKind::Modified), describe());
    }

    // payroll2 and payroll-old share a prefix with payroll but are not below it.
    void siblingWithACommonPrefixIsNotReported()
    {
        QVERIFY(QDir(m_dir->path()).mkpath(QStringLiteral("payroll2")));
        QVERIFY(QDir(m_dir->path()).mkpath(QStringLiteral("payroll-old/sub")));
        watch({QStringLiteral("payroll")});
        write(path(QStringLiteral("payroll2/a.txt")));
        write(path(QStringLiteral("payroll-old/sub/b.txt")));
        readAll(path(QStringLiteral("payroll2/a.txt")));
        QVERIFY(QDir(m_dir->path()).mkpath(QStringLiteral("payroll-new")));
        // inotify keeps events in order: once this one is in, the others would be too.
        write(path(QStringLiteral("payroll/sentinel")));
        QVERIFY2(seen(QStringLiteral("payroll/sentinel"), TouchKind::Written), describe());
        QVERIFY2(!anyBelow(QStringLiteral("payroll2")), describe());
        QVERIFY2(!anyBelow(QStringLiteral("payroll-old")), describe());
        QVERIFY2(!anyBelow(QStringLiteral("payroll-new")), describe());
    }

    void aSingleFile()
    {
        write(path(QStringLiteral("payroll/secret.txt")));
        watch({QStringLiteral("payroll/secret.txt")});
        write(path(QStringLiteral("payroll/other.txt")));
        readAll(path(QStringLiteral("payroll/secret.txt")));
        QVERIFY2(seen(QStringLiteral("payroll/secret.txt"), TouchKind::Opened), describe());
        QVERIFY2(!anyBelow(QStringLiteral("payroll/other.txt")), describe());
        // Replaced by an editor (write elsewhere, rename over it): still watched.
        write(path(QStringLiteral("payroll/secret.txt.tmp")));
        QVERIFY(QFile::remove(path(QStringLiteral("payroll/secret.txt"))));
        QVERIFY(QFile::rename(path(QStringLiteral("payroll/secret.txt.tmp")), path(QStringLiteral("payroll/secret.txt"))));
        QVERIFY2(seen(QStringLiteral("payroll/secret.txt"), TouchKind::MovedTo), describe());
        QVERIFY2(!anyBelow(QStringLiteral("payroll/secret.txt.tmp")), describe());
    }

    void aPathThatAppearsLater()
    {
        watch({QStringLiteral("later/deeper")});
        QVERIFY(QDir(m_dir->path()).mkpath(QStringLiteral("later/deeper")));
        QVERIFY2(seen(QStringLiteral("later/deeper"), TouchKind::Created), describe());
        write(path(QStringLiteral("later/deeper/file")));
        QVERIFY2(seen(QStringLiteral("later/deeper/file"), TouchKind::Written), describe());
        QVERIFY2(!anyBelow(QStringLiteral("later/other")), describe());
    }

    void theRootGoesAndComesBack()
    {
        watch({QStringLiteral("payroll")});
        QVERIFY(QDir(path(QStringLiteral("payroll"))).removeRecursively());
        QVERIFY2(seen(QStringLiteral("payroll"), TouchKind::Deleted), describe());
        QVERIFY(QDir(m_dir->path()).mkpath(QStringLiteral("payroll")));
        QVERIFY2(seen(QStringLiteral("payroll"), TouchKind::Created), describe());
        write(path(QStringLiteral("payroll/again")));
        QVERIFY2(seen(QStringLiteral("payroll/again"), TouchKind::Written), describe());
    }

    void aDirectoryMovedOutIsForgotten()
    {
        QVERIFY(QDir(path(QStringLiteral("payroll"))).mkpath(QStringLiteral("sub")));
        QVERIFY(QDir(m_dir->path()).mkpath(QStringLiteral("outside")));
        watch({QStringLiteral("payroll")});
        QVERIFY(QDir().rename(path(QStringLiteral("payroll/sub")), path(QStringLiteral("outside/sub"))));
        QVERIFY2(seen(QStringLiteral("payroll/sub"), TouchKind::MovedFrom), describe());
        write(path(QStringLiteral("outside/sub/f")));
        write(path(QStringLiteral("payroll/sentinel")));
        QVERIFY2(seen(QStringLiteral("payroll/sentinel"), TouchKind::Written), describe());
        QVERIFY2(!anyBelow(QStringLiteral("payroll/sub/f")), describe()); // where the watch would have put it
        QVERIFY2(!anyBelow(QStringLiteral("outside")), describe());
    }

    void listingADirectoryIsNotOpeningAFile()
    {
        QVERIFY(QDir(path(QStringLiteral("payroll"))).mkpath(QStringLiteral("sub")));
        watch({QStringLiteral("payroll")});
        QDir(path(QStringLiteral("payroll"))).entryList();
        QDir(path(QStringLiteral("payroll/sub"))).entryList();
        write(path(QStringLiteral("payroll/sentinel")));
        QVERIFY2(seen(QStringLiteral("payroll/sentinel"), TouchKind::Written), describe());
        QCOMPARE(count(QStringLiteral("payroll"), TouchKind::Opened), 0);
        QCOMPARE(count(QStringLiteral("payroll/sub"), TouchKind::Opened), 0);
    }

    void duplicatesAreFolded()
    {
        watch({QStringLiteral("payroll")}, 1h);
        for (int i = 0; i < 5; ++i)
            write(path(QStringLiteral("payroll/edited")), QByteArray::number(i), QIODevice::Append);
        write(path(QStringLiteral("payroll/sentinel")));
        QVERIFY2(seen(QStringLiteral("payroll/sentinel"), TouchKind::Written), describe());
        QCOMPARE(count(QStringLiteral("payroll/edited"), TouchKind::Modified), 1);
        QCOMPARE(count(QStringLiteral("payroll/edited"), TouchKind::Written), 1);
        QCOMPARE(count(QStringLiteral("payroll/edited"), TouchKind::Opened), 1);
    }

    void noPathsNoWatches()
    {
        watch({QStringLiteral("payroll")});
        QCOMPARE(m_watcher->watchCount(), 1);
        m_watcher->setPaths({});
        QCOMPARE(m_watcher->watchCount(), 0);
        QVERIFY(m_watcher->paths().isEmpty());
        write(path(QStringLiteral("payroll/after")));
        QCoreApplication::processEvents(); // nothing can arrive: no watch is left
        QCOMPARE(m_spy->size(), 0);
    }
};

QTEST_GUILESS_MAIN(TestPathWatcher)
#include "tst_pathwatcher.moc"

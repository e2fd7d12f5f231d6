// LinuxProcessWatcher with real programs: copies of sleep under unique names, started, exec'd and left alone.
#include "core/platform/linux/linuxprocesswatcher.h"

#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <vector>

using namespace hotdesk::platform;
using namespace std::chrono_literals;

namespace {

QString uniqueName(const QString &prefix)
{
    return prefix + QString::number(QRandomGenerator::global()->bounded(100000, 999999));
}

// The process's state letter from /proc/PID/stat (after the parenthesized name).
QChar state(qint64 pid)
{
    QFile f(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const QByteArray stat = f.readAll();
    const qsizetype close = stat.lastIndexOf(')');
    return close < 0 || close + 2 >= stat.size() ? QChar() : QChar::fromLatin1(stat.at(close + 2));
}

QString comm(qint64 pid)
{
    QFile f(QStringLiteral("/proc/%1/comm").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QString::fromUtf8(f.readAll().trimmed());
}

} // namespace

class TestProcessWatcher : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::vector<std::unique_ptr<QProcess>> m_processes;

    // /bin/sleep under another name, so the test's process is the only one with it.
    QString program(const QString &name)
    {
        const QString path = m_dir.filePath(name);
        if (!QFile::exists(path)) {
            if (!QFile::copy(QStringLiteral("/bin/sleep"), path))
                qFatal("cannot copy /bin/sleep to %s", qPrintable(path));
            QFile::setPermissions(path, QFile::ReadOwner | QFile::ExeOwner | QFile::WriteOwner);
        }
        return path;
    }

    qint64 run(const QString &path, const QStringList &arguments = {QStringLiteral("60")})
    {
        auto process = std::make_unique<QProcess>();
        process->start(path, arguments);
        if (!process->waitForStarted(10000)) // returns once exec() succeeded
            qFatal("cannot start %s: %s", qPrintable(path), qPrintable(process->errorString()));
        const qint64 pid = process->processId();
        m_processes.push_back(std::move(process));
        // waitForStarted() returns while the kernel may still be finishing the
        // exec (it reports it to the proc connector at the very end); asleep
        // in sleep's or read's system call, the program surely runs.
        for (int i = 0; i < 1000 && state(pid) != QLatin1Char('S'); ++i)
            QTest::qWait(10);
        return pid;
    }

    std::unique_ptr<LinuxProcessWatcher> watcher(const QString &mode, const QStringList &names)
    {
        LinuxProcessWatcher::Options o;
        if (mode == QLatin1String("scan")) {
            o.mode = LinuxProcessWatcher::Mode::Scan;
            o.scanInterval = 1h; // the test scans with scanNow()
        } else {
            o.scanInterval = 200ms; // if Auto falls back to scanning
        }
        auto w = std::make_unique<LinuxProcessWatcher>(o);
        w->setNames(names);
        return w;
    }

    // Waits for the report of pid (scanning at once in scan mode).
    static bool reported(LinuxProcessWatcher &w, QSignalSpy &spy, qint64 pid)
    {
        auto found = [&] {
            for (const auto &args : std::as_const(spy)) {
                if (args.at(1).toLongLong() == pid)
                    return true;
            }
            return false;
        };
        for (int i = 0; i < 100 && !found(); ++i) {
            // The scan's next looks at a young process, without waiting for the interval.
            if (w.backend() == QLatin1String("proc-scan"))
                w.scanNow();
            if (!found())
                spy.wait(100);
        }
        return found();
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void cleanup()
    {
        for (auto &process : m_processes) {
            process->kill();
            process->waitForFinished(5000);
        }
        m_processes.clear();
    }

    void startIsReported_data()
    {
        QTest::addColumn<QString>("mode");
        QTest::newRow("scan") << QStringLiteral("scan");
        QTest::newRow("auto") << QStringLiteral("auto");
    }
    void startIsReported()
    {
        QFETCH(QString, mode);
        const QString name = uniqueName(QStringLiteral("hdsleep"));
        const QString other = uniqueName(QStringLiteral("hdother"));
        auto w = watcher(mode, {name, QStringLiteral("payroll.exe")});
        qInfo("backend: %s", qPrintable(w->backend()));
        QVERIFY(!w->backend().isEmpty());
        if (mode == QLatin1String("scan"))
            QCOMPARE(w->backend(), QStringLiteral("proc-scan"));
        QSignalSpy started(w.get(), &ProcessWatcher::processStarted);

        // A name not in the list first, then the watched one: only the latter.
        const qint64 otherPid = run(program(other));
        const qint64 pid = run(program(name));
        QVERIFY(reported(*w, started, pid));
        QCOMPARE(started.size(), 1);
        QCOMPARE(started.constFirst().at(0).toString(), name);
        QCOMPARE(started.constFirst().at(1).toLongLong(), pid);
        QVERIFY(otherPid != pid);

        // The same process is not reported twice.
        if (w->backend() == QLatin1String("proc-scan"))
            w->scanNow();
        const qint64 second = run(program(name));
        QVERIFY(reported(*w, started, second));
        QCOMPARE(started.size(), 2);
    }

    // Names beyond the kernel's 15 bytes match through the program file.
    void longNamesMatch_data() { startIsReported_data(); }
    void longNamesMatch()
    {
        QFETCH(QString, mode);
        const QString name = uniqueName(QStringLiteral("hotdesk-long-sleeper-"));
        QVERIFY(name.size() > 15);
        auto w = watcher(mode, {name});
        QSignalSpy started(w.get(), &ProcessWatcher::processStarted);
        const qint64 pid = run(program(name));
        QCOMPARE(comm(pid), name.left(15));
        QVERIFY(reported(*w, started, pid));
        QCOMPARE(started.constFirst().at(0).toString(), name);
        // Same first 15 bytes, different name: not a match.
        const QString lookalike = name.left(15) + QStringLiteral("-else");
        auto w2 = watcher(mode, {lookalike});
        QSignalSpy started2(w2.get(), &ProcessWatcher::processStarted);
        const QString sentinel = uniqueName(QStringLiteral("hdsent"));
        w2->setNames({lookalike, sentinel});
        run(program(name));
        const qint64 sentinelPid = run(program(sentinel));
        QVERIFY(reported(*w2, started2, sentinelPid));
        QCOMPARE(started2.size(), 1);
    }

    // A script run through its #! line: the program is the interpreter, the
    // name is the script's.
    void longScriptNamesMatch_data() { startIsReported_data(); }
    void longScriptNamesMatch()
    {
        QFETCH(QString, mode);
        const QString name = uniqueName(QStringLiteral("hotdesk-payroll-script-"));
        const QString path = m_dir.filePath(name);
        {
            QFile script(path);
            QVERIFY(script.open(QIODevice::WriteOnly));
            script.write("#!/bin/sh\nread line\n");
        }
        QVERIFY(QFile::setPermissions(path, QFile::ReadOwner | QFile::ExeOwner));
        auto w = watcher(mode, {name});
        QSignalSpy started(w.get(), &ProcessWatcher::processStarted);
        const qint64 pid = run(path, {});
        QVERIFY(reported(*w, started, pid));
        QCOMPARE(started.constFirst().at(0).toString(), name);
    }

    // A wrapper (here a shell) that exec()s the watched program keeps its
    // process id; the scan still sees the new name.
    void wrapperThatExecs()
    {
        const QString name = uniqueName(QStringLiteral("hdexec"));
        auto w = watcher(QStringLiteral("scan"), {name});
        QSignalSpy started(w.get(), &ProcessWatcher::processStarted);
        auto shell = std::make_unique<QProcess>();
        shell->start(
            QStringLiteral("/bin/sh"), {QStringLiteral("-c"), QStringLiteral("read line; exec \"$0\" 60"), program(name)});
        QVERIFY(shell->waitForStarted(10000));
        const qint64 pid = shell->processId();
        w->scanNow(); // sees "sh"
        QCOMPARE(started.size(), 0);
        shell->write("go\n");
        QTRY_COMPARE_WITH_TIMEOUT(comm(pid), name, 10000);
        m_processes.push_back(std::move(shell));
        w->scanNow();
        QCOMPARE(started.size(), 1);
        QCOMPARE(started.constFirst().at(1).toLongLong(), pid);
    }

    // Programs running before watching starts are not starts.
    void alreadyRunningIsNotReported_data() { startIsReported_data(); }
    void alreadyRunningIsNotReported()
    {
        QFETCH(QString, mode);
        const QString name = uniqueName(QStringLiteral("hdearly"));
        const qint64 early = run(program(name));
        auto w = watcher(mode, {name});
        QSignalSpy started(w.get(), &ProcessWatcher::processStarted);
        const qint64 later = run(program(name));
        QVERIFY(reported(*w, started, later));
        QCOMPARE(started.size(), 1);
        QVERIFY(started.constFirst().at(1).toLongLong() != early);
    }

    void noNamesNoWatching()
    {
        auto w = watcher(QStringLiteral("auto"), {QStringLiteral("x")});
        QVERIFY(!w->backend().isEmpty());
        w->setNames({});
        QVERIFY(w->backend().isEmpty());
        QVERIFY(w->names().isEmpty());
        w->setNames({QString(), QString()});
        QVERIFY(w->backend().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestProcessWatcher)
#include "tst_processwatcher.moc"

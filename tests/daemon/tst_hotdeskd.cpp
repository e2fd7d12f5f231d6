// hotdeskd as its executable: the protocol, SO_PEERCRED with an unprivileged client, bad and slow clients,
// the state directory check, SIGTERM, READY=1 on a NOTIFY_SOCKET of the test's own, and the systemd unit.
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include "daemonclient.h"

#include <cerrno>
#include <cstring>
#include <memory>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

using namespace hotdesk::test;

namespace {

constexpr uid_t kNobody = 65534;
constexpr int kClientTimeoutMs = 600; // the daemon's, for these tests

// One hotdeskd process, started and known ready through its READY=1.
struct Daemon {
    QProcess process;
    NotifySocket notify;
    QString socketPath;
    QByteArray firstNotification;

    ~Daemon()
    {
        if (process.state() != QProcess::NotRunning) {
            process.kill();
            process.waitForFinished(5000);
        }
    }
};

} // namespace

class TestHotdeskd : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    int m_n = 0;
    Daemon m_daemon; // shared by the protocol tests
    QString m_stateDir;

    QString fresh(const char *name) { return m_dir.filePath(QStringLiteral("%1-%2").arg(QLatin1String(name)).arg(++m_n)); }

    // Starts hotdeskd with its own socket and NOTIFY_SOCKET; false (with output) when it does not become ready.
    // wrapper: a program and its arguments that exec hotdeskd with the arguments that follow them.
    bool start(Daemon &daemon, const QString &stateDir, const QStringList &more = {}, const QStringList &wrapper = {})
    {
        daemon.socketPath = fresh("hotdeskd.sock");
        const QString notifyPath = fresh("notify");
        if (!daemon.notify.bind(notifyPath))
            return false;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("NOTIFY_SOCKET"), notifyPath);
        daemon.process.setProcessEnvironment(env);
        daemon.process.setProcessChannelMode(QProcess::ForwardedOutputChannel); // stderr kept for the checks
        dieWithTest(daemon.process);
        QStringList arguments {QStringLiteral("--socket"), daemon.socketPath, QStringLiteral("--state-dir"), stateDir,
            QStringLiteral("--client-timeout"), QString::number(kClientTimeoutMs),
            // An agent's heartbeat (a third of this) must come within the client timeout, or hotdeskd refuses to start.
            QStringLiteral("--agent-timeout"), QString::number(kClientTimeoutMs * 3 - 3)};
        arguments += more;
        if (wrapper.isEmpty()) {
            daemon.process.start(QStringLiteral(HOTDESKD_BINARY), arguments);
        } else {
            daemon.process.start(
                wrapper.constFirst(), wrapper.mid(1) + QStringList {QStringLiteral(HOTDESKD_BINARY)} + arguments);
        }
        if (!daemon.process.waitForStarted(10000))
            return false;
        daemon.firstNotification = daemon.notify.receive(10000);
        if (!daemon.firstNotification.contains("READY=1")) {
            qWarning("hotdeskd did not become ready (its output is above)");
            return false;
        }
        return true;
    }

    // Runs hotdeskd expected to refuse to start; its exit code and stderr.
    std::pair<int, QString> runRefused(const QString &stateDir, const QString &socketPath)
    {
        QProcess process;
        process.start(
            QStringLiteral(HOTDESKD_BINARY), {QStringLiteral("--socket"), socketPath, QStringLiteral("--state-dir"), stateDir});
        if (!process.waitForFinished(10000)) {
            process.kill();
            process.waitForFinished();
            return {-1, QStringLiteral("still running")};
        }
        return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
            QString::fromLocal8Bit(process.readAllStandardError())};
    }

    // Runs requests as uid/gid 65534 in a Python client; the reply lines, one per request.
    QList<QJsonObject> askAsNobody(const QList<QByteArray> &lines)
    {
        static const char script[] = R"(import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
f = s.makefile("rb")
for line in sys.argv[2:]:
    s.sendall(line.encode() + b"\n")
    sys.stdout.write(f.readline().decode())
)";
        QStringList arguments {QStringLiteral("--reuid=%1").arg(kNobody), QStringLiteral("--regid=%1").arg(kNobody),
            QStringLiteral("--clear-groups"), QStringLiteral("/usr/bin/python3"), QStringLiteral("-c"), QLatin1String(script),
            m_daemon.socketPath};
        for (const QByteArray &line : lines)
            arguments << QString::fromUtf8(line.trimmed());
        QProcess client;
        client.start(QStringLiteral("setpriv"), arguments);
        QList<QJsonObject> replies;
        if (!client.waitForFinished(15000) || client.exitCode() != 0) {
            qWarning("the unprivileged client failed: %s", client.readAllStandardError().constData());
            return replies;
        }
        for (const QByteArray &line : client.readAllStandardOutput().split('\n'))
            if (!line.isEmpty())
                replies << QJsonDocument::fromJson(line).object();
        return replies;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        // The unprivileged client must reach the socket inside.
        QVERIFY(QFile::setPermissions(m_dir.path(),
            QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner | QFileDevice::ReadGroup
                | QFileDevice::ExeGroup | QFileDevice::ReadOther | QFileDevice::ExeOther));
        m_stateDir = m_dir.filePath(QStringLiteral("state/hotdesk")); // missing: the daemon creates it
        QVERIFY(start(m_daemon, m_stateDir));
    }

    void readyOnlyWhenListening()
    {
        // READY=1 came (start() waited for it), and the socket answered at once: it was listening.
        Client client;
        QVERIFY(client.connect(m_daemon.socketPath));
        QVERIFY(client.send(kHello));
        QCOMPARE(client.reply().value(QLatin1String("ok")).toBool(), true);
        QVERIFY(m_daemon.firstNotification.contains(
            QByteArray(QByteArray("STATUS=listening on ") + QFile::encodeName(m_daemon.socketPath))));
        struct stat info { };
        QCOMPARE(::stat(QFile::encodeName(m_daemon.socketPath).constData(), &info), 0);
        QVERIFY(S_ISSOCK(info.st_mode));
        QCOMPARE(info.st_mode & 0777, mode_t(0666));
        // The missing state directory was created private.
        QCOMPARE(::stat(QFile::encodeName(m_stateDir).constData(), &info), 0);
        QVERIFY(S_ISDIR(info.st_mode));
        QCOMPARE(info.st_mode & 0777, mode_t(0700));
    }

    void helloAndStatus()
    {
        Client client;
        QVERIFY(client.connect(m_daemon.socketPath));
        QVERIFY(client.send(kHello));
        const QJsonObject hello = client.reply();
        QCOMPARE(hello.value(QLatin1String("ok")).toBool(), true);
        QCOMPARE(hello.value(QLatin1String("v")).toInt(), 1);
        QCOMPARE(hello.value(QLatin1String("uid")).toInteger(-1), qint64(::geteuid()));
        QCOMPARE(hello.value(QLatin1String("daemon")).toString(), QStringLiteral("hotdeskd " HOTDESK_VERSION));

        // Several requests on one connection, answered in order.
        QVERIFY(client.send("{\"v\":1,\"command\":\"status\",\"uid\":1234}\n{\"v\":1,\"command\":\"status\"}\n"));
        const QJsonObject other = client.reply();
        QCOMPARE(other.value(QLatin1String("ok")).toBool(), ::geteuid() == 0);
        if (::geteuid() == 0) {
            QCOMPARE(other.value(QLatin1String("uid")).toInteger(), 1234);
            QCOMPARE(other.value(QLatin1String("state")).toString(), QStringLiteral("unknown"));
            QCOMPARE(other.value(QLatin1String("sessions")).toArray(), QJsonArray());
        }
        const QJsonObject own = client.reply();
        QCOMPARE(own.value(QLatin1String("ok")).toBool(), true);
        QCOMPARE(own.value(QLatin1String("uid")).toInteger(-1), qint64(::geteuid()));
    }

    void unprivilegedClientActsForItselfOnly()
    {
        if (::geteuid() != 0)
            QSKIP("running a client as uid 65534 needs root (CI runs the suite as root)");
        if (!QFile::exists(QStringLiteral("/usr/bin/python3"))
            || QStandardPaths::findExecutable(QStringLiteral("setpriv")).isEmpty())
            QSKIP("needs /usr/bin/python3 and setpriv (util-linux) for the unprivileged client; ./dev installs both");
        const QList<QJsonObject> replies = askAsNobody({kHello, "{\"v\":1,\"command\":\"status\",\"uid\":0}",
            "{\"v\":1,\"command\":\"status\",\"uid\":65534}", "{\"v\":1,\"command\":\"status\"}"});
        QCOMPARE(replies.size(), 4);
        // The kernel's word, not the client's.
        QCOMPARE(replies[0].value(QLatin1String("uid")).toInteger(-1), qint64(kNobody));
        QCOMPARE(error(replies[1]), QStringLiteral("forbidden"));
        QVERIFY(replies[1].value(QLatin1String("message")).toString().contains(QLatin1String("65534")));
        QCOMPARE(replies[2].value(QLatin1String("ok")).toBool(), true);
        QCOMPARE(replies[2].value(QLatin1String("uid")).toInteger(-1), qint64(kNobody));
        QCOMPARE(replies[3].value(QLatin1String("uid")).toInteger(-1), qint64(kNobody));
    }

    void connectionsPerUidAreCapped()
    {
        if (::geteuid() != 0)
            QSKIP("running a client as uid 65534 needs root (CI runs the suite as root)");
        // uid 65534 holds 16 connections; the 17th is refused while root is
        // still served, and closing one makes room again.
        static const char script[] = R"(import json, socket, sys
def hello(s):
    s.sendall(b'{"v":1,"command":"hello"}\n')
    return json.loads(s.makefile("rb").readline())
held = []
for i in range(16):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(5); s.connect(sys.argv[1])
    assert hello(s)["ok"], i
    held.append(s)
extra = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); extra.settimeout(5); extra.connect(sys.argv[1])
print(extra.makefile("rb").readline().decode().strip())
print(json.dumps({"closed": extra.recv(1) == b""}))
print(sys.stdin.readline().strip())
held.pop().close()
# The daemon frees the slot when it has seen the close: try again for up to 5 s.
import time
for attempt in range(50):
    again = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); again.settimeout(5); again.connect(sys.argv[1])
    reply = hello(again)
    if reply.get("ok"):
        break
    again.close()
    time.sleep(0.1)
print(json.dumps(reply))
)";
        QProcess client;
        client.start(QStringLiteral("setpriv"),
            {QStringLiteral("--reuid=%1").arg(kNobody), QStringLiteral("--regid=%1").arg(kNobody),
                QStringLiteral("--clear-groups"), QStringLiteral("/usr/bin/python3"), QStringLiteral("-c"), QLatin1String(script),
                m_daemon.socketPath});
        QVERIFY(client.waitForStarted(10000));
        // While the 16 are held, root is not refused.
        QTRY_VERIFY_WITH_TIMEOUT(client.canReadLine() || client.state() == QProcess::NotRunning, 15000);
        const QJsonObject refused = QJsonDocument::fromJson(client.readLine()).object();
        QCOMPARE(error(refused), QStringLiteral("too_many_connections"));
        QTRY_VERIFY_WITH_TIMEOUT(client.canReadLine(), 10000);
        QCOMPARE(QJsonDocument::fromJson(client.readLine()).object().value(QLatin1String("closed")).toBool(), true);
        Client root;
        QVERIFY(root.connect(m_daemon.socketPath));
        QVERIFY(root.send(kHello));
        QCOMPARE(root.reply().value(QLatin1String("ok")).toBool(), true);
        client.write("root served\n");
        QVERIFY(client.waitForFinished(15000));
        const QList<QByteArray> rest = client.readAllStandardOutput().trimmed().split('\n');
        QCOMPARE(client.exitCode(), 0);
        QCOMPARE(rest.size(), 2);
        QCOMPARE(rest[0], QByteArray("root served"));
        QCOMPARE(QJsonDocument::fromJson(rest[1]).object().value(QLatin1String("ok")).toBool(), true);
    }

    void badRequests_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("error");
        QTest::addColumn<bool>("closes");
        QTest::newRow("garbage") << QByteArray("\x01\xffhello\n", 8) << QStringLiteral("malformed") << true;
        QTest::newRow("not an object") << QByteArray("[\"hello\"]\n") << QStringLiteral("malformed") << true;
        QTest::newRow("duplicate member") << QByteArray("{\"v\":1,\"command\":\"hello\",\"command\":\"status\"}\n")
                                          << QStringLiteral("malformed") << true;
        QTest::newRow("no version") << QByteArray("{\"command\":\"hello\"}\n") << QStringLiteral("malformed") << true;
        QTest::newRow("no command") << QByteArray("{\"v\":1}\n") << QStringLiteral("malformed") << true;
        QTest::newRow("version 2") << QByteArray("{\"v\":2,\"command\":\"hello\"}\n") << QStringLiteral("unsupported_version")
                                   << false;
        QTest::newRow("unknown command") << QByteArray("{\"v\":1,\"command\":\"unlock\"}\n") << QStringLiteral("unknown_command")
                                         << false;
        QTest::newRow("negative uid") << QByteArray("{\"v\":1,\"command\":\"status\",\"uid\":-1}\n")
                                      << QStringLiteral("bad_request") << false;
        QTest::newRow("over-long, no newline") << QByteArray(70 * 1024, 'x') << QStringLiteral("too_large") << true;
        QTest::newRow("over-long json line")
            << QByteArray("{\"v\":1,\"command\":\"hello\",\"pad\":\"" + QByteArray(65 * 1024, 'a') + "\"}\n")
            << QStringLiteral("too_large") << true;
    }
    void badRequests()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, error);
        QFETCH(bool, closes);
        Client bad;
        QVERIFY(bad.connect(m_daemon.socketPath));
        QVERIFY(bad.send(bytes));
        const QJsonObject reply = bad.reply();
        QCOMPARE(::error(reply), error);
        QCOMPARE(reply.value(QLatin1String("v")).toInt(), 1);
        QVERIFY(!reply.value(QLatin1String("message")).toString().isEmpty());
        if (closes) {
            // Closed for the bad line, well before the client timeout could do it.
            QElapsedTimer clock;
            clock.start();
            QVERIFY(bad.closedByDaemon());
            QVERIFY2(clock.elapsed() < kClientTimeoutMs / 2, qPrintable(QString::number(clock.elapsed())));
        } else {
            QVERIFY(bad.send(kHello));
            QCOMPARE(bad.reply().value(QLatin1String("ok")).toBool(), true);
        }
        // The daemon lives on and serves the next client.
        Client next;
        QVERIFY(next.connect(m_daemon.socketPath));
        QVERIFY(next.send(kHello));
        QCOMPARE(next.reply().value(QLatin1String("ok")).toBool(), true);
        QVERIFY(!m_daemon.process.waitForFinished(0)); // the same process, no crash
    }

    void clientsThatHangUpEarly()
    {
        // Many requests, then gone before reading a reply: the daemon writes into a closed connection.
        for (int i = 0; i < 20; ++i) {
            Client gone;
            QVERIFY(gone.connect(m_daemon.socketPath));
            QByteArray lines;
            for (int j = 0; j < 200; ++j)
                lines += kHello;
            QVERIFY(gone.send(lines));
        }
        Client next;
        QVERIFY(next.connect(m_daemon.socketPath));
        QVERIFY(next.send(kHello));
        QCOMPARE(next.reply().value(QLatin1String("ok")).toBool(), true);
        QVERIFY(!m_daemon.process.waitForFinished(0));
    }

    void slowClientsAreDroppedOthersServed()
    {
        Client partial;
        Client silent;
        QVERIFY(partial.connect(m_daemon.socketPath));
        QVERIFY(silent.connect(m_daemon.socketPath));
        QElapsedTimer clock;
        clock.start();
        QVERIFY(partial.send("{\"v\":1,\"comm"));
        // Meanwhile another client is answered, again and again: a request line
        // every third of the timeout keeps its connection, and none waits for the slow ones.
        Client other;
        QVERIFY(other.connect(m_daemon.socketPath));
        int answered = 0;
        bool partialClosed = false;
        qint64 partialClosedAfter = 0;
        while (!partialClosed && clock.elapsed() < kClientTimeoutMs + 5000) {
            QElapsedTimer request;
            request.start();
            QVERIFY(other.send(kHello));
            QCOMPARE(other.reply(kClientTimeoutMs / 3).value(QLatin1String("ok")).toBool(), true);
            QVERIFY(request.elapsed() < kClientTimeoutMs / 3);
            ++answered;
            partialClosed = partial.closedByDaemon(kClientTimeoutMs / 3);
            partialClosedAfter = clock.elapsed();
        }
        QVERIFY(partialClosed);
        QVERIFY(answered >= 2);
        // By the timeout, not before it, and with a reply that says so.
        QVERIFY2(partialClosedAfter >= kClientTimeoutMs - 50, qPrintable(QString::number(partialClosedAfter)));
        QCOMPARE(::error(QJsonDocument::fromJson(partial.pending().trimmed()).object()), QStringLiteral("timeout"));
        QVERIFY(silent.closedByDaemon(5000));
        QVERIFY(other.send(kHello));
        QCOMPARE(other.reply().value(QLatin1String("ok")).toBool(), true);
    }

    void tricklingClientIsDroppedAtTheDeadline()
    {
        // A byte every sixth of the timeout: busy, but no line ever completes in time.
        Client trickling;
        QVERIFY(trickling.connect(m_daemon.socketPath));
        QElapsedTimer clock;
        clock.start();
        const QByteArray line = kHello;
        bool closed = false;
        for (qsizetype i = 0; i < line.size() && !closed; ++i) {
            if (!trickling.send(line.mid(i, 1)))
                break;
            closed = trickling.closedByDaemon(kClientTimeoutMs / 6);
        }
        QVERIFY(closed || trickling.closedByDaemon(5000));
        QVERIFY2(clock.elapsed() >= kClientTimeoutMs - 50 && clock.elapsed() < kClientTimeoutMs * 3,
            qPrintable(QString::number(clock.elapsed())));
        QVERIFY(trickling.pending().contains("\"error\":\"timeout\""));
    }

    void systemdDirectoriesAreTheDefaults()
    {
        // Under the unit, systemd passes RuntimeDirectory= and StateDirectory= as variables.
        const QString runtime = fresh("runtime");
        const QString state = fresh("state");
        QVERIFY(QDir().mkpath(runtime));
        const QString notifyPath = fresh("notify");
        NotifySocket notify;
        QVERIFY(notify.bind(notifyPath));
        QProcess process;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("RUNTIME_DIRECTORY"), runtime);
        env.insert(QStringLiteral("STATE_DIRECTORY"), state);
        env.insert(QStringLiteral("NOTIFY_SOCKET"), notifyPath);
        process.setProcessEnvironment(env);
        process.setProcessChannelMode(QProcess::ForwardedOutputChannel);
        process.start(QStringLiteral(HOTDESKD_BINARY), QStringList());
        QVERIFY(process.waitForStarted(10000));
        QVERIFY(notify.receive(10000).contains("READY=1"));
        Client client;
        QVERIFY(client.connect(runtime + QStringLiteral("/hotdeskd.sock")));
        QVERIFY(client.send(kHello));
        QCOMPARE(client.reply().value(QLatin1String("ok")).toBool(), true);
        QVERIFY(QFileInfo(state).isDir());
        process.terminate();
        QVERIFY(process.waitForFinished(5000));
        QCOMPARE(process.exitCode(), 0);
    }

    void stateDirectoryRefused_data()
    {
        QTest::addColumn<int>("mode");
        QTest::addColumn<bool>("foreignOwner");
        QTest::addColumn<QString>("says");
        QTest::newRow("mode 0755") << 0755 << false << QStringLiteral("has mode 0755");
        QTest::newRow("mode 0770") << 0770 << false << QStringLiteral("has mode 0770");
        QTest::newRow("owned by uid 65534") << 0700 << true << QStringLiteral("belongs to uid 65534 (mode 0700)");
    }
    void stateDirectoryRefused()
    {
        QFETCH(int, mode);
        QFETCH(bool, foreignOwner);
        QFETCH(QString, says);
        if (foreignOwner && ::geteuid() != 0)
            QSKIP("giving a directory to uid 65534 needs root (CI runs the suite as root)");
        const QString stateDir = fresh("state");
        const QByteArray native = QFile::encodeName(stateDir);
        QCOMPARE(::mkdir(native.constData(), 0700), 0);
        QCOMPARE(::chmod(native.constData(), mode_t(mode)), 0);
        if (foreignOwner)
            QCOMPARE(::chown(native.constData(), kNobody, kNobody), 0);
        const QString socketPath = fresh("refused.sock");
        const auto [exitCode, stderrText] = runRefused(stateDir, socketPath);
        QVERIFY2(exitCode != 0, qPrintable(stderrText));
        QVERIFY2(stderrText.contains(stateDir), qPrintable(stderrText));
        QVERIFY2(stderrText.contains(says), qPrintable(stderrText));
        QVERIFY(!QFile::exists(socketPath));
    }

    void secondDaemonRefused()
    {
        QProcess second;
        second.start(QStringLiteral(HOTDESKD_BINARY),
            {QStringLiteral("--socket"), m_daemon.socketPath, QStringLiteral("--state-dir"), m_stateDir});
        QVERIFY(second.waitForFinished(10000));
        QCOMPARE(second.exitCode(), 1);
        QVERIFY(second.readAllStandardError().contains("another hotdeskd is already listening"));
        // The first one still owns its socket.
        Client client;
        QVERIFY(client.connect(m_daemon.socketPath));
        QVERIFY(client.send(kHello));
        QCOMPARE(client.reply().value(QLatin1String("ok")).toBool(), true);
    }

    void sigtermStopsCleanly()
    {
        Daemon daemon;
        QVERIFY(start(daemon, m_stateDir));
        Client connected; // a client still connected must not hold the daemon up
        QVERIFY(connected.connect(daemon.socketPath));
        daemon.process.terminate();
        QVERIFY(daemon.process.waitForFinished(5000));
        QCOMPARE(daemon.process.exitStatus(), QProcess::NormalExit);
        QCOMPARE(daemon.process.exitCode(), 0);
        QVERIFY(daemon.notify.receive(1000).contains("STOPPING=1"));
        QVERIFY(!QFile::exists(daemon.socketPath));
    }

    void survivesMemoryDenyWriteExecute()
    {
        // The unit's MemoryDenyWriteExecute=yes, as the kernel's own switch
        // (PR_SET_MDWE, Linux 6.3; kept across execve): no mapping may ever be
        // both writable and executable. A JIT anywhere in the daemon fails here.
        static const char wrapper[] = R"(import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
    sys.exit("PR_SET_MDWE: " + os.strerror(ctypes.get_errno()))
os.execv(sys.argv[1], sys.argv[1:])
)";
        if (!QFile::exists(QStringLiteral("/usr/bin/python3")))
            QSKIP("needs /usr/bin/python3 to set PR_SET_MDWE before starting the daemon; ./dev installs it");
        QProcess probe;
        probe.start(
            QStringLiteral("/usr/bin/python3"), {QStringLiteral("-c"), QLatin1String(wrapper), QStringLiteral("/bin/true")});
        QVERIFY(probe.waitForFinished(10000));
        if (probe.exitCode() != 0)
            QSKIP(qPrintable(QStringLiteral("this kernel has no PR_SET_MDWE (Linux 6.3 and later), so MemoryDenyWriteExecute "
                                            "cannot be tried outside systemd here (%1)")
                                 .arg(QString::fromLocal8Bit(probe.readAllStandardError().trimmed()))));
        Daemon daemon;
        QVERIFY(
            start(daemon, m_stateDir, {}, {QStringLiteral("/usr/bin/python3"), QStringLiteral("-c"), QLatin1String(wrapper)}));
        Client client;
        QVERIFY(client.connect(daemon.socketPath));
        QVERIFY(client.send(
            "{\"v\":1,\"command\":\"hello\"}\n{\"v\":1,\"command\":\"status\",\"uid\":7}\n{\"v\":1,\"command\":\"x\"}\n"));
        QCOMPARE(client.reply().value(QLatin1String("ok")).toBool(), true);
        QCOMPARE(client.reply().value(QLatin1String("v")).toInt(), 1);
        QCOMPARE(error(client.reply()), QStringLiteral("unknown_command"));
        daemon.process.terminate();
        QVERIFY(daemon.process.waitForFinished(5000));
        QCOMPARE(daemon.process.exitCode(), 0);
    }

    void commandLine()
    {
        QProcess version;
        version.start(QStringLiteral(HOTDESKD_BINARY), {QStringLiteral("--version")});
        QVERIFY(version.waitForFinished(5000));
        QCOMPARE(version.exitCode(), 0);
        QCOMPARE(version.readAllStandardOutput(), QByteArray("hotdeskd " HOTDESK_VERSION "\n"));
        QProcess bad;
        bad.start(QStringLiteral(HOTDESKD_BINARY), {QStringLiteral("--client-timeout"), QStringLiteral("soon")});
        QVERIFY(bad.waitForFinished(5000));
        QCOMPARE(bad.exitCode(), 2);
        QVERIFY(bad.readAllStandardError().contains("--client-timeout"));
        // A heartbeat every 10 s would never come within the default 10 s client timeout: every agent would be dropped.
        QProcess slowHeartbeat;
        slowHeartbeat.start(QStringLiteral(HOTDESKD_BINARY), {QStringLiteral("--agent-timeout"), QStringLiteral("30000")});
        QVERIFY(slowHeartbeat.waitForFinished(5000));
        QCOMPARE(slowHeartbeat.exitCode(), 2);
        const QByteArray why = slowHeartbeat.readAllStandardError();
        QVERIFY2(why.contains("heartbeat every 10000 ms") && why.contains("--client-timeout 10000 ms"), why.constData());
    }

    void unitVerifies()
    {
        const QString analyze = QStandardPaths::findExecutable(QStringLiteral("systemd-analyze"));
        if (analyze.isEmpty())
            QSKIP("systemd-analyze is not installed (Debian: systemd, which ./dev installs); the unit is not verified");
        QFile unit(QStringLiteral(HOTDESKD_UNIT));
        QVERIFY2(unit.open(QIODevice::ReadOnly), qPrintable(unit.fileName()));
        QByteArray text = unit.readAll();
        // verify wants ExecStart's program to exist: the built one stands in for the installed one.
        QVERIFY(text.contains("ExecStart=/usr/libexec/hotdesk/hotdeskd\n"));
        text.replace("ExecStart=/usr/libexec/hotdesk/hotdeskd\n", "ExecStart=" HOTDESKD_BINARY "\n");
        const QString copyDir = fresh("unit");
        QVERIFY(QDir().mkpath(copyDir));
        QFile copy(copyDir + QStringLiteral("/hotdeskd.service"));
        QVERIFY(copy.open(QIODevice::WriteOnly));
        copy.write(text);
        copy.close();
        QProcess verify;
        verify.start(analyze, {QStringLiteral("verify"), QStringLiteral("--man=no"), copy.fileName()});
        QVERIFY(verify.waitForFinished(30000));
        const QByteArray output = verify.readAllStandardOutput() + verify.readAllStandardError();
        // Only what it says about our unit counts: a container without systemd running adds its own notes.
        QByteArrayList aboutUs;
        for (const QByteArray &line : output.split('\n'))
            if (line.contains("hotdeskd.service"))
                aboutUs << line;
        QVERIFY2(verify.exitCode() == 0 && aboutUs.isEmpty(), output.constData());
    }
};

QTEST_GUILESS_MAIN(TestHotdeskd)
#include "tst_hotdeskd.moc"

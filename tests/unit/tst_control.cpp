// The agent's control socket: the protocol in-process, bad input, timeouts, and "hotdesk status|reauth" against it.
#include "core/control/controlclient.h"
#include "core/control/controlserver.h"
#include "waitfor.h"

#include <QFileInfo>
#include <QJsonDocument>
#include <QLocalSocket>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace hotdesk;
using namespace hotdesk::control;

namespace {

std::optional<Result<QJsonObject>> ask(const QString &name, const QString &command)
{
    QObject context;
    return test::waitFor<QJsonObject>(
        [&](std::function<void(Result<QJsonObject>)> done) { sendControlCommand(name, command, &context, done); });
}

// Writes raw bytes and collects what comes back until the server closes (or limitMs passes).
struct RawExchange {
    QByteArray received;
    bool closedByServer = false;
};

RawExchange exchange(const QString &name, const QByteArray &bytes, int limitMs = 10000)
{
    RawExchange out;
    QLocalSocket socket;
    socket.connectToServer(name);
    if (!socket.waitForConnected(5000))
        return out;
    QEventLoop loop;
    QObject::connect(&socket, &QLocalSocket::readyRead, &loop, [&] { out.received += socket.readAll(); });
    QObject::connect(&socket, &QLocalSocket::disconnected, &loop, [&] {
        out.received += socket.readAll();
        out.closedByServer = true;
        loop.quit();
    });
    QTimer::singleShot(limitMs, &loop, &QEventLoop::quit);
    socket.write(bytes);
    if (socket.state() == QLocalSocket::ConnectedState)
        loop.exec();
    return out;
}

QJsonObject firstLine(const QByteArray &bytes)
{
    return QJsonDocument::fromJson(bytes.left(bytes.indexOf('\n'))).object();
}

} // namespace

class TestControl : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    int m_n = 0;
    QString freshName() { return m_dir.filePath(QStringLiteral("ctl-%1").arg(++m_n)); }

private Q_SLOTS:
    void stateNames()
    {
        QCOMPARE(agentStateName(AgentState::Ok), QStringLiteral("ok"));
        QCOMPARE(agentStateName(AgentState::ReauthSoon), QStringLiteral("reauth_soon"));
        QCOMPARE(agentStateName(AgentState::Locked), QStringLiteral("locked"));
        QCOMPARE(agentStateName(AgentState::Offline), QStringLiteral("offline"));
        QCOMPARE(agentStateName(AgentState::Error), QStringLiteral("error"));
    }

    void defaultNameIsPerUserAndOverridable()
    {
        qputenv("HOTDESK_CONTROL_SOCKET", "/tmp/override");
        QCOMPARE(defaultServerName(), QStringLiteral("/tmp/override"));
        qunsetenv("HOTDESK_CONTROL_SOCKET");
        qputenv("XDG_RUNTIME_DIR", "/run/user/1234");
        QVERIFY(defaultServerName().startsWith(QLatin1String("/run/user/1234/hotdesk-")));
        qunsetenv("XDG_RUNTIME_DIR");
        QVERIFY(defaultServerName().startsWith(QLatin1String("hotdesk-")));
    }

    void statusAndReauth()
    {
        ControlServer server;
        const QString name = freshName();
        QVERIFY(server.listen(name));
        // Only this user may connect.
        QCOMPARE(QFileInfo(server.fullServerName()).permissions() & 0x0077, QFileDevice::Permissions());
        auto starting = ask(name, QStringLiteral("status"));
        QVERIFY(starting && *starting);
        QCOMPARE((*starting)->value(QLatin1String("state")).toString(), QStringLiteral("error"));

        server.setStatusProvider([] { return AgentStatus {AgentState::ReauthSoon, QStringLiteral("alice"), QStringLiteral("in 5 minutes")}; });
        auto status = ask(name, QStringLiteral("status"));
        QVERIFY(status && *status);
        QCOMPARE((*status)->value(QLatin1String("ok")).toBool(), true);
        QCOMPARE((*status)->value(QLatin1String("state")).toString(), QStringLiteral("reauth_soon"));
        QCOMPARE((*status)->value(QLatin1String("user")).toString(), QStringLiteral("alice"));
        QCOMPARE((*status)->value(QLatin1String("detail")).toString(), QStringLiteral("in 5 minutes"));

        QSignalSpy reauth(&server, &ControlServer::reauthRequested);
        auto answer = ask(name, QStringLiteral("reauth"));
        QVERIFY(answer && *answer);
        QCOMPARE(**answer, (QJsonObject {{QStringLiteral("ok"), true}}));
        QCOMPARE(reauth.count(), 1);

        auto unknown = ask(name, QStringLiteral("unlock"));
        QVERIFY(unknown && *unknown);
        QCOMPARE((*unknown)->value(QLatin1String("ok")).toBool(), false);
        QCOMPARE((*unknown)->value(QLatin1String("error")).toString(), QStringLiteral("unknown_command"));
        QCOMPARE(reauth.count(), 1);
    }

    void severalRequestsOnOneConnection()
    {
        ControlServer server;
        const QString name = freshName();
        QVERIFY(server.listen(name));
        server.setIdleTimeout(200); // so that the server closes and the exchange ends
        const auto out = exchange(name, "{\"command\":\"status\"}\n{\"command\":\"nope\"}\n");
        const QList<QByteArray> lines = out.received.split('\n');
        QCOMPARE(lines.size(), 3);
        QCOMPARE(QJsonDocument::fromJson(lines[0]).object().value(QLatin1String("ok")).toBool(), true);
        QCOMPARE(QJsonDocument::fromJson(lines[1]).object().value(QLatin1String("error")).toString(),
            QStringLiteral("unknown_command"));
    }

    void badInputIsAnsweredAndClosed_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("error");
        QTest::newRow("not json") << QByteArray("status\n") << QStringLiteral("malformed");
        QTest::newRow("array") << QByteArray("[\"status\"]\n") << QStringLiteral("malformed");
        QTest::newRow("no command") << QByteArray("{}\n") << QStringLiteral("malformed");
        QTest::newRow("number command") << QByteArray("{\"command\":1}\n") << QStringLiteral("malformed");
        QTest::newRow("duplicate member") << QByteArray("{\"command\":\"status\",\"command\":\"reauth\"}\n")
                                          << QStringLiteral("malformed");
        QTest::newRow("oversized, no newline") << QByteArray(5000, 'x') << QStringLiteral("too_large");
        QTest::newRow("oversized json line")
            << QByteArray("{\"command\":\"status\",\"pad\":\"" + QByteArray(5000, 'a') + "\"}\n") << QStringLiteral("too_large");
    }
    void badInputIsAnsweredAndClosed()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, error);
        ControlServer server;
        const QString name = freshName();
        QVERIFY(server.listen(name));
        QSignalSpy reauth(&server, &ControlServer::reauthRequested);
        // Closing must come from the bad input, not from the idle timeout.
        server.setIdleTimeout(60000);
        const auto out = exchange(name, bytes);
        QVERIFY(out.closedByServer);
        const QJsonObject answer = firstLine(out.received);
        QCOMPARE(answer.value(QLatin1String("ok")).toBool(true), false);
        QCOMPARE(answer.value(QLatin1String("error")).toString(), error);
        QCOMPARE(reauth.count(), 0);
        // The server still serves the next client.
        auto status = ask(name, QStringLiteral("status"));
        QVERIFY(status && *status);
    }

    void idleClientIsDisconnected()
    {
        ControlServer server;
        const QString name = freshName();
        QVERIFY(server.listen(name));
        server.setIdleTimeout(100);
        const auto out = exchange(name, QByteArray("{\"command\":")); // half a line, then silence
        QVERIFY(out.closedByServer);
        QVERIFY(out.received.isEmpty());
    }

    void noAgentIsUnreachable()
    {
        auto answer = ask(freshName(), QStringLiteral("status"));
        QVERIFY(answer);
        QVERIFY(!*answer);
        QCOMPARE(answer->error().code, ErrorCode::Unreachable);
        QVERIFY(answer->error().message.contains(QLatin1String("the Hotdesk agent is not running")));
    }

    void secondAgentIsRefusedAndStaleSocketReplaced()
    {
        const QString name = freshName();
        {
            ControlServer first;
            QVERIFY(first.listen(name));
            ControlServer second;
            const Status s = second.listen(name);
            QVERIFY(!s);
            QVERIFY(s.error().message.contains(QLatin1String("already running")));
        }
        // A socket file nobody listens on (as a killed agent leaves it) is taken over.
        const QByteArray path = QFile::encodeName(name);
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        QVERIFY(fd >= 0);
        sockaddr_un address {};
        address.sun_family = AF_UNIX;
        std::memcpy(address.sun_path, path.constData(), size_t(path.size()));
        QCOMPARE(::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address), 0);
        QCOMPARE(::listen(fd, 1), 0);
        ::close(fd);
        QVERIFY(QFile::exists(name));
        ControlServer again;
        QVERIFY(again.listen(name));
        auto status = ask(name, QStringLiteral("status"));
        QVERIFY(status && *status);
    }

    void commandLine_data()
    {
        QTest::addColumn<QString>("command");
        QTest::addColumn<bool>("agentRuns");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("stdoutHas");
        QTest::addColumn<QString>("stderrHas");
        QTest::addColumn<int>("reauths");
        QTest::newRow("status") << QStringLiteral("status") << true << 0
                                << QStringLiteral("state: locked\nuser: bob\ndetail: idle for 15 minutes\n") << QString() << 0;
        QTest::newRow("reauth") << QStringLiteral("reauth") << true << 0 << QStringLiteral("reauth: requested") << QString() << 1;
        QTest::newRow("status, no agent") << QStringLiteral("status") << false << 1 << QString()
                                          << QStringLiteral("rejected: unreachable\nhotdesk: the Hotdesk agent is not running") << 0;
        QTest::newRow("reauth, no agent") << QStringLiteral("reauth") << false << 1 << QString()
                                          << QStringLiteral("rejected: unreachable") << 0;
    }
    void commandLine()
    {
        QFETCH(QString, command);
        QFETCH(bool, agentRuns);
        QFETCH(int, exitCode);
        QFETCH(QString, stdoutHas);
        QFETCH(QString, stderrHas);
        QFETCH(int, reauths);
        ControlServer server;
        const QString name = freshName();
        if (agentRuns)
            QVERIFY(server.listen(name));
        server.setStatusProvider([] { return AgentStatus {AgentState::Locked, QStringLiteral("bob"), QStringLiteral("idle for 15 minutes")}; });
        QSignalSpy reauth(&server, &ControlServer::reauthRequested);

        QProcess process;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("HOTDESK_CONTROL_SOCKET"), name);
        process.setProcessEnvironment(env);
        process.start(QStringLiteral(HOTDESK_BINARY), {command});
        // The server answers from this event loop while the command waits.
        QTRY_VERIFY_WITH_TIMEOUT(process.state() == QProcess::NotRunning, 30000);
        const QString out = QString::fromUtf8(process.readAllStandardOutput());
        const QString err = QString::fromUtf8(process.readAllStandardError());
        QCOMPARE(process.exitStatus(), QProcess::NormalExit);
        QVERIFY2(process.exitCode() == exitCode, qPrintable(out + err));
        QVERIFY2(out.contains(stdoutHas), qPrintable(out));
        QVERIFY2(err.contains(stderrHas), qPrintable(err));
        QCOMPARE(reauth.count(), reauths);
    }
};

QTEST_GUILESS_MAIN(TestControl)
#include "tst_control.moc"

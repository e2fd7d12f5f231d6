// The agent group's daemon figures: hotdeskd idle (memory, wake-ups) and the OS lock after its agent is killed,
// against python3-dbusmock's logind on a private bus (tests/support/logindmock.h).
#include "bench.h"

#include "tests/support/logindmock.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QLocalSocket>
#include <QTemporaryDir>
#include <QThread>

#include <csignal>

namespace hotdesk::bench {
namespace {

using test::LogindMock;

constexpr int kBackstopRuns = 10;
const QString kSession = QStringLiteral("b1");

// hotdeskd with a temporary state directory, socket and policy, on the mock's bus.
bool startDaemon(Child &daemon, const QTemporaryDir &dir, const LogindMock &logind)
{
    QFile policy(dir.filePath(QStringLiteral("policy.json")));
    if (!policy.open(QIODevice::WriteOnly))
        return false;
    policy.write("{\"version\": 1, \"servers\": {\"das\": [\"https://das.corp.example\"], "
                 "\"idp_issuer\": \"https://idp.corp.example\", \"client_id\": \"hotdesk-agent\"}, "
                 "\"triggers\": {\"on_unlock\": true}}");
    policy.close();
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS"), logind.address());
    env.remove(QStringLiteral("NOTIFY_SOCKET"));
    // Its audit log in the temporary directory, not the machine's /var/log/hotdesk.
    if (!QDir(dir.path()).mkpath(QStringLiteral("logs")))
        return false;
    env.insert(QStringLiteral("LOGS_DIRECTORY"), dir.filePath(QStringLiteral("logs")));
    daemon->setProcessEnvironment(env);
    daemon->setProcessChannelMode(QProcess::SeparateChannels);
    daemon->start(QStringLiteral(HOTDESK_BENCH_HOTDESKD_BINARY),
        {QStringLiteral("--socket"), dir.filePath(QStringLiteral("hotdeskd.sock")), QStringLiteral("--state-dir"),
            dir.filePath(QStringLiteral("state")), QStringLiteral("--policy"), policy.fileName()});
    return daemon->waitForStarted(10000) && LogindMock::waitFor([&dir] {
        QLocalSocket probe;
        probe.connectToServer(dir.filePath(QStringLiteral("hotdeskd.sock")));
        return probe.waitForConnected(100);
    }, 20000);
}

// An agent (tests/daemon/agentclient.py) attached to the session, heartbeating every 3 s as the tray agent does
// at the daemon's default --agent-timeout (9 s; the attach reply's heartbeat_ms).
bool startAgent(Child &agent, const QTemporaryDir &dir, const QStringList &requests = {})
{
    agent->setProcessChannelMode(QProcess::SeparateChannels);
    agent->start(QStringLiteral("/usr/bin/python3"),
        QStringList {QStringLiteral("-u"), QStringLiteral(HOTDESK_BENCH_AGENT_CLIENT),
            dir.filePath(QStringLiteral("hotdeskd.sock")), kSession, QStringLiteral("--heartbeat-ms=3000")}
            + requests);
    return agent->waitForStarted(10000);
}

bool agentSaw(Child &agent, const QByteArray &text)
{
    return LogindMock::waitFor([&agent, &text] {
        agent->waitForReadyRead(10);
        return agent->peek(1 << 16).contains(text);
    }, 10000);
}

} // namespace

Status runDaemonFigures(Metrics &metrics, int idleSeconds)
{
    if (!LogindMock::installed())
        return fail(ErrorCode::Io, QStringLiteral("python3-dbusmock is missing (apt-get install python3-dbusmock)"));
    std::printf("\ndaemon: hotdeskd (%s) with python3-dbusmock's logind, one X11 session, one attached agent\n",
        HOTDESK_BENCH_HOTDESKD_BINARY);
    LogindMock logind;
    QString why;
    QTemporaryDir dir;
    if (!dir.isValid() || !logind.start(&why) || !logind.addSession(kSession, QStringLiteral("x11"), 0, QStringLiteral("root")))
        return fail(ErrorCode::Io, QStringLiteral("the private logind did not start: ") + why);
    Child daemon;
    if (!startDaemon(daemon, dir, logind))
        return fail(ErrorCode::Io, QStringLiteral("hotdeskd did not start: ") + QString::fromLocal8Bit(daemon->readAllStandardError()));
    const qint64 pid = daemon->processId();

    // Idle: an agent attached, no lock; memory at the end, wake-ups over the second half.
    Child idleAgent;
    if (!startAgent(idleAgent, dir))
        return fail(ErrorCode::Io, QStringLiteral("the agent client did not start"));
    std::printf("  idle: waiting %d s\n", idleSeconds);
    std::fflush(stdout);
    LogindMock::waitFor([] { return false; }, idleSeconds * 500);
    const auto before = contextSwitches(pid);
    QElapsedTimer window;
    window.start();
    LogindMock::waitFor([] { return false; }, idleSeconds * 500);
    const auto after = contextSwitches(pid);
    const auto resident = residentMegabytes(pid);
    if (!before || !after || !resident)
        return fail(ErrorCode::Io, QStringLiteral("hotdeskd's /proc entries could not be read"));
    const double idleWakeups = double(*after - *before) / (double(window.nsecsElapsed()) / 1e9);
    const double idleRss = *resident;
    idleAgent.stop();

    // Backstop: the session locked through its agent; kill -9 of the agent until logind's Lock arrives.
    std::vector<double> backstops;
    for (int i = 0; i <= kBackstopRuns; ++i) {
        Child agent;
        if (!startAgent(agent, dir, i == 0 ? QStringList {QStringLiteral("{\"v\":1,\"command\":\"reauth\"}")} : QStringList {})
            || !agentSaw(agent, "\"event\":\"lock\""))
            return fail(ErrorCode::Timeout, QStringLiteral("the agent was not sent the lock"));
        const int locks = logind.locks(kSession);
        const qint64 killedAt = logind.nowNs();
        ::kill(pid_t(agent->processId()), SIGKILL);
        if (!LogindMock::waitFor([&] { return logind.locks(kSession) > locks; }, 20000))
            return fail(ErrorCode::Timeout, QStringLiteral("no Session.Lock within 20 s of the agent's kill"));
        if (i > 0) // the first run warms up
            backstops.push_back(double(logind.lastLockNs(kSession) - killedAt) / 1e6);
    }

    metrics.insert(QStringLiteral("daemon.idle_rss_mb"), idleRss);
    metrics.insert(QStringLiteral("daemon.idle_wakeups_per_s"), idleWakeups);
    metrics.insert(QStringLiteral("daemon.backstop_lock_ms"), median(backstops));
    std::printf("%-26s %10.1f %10s   VmRSS after %d s with one session and its agent\n", "daemon.idle_rss_mb", idleRss, "< 25",
        idleSeconds);
    std::printf("%-26s %10.2f %10s   context switches of all threads over the last %.0f s (agent heartbeat every 3 s)\n",
        "daemon.idle_wakeups_per_s", idleWakeups, "< 1", double(window.nsecsElapsed()) / 1e9);
    std::printf("%-26s %10.1f %10s   median of %d, kill -9 of the attached agent to logind's Lock received\n",
        "daemon.backstop_lock_ms", median(backstops), "< 2000", kBackstopRuns);
    return {};
}

} // namespace hotdesk::bench

// The "agent" group: the tray agent as a process — start to ready, memory and wake-ups while idle, trigger to lock visible.
#include "bench.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocalSocket>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>

#include <cstdio>

namespace hotdesk::bench {
namespace {

const QString kHotdesk = QStringLiteral(HOTDESK_BENCH_HOTDESK_BINARY);
constexpr int kStartRuns = 7;
constexpr int kLockRuns = 7;

// The agent in a private state directory with its own control socket. No
// trigger fires by itself, and Sign in waits for a click, so nothing but the
// bench's requests makes it work; the servers are never contacted.
struct AgentRun {
    QTemporaryDir dir;
    Child process; // ended with the run
    QByteArray err;

    QString socket() const { return dir.filePath(QStringLiteral("control")); }

    bool start()
    {
        const QString policy = dir.filePath(QStringLiteral("policy.json"));
        QFile file(policy);
        const QJsonObject servers {{QStringLiteral("das"), QJsonArray {QStringLiteral("https://127.0.0.1:9")}},
            {QStringLiteral("idp_issuer"), QStringLiteral("https://127.0.0.1:9")},
            {QStringLiteral("client_id"), QStringLiteral("hotdesk-agent")}};
        if (!file.open(QIODevice::WriteOnly)
            || file.write(QJsonDocument(QJsonObject {{QStringLiteral("version"), 1}, {QStringLiteral("servers"), servers}}).toJson()) <= 0)
            return false;
        file.close();
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("HOTDESK_STATE_DIR"), dir.filePath(QStringLiteral("state")));
        env.insert(QStringLiteral("HOTDESK_AUDIT_LOG"), dir.filePath(QStringLiteral("audit.log")));
        env.insert(QStringLiteral("HOTDESK_CONTROL_SOCKET"), socket());
        // The agent's report lines are matched in English.
        env.insert(QStringLiteral("LANGUAGE"), QString());
        env.insert(QStringLiteral("LC_ALL"), QStringLiteral("C.UTF-8"));
        env.insert(QStringLiteral("QT_LOGGING_RULES"), QStringLiteral("hotdesk.audit=false"));
        process->setProcessEnvironment(env);
        process->start(kHotdesk, {QStringLiteral("--policy"), policy, QStringLiteral("--user"), QStringLiteral("bench"),
                                    QStringLiteral("--no-auto-sign-in")});
        return process->waitForStarted(10000);
    }

    // Whether the control socket answers a status request.
    bool answers() const
    {
        QLocalSocket s;
        s.connectToServer(socket());
        if (!s.waitForConnected(50))
            return false;
        s.write("{\"command\":\"status\"}\n");
        if (!s.waitForBytesWritten(1000))
            return false;
        QDeadlineTimer deadline(2000);
        QByteArray answer;
        while (!answer.contains('\n') && !deadline.hasExpired() && s.waitForReadyRead(int(deadline.remainingTime())))
            answer += s.readAll();
        return answer.contains("\"ok\":true");
    }

    bool send(const QByteArray &command) const
    {
        QLocalSocket s;
        s.connectToServer(socket());
        if (!s.waitForConnected(2000))
            return false;
        s.write("{\"command\":\"" + command + "\"}\n");
        return s.waitForBytesWritten(1000);
    }

    // Waits for a line of the agent's stderr containing text; false after timeoutMs.
    bool waitForLine(const QByteArray &text, int timeoutMs)
    {
        QDeadlineTimer deadline(timeoutMs);
        while (!err.contains(text)) {
            if (deadline.hasExpired() || process->state() == QProcess::NotRunning)
                return false;
            process->waitForReadyRead(5);
            err += process->readAllStandardError();
        }
        return true;
    }

};

bool webEngineLoaded(qint64 pid)
{
    QFile maps(QStringLiteral("/proc/%1/maps").arg(pid));
    return maps.open(QIODevice::ReadOnly) && maps.readAll().contains("libQt6WebEngineCore");
}

} // namespace

// Every thread's voluntary and involuntary context switches: each one is the
// process waking up (or being woken) once.
std::optional<qint64> contextSwitches(qint64 pid)
{
    const QDir tasks(QStringLiteral("/proc/%1/task").arg(pid));
    if (!tasks.exists())
        return std::nullopt;
    qint64 total = 0;
    for (const QString &task : tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile status(tasks.filePath(task + QStringLiteral("/status")));
        if (!status.open(QIODevice::ReadOnly))
            continue; // a thread that ended meanwhile
        for (const QByteArray &line : status.readAll().split('\n')) {
            if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:"))
                total += line.mid(line.indexOf(':') + 1).trimmed().toLongLong();
        }
    }
    return total;
}

std::optional<double> residentMegabytes(qint64 pid)
{
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (!status.open(QIODevice::ReadOnly))
        return std::nullopt;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toDouble() / 1024.0;
    }
    return std::nullopt;
}

Status runAgentGroup(const TimingPlan &, Metrics &metrics)
{
    std::printf("\nagent: the tray agent process (%s) on this display, no servers contacted\n", qPrintable(kHotdesk));

    // Start to ready: process start until the control socket answers, which
    // the agent opens last, after the policy, the state, the tray and the watchers.
    std::vector<double> starts;
    for (int i = 0; i <= kStartRuns; ++i) {
        AgentRun run;
        QElapsedTimer clock;
        clock.start();
        if (!run.start())
            return fail(ErrorCode::Io, QStringLiteral("the agent did not start"));
        while (!run.answers()) {
            if (clock.elapsed() > 20000 || run.process->state() == QProcess::NotRunning)
                return fail(ErrorCode::Timeout,
                    QStringLiteral("the agent did not answer on its control socket: %1")
                        .arg(QString::fromUtf8(run.process->readAllStandardError().right(1500))));
            QThread::msleep(1);
        }
        if (i > 0) // the first run warms the file cache
            starts.push_back(double(clock.nsecsElapsed()) / 1e6);
    }

    // Idle: one agent left alone; memory at the end, wake-ups over the second half.
    const int idleSeconds = qEnvironmentVariableIsSet("HOTDESK_BENCH_IDLE_S") ? qEnvironmentVariableIntValue("HOTDESK_BENCH_IDLE_S") : 60;
    AgentRun idle;
    if (!idle.start())
        return fail(ErrorCode::Io, QStringLiteral("the agent did not start"));
    QElapsedTimer since;
    since.start();
    while (!idle.answers() && since.elapsed() < 20000)
        QThread::msleep(5);
    const qint64 pid = idle.process->processId();
    std::printf("  idle: waiting %d s\n", idleSeconds);
    std::fflush(stdout);
    QThread::msleep(quint64(idleSeconds) * 500);
    const auto before = contextSwitches(pid);
    QElapsedTimer window;
    window.start();
    QThread::msleep(quint64(idleSeconds) * 500);
    const auto after = contextSwitches(pid);
    const double windowSeconds = double(window.nsecsElapsed()) / 1e9;
    const auto rss = residentMegabytes(pid);
    const bool webEngine = webEngineLoaded(pid);
    if (!before || !after || !rss)
        return fail(ErrorCode::Io, QStringLiteral("the idle agent's /proc entries could not be read"));
    const double wakeups = double(*after - *before) / windowSeconds;

    // Trigger to lock visible: "hotdesk reauth" over the socket until the agent
    // reports that the window system exposed the lock window; then the lock is
    // lifted by a new agent (nothing but a valid ID token could lift it).
    std::vector<double> locks;
    for (int i = 0; i <= kLockRuns; ++i) {
        AgentRun run;
        if (!run.start())
            return fail(ErrorCode::Io, QStringLiteral("the agent did not start"));
        QElapsedTimer ready;
        ready.start();
        while (!run.answers() && ready.elapsed() < 20000)
            QThread::msleep(5);
        run.err += run.process->readAllStandardError();
        QElapsedTimer clock;
        clock.start();
        if (!run.send("reauth"))
            return fail(ErrorCode::Io, QStringLiteral("the reauth request could not be sent"));
        if (!run.waitForLine("lock screen visible", 20000))
            return fail(ErrorCode::Timeout,
                QStringLiteral("no lock screen within 20 s: %1").arg(QString::fromUtf8(run.err.right(1500))));
        if (i > 0)
            locks.push_back(double(clock.nsecsElapsed()) / 1e6);
    }

    metrics.insert(QStringLiteral("agent.start_ms"), median(starts));
    metrics.insert(QStringLiteral("agent.idle_rss_mb"), *rss);
    metrics.insert(QStringLiteral("agent.idle_wakeups_per_s"), wakeups);
    metrics.insert(QStringLiteral("agent.lock_ms"), median(locks));

    std::printf("\n%-26s %10s %10s\n", "metric", "value", "target");
    std::printf("%-26s %10.1f %10s   median of %d starts\n", "agent.start_ms", median(starts), "< 400", kStartRuns);
    std::printf("%-26s %10.1f %10s   VmRSS after %d s idle; WebEngine %s\n", "agent.idle_rss_mb", *rss, "< 60", idleSeconds,
        webEngine ? "LOADED" : "not loaded");
    std::printf("%-26s %10.2f %10s   context switches of all threads over the last %.0f s\n", "agent.idle_wakeups_per_s",
        wakeups, "< 2", windowSeconds);
    std::printf("%-26s %10.1f %10s   median of %d, 'hotdesk reauth' request to the lock window exposed\n", "agent.lock_ms",
        median(locks), "< 150", kLockRuns);
    // The agent's enforcement is hotdeskd's: its figures belong to this group (issue 13).
    return runDaemonFigures(metrics, idleSeconds);
}

} // namespace hotdesk::bench

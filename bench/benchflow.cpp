// The "flow" group: time from the start of a sign-in to a validated ID token, against the companion servers on loopback with a phone that approves at once.
#include "bench.h"

#include "tests/support/flowfollower.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace hotdesk::bench {
namespace {

// Measured runs; one more of each comes first, unmeasured (see runFlowGroup).
constexpr int kPrintRuns = 21;
constexpr int kEmbeddedRuns = 11;
// The bench browser looks at the IdP's waiting page again this soon: the
// phone answers at once, so any longer wait would be the browser's, not Hotdesk's.
constexpr int kBrowserPollMs = 10;
const QString kUser = QStringLiteral("alice");

const QString kHotdesk = QStringLiteral(HOTDESK_BENCH_HOTDESK_BINARY);
const QString kStubs = QStringLiteral(HOTDESK_BENCH_STUBS_BINARY);
const QString kFlowBench = QStringLiteral(HOTDESK_BENCH_FLOWBENCH_BINARY); // empty without WebEngine

// The tail of a child's output, for an error message.
QString tailOf(const QByteArray &text)
{
    return QString::fromUtf8(text.right(1500)).trimmed();
}

// A child process that is always ended: whatever way the group returns.
class Child {
public:
    Child() = default;
    Child(const Child &) = delete;
    Child &operator=(const Child &) = delete;
    ~Child() { stop(); }
    QProcess &operator*() { return m_process; }
    QProcess *operator->() { return &m_process; }
    void stop()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.terminate();
        if (!m_process.waitForFinished(10000)) {
            m_process.kill();
            m_process.waitForFinished(10000);
        }
    }

private:
    QProcess m_process;
};

struct Stats {
    double min = 0;
    double median = 0;
    double p90 = 0;
    double max = 0;
};

Stats statsOf(std::vector<double> values)
{
    Stats s;
    if (values.empty())
        return s;
    std::sort(values.begin(), values.end());
    s.min = values.front();
    s.max = values.back();
    s.median = median(values);
    // Nearest rank: the smallest value at or above 90 % of the runs.
    s.p90 = values[std::size_t(std::ceil(0.9 * double(values.size()))) - 1];
    return s;
}

double rounded(double ms)
{
    return std::round(ms * 10) / 10;
}

class FlowBench {
public:
    Status setUp();
    // Wall time of one "hotdesk login --browser print", exit 0 with the claims.
    Result<double> printRun();
    // One hotdesk-flowbench process: its flows' timings.
    Result<QJsonArray> embeddedRun(int flows);

private:
    QProcessEnvironment agentEnvironment() const;

    QTemporaryDir m_dir;
    QString m_data;
    QString m_state;
    QString m_ca;
    QString m_policy;
    Child m_stubs;
};

QProcessEnvironment FlowBench::agentEnvironment() const
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("HOTDESK_STATE_DIR"), m_state);
    return env;
}

Status FlowBench::setUp()
{
    for (const QString &binary : {kHotdesk, kStubs}) {
        if (!QFileInfo(binary).isExecutable())
            return fail(ErrorCode::Io,
                QStringLiteral("%1 is not built; run ./dev bench flow, which builds it").arg(binary));
    }
    if (!m_dir.isValid())
        return fail(ErrorCode::Io, QStringLiteral("cannot make a temporary directory; check TMPDIR"));
    m_data = m_dir.filePath(QStringLiteral("data"));
    m_state = m_dir.filePath(QStringLiteral("state"));
    if (!QDir().mkpath(m_data) || !QDir().mkpath(m_state))
        return fail(ErrorCode::Io, QStringLiteral("cannot make directories in %1").arg(m_dir.path()));
    m_ca = QDir(m_data).filePath(QStringLiteral("ca.pem"));
    m_policy = QDir(m_data).filePath(QStringLiteral("agent-policy.json"));

    // Any free ports; a phone that approves as soon as the challenge exists.
    m_stubs->setStandardErrorFile(m_dir.filePath(QStringLiteral("stubs.log")));
    m_stubs->start(kStubs, {QStringLiteral("all"), QStringLiteral("--data"), m_data, QStringLiteral("--auto-approve=0")});
    if (!m_stubs->waitForStarted(10000))
        return fail(ErrorCode::Unreachable, QStringLiteral("cannot start %1: %2").arg(kStubs, m_stubs->errorString()));
    QByteArray summary;
    QDeadlineTimer ready(30000);
    while (!summary.contains("\nca ") && m_stubs->state() == QProcess::Running && !ready.hasExpired()) {
        m_stubs->waitForReadyRead(200);
        summary += m_stubs->readAllStandardOutput();
    }
    if (!summary.contains("\nca ") || !QFile::exists(m_policy)) {
        QFile log(m_dir.filePath(QStringLiteral("stubs.log")));
        log.open(QIODevice::ReadOnly);
        return fail(ErrorCode::Unreachable, QStringLiteral("the companion servers did not start: %1").arg(tailOf(log.readAll())));
    }

    QProcess admin;
    admin.start(kStubs, {QStringLiteral("admin"), QStringLiteral("create-token"), QStringLiteral("--role"), QStringLiteral("admin"),
                            QStringLiteral("--data"), m_data});
    if (!admin.waitForFinished(30000) || admin.exitCode() != 0)
        return fail(ErrorCode::ServerError,
            QStringLiteral("hotdesk-stubs admin create-token failed: %1").arg(tailOf(admin.readAllStandardError())));
    const QByteArray token = admin.readAllStandardOutput().trimmed().split('\n').last();

    // Enrolled under the same display as the flows, so the DAS recognizes the PC.
    QProcess enroll;
    enroll.setProcessEnvironment(agentEnvironment());
    enroll.start(kHotdesk, {QStringLiteral("enroll"), QStringLiteral("--policy"), m_policy, QStringLiteral("--admin-token"),
                               QString::fromLatin1(token)});
    if (!enroll.waitForFinished(60000) || enroll.exitCode() != 0)
        return fail(ErrorCode::ServerError,
            QStringLiteral("hotdesk enroll failed (is a Secret Service running? ./dev bench flow starts one): %1")
                .arg(tailOf(enroll.readAllStandardError())));
    return {};
}

Result<double> FlowBench::printRun()
{
    Child agent;
    agent->setProcessEnvironment(agentEnvironment());
    QElapsedTimer clock;
    clock.start();
    agent->start(kHotdesk, {QStringLiteral("login"), QStringLiteral("--user"), kUser, QStringLiteral("--browser"),
                               QStringLiteral("print"), QStringLiteral("--policy"), m_policy, QStringLiteral("--no-approval")});
    // The bench browser opens the URL the moment its line is complete.
    QByteArray out;
    QDeadlineTimer deadline(60000);
    while (!out.contains('\n') && agent->state() != QProcess::NotRunning && !deadline.hasExpired()) {
        agent->waitForReadyRead(100);
        out += agent->readAllStandardOutput();
    }
    test::FollowResult followed;
    if (out.startsWith("open: ")) {
        test::FlowFollower browser(m_ca);
        browser.setRefreshDelayMs(kBrowserPollMs);
        followed = browser.follow(QUrl::fromEncoded(out.mid(6, out.indexOf('\n') - 6)), QStringLiteral("http://127.0.0.1:"));
    }
    const bool finished = agent->waitForFinished(60000);
    const double ms = double(clock.nsecsElapsed()) / 1e6;
    out += agent->readAllStandardOutput();
    const QByteArray err = agent->readAllStandardError();
    if (!finished || agent->exitStatus() != QProcess::NormalExit || agent->exitCode() != 0)
        return fail(ErrorCode::ServerError,
            QStringLiteral("hotdesk login --browser print did not succeed%1: %2")
                .arg(followed.error.isEmpty() ? QString() : QStringLiteral(" (the bench browser %1)").arg(followed.error),
                    tailOf(err)));
    const QJsonObject claims = QJsonDocument::fromJson(out.mid(out.indexOf('\n') + 1)).object();
    if (claims.value(QLatin1String("sub")).toString().isEmpty())
        return fail(ErrorCode::Malformed, QStringLiteral("hotdesk login exited 0 without the validated claims: %1").arg(tailOf(out)));
    return ms;
}

Result<QJsonArray> FlowBench::embeddedRun(int flows)
{
    Child bench;
    QProcessEnvironment env = agentEnvironment();
    // The display of ./dev bench's Xvfb, whatever platform the caller's environment names.
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("xcb"));
    bench->setProcessEnvironment(env);
    bench->start(kFlowBench, {QStringLiteral("--policy"), m_policy, QStringLiteral("--user"), kUser, QStringLiteral("--flows"),
                                 QString::number(flows)});
    const bool finished = bench->waitForFinished(120000);
    const QByteArray out = bench->readAllStandardOutput();
    const QByteArray err = bench->readAllStandardError();
    if (!finished || bench->exitStatus() != QProcess::NormalExit || bench->exitCode() != 0)
        return fail(ErrorCode::ServerError, QStringLiteral("hotdesk-flowbench did not succeed: %1").arg(tailOf(err)));
    // Its last line is the JSON; WebEngine may have written before it.
    const QJsonArray timings = QJsonDocument::fromJson(out.trimmed().split('\n').last()).object().value(QLatin1String("flows")).toArray();
    if (timings.size() != flows)
        return fail(ErrorCode::Malformed, QStringLiteral("hotdesk-flowbench printed no timings: %1").arg(tailOf(out)));
    return timings;
}

void printRow(const char *name, const std::vector<double> &values)
{
    const Stats s = statsOf(values);
    std::printf("%-22s %4zu %9.1f %9.1f %9.1f %9.1f\n", name, values.size(), s.min, s.median, s.p90, s.max);
}

// Median time of each step over the runs, in the flow's order.
void printSteps(const char *name, const std::vector<QJsonObject> &steps)
{
    static const char *const kOrder[] = {"discovery", "registration", "request_object", "device_approval", "browser",
        "code_exchange", "validation"};
    std::printf("  %s:", name);
    for (const char *step : kOrder) {
        std::vector<double> values;
        for (const QJsonObject &s : steps) {
            if (s.contains(QLatin1String(step)))
                values.push_back(s.value(QLatin1String(step)).toDouble());
        }
        if (!values.empty())
            std::printf(" %s %.1f", step, median(values));
    }
    std::printf("\n");
}

} // namespace

Status runFlowGroup(const TimingPlan &, Metrics &metrics)
{
    FlowBench bench;
    std::printf("\nflow: companion servers on loopback, a phone that approves at once, user %s\n", qPrintable(kUser));
    std::fflush(stdout);
    if (auto ready = bench.setUp(); !ready)
        return ready;

    // The first sign-in of a user on a PC also registers the user (flow 2) and
    // warms the servers' caches: run one unmeasured, so every measured run is
    // the everyday re-authentication.
    if (auto warm = bench.printRun(); !warm)
        return tl::unexpected(warm.error());
    std::vector<double> print;
    for (int i = 0; i < kPrintRuns; ++i) {
        auto ms = bench.printRun();
        if (!ms)
            return tl::unexpected(ms.error());
        print.push_back(*ms);
    }
    std::printf("  print: %d runs done\n", kPrintRuns);
    std::fflush(stdout);

    std::vector<double> cold;
    std::vector<double> warm;
    std::vector<QJsonObject> coldSteps;
    std::vector<QJsonObject> warmSteps;
    const bool embedded = !kFlowBench.isEmpty();
    if (embedded) {
        if (!QFileInfo(kFlowBench).isExecutable())
            return fail(ErrorCode::Io, QStringLiteral("%1 is not built; run ./dev bench flow, which builds it").arg(kFlowBench));
        if (qEnvironmentVariableIsEmpty("DISPLAY"))
            return fail(ErrorCode::Unsupported,
                QStringLiteral("the embedded browser needs an X display; run ./dev bench flow, which starts Xvfb"));
        // Unmeasured too: the first WebEngine start on a machine fills the disk cache of its libraries.
        if (auto first = bench.embeddedRun(1); !first)
            return tl::unexpected(first.error());
        for (int i = 0; i < kEmbeddedRuns; ++i) {
            auto flows = bench.embeddedRun(2);
            if (!flows)
                return tl::unexpected(flows.error());
            const QJsonObject first = flows->at(0).toObject();
            const QJsonObject second = flows->at(1).toObject();
            cold.push_back(first.value(QLatin1String("total_ms")).toDouble());
            warm.push_back(second.value(QLatin1String("total_ms")).toDouble());
            coldSteps.push_back(first.value(QLatin1String("steps_ms")).toObject());
            warmSteps.push_back(second.value(QLatin1String("steps_ms")).toObject());
        }
        std::printf("  embedded: %d processes of 2 flows done\n", kEmbeddedRuns);
    } else {
        std::printf("  embedded: not measured, this build has no Qt WebEngine\n");
    }

    std::printf("\nflow: start of a sign-in to a validated ID token, ms\n\n");
    std::printf("%-22s %4s %9s %9s %9s %9s\n", "case", "runs", "min", "median", "p90", "max");
    printRow("print (process)", print);
    if (embedded) {
        printRow("embedded, 1st in proc", cold);
        printRow("embedded, 2nd in proc", warm);
        std::printf("\nMedian ms per step, start() to succeeded():\n");
        printSteps("embedded 1st", coldSteps);
        printSteps("embedded 2nd", warmSteps);
    }
    std::printf("\nprint: from starting 'hotdesk login --browser print' to its exit 0 with the claims; the bench\n"
                "browser follows the printed URL at once and looks again every %d ms while the IdP waits.\n"
                "embedded: hotdesk-flowbench runs two flows in one process from ReauthFlow::start() to\n"
                "succeeded(); the IdP page's own script decides when it looks at the phone's answer.\n",
        kBrowserPollMs);

    metrics.insert(QStringLiteral("flow.print.ms"), rounded(median(print)));
    if (embedded) {
        metrics.insert(QStringLiteral("flow.embedded.cold_ms"), rounded(median(cold)));
        metrics.insert(QStringLiteral("flow.embedded.warm_ms"), rounded(median(warm)));
    }
    return {};
}

} // namespace hotdesk::bench

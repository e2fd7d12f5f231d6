// The "flow" group: time from the start of a sign-in to a validated ID token, against the companion servers on loopback with a phone that approves at once.
#include "bench.h"

#include "tests/support/flowfollower.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTimer>

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

// One "hotdesk login --browser print", ms from starting the process: its
// first progress line (the policy, TLS trust and device key are loaded), its
// "open:" line, the bench browser's loopback redirect answered, exit 0.
struct PrintTiming {
    double progress = 0;
    double open = 0;
    double redirected = 0;
    double total = 0;
};

class FlowBench {
public:
    Status setUp();
    // withDisplay: the agent sees the session's X display, as in a desktop
    // terminal (it then opens a GUI application to list the screens for the
    // device fingerprint); otherwise none, as over SSH.
    Result<PrintTiming> printRun(bool withDisplay);
    // One hotdesk-flowbench process: its flows' timings.
    Result<QJsonArray> embeddedRun(int flows);
    // "hotdesk --version": what starting the agent's executable costs by itself.
    Result<double> versionRun();

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

Result<PrintTiming> FlowBench::printRun(bool withDisplay)
{
    Child agent;
    QProcessEnvironment env = agentEnvironment();
    if (!withDisplay) {
        for (const char *name : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"})
            env.remove(QLatin1String(name));
    }
    agent->setProcessEnvironment(env);
    PrintTiming timing;
    QElapsedTimer clock;
    clock.start();
    agent->start(kHotdesk, {QStringLiteral("login"), QStringLiteral("--user"), kUser, QStringLiteral("--browser"),
                               QStringLiteral("print"), QStringLiteral("--policy"), m_policy, QStringLiteral("--recognition"), QStringLiteral("none")});
    // The bench browser opens the URL the moment its line is complete.
    QByteArray out;
    QByteArray err;
    {
        QEventLoop loop;
        QObject::connect(&*agent, &QProcess::readyReadStandardError, &loop, [&] {
            err += agent->readAllStandardError();
            if (timing.progress == 0 && (err.startsWith("hotdesk: ") || err.contains("\nhotdesk: ")))
                timing.progress = double(clock.nsecsElapsed()) / 1e6;
        });
        QObject::connect(&*agent, &QProcess::readyReadStandardOutput, &loop, [&] {
            out += agent->readAllStandardOutput();
            if (out.contains('\n'))
                loop.quit();
        });
        QObject::connect(&*agent, &QProcess::finished, &loop, &QEventLoop::quit);
        QTimer::singleShot(60000, &loop, &QEventLoop::quit);
        loop.exec();
    }
    timing.open = double(clock.nsecsElapsed()) / 1e6;
    test::FollowResult followed;
    if (out.startsWith("open: ")) {
        test::FlowFollower browser(m_ca);
        browser.setRefreshDelayMs(kBrowserPollMs);
        followed = browser.follow(QUrl::fromEncoded(out.mid(6, out.indexOf('\n') - 6)), QStringLiteral("http://127.0.0.1:"));
    }
    timing.redirected = double(clock.nsecsElapsed()) / 1e6;
    const bool finished = agent->waitForFinished(60000);
    timing.total = double(clock.nsecsElapsed()) / 1e6;
    out += agent->readAllStandardOutput();
    err += agent->readAllStandardError();
    if (!finished || agent->exitStatus() != QProcess::NormalExit || agent->exitCode() != 0)
        return fail(ErrorCode::ServerError,
            QStringLiteral("hotdesk login --browser print did not succeed%1: %2")
                .arg(followed.error.isEmpty() ? QString() : QStringLiteral(" (the bench browser %1)").arg(followed.error),
                    tailOf(err)));
    const QJsonObject claims = QJsonDocument::fromJson(out.mid(out.indexOf('\n') + 1)).object();
    if (claims.value(QLatin1String("sub")).toString().isEmpty())
        return fail(ErrorCode::Malformed, QStringLiteral("hotdesk login exited 0 without the validated claims: %1").arg(tailOf(out)));
    return timing;
}

Result<double> FlowBench::versionRun()
{
    Child agent;
    QElapsedTimer clock;
    clock.start();
    agent->start(kHotdesk, {QStringLiteral("--version")});
    if (!agent->waitForFinished(30000) || agent->exitCode() != 0)
        return fail(ErrorCode::ServerError, QStringLiteral("hotdesk --version did not succeed"));
    return double(clock.nsecsElapsed()) / 1e6;
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
    std::printf("  %s, steps from start():", name);
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
    if (auto warm = bench.printRun(false); !warm)
        return tl::unexpected(warm.error());
    // Without and with a display, alternating, so a busy moment of the machine
    // falls on both.
    std::vector<PrintTiming> print[2];
    std::vector<double> version;
    for (int i = 0; i < kPrintRuns; ++i) {
        auto start = bench.versionRun();
        if (!start)
            return tl::unexpected(start.error());
        version.push_back(*start);
        for (const bool withDisplay : {false, true}) {
            if (withDisplay && qEnvironmentVariableIsEmpty("DISPLAY"))
                continue;
            auto timing = bench.printRun(withDisplay);
            if (!timing)
                return tl::unexpected(timing.error());
            print[withDisplay].push_back(*timing);
        }
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
    const auto totals = [](const std::vector<PrintTiming> &runs) {
        std::vector<double> values;
        for (const PrintTiming &t : runs)
            values.push_back(t.total);
        return values;
    };
    printRow("print, no display", totals(print[0]));
    if (!print[1].empty())
        printRow("print, X display", totals(print[1]));
    if (embedded) {
        printRow("embedded, 1st in proc", cold);
        printRow("embedded, 2nd in proc", warm);
    }
    printRow("hotdesk --version", version);
    std::printf("\nMedian ms per phase:\n");
    for (const bool withDisplay : {false, true}) {
        std::vector<double> start, servers, browser, rest;
        for (const PrintTiming &t : print[withDisplay]) {
            start.push_back(t.progress);
            servers.push_back(t.open - t.progress);
            browser.push_back(t.redirected - t.open);
            rest.push_back(t.total - t.redirected);
        }
        if (!start.empty())
            std::printf("  print, %s: process start, policy and device key %.1f, discovery and request object %.1f,\n"
                        "    bench browser to the redirect %.1f, code exchange, validation and exit %.1f\n",
                withDisplay ? "X display" : "no display", median(start), median(servers), median(browser), median(rest));
    }
    if (embedded) {
        printSteps("embedded 1st", coldSteps);
        printSteps("embedded 2nd", warmSteps);
    }
    std::printf("\nprint: from starting 'hotdesk login --browser print' to its exit 0 with the claims; the bench\n"
                "browser follows the printed URL at once and looks again every %d ms while the IdP waits.\n"
                "No display is the SSH session print mode is for (flow.print.ms); with the X display the agent\n"
                "also opens a GUI application to list the screens for the device fingerprint (flow.print.display_ms).\n"
                "embedded: hotdesk-flowbench runs two flows in one process from ReauthFlow::start() to\n"
                "succeeded(); the IdP page's own script decides when it looks at the phone's answer.\n",
        kBrowserPollMs);

    metrics.insert(QStringLiteral("flow.print.ms"), rounded(median(totals(print[0]))));
    if (!print[1].empty())
        metrics.insert(QStringLiteral("flow.print.display_ms"), rounded(median(totals(print[1]))));
    if (embedded) {
        metrics.insert(QStringLiteral("flow.embedded.cold_ms"), rounded(median(cold)));
        metrics.insert(QStringLiteral("flow.embedded.warm_ms"), rounded(median(warm)));
    }
    return runCibaFigures(metrics);
}

} // namespace hotdesk::bench

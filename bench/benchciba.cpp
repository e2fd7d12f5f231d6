// The flow group's push at the OS's sign-in: Linux-PAM loads pam_hotdesk.so, the module asks hotdeskd (enrolled with
// "hotdesk enroll --system"), the daemon runs OpenID CIBA through hotdesk-stubs' DAS and IdP, the simulated phone
// approves at once; timed from pam_start to pam_authenticate's PAM_SUCCESS. The IdP's poll waits come from the
// daemon's own audit record of the attempt (pam_attempt: polls, poll_wait_s).
#include "bench.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QThread>

#include <security/pam_appl.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace hotdesk::bench {
namespace {

// Measured runs; one more comes first, unmeasured (it registers the user with the DAS and fills the daemon's caches).
constexpr int kCibaRuns = 7;
// The IdP's poll interval: the smallest hotdesk-stubs allows.
constexpr int kIntervalSeconds = 1;
// A local account (uid 65534), as tst_hotdeskd_pampush uses; the service is sudo's, in a stack the bench writes.
const char kUser[] = "nobody";
const char kService[] = "sudo";

const QString kHotdesk = QStringLiteral(HOTDESK_BENCH_HOTDESK_BINARY);
const QString kStubs = QStringLiteral(HOTDESK_BENCH_STUBS_BINARY);
const QString kDaemon = QStringLiteral(HOTDESK_BENCH_HOTDESKD_BINARY);
const QString kModule = QStringLiteral(HOTDESK_BENCH_PAM_MODULE);

QString tailOfFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QString::fromUtf8(file.readAll().right(1500)).trimmed();
}

// What the module says to the person, and when the first line came (ms from the clock's start).
struct Conversation {
    QElapsedTimer *clock = nullptr;
    double shownMs = 0;
    QStringList lines;
};

int converse(int count, const pam_message **messages, pam_response **answers, void *data)
{
    auto *conversation = static_cast<Conversation *>(data);
    auto *responses = static_cast<pam_response *>(std::calloc(size_t(count), sizeof(pam_response)));
    if (!responses)
        return PAM_BUF_ERR;
    for (int i = 0; i < count; ++i) {
        if (conversation->lines.isEmpty())
            conversation->shownMs = double(conversation->clock->nsecsElapsed()) / 1e6;
        conversation->lines << QString::fromUtf8(messages[i]->msg);
    }
    *answers = responses;
    return PAM_SUCCESS;
}

struct CibaRun {
    double totalMs = 0;
    double shownMs = 0; // the number on the screen: the module, the daemon, the DAS and the IdP's acceptance
    int polls = 0;
    double pollWaitMs = 0; // the waits the IdP asked for, from the daemon's audit record
};

class CibaBench {
public:
    Status setUp();
    Result<CibaRun> run();

private:
    Status startStubs();
    Status enrollAndConfigure();
    Status startDaemon();
    QList<QJsonObject> attempts() const;
    QString path(const QString &name) const { return m_dir.filePath(name); }

    QTemporaryDir m_dir;
    QString m_data;
    Child m_stubs; // ended after the daemon (members go in reverse order)
    Child m_daemon;
};

Status CibaBench::startStubs()
{
    m_data = path(QStringLiteral("data"));
    m_stubs->setStandardErrorFile(path(QStringLiteral("stubs.log")));
    m_stubs->start(kStubs,
        {QStringLiteral("all"), QStringLiteral("--data"), m_data, QStringLiteral("--auto-approve=0"),
            QStringLiteral("--ciba-interval"), QString::number(kIntervalSeconds)});
    if (!m_stubs->waitForStarted(10000))
        return fail(ErrorCode::Unreachable, QStringLiteral("cannot start %1: %2").arg(kStubs, m_stubs->errorString()));
    QByteArray summary;
    QDeadlineTimer ready(30000);
    while (!summary.contains("\nca ") && m_stubs->state() == QProcess::Running && !ready.hasExpired()) {
        m_stubs->waitForReadyRead(200);
        summary += m_stubs->readAllStandardOutput();
    }
    if (!summary.contains("\nca "))
        return fail(ErrorCode::Unreachable,
            QStringLiteral("the companion servers did not start: %1").arg(tailOfFile(path(QStringLiteral("stubs.log")))));
    return {};
}

// "hotdesk enroll --system" into the daemon's state directory; the servers' policy with a pam section for the service;
// the service's stack with nothing but the module.
Status CibaBench::enrollAndConfigure()
{
    QProcess admin;
    admin.start(kStubs,
        {QStringLiteral("admin"), QStringLiteral("create-token"), QStringLiteral("--role"), QStringLiteral("admin"),
            QStringLiteral("--data"), m_data});
    if (!admin.waitForFinished(30000) || admin.exitCode() != 0)
        return fail(ErrorCode::ServerError, QStringLiteral("hotdesk-stubs admin create-token failed"));
    const QByteArray token = admin.readAllStandardOutput().trimmed().split('\n').last();
    const QString serverPolicy = QDir(m_data).filePath(QStringLiteral("agent-policy.json"));
    QProcess enroll;
    enroll.start(kHotdesk,
        {QStringLiteral("enroll"), QStringLiteral("--system"), QStringLiteral("--policy"), serverPolicy,
            QStringLiteral("--admin-token"), QStringLiteral("-"), QStringLiteral("--state-dir"), path(QStringLiteral("state"))});
    enroll.write(token + '\n');
    enroll.closeWriteChannel();
    if (!enroll.waitForFinished(60000) || enroll.exitStatus() != QProcess::NormalExit || enroll.exitCode() != 0)
        return fail(ErrorCode::ServerError,
            QStringLiteral("hotdesk enroll --system failed: %1").arg(QString::fromLocal8Bit(enroll.readAllStandardError())));

    QFile read(serverPolicy);
    QJsonObject policy = read.open(QIODevice::ReadOnly) ? QJsonDocument::fromJson(read.readAll()).object() : QJsonObject();
    if (policy.isEmpty())
        return fail(ErrorCode::Io, QStringLiteral("cannot read %1").arg(serverPolicy));
    policy.insert(QStringLiteral("pam"), QJsonObject {{QStringLiteral("services"), QJsonArray {QLatin1String(kService)}}});
    QFile write(path(QStringLiteral("policy.json")));
    if (!write.open(QIODevice::WriteOnly) || write.write(QJsonDocument(policy).toJson()) <= 0)
        return fail(ErrorCode::Io, QStringLiteral("cannot write %1").arg(write.fileName()));

    QFile stack(path(QStringLiteral("pam.d/")) + QLatin1String(kService));
    if (!QDir().mkpath(path(QStringLiteral("pam.d"))) || !stack.open(QIODevice::WriteOnly)
        || stack.write("auth required " + QFile::encodeName(kModule)
               + " socket=" + QFile::encodeName(path(QStringLiteral("hotdeskd.sock"))) + " timeout=60\n")
            <= 0)
        return fail(ErrorCode::Io, QStringLiteral("cannot write %1").arg(stack.fileName()));
    return {};
}

// hotdeskd with no logind (it audits logind_unavailable and serves PAM all the same): a system bus address that
// leads nowhere, so the machine's own sessions are never touched. Ready when it says it listens.
Status CibaBench::startDaemon()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS"), QStringLiteral("unix:path=") + path(QStringLiteral("no-system-bus")));
    env.insert(QStringLiteral("LOGS_DIRECTORY"), path(QStringLiteral("logs")));
    env.remove(QStringLiteral("NOTIFY_SOCKET"));
    m_daemon->setProcessEnvironment(env);
    m_daemon->setStandardOutputFile(QProcess::nullDevice());
    m_daemon->setStandardErrorFile(path(QStringLiteral("hotdeskd.log")));
    m_daemon->start(kDaemon,
        {QStringLiteral("--socket"), path(QStringLiteral("hotdeskd.sock")), QStringLiteral("--state-dir"),
            path(QStringLiteral("state")), QStringLiteral("--policy"), path(QStringLiteral("policy.json"))});
    QDeadlineTimer ready(30000);
    while (m_daemon->state() != QProcess::NotRunning && !ready.hasExpired()) {
        if (tailOfFile(path(QStringLiteral("hotdeskd.log"))).contains(QLatin1String(": listening on ")))
            return {};
        QThread::msleep(20);
    }
    return fail(ErrorCode::Unreachable,
        QStringLiteral("hotdeskd did not become ready: %1").arg(tailOfFile(path(QStringLiteral("hotdeskd.log")))));
}

Status CibaBench::setUp()
{
    for (const QString &binary : {kHotdesk, kStubs, kDaemon, kModule}) {
        if (!QFileInfo::exists(binary))
            return fail(ErrorCode::Io, QStringLiteral("%1 is not built; run ./dev bench flow, which builds it").arg(binary));
    }
    // The state directory's files belong to root and the module's socket is reached by path: others may look in.
    if (!m_dir.isValid()
        || !QFile::setPermissions(m_dir.path(),
            QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner | QFileDevice::ReadGroup
                | QFileDevice::ExeGroup | QFileDevice::ReadOther | QFileDevice::ExeOther))
        return fail(ErrorCode::Io, QStringLiteral("cannot make a temporary directory; check TMPDIR"));
    if (auto started = startStubs(); !started)
        return started;
    if (auto configured = enrollAndConfigure(); !configured)
        return configured;
    return startDaemon();
}

// The daemon's pam_attempt records for the bench's user, oldest first.
QList<QJsonObject> CibaBench::attempts() const
{
    QList<QJsonObject> found;
    QFile file(path(QStringLiteral("logs/audit.jsonl")));
    if (!file.open(QIODevice::ReadOnly))
        return found;
    for (const QByteArray &line : file.readAll().split('\n')) {
        const QJsonObject record = QJsonDocument::fromJson(line).object();
        if (record.value(QLatin1String("event")).toString() == u"pam_attempt"
            && record.value(QLatin1String("user")).toString() == QLatin1String(kUser))
            found << record;
    }
    return found;
}

Result<CibaRun> CibaBench::run()
{
    const qsizetype before = attempts().size();
    QElapsedTimer clock;
    Conversation conversation;
    conversation.clock = &clock;
    const pam_conv conv {converse, &conversation};
    const QByteArray confDir = QFile::encodeName(path(QStringLiteral("pam.d")));
    pam_handle_t *handle = nullptr;
    clock.start();
    if (pam_start_confdir(kService, kUser, &conv, confDir.constData(), &handle) != PAM_SUCCESS)
        return fail(ErrorCode::Io, QStringLiteral("pam_start_confdir failed for %1").arg(QString::fromLocal8Bit(confDir)));
    const int code = pam_authenticate(handle, 0);
    CibaRun run;
    run.totalMs = double(clock.nsecsElapsed()) / 1e6;
    run.shownMs = conversation.shownMs;
    const QString said = QString::fromLocal8Bit(pam_strerror(handle, code));
    pam_end(handle, code);
    const QList<QJsonObject> records = attempts();
    const QJsonObject attempt = records.size() > before ? records.last() : QJsonObject();
    const QString audited = QString::fromUtf8(QJsonDocument(attempt).toJson(QJsonDocument::Compact));
    if (code != PAM_SUCCESS)
        return fail(ErrorCode::ServerError,
            QStringLiteral("pam_authenticate: %1; the module said: %2; audit: %3; hotdeskd: %4")
                .arg(said, conversation.lines.join(QLatin1String(" | ")), audited,
                    tailOfFile(path(QStringLiteral("hotdeskd.log")))));
    // The waits as the daemon counted them; a record without them is not measured.
    const QJsonValue polls = attempt.value(QLatin1String("polls"));
    const QJsonValue waited = attempt.value(QLatin1String("poll_wait_s"));
    if (attempt.value(QLatin1String("result")).toString() != u"approved" || !polls.isDouble() || !waited.isDouble())
        return fail(ErrorCode::Malformed,
            QStringLiteral("PAM_SUCCESS without an approved pam_attempt naming polls and poll_wait_s: %1").arg(audited));
    run.polls = polls.toInt();
    run.pollWaitMs = waited.toDouble() * 1000;
    return run;
}

void printCibaTable(const std::vector<CibaRun> &runs)
{
    std::vector<double> totals, overheads, shown, polls;
    for (const CibaRun &r : runs) {
        totals.push_back(r.totalMs);
        overheads.push_back(r.totalMs - r.pollWaitMs);
        shown.push_back(r.shownMs);
        polls.push_back(r.polls);
    }
    const auto row = [](const char *name, std::vector<double> values) {
        std::sort(values.begin(), values.end());
        std::printf("%-22s %4zu %9.1f %9.1f %9.1f\n", name, values.size(), values.front(), median(values), values.back());
    };
    std::printf("\nciba: pam_start to PAM_SUCCESS through pam_hotdesk.so, hotdeskd and the servers, ms\n\n");
    std::printf("%-22s %4s %9s %9s %9s\n", "case", "runs", "min", "median", "max");
    row("total", totals);
    row("less the poll waits", overheads);
    row("number shown", shown);
    std::printf("\npolls per sign-in: median %.0f, max %.0f; the IdP's interval %d s. The poll waits are the daemon's\n"
                "audit record (pam_attempt poll_wait_s: the interval before each poll, 5 s more per slow_down).\n"
                "'number shown' is when the module passed the daemon's line to the conversation: the DAS's signed\n"
                "request and the IdP's acceptance are behind it.\n",
        median(polls), *std::max_element(polls.begin(), polls.end()), kIntervalSeconds);
}

} // namespace

Status runCibaFigures(Metrics &metrics)
{
    std::printf("\nciba: %s for %s through Linux-PAM, hotdeskd, hotdesk-stubs (--ciba-interval %d, a phone that approves at "
                "once)\n",
        kService, kUser, kIntervalSeconds);
    std::fflush(stdout);
    if (geteuid() != 0) {
        std::printf("  ciba: not measured: hotdesk enroll --system and hotdeskd's state need root\n");
        return {};
    }
    CibaBench bench;
    if (auto ready = bench.setUp(); !ready)
        return ready;
    std::vector<CibaRun> runs;
    for (int i = 0; i <= kCibaRuns; ++i) {
        auto run = bench.run();
        if (!run)
            return tl::unexpected(run.error());
        if (i > 0) // the first registers the user with the DAS and warms the daemon's caches
            runs.push_back(*run);
    }
    printCibaTable(runs);
    std::vector<double> totals, overheads;
    for (const CibaRun &r : runs) {
        totals.push_back(r.totalMs);
        overheads.push_back(r.totalMs - r.pollWaitMs);
    }
    metrics.insert(QStringLiteral("flow.ciba.ms"), std::round(median(totals) * 10) / 10);
    metrics.insert(QStringLiteral("flow.ciba.overhead_ms"), std::round(median(overheads) * 10) / 10);
    return {};
}

} // namespace hotdesk::bench

// The "das" group: 2FA request objects per second from a lone DAS under wrk, against raw ES256 signing on its core.
#include "bench.h"

#include "core/clock.h"
#include "core/das/devicetoken.h"
#include "core/das/enrollment.h"
#include "core/jose/base64url.h"
#include "core/jose/jwk.h"
#include "core/jose/jws.h"
#include "core/random.h"
#include "tests/support/httpsclient.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <openssl/evp.h>

#include <sched.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <memory>

namespace hotdesk::bench {
namespace {

using namespace std::chrono_literals;

const QString kStubs = QStringLiteral(HOTDESK_BENCH_STUBS_BINARY);
const QString kScript = QStringLiteral(HOTDESK_BENCH_DAS_SCRIPT);
const QString kUser = QStringLiteral("alice@bench.example");
const QString kSharedId = QStringLiteral("8c3e5a17d2f94b60a1e7c4d93b2f0e65");
const QString kDeviceId = QStringLiteral("bench-pc-01");
constexpr int kConnections[] = {1, 8, 32};
// Not measured: TLS sessions, SQLite's page cache and the allocator settle first.
constexpr int kWarmUpSeconds = 3;
// Tokens for the warm-up; every later run gets 1.5 times what the fastest
// run so far would use. A run that still runs out is made again with twice as many.
constexpr qint64 kFirstTokenBudget = 20000;
constexpr int kTokenAttempts = 4;

QString tailOf(const QByteArray &text)
{
    return QString::fromUtf8(text.right(1500)).trimmed();
}

// The CPUs this process may use: the DAS gets the last, wrk (and the idle
// IdP) the first, so client and server never take turns on one core. With
// a single CPU nothing is pinned and the table says so.
struct Cores {
    int server = -1;
    int client = -1;
    bool pinned() const { return server >= 0; }
};

Cores chooseCores()
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return {};
    std::vector<int> cpus;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &set))
            cpus.push_back(cpu);
    }
    if (cpus.size() < 2)
        return {};
    return {cpus.back(), cpus.front()};
}

// Pins the calling thread (or, after fork, the child process) to one CPU; -1 leaves it free.
bool pinTo(int cpu)
{
    if (cpu < 0)
        return true;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0;
}

// The calling thread on one CPU until this goes out of scope.
class PinnedHere {
public:
    explicit PinnedHere(int cpu)
    {
        CPU_ZERO(&m_saved);
        m_restore = cpu >= 0 && sched_getaffinity(0, sizeof m_saved, &m_saved) == 0;
        m_ok = pinTo(cpu);
    }
    ~PinnedHere()
    {
        if (m_restore)
            sched_setaffinity(0, sizeof m_saved, &m_saved);
    }
    PinnedHere(const PinnedHere &) = delete;
    PinnedHere &operator=(const PinnedHere &) = delete;
    bool ok() const { return m_ok; }

private:
    cpu_set_t m_saved;
    bool m_restore = false;
    bool m_ok = false;
};

// CPU seconds (user + system) a process has used so far, from /proc/PID/stat.
double cpuSeconds(qint64 pid)
{
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return 0;
    const QByteArray text = stat.readAll();
    // The command name may hold spaces: the fields start after its closing parenthesis.
    const QList<QByteArray> fields = text.mid(text.lastIndexOf(')') + 2).split(' ');
    if (fields.size() < 13)
        return 0;
    // utime and stime are fields 14 and 15 of proc(5), 12 and 13 after the name.
    return double(fields[11].toLongLong() + fields[12].toLongLong()) / double(sysconf(_SC_CLK_TCK));
}

// A hotdesk-stubs role on one CPU; ready once it printed the "ca" line.
Result<QString> startRole(Child &child, const QString &role, const QString &data, int cpu, const QString &log)
{
    child->setStandardErrorFile(log);
    child->setChildProcessModifier([cpu] { pinTo(cpu); });
    child->start(kStubs, {role, QStringLiteral("--data"), data});
    if (!child->waitForStarted(10000))
        return fail(ErrorCode::Unreachable, QStringLiteral("cannot start %1: %2").arg(kStubs, child->errorString()));
    QByteArray summary;
    QDeadlineTimer ready(30000);
    while (!summary.contains("\nca ") && child->state() == QProcess::Running && !ready.hasExpired()) {
        child->waitForReadyRead(200);
        summary += child->readAllStandardOutput();
    }
    for (const QByteArray &line : summary.split('\n')) {
        if (line.startsWith(QByteArray(role.toLatin1() + ' ')) && summary.contains("\nca ")) {
            QString url = QString::fromUtf8(line.mid(role.size() + 1)).trimmed();
            while (url.endsWith(QLatin1Char('/')))
                url.chop(1);
            return url;
        }
    }
    QFile err(log);
    err.open(QIODevice::ReadOnly);
    return fail(ErrorCode::Unreachable, QStringLiteral("hotdesk-stubs %1 did not start: %2").arg(role, tailOf(err.readAll())));
}

Result<QByteArray> runStubsCommand(const QStringList &args)
{
    QProcess p;
    p.start(kStubs, args);
    if (!p.waitForFinished(30000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
        return fail(ErrorCode::ServerError,
            QStringLiteral("hotdesk-stubs %1 failed: %2")
                .arg(args.mid(0, 2).join(QLatin1Char(' ')), tailOf(p.readAllStandardError())));
    return p.readAllStandardOutput();
}

QJsonObject jsonOf(const test::HttpResult &r)
{
    return QJsonDocument::fromJson(r.body).object();
}

QString b64(const QByteArray &bytes)
{
    return QString::fromLatin1(jose::base64UrlEncode(bytes));
}

Status unexpectedAnswer(const char *step, const test::HttpResult &r)
{
    return fail(ErrorCode::ServerError,
        QStringLiteral("the DAS answered %1 to %2: %3").arg(r.status).arg(QLatin1String(step), tailOf(r.body)));
}

// Flow 3 as the agent runs it (das::DeviceEnrollment, as hotdesk enroll does),
// with the device key kept in memory: the bench needs no keychain.
Result<jose::Jwk> enroll(test::HttpsClient &client, const QString &das, const QString &adminToken, const Clock &clock)
{
    OpenSslRandom random;
    const auto at = [&](const QString &path) { return QUrl(das + path); };
    test::HttpResult r = client.send(
        at(QStringLiteral("/v1/activation")), "POST", {}, {}, {{"Authorization", "Bearer " + adminToken.toLatin1()}});
    if (r.status != 201)
        return tl::unexpected(unexpectedAnswer("the activation request", r).error());
    const QByteArray jwt = jsonOf(r).value(QLatin1String("activation")).toString().toLatin1();
    r = client.get(at(QStringLiteral("/v1/activation-key")));
    auto keys = jose::JwkSet::fromJson(r.body);
    if (r.status != 200 || !keys)
        return tl::unexpected(unexpectedAnswer("GET /v1/activation-key", r).error());
    auto activation = das::verifyActivation(jwt, *keys, {das, 60s}, clock);
    if (!activation)
        return tl::unexpected(activation.error());
    auto agent = das::DeviceEnrollment::create(*activation, kDeviceId);
    if (!agent)
        return tl::unexpected(agent.error());
    auto pA = agent->start(random);
    if (!pA)
        return tl::unexpected(pA.error());
    const QString exchange = QStringLiteral("/v1/devices/%1/spake2").arg(activation->serviceUid);
    r = client.post(at(exchange),
        QJsonDocument(QJsonObject {{QStringLiteral("device_id"), kDeviceId}, {QStringLiteral("pA"), b64(*pA)}})
            .toJson(QJsonDocument::Compact));
    auto pB = jose::base64UrlDecode(jsonOf(r).value(QLatin1String("pB")).toString().toLatin1());
    if (r.status != 200 || !pB)
        return tl::unexpected(unexpectedAnswer("the SPAKE2 message", r).error());
    auto macA = agent->finish(*pB);
    auto key = jose::Jwk::generate(jose::Algorithm::ES256);
    if (!macA || !key)
        return tl::unexpected(!macA ? macA.error() : key.error());
    auto keyMac = agent->keyMac(*key);
    if (!keyMac)
        return tl::unexpected(keyMac.error());
    r = client.post(at(exchange + QStringLiteral("/confirm")),
        QJsonDocument(QJsonObject {{QStringLiteral("mac_a"), b64(*macA)}, {QStringLiteral("device_key"), key->toPublicJson()},
                          {QStringLiteral("key_mac"), b64(*keyMac)}})
            .toJson(QJsonDocument::Compact));
    auto macB = jose::base64UrlDecode(jsonOf(r).value(QLatin1String("mac_b")).toString().toLatin1());
    if (r.status != 200 || !macB)
        return tl::unexpected(unexpectedAnswer("the SPAKE2 confirmation", r).error());
    if (auto confirmed = agent->verifyServerConfirmation(*macB); !confirmed)
        return tl::unexpected(confirmed.error());
    return key;
}

// What an agent sends for one sign-in: the same body every time (the DAS
// then recognizes the device without writing anything but the spent jti).
QByteArray requestBody()
{
    const QJsonObject fingerprint {{QStringLiteral("machine_id"), QStringLiteral("0f3c9a7e5b2d4c6e8a1f3b5d7c9e2a4b")},
        {QStringLiteral("screens"), QJsonArray {QStringLiteral("1920x1080@1"), QStringLiteral("2560x1440@1.25")}},
        {QStringLiteral("os"),
            QJsonObject {
                {QStringLiteral("name"), QStringLiteral("Debian GNU/Linux")}, {QStringLiteral("version"), QStringLiteral("12")}}},
        {QStringLiteral("browser"),
            QJsonObject {{QStringLiteral("engine"), QStringLiteral("QtWebEngine")},
                {QStringLiteral("version"), QStringLiteral("6.4.2 (Chromium 102.0.5005.177)")}}},
        {QStringLiteral("agent_version"), QStringLiteral("0.1.0")}};
    const QJsonObject body {{QStringLiteral("user"), kUser},
        {QStringLiteral("state"), QStringLiteral("Yk1rQ0xqUGd4Zl9aTnNQd3JBbVZ0UQ")},
        {QStringLiteral("nonce"), QStringLiteral("c2VlZC1ub25jZS1mb3ItdGhlLWJlbmNo")},
        {QStringLiteral("code_challenge"), QStringLiteral("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")},
        {QStringLiteral("code_challenge_method"), QStringLiteral("S256")},
        {QStringLiteral("redirect_uri"), QStringLiteral("http://127.0.0.1:49152/callback")},
        {QStringLiteral("fingerprint"), fingerprint}};
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

// count fresh device tokens, one a line; the rate they were signed at comes back.
Result<double> writeTokens(const QString &path, qint64 count, const jose::Jwk &key, const QString &das, const Clock &clock)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return fail(ErrorCode::Io, QStringLiteral("cannot write %1").arg(path));
    OpenSslRandom random;
    QElapsedTimer timer;
    timer.start();
    QByteArray text;
    for (qint64 i = 0; i < count; ++i) {
        auto token = das::makeDeviceToken(key, kDeviceId, das, clock, random);
        if (!token)
            return tl::unexpected(token.error());
        text += *token;
        text += '\n';
    }
    const double seconds = double(timer.nsecsElapsed()) / 1e9;
    if (file.write(text) != text.size() || !file.flush())
        return fail(ErrorCode::Io, QStringLiteral("cannot write %1").arg(path));
    return double(count) / seconds;
}

// Raw OpenSSL ES256 over the signing input of a real request object: a fresh
// EVP_DigestSignInit and EVP_DigestSign per signature with a pre-fetched
// digest, as a server that has its key parsed would do at best. The same for
// a verification of that signature: the DAS checks one device token per
// request, so the two together bound what one core can issue.
struct RawRates {
    double sign = 0;
    double verify = 0;
};

Result<RawRates> rawRates(const QByteArray &signingInput, const TimingPlan &plan)
{
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), &EVP_PKEY_free);
    std::unique_ptr<EVP_MD, decltype(&EVP_MD_free)> md(EVP_MD_fetch(nullptr, "SHA2-256", nullptr), &EVP_MD_free);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    if (!key || !md || !ctx)
        return fail(ErrorCode::CryptoFailure, QStringLiteral("OpenSSL could not set up an ES256 signer"));
    const auto *input = reinterpret_cast<const unsigned char *>(signingInput.constData());
    const auto inputSize = std::size_t(signingInput.size());
    unsigned char sig[80];
    std::size_t sigSize = sizeof sig;
    const auto sign = [&] {
        sigSize = sizeof sig;
        EVP_MD_CTX_reset(ctx.get());
        return EVP_DigestSignInit(ctx.get(), nullptr, md.get(), nullptr, key.get()) == 1
            && EVP_DigestSign(ctx.get(), sig, &sigSize, input, inputSize) == 1;
    };
    const auto verify = [&] {
        EVP_MD_CTX_reset(ctx.get());
        return EVP_DigestVerifyInit(ctx.get(), nullptr, md.get(), nullptr, key.get()) == 1
            && EVP_DigestVerify(ctx.get(), sig, sigSize, input, inputSize) == 1;
    };
    const auto rate = [&](const std::function<bool()> &once) -> std::optional<double> {
        if (!measureRate(once, plan.warmUp))
            return std::nullopt;
        std::vector<double> rounds;
        for (int i = 0; i < plan.rounds; ++i)
            rounds.push_back(measureRate(once, plan.perRound).value_or(0));
        return median(rounds);
    };
    RawRates rates;
    if (auto signs = rate(sign))
        rates.sign = *signs;
    else
        return fail(ErrorCode::CryptoFailure, QStringLiteral("OpenSSL ES256 signing failed"));
    // sig now holds a valid signature of the input.
    if (auto verifies = rate(verify))
        rates.verify = *verifies;
    else
        return fail(ErrorCode::CryptoFailure, QStringLiteral("OpenSSL ES256 verification failed"));
    return rates;
}

// The DAS's own signing call (jose::signCompact), same core, same claims.
Result<double> hotdeskSignRate(const QByteArray &payload, const TimingPlan &plan)
{
    auto key = jose::Jwk::generate(jose::Algorithm::ES256, QStringLiteral("bench"));
    if (!key)
        return tl::unexpected(key.error());
    const QJsonObject typ {{QStringLiteral("typ"), QStringLiteral("oauth-authz-req+jwt")}};
    const auto once = [&] { return jose::signCompact(payload, *key, jose::Algorithm::ES256, typ).has_value(); };
    if (!measureRate(once, plan.warmUp))
        return fail(ErrorCode::CryptoFailure, QStringLiteral("jose::signCompact failed"));
    std::vector<double> rounds;
    for (int i = 0; i < plan.rounds; ++i)
        rounds.push_back(measureRate(once, plan.perRound).value_or(0));
    return median(rounds);
}

struct WrkRun {
    int connections = 0;
    qint64 requests = 0;
    double seconds = 0;
    qint64 tokensUsed = 0;
    bool exhausted = false;
    qint64 errors = 0;
    QString errorSummary;
    double p50 = 0, p90 = 0, p99 = 0, max = 0; // ms
    double serverCpu = 0; // of one core
    double rps() const { return seconds > 0 ? double(requests) / seconds : 0; }
};

Result<WrkRun> runWrk(
    const QString &url, int connections, int seconds, const QString &tokens, const QString &body, int cpu, qint64 serverPid)
{
    Child wrk;
    wrk->setChildProcessModifier([cpu] { pinTo(cpu); });
    const double cpuBefore = cpuSeconds(serverPid);
    QElapsedTimer wall;
    wall.start();
    // One client thread: on two cores the other one is the server's, and one
    // epoll thread keeps 32 connections busy.
    wrk->start(QStringLiteral("wrk"),
        {QStringLiteral("-t1"), QStringLiteral("-c%1").arg(connections), QStringLiteral("-d%1s").arg(seconds),
            QStringLiteral("--timeout"), QStringLiteral("10s"), QStringLiteral("-s"), kScript,
            url + QStringLiteral("/v1/2fa-tokens"), QStringLiteral("--"), tokens, body});
    if (!wrk->waitForFinished((seconds + 60) * 1000) || wrk->exitStatus() != QProcess::NormalExit || wrk->exitCode() != 0)
        return fail(ErrorCode::ServerError, QStringLiteral("wrk did not finish: %1").arg(tailOf(wrk->readAllStandardError())));
    const double wallSeconds = double(wall.nsecsElapsed()) / 1e9;
    const double cpuAfter = cpuSeconds(serverPid);
    const QByteArray out = wrk->readAllStandardOutput();
    const qsizetype at = out.indexOf("das-bench ");
    if (at < 0)
        return fail(ErrorCode::Malformed, QStringLiteral("wrk printed no result line: %1").arg(tailOf(out)));
    const QByteArray line = out.mid(at + 10, out.indexOf('\n', at) - at - 10);
    const QJsonObject json = QJsonDocument::fromJson(line).object();
    const QJsonObject latency = json.value(QLatin1String("latency_us")).toObject();
    const QJsonObject errors = json.value(QLatin1String("errors")).toObject();
    WrkRun run;
    run.connections = connections;
    run.requests = json.value(QLatin1String("requests")).toInteger();
    run.seconds = json.value(QLatin1String("duration_us")).toDouble() / 1e6;
    run.tokensUsed = json.value(QLatin1String("tokens_used")).toInteger();
    run.exhausted = json.value(QLatin1String("exhausted")).toBool();
    for (auto it = errors.begin(); it != errors.end(); ++it) {
        if (it.value().toInteger() == 0)
            continue;
        run.errors += it.value().toInteger();
        run.errorSummary += QStringLiteral(" %1 %2").arg(it.key()).arg(it.value().toInteger());
    }
    run.p50 = latency.value(QLatin1String("p50")).toDouble() / 1000;
    run.p90 = latency.value(QLatin1String("p90")).toDouble() / 1000;
    run.p99 = latency.value(QLatin1String("p99")).toDouble() / 1000;
    run.max = latency.value(QLatin1String("max")).toDouble() / 1000;
    // wrk's own start and teardown are in the wall time too: a slight underestimate.
    run.serverCpu = wallSeconds > 0 ? (cpuAfter - cpuBefore) / wallSeconds : 0;
    if (run.requests == 0)
        return fail(ErrorCode::ServerError, QStringLiteral("wrk completed no request: %1").arg(tailOf(out)));
    return run;
}

double rounded(double value, int decimals)
{
    const double scale = std::pow(10.0, decimals);
    return std::round(value * scale) / scale;
}

} // namespace

Status runDasGroup(const TimingPlan &plan, Metrics &metrics)
{
    if (!QFileInfo(kStubs).isExecutable())
        return fail(ErrorCode::Io, QStringLiteral("%1 is not built; run ./dev bench das, which builds it").arg(kStubs));
    if (QStandardPaths::findExecutable(QStringLiteral("wrk")).isEmpty())
        return fail(ErrorCode::Unsupported,
            QStringLiteral("wrk is not installed; run ./dev bench das, which installs it (Debian package wrk)"));
    if (!QFileInfo::exists(kScript))
        return fail(ErrorCode::Io, QStringLiteral("the wrk script %1 is missing").arg(kScript));
    int seconds = 10;
    if (qEnvironmentVariableIsSet("HOTDESK_BENCH_DAS_S")) {
        bool ok = false;
        seconds = qEnvironmentVariableIntValue("HOTDESK_BENCH_DAS_S", &ok);
        if (!ok || seconds < 1 || seconds > 60)
            return fail(ErrorCode::Malformed,
                QStringLiteral("HOTDESK_BENCH_DAS_S takes whole seconds from 1 to 60 (device tokens live 60 s)"));
    }

    QTemporaryDir dir;
    if (!dir.isValid())
        return fail(ErrorCode::Io, QStringLiteral("cannot make a temporary directory; check TMPDIR"));
    const QString data = dir.filePath(QStringLiteral("data"));
    if (!QDir().mkpath(data))
        return fail(ErrorCode::Io, QStringLiteral("cannot make %1").arg(data));
    const Cores cores = chooseCores();
    if (cores.pinned())
        std::printf("\ndas: hotdesk-stubs das alone on CPU %d; wrk, the idle IdP and this program on CPU %d\n", cores.server,
            cores.client);
    else
        std::printf("\ndas: one CPU only: server and client share it, nothing pinned\n");
    std::fflush(stdout);

    // The IdP first, in a process of its own: the DAS takes its issuer from
    // endpoints.json at start and never calls it while issuing.
    Child idp;
    if (auto url = startRole(idp, QStringLiteral("idp"), data, cores.client, dir.filePath(QStringLiteral("idp.log"))); !url)
        return tl::unexpected(url.error());
    Child dasProcess;
    auto das = startRole(dasProcess, QStringLiteral("das"), data, cores.server, dir.filePath(QStringLiteral("das.log")));
    if (!das)
        return tl::unexpected(das.error());

    auto adminOut = runStubsCommand({QStringLiteral("admin"), QStringLiteral("create-token"), QStringLiteral("--role"),
        QStringLiteral("admin"), QStringLiteral("--subject"), QStringLiteral("bench"), QStringLiteral("--data"), data});
    if (!adminOut)
        return tl::unexpected(adminOut.error());
    const QString adminToken = QString::fromLatin1(adminOut->trimmed().split('\n').last());
    if (auto mapped = runStubsCommand(
            {QStringLiteral("admin"), QStringLiteral("map-user"), kUser, kSharedId, QStringLiteral("--data"), data});
        !mapped)
        return tl::unexpected(mapped.error());

    SystemClock clock;
    test::HttpsClient client(QDir(data).filePath(QStringLiteral("ca.pem")));
    auto deviceKey = enroll(client, *das, adminToken, clock);
    if (!deviceKey)
        return tl::unexpected(deviceKey.error());

    // One issuance by hand: it registers the fingerprint (the only write
    // besides the jti), and its request object must verify against /jwks, or
    // the runs below would time something other than issuance.
    const QByteArray body = requestBody();
    const QString bodyFile = dir.filePath(QStringLiteral("body.json"));
    {
        QFile file(bodyFile);
        if (!file.open(QIODevice::WriteOnly) || file.write(body) != body.size())
            return fail(ErrorCode::Io, QStringLiteral("cannot write %1").arg(bodyFile));
    }
    OpenSslRandom random;
    auto token = das::makeDeviceToken(*deviceKey, kDeviceId, *das, clock, random);
    if (!token)
        return tl::unexpected(token.error());
    const test::HttpResult first = client.send(QUrl(*das + QStringLiteral("/v1/2fa-tokens")), "POST", body, "application/json",
        {{"Authorization", "DeviceToken " + *token}});
    if (first.status != 201)
        return unexpectedAnswer("POST /v1/2fa-tokens", first);
    const QByteArray requestObject = jsonOf(first).value(QLatin1String("request")).toString().toLatin1();
    const test::HttpResult published = client.get(QUrl(*das + QStringLiteral("/jwks")));
    auto signingKeys = jose::JwkSet::fromJson(published.body);
    if (!signingKeys)
        return unexpectedAnswer("GET /jwks", published);
    jose::JwsVerifyOptions es256;
    es256.allowed = {jose::Algorithm::ES256};
    auto verified = jose::verifyCompact(requestObject, *signingKeys, es256);
    if (!verified)
        return fail(ErrorCode::BadSignature,
            QStringLiteral("the DAS's request object does not verify against its /jwks: %1").arg(verified.error().message));

    // Raw signing on the DAS's core while the DAS is idle, in this run.
    RawRates raw;
    double hotdeskPerSecond = 0;
    {
        PinnedHere here(cores.server);
        if (!here.ok())
            return fail(ErrorCode::Unsupported, QStringLiteral("cannot pin the signing measurement to CPU %1").arg(cores.server));
        auto rates = rawRates(requestObject.left(requestObject.lastIndexOf('.')), plan);
        if (!rates)
            return tl::unexpected(rates.error());
        raw = *rates;
        auto ours = hotdeskSignRate(verified->payload, plan);
        if (!ours)
            return tl::unexpected(ours.error());
        hotdeskPerSecond = *ours;
    }

    // Tokens are signed just before each run: a device token lives 60 s.
    const QString tokenFile = dir.filePath(QStringLiteral("tokens.txt"));
    double fastest = 0;
    double tokenRate = 0;
    const auto measured = [&](int connections, int runSeconds) -> Result<WrkRun> {
        qint64 budget = fastest > 0 ? qint64(fastest * runSeconds * 1.5) + 500 : kFirstTokenBudget;
        for (int attempt = 0; attempt < kTokenAttempts; ++attempt, budget *= 2) {
            auto signedRate = writeTokens(tokenFile, budget, *deviceKey, *das, clock);
            if (!signedRate)
                return tl::unexpected(signedRate.error());
            tokenRate = *signedRate;
            auto run = runWrk(*das, connections, runSeconds, tokenFile, bodyFile, cores.client, dasProcess->processId());
            if (!run)
                return run;
            if (run->exhausted)
                continue;
            if (run->errors > 0)
                return fail(ErrorCode::ServerError,
                    QStringLiteral("wrk at %1 connections saw errors (%2); see %3")
                        .arg(connections)
                        .arg(run->errorSummary.trimmed(), dir.filePath(QStringLiteral("das.log"))));
            fastest = std::max(fastest, run->rps());
            return run;
        }
        return fail(ErrorCode::ServerError,
            QStringLiteral("the device tokens ran out %1 times at %2 connections").arg(kTokenAttempts).arg(connections));
    };
    if (auto warm = measured(32, kWarmUpSeconds); !warm)
        return tl::unexpected(warm.error());
    std::vector<WrkRun> runs;
    for (int connections : kConnections) {
        auto run = measured(connections, seconds);
        if (!run)
            return tl::unexpected(run.error());
        runs.push_back(*run);
        std::printf("  %d connections: done\n", connections);
        std::fflush(stdout);
    }

    std::printf(
        "\ndas: POST /v1/2fa-tokens over HTTPS keep-alive, wrk -t1, %d s per run, one device token per request\n\n", seconds);
    std::printf(
        "%5s %9s %9s %8s %8s %8s %8s %11s\n", "conns", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "server CPU");
    for (const WrkRun &run : runs)
        std::printf("%5d %9lld %9.0f %8.2f %8.2f %8.2f %8.2f %10.0f%%\n", run.connections, static_cast<long long>(run.requests),
            run.rps(), run.p50, run.p90, run.p99, run.max, run.serverCpu * 100);
    const WrkRun &c32 = runs.back();
    // One verification and one signature per request: the most one core could issue with nothing else to do.
    const double cryptoCeiling = 1 / (1 / raw.sign + 1 / raw.verify);
    std::printf("\nES256 per second on the DAS's CPU, DAS idle: raw OpenSSL sign %.0f, verify %.0f (one of each: %.0f/s);\n"
                "jose::signCompact %.0f\n",
        raw.sign, raw.verify, cryptoCeiling, hotdeskPerSecond);
    std::printf(
        "Targets at 32 connections: >= 0.5 x raw signing = %.0f req/s (measured %.0f, %.2f x), p99 < 10 ms (measured %.2f)\n",
        0.5 * raw.sign, c32.rps(), c32.rps() / raw.sign, c32.p99);
    std::printf("Device tokens were signed here at %.0f per second before each run; server CPU is the DAS process's\n"
                "user + system time over the run's wall time.\n",
        tokenRate);

    for (const WrkRun &run : runs) {
        const QString c = QString::number(run.connections);
        metrics.insert(QStringLiteral("das.issue.rps_c") + c, rounded(run.rps(), 0));
        metrics.insert(QStringLiteral("das.issue.p50_ms_c") + c, rounded(run.p50, 2));
        metrics.insert(QStringLiteral("das.issue.p99_ms_c") + c, rounded(run.p99, 2));
    }
    metrics.insert(QStringLiteral("das.sign.raw_per_s"), rounded(raw.sign, 0));
    metrics.insert(QStringLiteral("das.verify.raw_per_s"), rounded(raw.verify, 0));
    metrics.insert(QStringLiteral("das.sign.hotdesk_per_s"), rounded(hotdeskPerSecond, 0));
    return {};
}

} // namespace hotdesk::bench

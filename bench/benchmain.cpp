// hotdesk-bench: runs the named benchmark groups and writes their numbers as JSON.
#include "bench.h"

#include <QByteArray>
#include <QCoreApplication>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStringList>

#include <algorithm>
#include <cstdio>

namespace hotdesk::bench {

std::optional<double> measureRate(const std::function<bool()> &once, std::chrono::nanoseconds minimum)
{
    using Steady = std::chrono::steady_clock;
    // Batches grow until one takes about a fiftieth of the round, so reading
    // the clock costs nothing measurable and the round overshoots by little.
    const auto batchTarget = minimum / 50;
    std::uint64_t batch = 1;
    std::uint64_t calls = 0;
    const auto start = Steady::now();
    auto elapsed = Steady::duration::zero();
    do {
        const auto batchStart = Steady::now();
        for (std::uint64_t i = 0; i < batch; ++i) {
            if (!once())
                return std::nullopt;
        }
        calls += batch;
        const auto now = Steady::now();
        elapsed = now - start;
        if (now - batchStart < batchTarget)
            batch *= 2;
    } while (elapsed < minimum);
    return double(calls) / std::chrono::duration<double>(elapsed).count();
}

double median(std::vector<double> values)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    const std::size_t mid = values.size() / 2;
    return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

} // namespace hotdesk::bench

namespace {

using GroupFn = hotdesk::Status (*)(const hotdesk::bench::TimingPlan &, hotdesk::bench::Metrics &);

struct Group {
    const char *name;
    GroupFn run;
};

constexpr Group kGroups[] = {
    {"verify", &hotdesk::bench::runVerifyGroup},
    {"flow", &hotdesk::bench::runFlowGroup},
    {"agent", &hotdesk::bench::runAgentGroup},
    {"das", &hotdesk::bench::runDasGroup},
};

void usage(std::FILE *to)
{
    std::fprintf(to,
        "usage: hotdesk-bench [--output FILE] [GROUP...]\n"
        "       hotdesk-bench --calls N [--only ALG.IMPL]... verify\n"
        "Runs every group when none is named. With --calls, the verify group times nothing: each\n"
        "implementation (or only those named, e.g. ES256.hotdesk) verifies exactly N times inside\n"
        "runFixedCalls, for valgrind --tool=callgrind --toggle-collect='*runFixedCalls*'. Groups:");
    for (const Group &g : kGroups)
        std::fprintf(to, " %s", g.name);
    std::fprintf(to, "\n");
}

// Merges into what FILE holds: the keys of the groups that ran are replaced
// (a key a group no longer reports goes too), every other group's stay, so
// "./dev bench flow" keeps the verify numbers and the other way round.
bool writeMetrics(const QString &path, const QStringList &groups, const hotdesk::bench::Metrics &metrics)
{
    QJsonObject json;
    QFile file(path);
    if (file.open(QIODevice::ReadOnly)) {
        json = QJsonDocument::fromJson(file.readAll()).object();
        file.close();
    }
    for (const QString &key : json.keys()) {
        if (groups.contains(key.section(QLatin1Char('.'), 0, 0)))
            json.remove(key);
    }
    for (auto it = metrics.cbegin(); it != metrics.cend(); ++it)
        json.insert(it.key(), it.value());
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    const QByteArray text = QJsonDocument(json).toJson(QJsonDocument::Indented);
    return file.write(text) == text.size() && file.flush();
}

} // namespace

int main(int argc, char **argv)
{
    // The flow group starts processes and talks HTTP: it needs an event loop.
    QCoreApplication app(argc, argv);
    QString output;
    QStringList wanted;
    hotdesk::bench::TimingPlan plan;
    for (int i = 1; i < argc; ++i) {
        const QByteArray arg(argv[i]);
        if (arg == "-h" || arg == "--help") {
            usage(stdout);
            return 0;
        }
        if (arg == "--output" || arg == "-o") {
            if (++i >= argc) {
                usage(stderr);
                return 2;
            }
            output = QString::fromLocal8Bit(argv[i]);
        } else if (arg.startsWith("--output=")) {
            output = QString::fromLocal8Bit(arg.mid(int(sizeof("--output=") - 1)));
        } else if (arg == "--calls" || arg == "--only") {
            if (++i >= argc) {
                usage(stderr);
                return 2;
            }
            const QByteArray value(argv[i]);
            if (arg == "--only") {
                plan.only << QString::fromLatin1(value);
                continue;
            }
            bool ok = false;
            plan.fixedCalls = value.toULongLong(&ok);
            if (!ok || plan.fixedCalls == 0) {
                std::fprintf(stderr, "hotdesk-bench: --calls takes a positive number, not %s\n", argv[i]);
                return 2;
            }
        } else if (arg.startsWith('-')) {
            std::fprintf(stderr, "hotdesk-bench: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        } else {
            const auto known
                = std::find_if(std::begin(kGroups), std::end(kGroups), [&](const Group &g) { return arg == g.name; });
            if (known == std::end(kGroups)) {
                std::fprintf(stderr, "hotdesk-bench: no group named %s\n", argv[i]);
                usage(stderr);
                return 2;
            }
            wanted << QString::fromLatin1(arg);
        }
    }

    if (plan.fixedCalls > 0 && wanted != QStringList {QStringLiteral("verify")}) {
        std::fprintf(stderr, "hotdesk-bench: --calls is for the verify group alone\n");
        usage(stderr);
        return 2;
    }
    if (!plan.only.isEmpty() && plan.fixedCalls == 0) {
        std::fprintf(stderr, "hotdesk-bench: --only goes with --calls\n");
        return 2;
    }
    hotdesk::bench::Metrics metrics;
    QStringList ran;
    for (const Group &g : kGroups) {
        if (!wanted.isEmpty() && !wanted.contains(QLatin1String(g.name)))
            continue;
        ran << QLatin1String(g.name);
        if (auto ok = g.run(plan, metrics); !ok) {
            std::fprintf(
                stderr, "hotdesk-bench: %s: %s: %s\n", g.name, qPrintable(ok.error().codeName()), qPrintable(ok.error().message));
            return 1;
        }
    }

    if (!output.isEmpty()) {
        if (!writeMetrics(output, ran, metrics)) {
            std::fprintf(
                stderr, "hotdesk-bench: cannot write %s; check that its directory exists and is writable\n", qPrintable(output));
            return 1;
        }
        std::printf("\nwrote %s\n", qPrintable(output));
    }
    return 0;
}

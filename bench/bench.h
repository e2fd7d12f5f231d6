// What the hotdesk-bench groups share: the metrics they report and the timing loop.
#pragma once

#include "core/result.h"

#include <QMap>
#include <QProcess>
#include <QString>
#include <QStringList>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace hotdesk::bench {

// "group.case.metric" -> number; written as the flat bench-results.json object.
using Metrics = QMap<QString, double>;

struct TimingPlan {
    std::chrono::milliseconds warmUp {100};
    std::chrono::milliseconds perRound {500};
    int rounds = 5;
    // For instruction counts under callgrind (this machine has no hardware
    // counters): when > 0, the verify group times nothing and runs each
    // contender exactly this many times, in runFixedCalls.
    std::uint64_t fixedCalls = 0;
    // With fixedCalls: only the contenders named so ("ES256.hotdesk"); empty for all.
    QStringList only;
};

// Calls once() in batches until at least `minimum` has passed on the steady
// clock and returns calls per second. nullopt as soon as one call returned
// false: a benchmark of something that failed measures nothing.
std::optional<double> measureRate(const std::function<bool()> &once, std::chrono::nanoseconds minimum);

double median(std::vector<double> values);

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

// Group entry points: print their table on stdout and add to metrics.
Status runVerifyGroup(const TimingPlan &plan, Metrics &metrics);
Status runFlowGroup(const TimingPlan &plan, Metrics &metrics);
Status runAgentGroup(const TimingPlan &plan, Metrics &metrics);
Status runDasGroup(const TimingPlan &plan, Metrics &metrics);
// Part of the flow group: the push at the OS's sign-in, pam_hotdesk.so through hotdeskd to PAM_SUCCESS (root only).
Status runCibaFigures(Metrics &metrics);
// Part of the agent group: hotdeskd idle for idleSeconds, and the OS lock after its agent is killed.
Status runDaemonFigures(Metrics &metrics, int idleSeconds);

// A process's voluntary and involuntary context switches over all its threads
// (each one is the process waking up once), and its VmRSS; nullopt when /proc has no such process.
std::optional<qint64> contextSwitches(qint64 pid);
std::optional<double> residentMegabytes(qint64 pid);

} // namespace hotdesk::bench

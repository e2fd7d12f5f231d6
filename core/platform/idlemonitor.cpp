// IdleMonitor: idle thresholds from an IdleSource with one timer armed for the earliest moment the answer can change.
#include "platform.h"

#include <QPointer>
#include <QTimer>

#include <algorithm>

namespace hotdesk::platform {

using std::chrono::milliseconds;

IdleMonitor::IdleMonitor(std::unique_ptr<IdleSource> source, QObject *parent)
    : IdleMonitor(std::move(source), Options {}, parent)
{
}

IdleMonitor::IdleMonitor(std::unique_ptr<IdleSource> source, Options options, QObject *parent)
    : QObject(parent)
    , m_source(std::move(source))
    , m_options(options)
    , m_timer(new QTimer(this))
{
    m_timer->setSingleShot(true);
    // Coarse timers may fire up to 5 % late; that is fine for minutes of idle
    // time and lets the system batch the wake-up with others.
    m_timer->setTimerType(Qt::CoarseTimer);
    connect(m_timer, &QTimer::timeout, this, &IdleMonitor::checkNow);
}

IdleMonitor::~IdleMonitor() = default;

void IdleMonitor::setThreshold(milliseconds threshold)
{
    m_threshold = std::max(threshold, milliseconds(0));
    m_idle = false;
    m_failing = false;
    m_lastIdle = milliseconds(0);
    ++m_generation; // answers to earlier queries no longer count
    m_timer->stop();
    if (m_threshold > milliseconds(0))
        checkNow();
}

void IdleMonitor::queryIdleTime(IdleSource::Callback done)
{
    m_source->queryIdleTime(std::move(done));
}

std::optional<milliseconds> IdleMonitor::scheduledDelay() const
{
    if (!m_timer->isActive())
        return std::nullopt;
    return m_scheduled;
}

void IdleMonitor::checkNow()
{
    if (m_threshold <= milliseconds(0))
        return;
    m_timer->stop();
    const quint64 generation = ++m_generation;
    QPointer<IdleMonitor> self(this);
    m_source->queryIdleTime([self, generation](Result<milliseconds> idle) {
        if (self)
            self->onAnswer(generation, idle);
    });
}

void IdleMonitor::onAnswer(quint64 generation, const Result<milliseconds> &idle)
{
    if (generation != m_generation || m_threshold <= milliseconds(0))
        return;
    if (!idle) {
        const bool first = !m_failing;
        m_failing = true;
        if (first && !emitAndStillCurrent(generation, [this, &idle] { Q_EMIT unavailable(idle.error().message); }))
            return;
        schedule(m_options.retryInterval);
        return;
    }
    m_failing = false;
    const milliseconds now = *idle;
    if (m_idle) {
        // Idle time only grows while nobody touches anything; a smaller value
        // means input arrived since the last check.
        if (now < m_lastIdle) {
            m_idle = false;
            m_lastIdle = now;
            if (!emitAndStillCurrent(generation, [this] { Q_EMIT activityResumed(); }))
                return;
            if (now < m_threshold) {
                schedule(m_threshold - now);
                return;
            }
            // Active and idle again between two checks: report the new idle period.
        } else {
            m_lastIdle = now;
            schedule(m_options.resumeCheckInterval);
            return;
        }
    }
    m_lastIdle = now;
    if (now >= m_threshold) {
        m_idle = true;
        if (!emitAndStillCurrent(generation, [this] { Q_EMIT idleReached(m_threshold); }))
            return;
        schedule(m_options.resumeCheckInterval);
        return;
    }
    schedule(m_threshold - now);
}

// A receiver may change the threshold (or delete the monitor) from inside a
// signal; then this answer must not schedule anything any more.
bool IdleMonitor::emitAndStillCurrent(quint64 generation, const std::function<void()> &emitSignal)
{
    QPointer<IdleMonitor> self(this);
    emitSignal();
    return self && generation == m_generation;
}

void IdleMonitor::schedule(milliseconds delay)
{
    if (m_threshold <= milliseconds(0))
        return;
    m_scheduled = std::max(delay, m_options.minimumDelay);
    m_timer->start(m_scheduled);
}

} // namespace hotdesk::platform

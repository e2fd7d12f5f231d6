// A clock the test sets and advances by hand.
#pragma once

#include "core/clock.h"

namespace hotdesk::test {

class FakeClock final : public Clock {
public:
    explicit FakeClock(qint64 secondsSinceEpoch = 1'767'225'600) // 2026-01-01T00:00:00Z
        : m_now(std::chrono::seconds(secondsSinceEpoch))
    {
    }
    std::chrono::system_clock::time_point now() const override { return m_now; }
    void setSeconds(qint64 s) { m_now = std::chrono::system_clock::time_point(std::chrono::seconds(s)); }
    void advance(std::chrono::milliseconds d) { m_now += d; }

private:
    std::chrono::system_clock::time_point m_now;
};

} // namespace hotdesk::test

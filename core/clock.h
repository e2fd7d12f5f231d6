// Injected wall clock, so expiry and retry windows are testable without sleeping.
#pragma once

#include <QtGlobal>

#include <chrono>

namespace hotdesk {

class Clock {
public:
    virtual ~Clock() = default;
    virtual std::chrono::system_clock::time_point now() const = 0;

    qint64 secondsSinceEpoch() const
    {
        return std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
    }
};

class SystemClock final : public Clock {
public:
    std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
};

} // namespace hotdesk

// What every fuzz target shares: how it is declared (libFuzzer entry point, or a
// registered function for tst_fuzzreplay) and how it reports a broken invariant.
#pragma once

#include "core/result.h"

#include <QString>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace hotdesk::fuzz {

// The fixed keys a target builds once could not be made: a broken build, not a finding.
[[noreturn]] inline void setupFailed(const char *target, const QString &what)
{
    std::fprintf(stderr, "%s: cannot set up the target: %s\n", target, qUtf8Printable(what));
    std::fflush(stderr);
    std::abort();
}

inline QByteArrayView bytesOf(const std::uint8_t *data, std::size_t size)
{
    return QByteArrayView(reinterpret_cast<const char *>(data), qsizetype(size));
}

#if defined(HOTDESK_FUZZ_LIBFUZZER)

// An abort is a crash to libFuzzer, which then saves the input that caused it.
[[noreturn]] inline void invariantBroken(const char *target, const QString &what)
{
    std::fprintf(stderr, "%s: INVARIANT BROKEN: %s\n", target, qUtf8Printable(what));
    std::fflush(stderr);
    std::abort();
}

// Outcomes matter only to the replay test; the fuzzer should not pay for them.
inline void noteOutcome(const QString &) {}
template <typename T>
void noteOutcome(const Result<T> &) {}

#define HOTDESK_FUZZ_TARGET(name) extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)

#else

// Thrown rather than aborting, so tst_fuzzreplay can fail the one input that
// broke an invariant, name it, and go on to the others.
class InvariantBroken : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

[[noreturn]] inline void invariantBroken(const char *target, const QString &what)
{
    throw InvariantBroken(QStringLiteral("%1: INVARIANT BROKEN: %2").arg(QLatin1String(target), what).toStdString());
}

using TargetFunction = int (*)(const std::uint8_t *data, std::size_t size);

struct ReplayTarget {
    const char *name;
    TargetFunction run;
};

inline std::vector<ReplayTarget> &replayTargets()
{
    static std::vector<ReplayTarget> targets;
    return targets;
}

struct ReplayRegistration {
    ReplayRegistration(const char *name, TargetFunction run) { replayTargets().push_back({name, run}); }
};

// "accepted", or the code name of the error that stopped the last input; a
// seed's file name starts with the outcome it is meant to reach.
inline QString &lastOutcome()
{
    static QString outcome;
    return outcome;
}

inline void noteOutcome(const QString &outcome)
{
    lastOutcome() = outcome;
}

template <typename T>
void noteOutcome(const Result<T> &result)
{
    lastOutcome() = result ? QStringLiteral("accepted") : result.error().codeName();
}

// Several targets share one test executable, so each becomes a named function
// instead of the single LLVMFuzzerTestOneInput.
#define HOTDESK_FUZZ_TARGET(name)                                                                        \
    static int name##OneInput(const std::uint8_t *data, std::size_t size);                               \
    static const ::hotdesk::fuzz::ReplayRegistration name##Registration(#name, &name##OneInput);         \
    static int name##OneInput(const std::uint8_t *data, std::size_t size)

#endif

} // namespace hotdesk::fuzz

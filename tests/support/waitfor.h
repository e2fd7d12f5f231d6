// Runs an asynchronous call that reports through a callback and waits for its one answer.
#pragma once

#include "core/result.h"

#include <QEventLoop>
#include <QPointer>
#include <QTimer>

#include <functional>
#include <memory>
#include <optional>

namespace hotdesk::test {

// start receives the callback to hand to the API under test. The answer, or
// nullopt when none came within limitMs (a generous bound that only stops a
// hung test, never a measurement).
template <typename T>
std::optional<Result<T>> waitFor(const std::function<void(std::function<void(Result<T>)>)> &start, int limitMs = 30000)
{
    struct State {
        std::optional<Result<T>> answer;
        QPointer<QEventLoop> loop;
    };
    auto state = std::make_shared<State>();
    start([state](Result<T> r) {
        state->answer = std::move(r);
        if (state->loop)
            state->loop->quit();
    });
    if (!state->answer) {
        QEventLoop loop;
        state->loop = &loop;
        QTimer::singleShot(limitMs, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return state->answer;
}

// "code_name: message" of a failed result, for QVERIFY2 and messages.
template <typename R> QByteArray whyNot(const R &result)
{
    if (!result)
        return "no answer";
    if (*result)
        return "ok";
    return (result->error().codeName() + QStringLiteral(": ") + result->error().message).toUtf8();
}

} // namespace hotdesk::test

// How the DAS refuses a request: RFC 9457 problems with extension members and Retry-After, inside one transaction per request.
#pragma once

#include "../common/httpservice.h"
#include "../common/store.h"

#include <QHttpServerResponder>
#include <QJsonObject>

#include <functional>
#include <memory>
#include <optional>

namespace hotdesk::stubs::das {

// A refused DAS request. Most are a bare problem; some carry RFC 9457 §3.2
// extension members (the approval request a client should poll) or, with
// 429, how many seconds to wait.
struct Refusal {
    Refusal(Problem p) // implicit: every problem is a refusal
        : problem(std::move(p))
    {
    }
    Problem problem;
    QJsonObject members;
    std::optional<qint64> retryAfter;
};

// A value, or the refusal that answers the request instead.
template <typename T> using Checked = tl::expected<T, Refusal>;

inline Problem problem(HttpStatus status, const char *slug, const char *title, QString detail)
{
    return {status, QLatin1String(slug), QLatin1String(title), std::move(detail)};
}

template <typename T> Result<Checked<T>> refuse(Refusal r)
{
    return Checked<T>(tl::unexpect, std::move(r));
}

// The error or refusal of an earlier step as the outcome of this one: for
// "if (!r || !*r) return passOn<T>(r);" after a step that did not succeed.
template <typename T, typename U> Result<Checked<T>> passOn(const Result<Checked<U>> &r)
{
    if (!r)
        return tl::unexpected(r.error());
    return refuse<T>(r->error());
}

// The response for a refusal. A 401 names the authentication scheme the
// client should use (RFC 9110 §11.6.1): Bearer for administrators, DeviceToken otherwise.
QHttpServerResponse answer(const Refusal &refusal);

// For handlers that answer through a QHttpServerResponder.
void send(const std::shared_ptr<LaterResponder> &responder, QHttpServerResponse &&response);

// One transaction per request. A refusal from work answers the request and
// still commits what work wrote before deciding (a consumed jti, a counted
// failure, an event); an Error rolls everything back.
template <typename T> Checked<T> inTransaction(Store &store, const std::function<Result<Checked<T>>(QSqlDatabase &)> &work)
{
    std::optional<Checked<T>> outcome;
    auto done = store.transaction([&](QSqlDatabase &db) -> Status {
        auto r = work(db);
        if (!r)
            return tl::unexpected(r.error());
        outcome.emplace(std::move(*r));
        return {};
    });
    if (!done)
        return tl::unexpected(problemFor(done.error()));
    return std::move(*outcome);
}

} // namespace hotdesk::stubs::das

// The IdP's signing keys (jwks_uri), cached as HTTP says, refetched on an unknown kid with a cooldown.
#pragma once

#include "../clock.h"
#include "../jose/jwk.h"
#include "../net/httpclient.h"
#include "../result.h"

#include <QList>
#include <QObject>
#include <QPointer>
#include <QUrl>

#include <chrono>
#include <functional>
#include <optional>

namespace hotdesk::oidc {

class JwksCache : public QObject {
    Q_OBJECT
public:
    using Callback = std::function<void(Result<jose::JwkSet>)>;
    using TimePoint = std::chrono::system_clock::time_point;

    // An unknown kid makes at most one fetch per cooldown, so forged tokens cannot make us hammer the IdP.
    static constexpr std::chrono::seconds kRefetchCooldown {30};
    // Cache lifetime from Cache-Control max-age or Expires, clamped to these bounds.
    static constexpr std::chrono::seconds kMinLifetime {60};
    static constexpr std::chrono::seconds kMaxLifetime {24 * 3600};
    // Without either header.
    static constexpr std::chrono::seconds kDefaultLifetime {300};
    // When refetching fails, keys fetched less than this long ago are still used.
    static constexpr std::chrono::seconds kMaxStaleness {24 * 3600};

    JwksCache(net::HttpClient &http, QUrl jwksUri, const Clock &clock, QObject *parent = nullptr);
    ~JwksCache() override;

    // The key set in which to look for kid (empty kid: any fresh set will do).
    // Served from the cache when it is fresh and knows kid; fetched when empty
    // or stale; refetched for an unknown kid unless a fetch happened less than
    // kRefetchCooldown ago (then the cached set comes back and the validator
    // reports key_not_found). Calls during a fetch wait for that same fetch.
    // A failed fetch answers the previous keys while they are younger than
    // kMaxStaleness, else the error (Unreachable, Tls, Timeout, TooLarge,
    // Cancelled, ServerError, MalformedAnswer). done runs exactly once, before
    // keysFor returns when nothing has to be fetched.
    void keysFor(const QString &kid, Callback done);

    // Forgets the keys and the cooldown (a fetch in flight still answers its callers and fills the cache).
    void clear();

    const QUrl &jwksUri() const { return m_jwksUri; }
    // When the cached keys arrived; nullopt before the first successful fetch.
    std::optional<TimePoint> fetchedAt() const { return m_fetchedAt; }
    // Until when they count as fresh.
    std::optional<TimePoint> expiresAt() const { return m_expiresAt; }
    // HTTP requests made so far (for tests).
    int fetchCount() const { return m_fetchCount; }

    // How long an answer may be cached, from its Cache-Control and Expires headers, clamped to the bounds above.
    static std::chrono::seconds lifetimeOf(const net::HttpResponse &response, TimePoint now);

private:
    void fetch();
    void fetched(Result<net::HttpResponse> response);
    bool hasKid(const QString &kid) const;

    net::HttpClient &m_http;
    QUrl m_jwksUri;
    const Clock &m_clock;
    jose::JwkSet m_keys;
    std::optional<TimePoint> m_fetchedAt;
    std::optional<TimePoint> m_expiresAt;
    std::optional<TimePoint> m_lastAttempt; // the last fetch that was not cancelled, successful or not
    QPointer<net::HttpCall> m_call;
    bool m_inFlight = false;
    QList<Callback> m_waiting;
    int m_fetchCount = 0;
};

} // namespace hotdesk::oidc

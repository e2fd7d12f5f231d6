// The IdP's key set cache.
#include "jwkscache.h"

#include <QDateTime>
#include <QLocale>

#include <algorithm>

namespace hotdesk::oidc {
namespace {

// An IMF-fixdate (RFC 9110 §5.6.7), the only form servers may send; anything else is invalid.
std::optional<QDateTime> httpDate(const QByteArray &value)
{
    const QDateTime parsed
        = QLocale::c().toDateTime(QString::fromLatin1(value.trimmed()), QStringLiteral("ddd, dd MMM yyyy HH:mm:ss 'GMT'"));
    if (!parsed.isValid())
        return std::nullopt;
    return QDateTime(parsed.date(), parsed.time(), Qt::UTC);
}

} // namespace

JwksCache::JwksCache(net::HttpClient &http, QUrl jwksUri, const Clock &clock, QObject *parent)
    : QObject(parent)
    , m_http(http)
    , m_jwksUri(std::move(jwksUri))
    , m_clock(clock)
{
}

JwksCache::~JwksCache()
{
    // Callers waiting for a fetch are dropped, as HttpClient drops its callbacks when deleted.
    m_waiting.clear();
    if (m_call)
        m_call->cancel();
}

bool JwksCache::hasKid(const QString &kid) const
{
    if (kid.isEmpty())
        return true;
    return std::any_of(m_keys.keys().cbegin(), m_keys.keys().cend(), [&kid](const jose::Jwk &key) { return key.kid() == kid; });
}

void JwksCache::keysFor(const QString &kid, Callback done)
{
    if (m_inFlight) {
        m_waiting.append(std::move(done));
        return;
    }
    const TimePoint now = m_clock.now();
    const bool fresh = m_expiresAt && now < *m_expiresAt;
    const bool usable = m_fetchedAt && now - *m_fetchedAt < kMaxStaleness;
    const bool coolingDown = m_lastAttempt && now - *m_lastAttempt < kRefetchCooldown;
    // Fresh and knows the kid: the common case. Within the cooldown the cached
    // set answers, whether the kid is unknown or the last refetch failed.
    if ((fresh && hasKid(kid)) || ((fresh || usable) && coolingDown)) {
        done(m_keys);
        return;
    }
    m_waiting.append(std::move(done));
    fetch();
}

void JwksCache::clear()
{
    m_keys = {};
    m_fetchedAt.reset();
    m_expiresAt.reset();
    m_lastAttempt.reset();
}

void JwksCache::fetch()
{
    m_inFlight = true;
    ++m_fetchCount;
    net::HttpRequest request = net::HttpRequest::get(m_jwksUri);
    request.withHeader("Accept", "application/jwk-set+json, application/json;q=0.9");
    m_call = m_http.send(request, [self = QPointer<JwksCache>(this)](Result<net::HttpResponse> response) {
        if (self)
            self->fetched(std::move(response));
    });
}

void JwksCache::fetched(Result<net::HttpResponse> response)
{
    m_inFlight = false;
    m_call = nullptr;
    const TimePoint now = m_clock.now();
    Result<jose::JwkSet> keys = [&]() -> Result<jose::JwkSet> {
        if (!response)
            return tl::unexpected(response.error());
        if (!response->isSuccess())
            return fail(ErrorCode::ServerError,
                QStringLiteral(
                    "the identity provider's signing keys are not available: %1; try again later or tell your administrator")
                    .arg(net::describeAnswer(*response)));
        auto set = jose::JwkSet::fromJson(response->body);
        if (!set)
            return fail(ErrorCode::MalformedAnswer,
                QStringLiteral("the signing keys from %1 are not a JWK set (%2); tell your administrator")
                    .arg(m_jwksUri.toString(QUrl::RemoveQuery | QUrl::RemoveUserInfo), set.error().message));
        return set;
    }();

    Result<jose::JwkSet> answer = keys;
    if (keys) {
        m_keys = *keys;
        m_fetchedAt = now;
        m_expiresAt = now + lifetimeOf(*response, now);
        m_lastAttempt = now;
    } else if (keys.error().code != ErrorCode::Cancelled) {
        // A cancelled fetch says nothing about the IdP: no cooldown, no fallback.
        m_lastAttempt = now;
        if (m_fetchedAt && now - *m_fetchedAt < kMaxStaleness)
            answer = m_keys;
    }
    // A callback may call keysFor again or delete this cache: nothing of this is touched after the first call.
    const QList<Callback> waiting = std::exchange(m_waiting, {});
    for (const Callback &done : waiting)
        done(answer);
}

std::chrono::seconds JwksCache::lifetimeOf(const net::HttpResponse &response, TimePoint now)
{
    using std::chrono::seconds;
    std::optional<qint64> lifetime;
    bool noCache = false;
    const QByteArray cacheControl = response.header("Cache-Control");
    for (const QByteArray &part : cacheControl.split(',')) {
        const QByteArray directive = part.trimmed().toLower();
        if (directive == "no-store" || directive == "no-cache") {
            noCache = true;
        } else if (directive.startsWith("max-age=")) {
            QByteArray value = directive.mid(8);
            if (value.size() >= 2 && value.startsWith('"') && value.endsWith('"'))
                value = value.mid(1, value.size() - 2);
            bool ok = false;
            const qint64 n = value.toLongLong(&ok);
            if (ok && n >= 0)
                lifetime = n;
        }
    }
    if (noCache) {
        // The keys must be kept for the token at hand at least; as briefly as the bounds allow.
        lifetime = 0;
    } else if (lifetime) {
        bool ok = false;
        const qint64 age = response.header("Age").trimmed().toLongLong(&ok);
        if (ok && age > 0)
            *lifetime -= age;
    } else if (const QByteArray expiresHeader = response.header("Expires"); !expiresHeader.isEmpty()) {
        // An invalid Expires means "already expired" (RFC 9111 §5.3).
        lifetime = 0;
        if (const auto expires = httpDate(expiresHeader)) {
            const auto date = httpDate(response.header("Date"));
            const qint64 base
                = date ? date->toSecsSinceEpoch() : std::chrono::duration_cast<seconds>(now.time_since_epoch()).count();
            lifetime = expires->toSecsSinceEpoch() - base;
        }
    }
    if (!lifetime)
        return kDefaultLifetime;
    return seconds(std::clamp<qint64>(*lifetime, kMinLifetime.count(), kMaxLifetime.count()));
}

} // namespace hotdesk::oidc

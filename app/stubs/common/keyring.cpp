// Signing key storage and rotation.
#include "keyring.h"

#include "core/jose/base64url.h"
#include "core/random.h"

#include <QJsonDocument>

namespace hotdesk::stubs {

Keyring::Keyring(Store &store, QString role, jose::Algorithm alg, const Clock &clock)
    : m_store(store)
    , m_role(std::move(role))
    , m_alg(alg)
    , m_clock(clock)
{
}

Result<jose::Jwk> Keyring::createKey(QSqlDatabase &db)
{
    OpenSslRandom random;
    auto suffix = randomUrlSafeString(random, 6);
    if (!suffix)
        return tl::unexpected(suffix.error());
    const qint64 now = m_clock.secondsSinceEpoch();
    const QString kid = QStringLiteral("%1-%2-%3").arg(m_role).arg(now).arg(QString::fromLatin1(*suffix));
    auto key = jose::Jwk::generate(m_alg, kid);
    if (!key)
        return tl::unexpected(key.error());
    const QByteArray json = QJsonDocument(key->toPrivateJson()).toJson(QJsonDocument::Compact);
    if (auto r = exec(db, QStringLiteral("INSERT INTO signing_keys (kid, role, jwk, created_at) VALUES (?, ?, ?, ?)"),
                      {kid, m_role, QString::fromUtf8(json), now});
        !r)
        return tl::unexpected(r.error());
    m_cache.insert(kid, *key);
    return key;
}

Result<jose::Jwk> Keyring::parsed(const QString &kid, const QString &json)
{
    if (const auto it = m_cache.constFind(kid); it != m_cache.cend())
        return *it;
    jose::JwkOptions options;
    options.allowPrivate = true;
    options.allowSymmetric = true;
    auto key = jose::Jwk::fromJson(json.toUtf8(), options);
    if (key)
        m_cache.insert(kid, *key);
    return key;
}

Result<jose::Jwk> Keyring::currentKey()
{
    std::optional<jose::Jwk> key;
    auto done = m_store.transaction([&](QSqlDatabase &db) -> Status {
        auto current = currentKey(db);
        if (!current)
            return tl::unexpected(current.error());
        key = std::move(*current);
        return {};
    });
    if (!done)
        return tl::unexpected(done.error());
    return *key;
}

Result<jose::Jwk> Keyring::currentKey(QSqlDatabase &db)
{
    auto q = exec(db,
        QStringLiteral(
            "SELECT kid, jwk FROM signing_keys WHERE role = ? AND retired_at IS NULL ORDER BY created_at DESC LIMIT 1"),
        {m_role});
    if (!q)
        return tl::unexpected(q.error());
    if (q->next())
        return parsed(q->value(0).toString(), q->value(1).toString());
    return createKey(db);
}

Result<jose::JwkSet> Keyring::publishedKeys()
{
    auto current = currentKey();
    if (!current)
        return tl::unexpected(current.error());
    jose::JwkSet set;
    QSqlDatabase db = m_store.database();
    auto q = exec(db, QStringLiteral("SELECT kid, jwk FROM signing_keys WHERE role = ? AND (retired_at IS NULL OR publish_until > ?) ORDER BY created_at DESC"),
                  {m_role, m_clock.secondsSinceEpoch()});
    if (!q)
        return tl::unexpected(q.error());
    while (q->next()) {
        if (auto key = parsed(q->value(0).toString(), q->value(1).toString()))
            set.append(*key);
    }
    return set;
}

Result<jose::Jwk> Keyring::rotate(std::chrono::seconds keepPublished)
{
    std::optional<jose::Jwk> key;
    const qint64 now = m_clock.secondsSinceEpoch();
    auto done = m_store.transaction([&](QSqlDatabase &db) -> Status {
        if (auto r = exec(db, QStringLiteral("UPDATE signing_keys SET retired_at = ?, publish_until = ? WHERE role = ? AND retired_at IS NULL"),
                          {now, now + keepPublished.count(), m_role});
            !r)
            return tl::unexpected(r.error());
        auto created = createKey(db);
        if (!created)
            return tl::unexpected(created.error());
        key = *created;
        return {};
    });
    if (!done)
        return tl::unexpected(done.error());
    return *key;
}

} // namespace hotdesk::stubs

// Signing keys of one server role, kept in the store, with rotation.
#pragma once

#include "core/clock.h"
#include "core/jose/jwk.h"
#include "store.h"

#include <QHash>

#include <chrono>

namespace hotdesk::stubs {

class Keyring {
public:
    Keyring(Store &store, QString role, jose::Algorithm alg, const Clock &clock);

    // The key that signs now; made on first use.
    Result<jose::Jwk> currentKey();
    // The same inside a transaction the caller runs (one look-up for a group of requests).
    Result<jose::Jwk> currentKey(QSqlDatabase &db);
    // Every key a verifier may still need: the current one, and retired ones
    // until their publish_until (the lifetime of the last token they signed).
    Result<jose::JwkSet> publishedKeys();
    // Makes a new current key; the old one stays published for keepPublished.
    Result<jose::Jwk> rotate(std::chrono::seconds keepPublished);

    jose::Algorithm algorithm() const { return m_alg; }

private:
    Result<jose::Jwk> createKey(QSqlDatabase &db);
    // Keys are parsed once: other processes (rotate-key) only ever add rows.
    Result<jose::Jwk> parsed(const QString &kid, const QString &json);

    Store &m_store;
    QString m_role;
    jose::Algorithm m_alg;
    const Clock &m_clock;
    QHash<QString, jose::Jwk> m_cache;
};

} // namespace hotdesk::stubs

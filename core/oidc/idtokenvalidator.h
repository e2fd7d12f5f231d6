// ID token validation: OpenID Connect Core 1.0 §3.1.3.7 with the RFC 8725 rules.
#pragma once

#include "../clock.h"
#include "../jose/jws.h"
#include "../result.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <chrono>
#include <optional>

namespace hotdesk::oidc {

struct IdTokenRequirements {
    // Exact issuer; nullopt only for diagnostics (hotdesk token verify without --issuer).
    std::optional<QString> issuer;
    // Our client_id, which "aud" must contain; nullopt only for diagnostics.
    std::optional<QString> clientId;
    // Other audiences we trust to appear beside ours; any other audience rejects the token.
    QStringList trustedAudiences;
    // The nonce sent in the authorization request; the token must carry it.
    std::optional<QString> nonce;
    // The subject we asked for (the shared identifier); "sub" must equal it.
    std::optional<QString> subject;
    std::chrono::seconds leeway{60};
    // Reject tokens issued longer ago than this ("iat").
    std::optional<std::chrono::seconds> maxTokenAge;
    // max_age of the request: "auth_time" must be present and this recent.
    std::optional<std::chrono::seconds> maxAuthAge;
    // The acr_values the request asked for (OIDC Core 3.1.2.1); when not empty,
    // "acr" must name one of them: the method asked for was the one used.
    QStringList acrValues;
    jose::AlgorithmSet allowedAlgorithms = jose::AlgorithmSet::asymmetric();
};

struct IdToken {
    jose::JwsHeader header;
    QByteArray payload; // the claims as the issuer wrote them: a strict JSON object
    // Every claim, built on demand: validation reads only those it checks.
    QJsonObject claims() const;
    QString subject;
    QString issuer;
    qint64 expiresAt = 0;
    qint64 issuedAt = 0;
    std::optional<qint64> authTime;
};

// Signature first, claims after: nothing in the payload is read before the
// signature has verified with a key from the issuer's set.
Result<IdToken> validateIdToken(QByteArrayView token, const jose::JwkSet &issuerKeys,
                                const IdTokenRequirements &requirements, const Clock &clock);

} // namespace hotdesk::oidc

// The enterprise gateway's access-token rules (RFC 9068 JWT access tokens from the IdP).
#pragma once

#include "core/clock.h"
#include "core/jose/jws.h"
#include "core/result.h"

#include <QJsonObject>
#include <QString>

#include <chrono>

namespace hotdesk::stubs::enterprise {

inline constexpr char kGatewayAudience[] = "hotdesk-gateway";

struct AccessTokenRules {
    QString issuer; // exact "iss"
    QString audience = QLatin1String(kGatewayAudience); // "aud" must contain it
    std::chrono::seconds leeway {60}; // clock skew allowed on exp, nbf and iat
    jose::AlgorithmSet allowed = jose::AlgorithmSet::asymmetric();
};

struct AccessToken {
    QString subject;
    QString clientId; // "client_id" when present
    qint64 expiresAt = 0;
    QJsonObject claims;
};

// Signature first (a key of the IdP's set, an allowed algorithm), then the
// header "typ" (at+jwt, RFC 9068 §2.1), iss, aud, exp, iat, nbf and a
// non-empty sub. Errors use the core codes: KeyNotFound/BadSignature/
// AlgNotAllowed for the signature, InvalidClaim for typ and claim types,
// IssuerMismatch, AudienceMismatch, Expired, NotYetValid, IssuedInFuture,
// SubjectMissing.
Result<AccessToken> validateAccessToken(
    QByteArrayView token, const jose::JwkSet &issuerKeys, const AccessTokenRules &rules, const Clock &clock);

} // namespace hotdesk::stubs::enterprise

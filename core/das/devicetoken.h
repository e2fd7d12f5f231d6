// Device tokens (DESIGN flow 3): short-lived JWTs signed by the device key that authenticate every DAS request.
#pragma once

#include "../clock.h"
#include "../jose/jwk.h"
#include "../random.h"
#include "../result.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <chrono>

namespace hotdesk::das {

inline constexpr char kDeviceTokenType[] = "hotdesk-device+jwt";
// The HTTP authentication scheme: "Authorization: DeviceToken <JWT>".
inline constexpr char kDeviceTokenScheme[] = "DeviceToken";
inline constexpr std::chrono::seconds kMaxDeviceTokenLifetime {60};

// A device token for one request to the DAS at audience (its URL, exactly as
// the activation's "iss"). The header carries typ and, as kid, the RFC 7638
// thumbprint of the key, which is how the DAS stores it.
Result<QByteArray> makeDeviceToken(const jose::Jwk &deviceKey, const QString &deviceId, const QString &audience,
    const Clock &clock, RandomSource &random, std::chrono::seconds lifetime = kMaxDeviceTokenLifetime);

// The device a token claims to come from ("iss"), read before any check: the
// verifier needs it to find the key. Never trust it until checkDeviceToken agrees.
Result<QString> claimedDeviceId(QByteArrayView token);

struct DeviceTokenRules {
    QString audience; // the DAS URL
    std::chrono::seconds leeway {30}; // clock skew allowed on iat, nbf and exp
};

struct DeviceToken {
    QString deviceId;
    QString jti;
    qint64 issuedAt = 0;
    qint64 expiresAt = 0;
    QJsonObject claims;
};

// Signature first (ES256 only, with the registered key of the device), then
// typ, iss = sub, aud, iat/nbf/exp with leeway, exp - iat in (0, 60] seconds,
// and a jti of 16 to 256 characters. Replay is the caller's to refuse: it
// remembers jti until expiresAt + leeway.
// Errors: Malformed/AlgNotAllowed (not a device token), KeyNotFound/BadSignature
// (wrong key), Expired, IssuedInFuture/NotYetValid, AudienceMismatch,
// InvalidClaim (typ, iss/sub, lifetime, jti).
Result<DeviceToken> checkDeviceToken(
    QByteArrayView token, const jose::JwkSet &deviceKeys, const DeviceTokenRules &rules, const Clock &clock);

} // namespace hotdesk::das

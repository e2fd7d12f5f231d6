// Device token building (agent) and checking (DAS).
#include "devicetoken.h"

#include "../jose/jws.h"
#include "../jose/strictjson.h"
#include "claimreader.h"

#include <QJsonDocument>

namespace hotdesk::das {
namespace {

// RFC 8725 §3.11: typ is compared case-insensitively, and the "application/" prefix may be left out.
bool isDeviceTokenType(QString typ)
{
    if (typ.startsWith(QLatin1String("application/"), Qt::CaseInsensitive))
        typ = typ.mid(12);
    return typ.compare(QLatin1String(kDeviceTokenType), Qt::CaseInsensitive) == 0;
}

} // namespace

Result<QByteArray> makeDeviceToken(const jose::Jwk &deviceKey, const QString &deviceId, const QString &audience,
    const Clock &clock, RandomSource &random, std::chrono::seconds lifetime)
{
    if (!deviceKey.isPrivate() || !deviceKey.fits(jose::Algorithm::ES256))
        return fail(ErrorCode::KeyRejected,
            QStringLiteral("a device token needs the private ES256 (P-256) device key; enroll the device again"));
    if (lifetime.count() <= 0 || lifetime > kMaxDeviceTokenLifetime)
        return fail(ErrorCode::Unsupported,
            QStringLiteral("a device token lives between 1 and %1 seconds").arg(kMaxDeviceTokenLifetime.count()));
    auto jti = randomUrlSafeString(random, 16);
    if (!jti)
        return tl::unexpected(jti.error());
    const qint64 now = clock.secondsSinceEpoch();
    const QJsonObject claims {
        {QStringLiteral("iss"), deviceId},
        {QStringLiteral("sub"), deviceId},
        {QStringLiteral("aud"), audience},
        {QStringLiteral("iat"), now},
        {QStringLiteral("exp"), now + lifetime.count()},
        {QStringLiteral("jti"), QString::fromLatin1(*jti)},
    };
    jose::Jwk key = deviceKey;
    key.setKid(QString::fromLatin1(deviceKey.thumbprint()));
    return jose::signCompact(QJsonDocument(claims).toJson(QJsonDocument::Compact), key, jose::Algorithm::ES256,
        {{QStringLiteral("typ"), QLatin1String(kDeviceTokenType)}});
}

Result<QString> claimedDeviceId(QByteArrayView token)
{
    auto decoded = jose::decodeUnverified(token);
    if (!decoded)
        return tl::unexpected(decoded.error());
    auto claims = jose::parseStrictJsonObject(decoded->payload, {16, jose::kMaxJwsSize});
    if (!claims)
        return fail(ErrorCode::Malformed, QStringLiteral("claims: %1").arg(claims.error().message));
    auto iss = detail::stringClaim(*claims, "iss");
    if (!iss)
        return tl::unexpected(iss.error());
    if (iss->isEmpty())
        return fail(ErrorCode::InvalidClaim, QStringLiteral("the device token names no device (\"iss\")"));
    return *iss;
}

Result<DeviceToken> checkDeviceToken(
    QByteArrayView token, const jose::JwkSet &deviceKeys, const DeviceTokenRules &rules, const Clock &clock)
{
    jose::JwsVerifyOptions options;
    options.allowed = {jose::Algorithm::ES256};
    auto jws = jose::verifyCompact(token, deviceKeys, options);
    if (!jws)
        return tl::unexpected(jws.error());
    if (!isDeviceTokenType(jws->header.typ))
        return fail(ErrorCode::InvalidClaim,
            QStringLiteral("the token's typ is \"%1\", not \"%2\"").arg(jws->header.typ, QLatin1String(kDeviceTokenType)));
    auto parsed = jose::parseStrictJsonObject(jws->payload, {16, jose::kMaxJwsSize});
    if (!parsed)
        return fail(ErrorCode::Malformed, QStringLiteral("claims: %1").arg(parsed.error().message));

    DeviceToken out;
    out.claims = std::move(*parsed);
    const QJsonObject &claims = out.claims;
    auto iss = detail::stringClaim(claims, "iss");
    auto sub = detail::stringClaim(claims, "sub");
    if (!iss)
        return tl::unexpected(iss.error());
    if (!sub)
        return tl::unexpected(sub.error());
    if (iss->isEmpty() || *iss != *sub)
        return fail(
            ErrorCode::InvalidClaim, QStringLiteral("a device token needs \"iss\" and \"sub\" both set to the device id"));
    out.deviceId = *iss;

    if (auto aud = detail::requireAudience(claims, rules.audience); !aud)
        return tl::unexpected(aud.error());

    auto iat = detail::numericDate(claims, "iat", true);
    auto exp = detail::numericDate(claims, "exp", true);
    auto nbf = detail::numericDate(claims, "nbf", false);
    for (const auto *date : {&iat, &exp, &nbf}) {
        if (!*date)
            return tl::unexpected(date->error());
    }
    out.issuedAt = **iat;
    out.expiresAt = **exp;
    const qint64 now = clock.secondsSinceEpoch();
    const qint64 leeway = rules.leeway.count();
    if (out.expiresAt <= out.issuedAt || out.expiresAt - out.issuedAt > kMaxDeviceTokenLifetime.count())
        return fail(ErrorCode::InvalidClaim,
            QStringLiteral("the token is valid for %1 s; a device token must expire within %2 s of \"iat\"")
                .arg(out.expiresAt - out.issuedAt)
                .arg(kMaxDeviceTokenLifetime.count()));
    if (out.issuedAt > now + leeway)
        return fail(ErrorCode::IssuedInFuture,
            QStringLiteral("the token was issued %1 s in the future; check the device's clock").arg(out.issuedAt - now));
    if (nbf->has_value() && **nbf > now + leeway)
        return fail(ErrorCode::NotYetValid,
            QStringLiteral("the token is not valid for another %1 s; check the device's clock").arg(**nbf - now));
    if (now >= out.expiresAt + leeway)
        return fail(ErrorCode::Expired,
            QStringLiteral("the token expired %1 s ago; make a new one for each request").arg(now - out.expiresAt));

    auto jti = detail::stringClaim(claims, "jti");
    if (!jti)
        return tl::unexpected(jti.error());
    if (jti->size() < 16 || jti->size() > 256)
        return fail(ErrorCode::InvalidClaim, QStringLiteral("a device token needs a unique \"jti\" of 16 to 256 characters"));
    out.jti = *jti;
    return out;
}

} // namespace hotdesk::das

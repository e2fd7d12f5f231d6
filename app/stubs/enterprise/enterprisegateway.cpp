// Access-token checks of the enterprise gateway.
#include "enterprisegateway.h"

#include "core/jose/strictjson.h"

#include <QJsonArray>

#include <cmath>
#include <optional>

namespace hotdesk::stubs::enterprise {
namespace {

// A NumericDate claim: a finite, non-negative JSON number (fractions truncated).
Result<std::optional<qint64>> dateClaim(const QJsonObject &claims, const char *name, bool required)
{
    const QJsonValue v = claims.value(QLatin1String(name));
    if (v.isUndefined()) {
        if (required)
            return fail(ErrorCode::InvalidClaim, QStringLiteral("the access token has no \"%1\"").arg(QLatin1String(name)));
        return std::optional<qint64>();
    }
    const double d = v.toDouble(-1);
    if (!v.isDouble() || !std::isfinite(d) || d < 0 || d > 253402300799.0)
        return fail(ErrorCode::InvalidClaim, QStringLiteral("\"%1\" is not a usable time").arg(QLatin1String(name)));
    return std::optional<qint64>(qint64(d));
}

// RFC 9068 §2.1 names "at+jwt"; RFC 7515 §4.1.9 lets the "application/" prefix be written out.
bool isAccessTokenType(const QString &typ)
{
    QString t = typ.toLower();
    if (t.startsWith(QLatin1String("application/")))
        t = t.mid(12);
    return t == QLatin1String("at+jwt");
}

} // namespace

Result<AccessToken> validateAccessToken(
    QByteArrayView token, const jose::JwkSet &issuerKeys, const AccessTokenRules &rules, const Clock &clock)
{
    jose::JwsVerifyOptions options;
    options.allowed = rules.allowed;
    auto jws = jose::verifyCompact(token, issuerKeys, options);
    if (!jws)
        return tl::unexpected(jws.error());
    // An ID token or any other JWT of the same issuer must not open the gateway (RFC 8725 §3.11).
    if (!isAccessTokenType(jws->header.typ))
        return fail(
            ErrorCode::InvalidClaim, QStringLiteral("the token's type is \"%1\", not \"at+jwt\"").arg(jws->header.typ.left(64)));
    auto parsed = jose::parseStrictJsonObject(jws->payload, {16, jose::kMaxJwsSize});
    if (!parsed)
        return fail(ErrorCode::Malformed, QStringLiteral("claims: %1").arg(parsed.error().message));
    AccessToken out;
    out.claims = *parsed;
    const QJsonObject &claims = out.claims;

    const QJsonValue iss = claims.value(QLatin1String("iss"));
    if (!iss.isString() || iss.toString() != rules.issuer)
        return fail(ErrorCode::IssuerMismatch, QStringLiteral("the token was not issued by %1").arg(rules.issuer));

    const QJsonValue aud = claims.value(QLatin1String("aud"));
    bool forUs = aud.isString() && aud.toString() == rules.audience;
    if (aud.isArray()) {
        for (const QJsonValue &a : aud.toArray()) {
            if (!a.isString())
                return fail(ErrorCode::InvalidClaim, QStringLiteral("\"aud\" holds a non-string"));
            forUs = forUs || a.toString() == rules.audience;
        }
    }
    if (!forUs)
        return fail(ErrorCode::AudienceMismatch, QStringLiteral("the token is not meant for %1").arg(rules.audience));

    auto exp = dateClaim(claims, "exp", true);
    auto iat = dateClaim(claims, "iat", true);
    auto nbf = dateClaim(claims, "nbf", false);
    for (const auto *date : {&exp, &iat, &nbf}) {
        if (!*date)
            return tl::unexpected(date->error());
    }
    const qint64 now = clock.secondsSinceEpoch();
    const qint64 leeway = rules.leeway.count();
    out.expiresAt = **exp;
    if (now >= out.expiresAt + leeway)
        return fail(ErrorCode::Expired, QStringLiteral("the token expired %1 s ago").arg(now - out.expiresAt));
    if (*nbf && now < **nbf - leeway)
        return fail(ErrorCode::NotYetValid, QStringLiteral("the token is not valid for another %1 s").arg(**nbf - now));
    if (**iat > now + leeway)
        return fail(ErrorCode::IssuedInFuture,
            QStringLiteral("the token claims to be issued %1 s from now; check the clocks").arg(**iat - now));

    const QJsonValue sub = claims.value(QLatin1String("sub"));
    if (!sub.isString() || sub.toString().isEmpty())
        return fail(ErrorCode::SubjectMissing, QStringLiteral("the token names no user (\"sub\")"));
    out.subject = sub.toString();
    const QJsonValue clientId = claims.value(QLatin1String("client_id"));
    if (!clientId.isUndefined() && !clientId.isString())
        return fail(ErrorCode::InvalidClaim, QStringLiteral("\"client_id\" is not a string"));
    out.clientId = clientId.toString();
    return out;
}

} // namespace hotdesk::stubs::enterprise

// ID token validation.
#include "idtokenvalidator.h"

#include "../jose/strictjson.h"

#include <QDateTime>
#include <QJsonArray>

#include <cmath>

namespace hotdesk::oidc {
namespace {

// NumericDate (RFC 7519 §2): a JSON number of seconds; fractions are allowed
// and truncated, anything else is an invalid claim.
using Claims = jose::StrictJsonObjectView;

// Claims are as deep as the JWS allows, not as the generic default.
constexpr jose::StrictJsonLimits kClaimsLimits {16, jose::kMaxJwsSize};

Result<std::optional<qint64>> numericDate(const Claims &claims, const char *name, bool required)
{
    const Claims::Value v = claims.value(name);
    if (v.isUndefined()) {
        if (required)
            return fail(ErrorCode::InvalidClaim, QStringLiteral("the token has no \"%1\" claim").arg(QLatin1String(name)));
        return std::optional<qint64>();
    }
    if (!v.isDouble())
        return fail(ErrorCode::InvalidClaim, QStringLiteral("the \"%1\" claim is not a number").arg(QLatin1String(name)));
    const double d = v.toDouble();
    if (!std::isfinite(d) || d < 0 || d > 253402300799.0) // not before 1970, not after 9999
        return fail(ErrorCode::InvalidClaim, QStringLiteral("the \"%1\" claim is out of range").arg(QLatin1String(name)));
    return std::optional<qint64>(qint64(d));
}

Result<QString> stringClaim(const Claims &claims, const char *name)
{
    const Claims::Value v = claims.value(name);
    if (v.isUndefined())
        return QString();
    if (!v.isString())
        return fail(ErrorCode::InvalidClaim, QStringLiteral("the \"%1\" claim is not a string").arg(QLatin1String(name)));
    return v.toString();
}

QString isoTime(qint64 secs)
{
    return QDateTime::fromSecsSinceEpoch(secs, Qt::UTC).toString(Qt::ISODate);
}

} // namespace

QJsonObject IdToken::claims() const
{
    auto object = jose::parseStrictJsonObject(payload, kClaimsLimits);
    return object ? *object : QJsonObject();
}

namespace {

// Step 2: the issuer, compared as an exact string with no normalisation.
Status checkIssuer(const Claims &claims, const IdTokenRequirements &req, IdToken &out)
{
    auto iss = stringClaim(claims, "iss");
    if (!iss)
        return tl::unexpected(iss.error());
    if (iss->isEmpty())
        return fail(ErrorCode::IssuerMismatch, QStringLiteral("the token has no issuer"));
    if (req.issuer && *iss != *req.issuer)
        return fail(ErrorCode::IssuerMismatch, QStringLiteral("the token was issued by \"%1\", not by \"%2\"").arg(*iss, *req.issuer));
    out.issuer = *iss;
    return {};
}

// "aud": a string or an array of strings, never empty.
Result<QStringList> audiencesOf(const Claims &claims)
{
    QStringList audiences;
    const Claims::Value aud = claims.value("aud");
    if (aud.isString()) {
        audiences << aud.toString();
    } else if (aud.isArray()) {
        for (const QJsonValue &a : aud.toJsonValue().toArray()) {
            if (!a.isString())
                return fail(ErrorCode::InvalidClaim, QStringLiteral("the \"aud\" claim holds a non-string"));
            audiences << a.toString();
        }
    } else if (aud.isUndefined()) {
        return fail(ErrorCode::AudienceMismatch, QStringLiteral("the token has no audience"));
    } else {
        return fail(ErrorCode::InvalidClaim, QStringLiteral("the \"aud\" claim is neither a string nor an array"));
    }
    if (audiences.isEmpty())
        return fail(ErrorCode::AudienceMismatch, QStringLiteral("the token has no audience"));
    return audiences;
}

// Steps 3 to 5: "aud" contains our client_id and no untrusted audience; with
// several audiences, "azp" must name us.
Status checkAudience(const Claims &claims, const IdTokenRequirements &req)
{
    auto audiences = audiencesOf(claims);
    if (!audiences)
        return tl::unexpected(audiences.error());
    auto azp = stringClaim(claims, "azp");
    if (!azp)
        return tl::unexpected(azp.error());
    if (!req.clientId)
        return {};
    if (!audiences->contains(*req.clientId))
        return fail(ErrorCode::AudienceMismatch,
            QStringLiteral("the token is for \"%1\", not for \"%2\"")
                .arg(audiences->join(QStringLiteral("\", \"")), *req.clientId));
    for (const QString &a : std::as_const(*audiences)) {
        if (a != *req.clientId && !req.trustedAudiences.contains(a))
            return fail(ErrorCode::AudienceMismatch, QStringLiteral("the token is also for \"%1\", which is not trusted").arg(a));
    }
    // A present but empty azp is not an absent one: it names no client, so it is not ours.
    const bool hasAzp = claims.contains("azp");
    if (audiences->size() > 1 && !hasAzp)
        return fail(ErrorCode::AzpMismatch, QStringLiteral("the token has several audiences but no \"azp\""));
    if (hasAzp && *azp != *req.clientId)
        return fail(
            ErrorCode::AzpMismatch, QStringLiteral("the token was issued to \"%1\", not to \"%2\"").arg(*azp, *req.clientId));
    return {};
}

// Steps 9, 10 and 13: "exp", "nbf", "iat" and, when max_age was requested, "auth_time".
Status checkTimes(const Claims &claims, const IdTokenRequirements &req, const Clock &clock, IdToken &out)
{
    const qint64 now = clock.secondsSinceEpoch();
    const qint64 leeway = req.leeway.count();
    auto exp = numericDate(claims, "exp", true);
    auto iat = numericDate(claims, "iat", true);
    auto nbf = numericDate(claims, "nbf", false);
    auto authTime = numericDate(claims, "auth_time", false);
    for (const auto *r : {&exp, &iat, &nbf, &authTime}) {
        if (!*r)
            return tl::unexpected(r->error());
    }
    out.expiresAt = **exp;
    out.issuedAt = **iat;
    out.authTime = *authTime;
    if (now >= out.expiresAt + leeway)
        return fail(ErrorCode::Expired, QStringLiteral("the token expired at %1 (now %2, leeway %3 s)").arg(isoTime(out.expiresAt), isoTime(now)).arg(leeway));
    if (*nbf && now < **nbf - leeway)
        return fail(ErrorCode::NotYetValid, QStringLiteral("the token is not valid before %1 (now %2)").arg(isoTime(**nbf), isoTime(now)));
    if (out.issuedAt > now + leeway)
        return fail(ErrorCode::IssuedInFuture, QStringLiteral("the token claims to be issued at %1, after now (%2); check the clocks").arg(isoTime(out.issuedAt), isoTime(now)));
    if (req.maxTokenAge && now - out.issuedAt > req.maxTokenAge->count() + leeway)
        return fail(ErrorCode::TokenTooOld, QStringLiteral("the token was issued at %1, more than %2 s ago").arg(isoTime(out.issuedAt)).arg(req.maxTokenAge->count()));
    if (req.maxAuthAge) {
        if (!out.authTime)
            return fail(ErrorCode::AuthTimeMissing, QStringLiteral("the token has no \"auth_time\" although max_age was requested"));
        if (now - *out.authTime > req.maxAuthAge->count() + leeway)
            return fail(ErrorCode::AuthTimeTooOld, QStringLiteral("the user authenticated at %1, more than %2 s ago").arg(isoTime(*out.authTime)).arg(req.maxAuthAge->count()));
    }
    return {};
}

// Step 11: the nonce this request sent, when it sent one.
Status checkNonce(const Claims &claims, const IdTokenRequirements &req)
{
    if (!req.nonce)
        return {};
    auto nonce = stringClaim(claims, "nonce");
    if (!nonce)
        return tl::unexpected(nonce.error());
    if (!claims.contains("nonce"))
        return fail(ErrorCode::NonceMissing, QStringLiteral("the token carries no nonce although one was sent"));
    if (*nonce != *req.nonce)
        return fail(ErrorCode::NonceMismatch,
            QStringLiteral("the token's nonce is not the one this request sent (replayed or mixed-up response)"));
    return {};
}

// "sub" (§2): present, and the user who must re-authenticate when we know who that is.
Status checkSubject(const Claims &claims, const IdTokenRequirements &req, IdToken &out)
{
    auto sub = stringClaim(claims, "sub");
    if (!sub)
        return tl::unexpected(sub.error());
    if (sub->isEmpty())
        return fail(ErrorCode::SubjectMissing, QStringLiteral("the token has no subject"));
    if (req.subject && *sub != *req.subject)
        return fail(ErrorCode::SubjectMismatch, QStringLiteral("the token is for another user than the one who must re-authenticate"));
    out.subject = *sub;
    return {};
}

// Step 12: "acr" names one of the methods the request asked for.
Status checkAcr(const Claims &claims, const IdTokenRequirements &req)
{
    if (req.acrValues.isEmpty())
        return {};
    auto acr = stringClaim(claims, "acr");
    if (!acr)
        return tl::unexpected(acr.error());
    if (acr->isEmpty())
        return fail(ErrorCode::InvalidClaim,
            QStringLiteral("the token names no authentication method (acr), but the request asked for one of: %1")
                .arg(req.acrValues.join(u' ')));
    if (!req.acrValues.contains(*acr))
        return fail(ErrorCode::InvalidClaim,
            QStringLiteral("the identity provider used the authentication method \"%1\", not one of those asked for: %2")
                .arg(*acr, req.acrValues.join(u' ')));
    return {};
}

} // namespace

// The steps of OIDC Core §3.1.3.7 in the order their errors take precedence:
// the signature (steps 6 to 8) first, then the claims.
Result<IdToken> validateIdToken(
    QByteArrayView token, const jose::JwkSet &issuerKeys, const IdTokenRequirements &req, const Clock &clock)
{
    jose::JwsVerifyOptions jwsOptions;
    jwsOptions.allowed = req.allowedAlgorithms;
    auto jws = jose::verifyCompact(token, issuerKeys, jwsOptions);
    if (!jws)
        return tl::unexpected(jws.error());

    IdToken out;
    out.header = std::move(jws->header);
    out.payload = std::move(jws->payload);
    auto parsedClaims = Claims::parse(out.payload, kClaimsLimits);
    if (!parsedClaims)
        return fail(ErrorCode::Malformed, QStringLiteral("claims: %1").arg(parsedClaims.error().message));
    const Claims &claims = *parsedClaims;

    const Status valid = checkIssuer(claims, req, out)
                             .and_then([&] { return checkAudience(claims, req); })
                             .and_then([&] { return checkTimes(claims, req, clock, out); })
                             .and_then([&] { return checkNonce(claims, req); })
                             .and_then([&] { return checkSubject(claims, req, out); })
                             .and_then([&] { return checkAcr(claims, req); });
    if (!valid)
        return tl::unexpected(valid.error());
    return out;
}

} // namespace hotdesk::oidc

// Fuzz target: the ID token claim checks. The input is the payload; the target
// signs it with a fixed HS256 key, so every input gets past the signature and
// reaches the claims, and an accepted token is checked again against the rules.
#include "fuzztarget.h"

#include "core/clock.h"
#include "core/jose/jws.h"
#include "core/oidc/idtokenvalidator.h"

#include <QJsonArray>

#include <cmath>

using namespace hotdesk;
using namespace std::chrono_literals;

namespace {

// A minute after the sample token in resources/samples was issued, so its claims pass.
constexpr qint64 kNow = 1'767'225'660;

class FixedClock final : public Clock {
public:
    std::chrono::system_clock::time_point now() const override
    {
        return std::chrono::system_clock::time_point(std::chrono::seconds(kNow));
    }
};

const jose::Jwk &macKey()
{
    static const jose::Jwk key = [] {
        jose::JwkOptions options;
        options.allowSymmetric = true;
        options.allowPrivate = true;
        // The secret need not be secret: the target signs for the fuzzer on purpose.
        const auto parsed = jose::Jwk::fromJson(
            QByteArrayView(R"({"kty":"oct","kid":"fuzz-hs256","alg":"HS256","k":"aG90ZGVzay1mdXp6LWlkdG9rZW4tZml4ZWQtbWFjLWtleQ"})"),
            options);
        if (!parsed)
            fuzz::setupFailed("fuzz_idtoken", parsed.error().message);
        return *parsed;
    }();
    return key;
}

// Every optional check switched on, with the values of the sample token.
const oidc::IdTokenRequirements &requirements()
{
    static const oidc::IdTokenRequirements req = [] {
        oidc::IdTokenRequirements r;
        r.issuer = QStringLiteral("https://idp.hotdesk.example");
        r.clientId = QStringLiteral("hotdesk-demo");
        r.trustedAudiences = {QStringLiteral("hotdesk-audit")};
        r.nonce = QStringLiteral("demo-nonce-4711");
        r.subject = QStringLiteral("sid-7c1e0b5a9d2f4e6b8a3c1d0e9f8a7b6c");
        r.leeway = 60s;
        r.maxTokenAge = 600s;
        r.maxAuthAge = 300s;
        r.allowedAlgorithms = {jose::Algorithm::HS256};
        return r;
    }();
    return req;
}

[[noreturn]] void broken(const QString &what)
{
    fuzz::invariantBroken("fuzz_idtoken", QStringLiteral("accepted a token whose %1").arg(what));
}

// NumericDate as the validator reads it: seconds, fractions truncated.
qint64 seconds(const QJsonObject &claims, const char *name)
{
    return qint64(std::trunc(claims.value(QLatin1String(name)).toDouble()));
}

// The acceptance rules restated from OIDC Core §3.1.3.7, independently of the
// validator's code path, for the token it accepted.
void checkAccepted(const oidc::IdToken &token, const oidc::IdTokenRequirements &req)
{
    // Built by the full strict reader, not the view the validator read them through.
    const QJsonObject claims = token.claims();
    if (claims.isEmpty())
        broken(QStringLiteral("an accepted token's claims do not read as a strict JSON object"));
    if (claims.value(QLatin1String("iss")) != QJsonValue(*req.issuer) || token.issuer != *req.issuer)
        broken(QStringLiteral("issuer is not the expected one"));
    if (claims.value(QLatin1String("sub")) != QJsonValue(*req.subject) || token.subject != *req.subject)
        broken(QStringLiteral("subject is not the expected one"));
    if (claims.value(QLatin1String("nonce")) != QJsonValue(*req.nonce))
        broken(QStringLiteral("nonce is not the one sent"));

    QStringList audiences;
    const QJsonValue aud = claims.value(QLatin1String("aud"));
    if (aud.isString()) {
        audiences << aud.toString();
    } else if (aud.isArray()) {
        for (const QJsonValue &a : aud.toArray()) {
            if (!a.isString())
                broken(QStringLiteral("\"aud\" holds a non-string"));
            audiences << a.toString();
        }
    } else {
        broken(QStringLiteral("\"aud\" is neither a string nor an array"));
    }
    if (!audiences.contains(*req.clientId))
        broken(QStringLiteral("audience does not include the client"));
    for (const QString &a : std::as_const(audiences)) {
        if (a != *req.clientId && !req.trustedAudiences.contains(a))
            broken(QStringLiteral("audience includes the untrusted \"%1\"").arg(a));
    }
    // An azp that is present must be our client_id; with several audiences it must be present.
    const QJsonValue azp = claims.value(QLatin1String("azp"));
    if ((audiences.size() > 1 || !azp.isUndefined()) && azp != QJsonValue(*req.clientId))
        broken(QStringLiteral("\"azp\" is %1, not the client").arg(azp.isUndefined() ? QStringLiteral("missing") : QStringLiteral("\"%1\"").arg(azp.toVariant().toString())));

    for (const char *name : {"exp", "iat", "auth_time"}) {
        if (!claims.value(QLatin1String(name)).isDouble())
            broken(QStringLiteral("\"%1\" is not a number").arg(QLatin1String(name)));
    }
    const qint64 leeway = req.leeway.count();
    const qint64 exp = seconds(claims, "exp");
    const qint64 iat = seconds(claims, "iat");
    const qint64 authTime = seconds(claims, "auth_time");
    if (token.expiresAt != exp || token.issuedAt != iat || token.authTime != authTime)
        broken(QStringLiteral("times were not reported as the claims give them"));
    if (kNow >= exp + leeway)
        broken(QStringLiteral("\"exp\" has passed"));
    if (iat > kNow + leeway)
        broken(QStringLiteral("\"iat\" is in the future"));
    if (kNow - iat > req.maxTokenAge->count() + leeway)
        broken(QStringLiteral("\"iat\" is older than the maximum token age"));
    if (kNow - authTime > req.maxAuthAge->count() + leeway)
        broken(QStringLiteral("\"auth_time\" is older than max_age"));
    const QJsonValue nbf = claims.value(QLatin1String("nbf"));
    if (!nbf.isUndefined() && (!nbf.isDouble() || kNow < seconds(claims, "nbf") - leeway))
        broken(QStringLiteral("\"nbf\" is not a number or not yet reached"));
}

} // namespace

HOTDESK_FUZZ_TARGET(fuzz_idtoken)
{
    const QByteArrayView payload = fuzz::bytesOf(data, size);
    const auto token = jose::signCompact(payload, macKey(), jose::Algorithm::HS256, {{QStringLiteral("typ"), QStringLiteral("JWT")}});
    if (!token)
        fuzz::invariantBroken("fuzz_idtoken", QStringLiteral("signCompact failed: %1").arg(token.error().message));
    if (token->size() > jose::kMaxJwsSize)
        return 0; // refused by size alone, long before the claims

    const jose::JwkSet keys({macKey()});
    const oidc::IdTokenRequirements &req = requirements();
    // Our own signature must always verify, or the claim checks below are never reached.
    jose::JwsVerifyOptions jwsOptions;
    jwsOptions.allowed = req.allowedAlgorithms;
    const auto jws = jose::verifyCompact(*token, keys, jwsOptions);
    if (!jws)
        fuzz::invariantBroken("fuzz_idtoken", QStringLiteral("a token the target signed does not verify: %1").arg(jws.error().message));
    if (jws->payload != payload)
        fuzz::invariantBroken("fuzz_idtoken", QStringLiteral("the verified payload differs from the signed one"));

    const auto result = oidc::validateIdToken(*token, keys, req, FixedClock());
    fuzz::noteOutcome(result);
    if (!result) {
        const ErrorCode code = result.error().code;
        if (code == ErrorCode::BadSignature || code == ErrorCode::KeyNotFound || code == ErrorCode::AlgNotAllowed)
            fuzz::invariantBroken("fuzz_idtoken", QStringLiteral("validateIdToken refused the signature it was given: %1").arg(result.error().message));
        return 0;
    }
    checkAccepted(*result, req);
    return 0;
}

// The DAS's OpenID CIBA requests (docs/ciba.md): POST /v1/ciba-requests signs a
// backchannel authentication request for an enrolled device's user.
#include "dasservice.h"
#include "dasservice_p.h"

#include "core/jose/jws.h"

namespace hotdesk::stubs::das {
namespace {

// CIBA Core §7.1: how long the device may wait for the user; the IdP may give less.
constexpr qint64 kDefaultRequestedExpiry = 120;
constexpr qint64 kMaxRequestedExpiry = 600;

} // namespace

struct DasService::CibaIssue {
    QString user;
    QString sharedId;
    QString acrValues;
    qint64 requestedExpiry = kDefaultRequestedExpiry;
    int number = 0;
};

Result<Checked<DasService::CibaIssue>> DasService::checkCibaRequest(QSqlDatabase &db, const QHttpServerRequest &request)
{
    auto checked = deviceRequest(db, request);
    if (!checked || !*checked)
        return passOn<CibaIssue>(checked);
    const DeviceRequest &sent = **checked;
    auto user = requireString(sent.body, "user", 512);
    if (!user)
        return refuse<CibaIssue>(problemFor(user.error()));
    auto fingerprint = fingerprintField(sent.body);
    if (!fingerprint)
        return refuse<CibaIssue>(fingerprint.error());
    auto acrValues = acrValuesField(sent.body);
    if (!acrValues)
        return refuse<CibaIssue>(acrValues.error());
    CibaIssue issue;
    issue.acrValues = *acrValues;
    const QJsonValue expiry = sent.body.value(QLatin1String("requested_expiry"));
    if (!expiry.isUndefined()) {
        const double seconds = expiry.toDouble(-1);
        if (!expiry.isDouble() || seconds != double(qint64(seconds)) || seconds < 1 || seconds > kMaxRequestedExpiry)
            return refuse<CibaIssue>(problem(HttpStatus::BadRequest, "malformed-request", "Malformed request",
                QStringLiteral("\"requested_expiry\" must be a whole number of seconds from 1 to %1").arg(kMaxRequestedExpiry)));
        issue.requestedExpiry = qint64(seconds);
    }
    auto name = checkedUserName(*user);
    if (!name)
        return refuse<CibaIssue>(problemFor(name.error()));
    auto known = findUser(db, *name);
    if (!known)
        return tl::unexpected(known.error());
    if (!*known)
        return refuse<CibaIssue>(problem(HttpStatus::NotFound, "user-unknown", "Unknown user",
            QStringLiteral("this DAS knows no user \"%1\"; register the user first (POST /v1/users)").arg(*name)));
    auto recognized = recognizeDevice(db, sent.device, *name, *fingerprint);
    if (!recognized)
        return tl::unexpected(recognized.error());
    if (!*recognized)
        return refuse<CibaIssue>(recognized->error());
    auto number = randomTwoDigitNumber(m_random);
    if (!number)
        return tl::unexpected(number.error());
    issue.user = *name;
    issue.sharedId = (*known)->sharedId;
    issue.number = *number;
    return Checked<CibaIssue>(std::move(issue));
}

QHttpServerResponse DasService::cibaRequest(const QHttpServerRequest &request)
{
    std::optional<jose::Jwk> key;
    auto issue = inTransaction<CibaIssue>(*m_context.store, [&](QSqlDatabase &db) -> Result<Checked<CibaIssue>> {
        auto current = m_signingKeys.currentKey(db);
        if (!current)
            return tl::unexpected(current.error());
        key = std::move(*current);
        return checkCibaRequest(db, request);
    });
    if (!issue)
        return answer(issue.error());
    if (issuer().isEmpty())
        return answer(problem(HttpStatus::ServiceUnavailable, "issuer-unknown", "No OpenID Provider",
            QStringLiteral("this DAS knows no OpenID Provider; start it with --issuer URL or together with the idp role")));
    auto jwt = signCibaRequest(*issue, *key);
    if (!jwt)
        return answer(problemFor(jwt.error()));
    // binding_message is the number to match: decimal digits only (docs/ciba.md).
    return jsonResponse(JsonWriter()
                            .add("request", QString::fromLatin1(*jwt))
                            .add("client_id", m_context.clientId)
                            .add("issuer", issuer())
                            .add("shared_id", issue->sharedId)
                            .add("binding_message", QString::number(issue->number))
                            .add("requested_expiry", issue->requestedExpiry)
                            .add("expires_in", qint64(kRequestObjectLifetime.count()))
                            .finish(),
        HttpStatus::Created);
}

Result<QByteArray> DasService::signCibaRequest(const CibaIssue &issue, const jose::Jwk &key)
{
    auto jti = randomUrlSafeString(m_random, 16);
    if (!jti)
        return tl::unexpected(jti.error());
    const qint64 now = m_context.clock->secondsSinceEpoch();
    JsonWriter claims;
    claims.add("iss", m_context.clientId)
        .add("aud", issuer())
        .add("client_id", m_context.clientId)
        .add("scope", QStringLiteral("openid"))
        .add("login_hint", issue.sharedId)
        .add("binding_message", QString::number(issue.number))
        .add("requested_expiry", issue.requestedExpiry)
        .add("jti", QString::fromLatin1(*jti))
        .add("iat", now)
        .add("nbf", now)
        .add("exp", now + kRequestObjectLifetime.count());
    if (!issue.acrValues.isEmpty())
        claims.add("acr_values", issue.acrValues);
    // No "typ": RFC 9101's oauth-authz-req+jwt names authorization request objects, and CIBA Core defines none.
    return jose::signCompact(claims.finish(), key, jose::Algorithm::ES256);
}

} // namespace hotdesk::stubs::das

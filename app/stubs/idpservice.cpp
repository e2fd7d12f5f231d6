// OpenID Provider role.
#include "idpservice.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace hotdesk::stubs {

IdpService::IdpService(StubsContext &context, QObject *parent)
    : HttpService(QStringLiteral("idp"), parent)
    , m_context(context)
    , m_keys(*context.store, QStringLiteral("idp"), jose::Algorithm::ES256, *context.clock)
{
    server().route(QStringLiteral("/.well-known/openid-configuration"), QHttpServerRequest::Method::Get, [this] { return discovery(); });
    server().route(QStringLiteral("/jwks"), QHttpServerRequest::Method::Get, [this] { return jwks(); });
}

Status IdpService::prepare()
{
    // Make the signing key now, not on the first request.
    if (auto key = m_keys.currentKey(); !key)
        return tl::unexpected(key.error());
    return {};
}

QString IdpService::issuer() const
{
    QString url = baseUrl().toString(QUrl::FullyEncoded);
    while (url.endsWith(QLatin1Char('/')))
        url.chop(1);
    return url;
}

QHttpServerResponse IdpService::discovery() const
{
    const QString base = issuer();
    auto at = [&base](const char *path) { return QString(base + QLatin1String(path)); };
    const QJsonObject doc{
        {QStringLiteral("issuer"), base},
        {QStringLiteral("authorization_endpoint"), at("/authorize")},
        {QStringLiteral("token_endpoint"), at("/token")},
        {QStringLiteral("userinfo_endpoint"), at("/userinfo")},
        {QStringLiteral("jwks_uri"), at("/jwks")},
        {QStringLiteral("response_types_supported"), QJsonArray{QStringLiteral("code")}},
        {QStringLiteral("grant_types_supported"), QJsonArray{QStringLiteral("authorization_code")}},
        {QStringLiteral("subject_types_supported"), QJsonArray{QStringLiteral("public")}},
        {QStringLiteral("id_token_signing_alg_values_supported"), QJsonArray{jose::algorithmName(m_keys.algorithm())}},
        {QStringLiteral("request_object_signing_alg_values_supported"), QJsonArray{QStringLiteral("ES256")}},
        {QStringLiteral("request_parameter_supported"), true},
        {QStringLiteral("require_signed_request_object"), true},
        {QStringLiteral("code_challenge_methods_supported"), QJsonArray{QStringLiteral("S256")}},
        {QStringLiteral("authorization_response_iss_parameter_supported"), true},
        {QStringLiteral("token_endpoint_auth_methods_supported"), QJsonArray{QStringLiteral("none")}},
        {QStringLiteral("claims_parameter_supported"), true},
        {QStringLiteral("scopes_supported"), QJsonArray{QStringLiteral("openid")}},
    };
    return jsonResponse(doc);
}

QHttpServerResponse IdpService::jwks()
{
    auto keys = m_keys.publishedKeys();
    if (!keys)
        return problemResponse(problemFor(keys.error()));
    QHttpServerResponse response("application/jwk-set+json", QJsonDocument(keys->toPublicJson()).toJson(QJsonDocument::Compact));
    // Short caching, so a rotation reaches verifiers within a minute.
    response.setHeader("Cache-Control", "public, max-age=60");
    return response;
}

} // namespace hotdesk::stubs

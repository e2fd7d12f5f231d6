// OpenID Provider discovery.
#include "discovery.h"

#include <QJsonArray>

namespace hotdesk::oidc {
namespace {

const QString kWellKnown = QStringLiteral("/.well-known/openid-configuration");

QString shown(const QUrl &url)
{
    return url.toString(QUrl::RemoveUserInfo | QUrl::RemoveQuery | QUrl::RemoveFragment);
}

// An endpoint member: absent is fine only when not required; present, it must be a secure absolute URL.
Result<QUrl> endpoint(const QJsonObject &doc, const char *name, bool required, const QString &issuer)
{
    const QJsonValue value = doc.value(QLatin1String(name));
    const QString where = QStringLiteral("the discovery document of %1").arg(issuer);
    if (value.isUndefined() || value.isNull()) {
        if (!required)
            return QUrl();
        return fail(ErrorCode::MalformedAnswer,
            QStringLiteral("%1 has no \"%2\"; the identity provider is not usable as an OpenID Provider, tell your administrator")
                .arg(where, QLatin1String(name)));
    }
    if (!value.isString())
        return fail(ErrorCode::MalformedAnswer, QStringLiteral("\"%2\" in %1 is not a string").arg(where, QLatin1String(name)));
    const QUrl url(value.toString(), QUrl::StrictMode);
    if (!url.isValid() || url.isRelative() || url.host().isEmpty() || url.hasFragment() || !url.userInfo().isEmpty())
        return fail(ErrorCode::MalformedAnswer,
            QStringLiteral("\"%2\" in %1 is not an absolute URL without fragment: \"%3\"")
                .arg(where, QLatin1String(name), value.toString()));
    if (!isSecureEndpoint(url))
        return fail(ErrorCode::MalformedAnswer,
            QStringLiteral("\"%2\" in %1 is not an https URL (%3); Hotdesk talks to the identity provider over TLS only")
                .arg(where, QLatin1String(name), shown(url)));
    return url;
}

} // namespace

bool isSecureEndpoint(const QUrl &url)
{
    if (url.scheme() == QLatin1String("https"))
        return true;
    if (url.scheme() != QLatin1String("http"))
        return false;
    const QString host = url.host();
    return host == QLatin1String("127.0.0.1") || host == QLatin1String("::1") || host == QLatin1String("localhost");
}

Result<QUrl> discoveryUrl(const QString &issuer)
{
    const QUrl url(issuer, QUrl::StrictMode);
    if (issuer.isEmpty() || !url.isValid() || url.isRelative() || url.host().isEmpty() || url.hasQuery() || url.hasFragment()
        || !url.userInfo().isEmpty() || !isSecureEndpoint(url))
        return fail(ErrorCode::Malformed,
            QStringLiteral("the identity provider issuer \"%1\" is not an https URL without query and fragment; "
                           "correct the issuer in the policy")
                .arg(issuer));
    QString base = url.toString(QUrl::FullyEncoded);
    // Only the terminating slash goes (Discovery §4.1): "https://idp/realms/r/" -> "https://idp/realms/r".
    if (base.endsWith(QLatin1Char('/')))
        base.chop(1);
    return QUrl(QString(base + kWellKnown), QUrl::StrictMode);
}

Result<ProviderMetadata> parseProviderMetadata(const QJsonObject &doc, const QString &expectedIssuer)
{
    const QJsonValue issuer = doc.value(QLatin1String("issuer"));
    if (!issuer.isString())
        return fail(ErrorCode::MalformedAnswer,
            QStringLiteral("the discovery document of %1 has no \"issuer\" string; tell your administrator").arg(expectedIssuer));
    // Exact comparison, no normalisation (Discovery §4.3): a trailing slash or a
    // different case is a different issuer, and ID tokens would not match it either.
    if (issuer.toString() != expectedIssuer)
        return fail(ErrorCode::IssuerMismatch,
            QStringLiteral("the identity provider says its issuer is \"%1\", but the policy expects \"%2\"; "
                           "the issuer in the policy must be exactly the IdP's")
                .arg(issuer.toString(), expectedIssuer));

    ProviderMetadata m;
    m.issuer = issuer.toString();
    m.document = doc;
    struct Member {
        const char *name;
        bool required;
        QUrl *target;
    };
    for (const Member &member :
        {Member {"authorization_endpoint", true, &m.authorizationEndpoint}, Member {"token_endpoint", true, &m.tokenEndpoint},
            Member {"jwks_uri", true, &m.jwksUri}, Member {"userinfo_endpoint", false, &m.userinfoEndpoint},
            Member {"backchannel_authentication_endpoint", false, &m.backchannelAuthenticationEndpoint}}) {
        auto url = endpoint(doc, member.name, member.required, expectedIssuer);
        if (!url)
            return tl::unexpected(url.error());
        *member.target = *url;
    }

    const QJsonValue iss = doc.value(QLatin1String("authorization_response_iss_parameter_supported"));
    if (!iss.isUndefined() && !iss.isBool())
        return fail(ErrorCode::MalformedAnswer,
            QStringLiteral("\"authorization_response_iss_parameter_supported\" in the discovery document of %1 is not a boolean")
                .arg(expectedIssuer));
    m.issParameterSupported = iss.toBool(false);

    const QJsonValue algs = doc.value(QLatin1String("id_token_signing_alg_values_supported"));
    if (!algs.isUndefined()) {
        if (!algs.isArray())
            return fail(ErrorCode::MalformedAnswer,
                QStringLiteral("\"id_token_signing_alg_values_supported\" in the discovery document of %1 is not an array")
                    .arg(expectedIssuer));
        for (const QJsonValue &alg : algs.toArray()) {
            if (!alg.isString())
                return fail(ErrorCode::MalformedAnswer,
                    QStringLiteral("\"id_token_signing_alg_values_supported\" in the discovery document of %1 holds a non-string")
                        .arg(expectedIssuer));
            m.idTokenSigningAlgs << alg.toString();
        }
    }
    return m;
}

void fetchProviderMetadata(net::HttpClient &http, const QString &issuer, std::function<void(Result<ProviderMetadata>)> done)
{
    auto url = discoveryUrl(issuer);
    if (!url) {
        done(tl::unexpected(url.error()));
        return;
    }
    http.send(net::HttpRequest::get(*url), [issuer, done = std::move(done)](Result<net::HttpResponse> response) {
        if (!response) {
            done(tl::unexpected(response.error()));
            return;
        }
        if (!response->isSuccess()) {
            done(fail(ErrorCode::ServerError,
                QStringLiteral(
                    "the identity provider's discovery document is not available: %1; try again later or tell your administrator")
                    .arg(net::describeAnswer(*response))));
            return;
        }
        auto doc = net::jsonObjectOf(*response, QStringLiteral("the discovery document"));
        if (!doc) {
            done(tl::unexpected(doc.error()));
            return;
        }
        done(parseProviderMetadata(*doc, issuer));
    });
}

} // namespace hotdesk::oidc

// OpenID Provider discovery (OpenID Connect Discovery 1.0 §4): where the IdP's endpoints and keys are.
#pragma once

#include "../net/httpclient.h"
#include "../result.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <functional>

namespace hotdesk::oidc {

struct ProviderMetadata {
    QString issuer;
    QUrl authorizationEndpoint;
    QUrl tokenEndpoint;
    QUrl jwksUri;
    QUrl userinfoEndpoint; // empty when the IdP has none
    QUrl backchannelAuthenticationEndpoint; // OpenID CIBA; empty when the IdP has none
    // RFC 9207: the IdP puts "iss" in every authorization response, so a response without it is refused.
    bool issParameterSupported = false;
    QStringList idTokenSigningAlgs;
    QJsonObject document; // the whole document, for members nobody reads yet
};

// Whether url may carry the protocol: https, or http to a loopback host
// (127.0.0.1, ::1, localhost) for development and the companion servers.
bool isSecureEndpoint(const QUrl &url);

// issuer + "/.well-known/openid-configuration", a terminating "/" of the
// issuer removed first (Discovery §4.1). An issuer that is not an absolute
// https URL without query and fragment is Malformed.
Result<QUrl> discoveryUrl(const QString &issuer);

// Checks a discovery document: "issuer" must equal expectedIssuer exactly
// (Discovery §4.3; IssuerMismatch), the authorization, token and JWKS
// endpoints must be present and secure endpoints (MalformedAnswer), and so
// must the userinfo endpoint when named.
Result<ProviderMetadata> parseProviderMetadata(const QJsonObject &doc, const QString &expectedIssuer);

// GETs the discovery document of issuer and checks it. Errors: those of
// HttpClient (Unreachable, Tls, Timeout, TooLarge, Cancelled), ServerError for
// any answer but 2xx, MalformedAnswer for a body that is not a JSON object or
// not a valid document, IssuerMismatch. done runs exactly once.
void fetchProviderMetadata(net::HttpClient &http, const QString &issuer, std::function<void(Result<ProviderMetadata>)> done);

} // namespace hotdesk::oidc

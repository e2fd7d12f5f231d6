// The authorization request URL (RFC 9101 request object) and the checks of the authorization response (RFC 6749 §4.1.2, RFC
// 9207).
#pragma once

#include "../result.h"

#include <QByteArray>
#include <QString>
#include <QUrl>

namespace hotdesk::oidc {

// endpoint?client_id=…&response_type=code&scope=openid&request=JWT. The
// endpoint's own query items are kept (RFC 6749 §3.1) except those four,
// which must not appear twice. response_type and scope travel beside the
// request object because OpenID Connect Core §6.1 requires them as plain
// parameters; the IdP uses the values inside the signed object.
QUrl authorizationUrl(const QUrl &endpoint, const QString &clientId, const QByteArray &requestObject);

struct RedirectExpectations {
    QString redirectUri; // exactly as sent in the request object
    QString state;
    QString issuer;
    // ProviderMetadata::issParameterSupported: a response without "iss" is then refused (RFC 9207 §2.4).
    bool issRequired = true;
};

// Whether url goes to redirectUri: scheme, host, port and path equal exactly,
// no user info. Query and fragment are not compared (they carry the response).
bool matchesRedirectUri(const QUrl &url, const QString &redirectUri);

// The authorization code from the redirect to the client. Checked in this
// order, the first failure wins:
//  - the URL is not the redirect URI, or a parameter appears twice: MalformedAnswer;
//  - "state" missing or different: StateMismatch (the response belongs to no
//    request of ours, so nothing else in it is trusted);
//  - "iss" different from the issuer, or missing while issRequired: IssuerMismatch
//    (RFC 9207: a mix-up attack);
//  - "error": access_denied is AccessDenied, any other code (login_required, …)
//    ServerError, both naming the code and the IdP's description;
//  - "code" missing or empty: MalformedAnswer.
Result<QString> codeFromRedirect(const QUrl &redirect, const RedirectExpectations &expect);

} // namespace hotdesk::oidc

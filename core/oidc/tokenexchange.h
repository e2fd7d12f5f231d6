// The authorization code exchanged for tokens at the token endpoint (RFC 6749 §4.1.3, PKCE RFC 7636, public client).
#pragma once

#include "../net/httpclient.h"
#include "../result.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QUrl>

#include <functional>

namespace hotdesk::oidc {

struct CodeExchange {
    QString code;
    QString codeVerifier;
    QString redirectUri; // the one of the authorization request, exactly
    QString clientId;
};

struct TokenResponse {
    QByteArray idToken; // not validated here: validateIdToken does that
    QByteArray accessToken;
    QString tokenType; // "Bearer"
    qint64 expiresIn = 0; // seconds; 0 when the IdP did not say
    QJsonObject document; // the whole answer
};

// POSTs grant_type=authorization_code with code, code_verifier, redirect_uri
// and client_id (no client secret: the agent is a public client). Errors:
// those of HttpClient; ServerError for an OAuth error answer (RFC 6749 §5.2;
// the message names the error code, e.g. invalid_grant, and its description)
// and for any other non-2xx answer; MalformedAnswer for a 2xx body that is
// not a JSON object, lacks id_token or access_token, or has a token_type
// other than Bearer. done runs exactly once.
void exchangeCode(net::HttpClient &http, const QUrl &tokenEndpoint, const CodeExchange &exchange,
    std::function<void(Result<TokenResponse>)> done);

// The checks of exchangeCode on an answer already received.
Result<TokenResponse> parseTokenResponse(const net::HttpResponse &response);

} // namespace hotdesk::oidc

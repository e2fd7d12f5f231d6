// URL rules of the embedded sign-in browser, shared by hotdesk_ui and the WebEngine module.
#pragma once

#include <QString>
#include <QUrl>

namespace hotdesk::ui {

// The private-use URI scheme of the agent's redirect URI (RFC 8252 §7.1):
// com.hotdesk.agent:/callback.
inline constexpr char kRedirectScheme[] = "com.hotdesk.agent";

// True when url is the redirect URI whatever its query and fragment: same
// scheme, host, port and path. That is what the IdP sends back to.
bool matchesRedirectUri(const QUrl &url, const QUrl &redirectUri);
// "https://idp.example:8443": the scheme, host and port that make up url's origin.
QString originOf(const QUrl &url);

bool isWebUrl(const QUrl &url);
bool sameOrigin(const QUrl &a, const QUrl &b);
// The endpoint the redirect URI names: every request there is the agent's to
// receive, whatever its path.
bool atRedirectEndpoint(const QUrl &url, const QUrl &redirectUri);

} // namespace hotdesk::ui

// URL rules of the embedded sign-in browser.
#include "browserurls.h"

namespace hotdesk::ui {
namespace {

int effectivePort(const QUrl &url)
{
    const QString scheme = url.scheme();
    if (scheme == QLatin1String("https") || scheme == QLatin1String("wss"))
        return url.port(443);
    if (scheme == QLatin1String("http") || scheme == QLatin1String("ws"))
        return url.port(80);
    return url.port(-1);
}

} // namespace

bool isWebUrl(const QUrl &url)
{
    return url.scheme() == QLatin1String("https") || url.scheme() == QLatin1String("http");
}

bool sameOrigin(const QUrl &a, const QUrl &b)
{
    return a.scheme() == b.scheme() && a.host() == b.host() && effectivePort(a) == effectivePort(b);
}

// The private-use scheme, or the loopback listener's host and port with any
// scheme (an https:// or ws:// request would reach the same socket).
bool atRedirectEndpoint(const QUrl &url, const QUrl &redirectUri)
{
    if (url.scheme() == QLatin1String(kRedirectScheme))
        return true;
    return redirectUri.scheme() != QLatin1String(kRedirectScheme) && url.host() == redirectUri.host()
        && effectivePort(url) == effectivePort(redirectUri);
}

bool matchesRedirectUri(const QUrl &url, const QUrl &redirectUri)
{
    if (!url.isValid() || !redirectUri.isValid() || redirectUri.isEmpty())
        return false;
    return url.scheme() == redirectUri.scheme() && url.host() == redirectUri.host()
        && effectivePort(url) == effectivePort(redirectUri)
        && url.path(QUrl::FullyEncoded) == redirectUri.path(QUrl::FullyEncoded);
}

QString originOf(const QUrl &url)
{
    return url.adjusted(QUrl::RemoveUserInfo | QUrl::RemovePath | QUrl::RemoveQuery | QUrl::RemoveFragment)
        .toString(QUrl::FullyEncoded);
}

} // namespace hotdesk::ui

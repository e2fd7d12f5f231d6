// The relayed frontend: the URL goes out by a signal, the redirect comes back through deliver().
#include "relayfrontend.h"

#include "../oidc/authorization.h"

namespace hotdesk::flow {

QString RelayFrontend::privateUseRedirectUri()
{
    return QStringLiteral("com.hotdesk.agent:/callback");
}

Status RelayFrontend::checkRedirectUri(const QString &redirectUri)
{
    if (redirectUri == privateUseRedirectUri())
        return {};
    const QUrl url(redirectUri, QUrl::StrictMode);
    const bool loopback = url.isValid() && url.scheme() == u"http" && url.port() > 0
        && (url.host() == u"127.0.0.1" || url.host() == u"::1") && url.path() == u"/callback" && !url.hasQuery()
        && !url.hasFragment() && url.userInfo().isEmpty();
    if (loopback)
        return {};
    return fail(ErrorCode::Unsupported,
        QStringLiteral("the redirect URI \"%1\" cannot be relayed; use %2 or http://127.0.0.1:PORT/callback")
            .arg(redirectUri, privateUseRedirectUri()));
}

RelayFrontend::RelayFrontend(QString redirectUri, QObject *parent)
    : AuthorizationFrontend(parent)
    , m_redirectUri(std::move(redirectUri))
{
}

Result<QString> RelayFrontend::prepare()
{
    m_waiting = false;
    if (auto ok = checkRedirectUri(m_redirectUri); !ok)
        return tl::unexpected(ok.error());
    return m_redirectUri;
}

void RelayFrontend::open(const QUrl &authorizationUrl)
{
    m_waiting = true;
    Q_EMIT authorizationUrlReady(authorizationUrl);
}

void RelayFrontend::close()
{
    m_waiting = false;
}

Status RelayFrontend::deliver(const QUrl &redirect)
{
    if (!m_waiting)
        return fail(ErrorCode::StateMismatch, QStringLiteral("no sign-in is waiting for an authorization response"));
    if (!oidc::matchesRedirectUri(redirect, m_redirectUri))
        return fail(ErrorCode::MalformedAnswer,
            QStringLiteral("the authorization response must go to %1, not to \"%2\"; it was refused")
                .arg(
                    m_redirectUri, redirect.toString(QUrl::RemoveQuery | QUrl::RemoveFragment | QUrl::RemoveUserInfo).left(200)));
    m_waiting = false;
    Q_EMIT redirected(redirect);
    return {};
}

} // namespace hotdesk::flow

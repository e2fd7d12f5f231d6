// servers.proxy: parsing and the per-request choice.
#include "proxy.h"

#include <QHostAddress>

namespace hotdesk::net {

Result<ProxySetting> ProxySetting::parse(const QString &text)
{
    ProxySetting setting;
    if (text.isEmpty() || text == QLatin1String("system"))
        return setting;
    if (text == QLatin1String("none")) {
        setting.mode = Mode::None;
        return setting;
    }
    const QUrl url(text, QUrl::StrictMode);
    // The message names the setting without any password in it: it goes to logs.
    const QString shown = url.isValid() ? url.toString(QUrl::RemoveUserInfo) : QStringLiteral("(not a URL)");
    const auto refuse = [&shown](const QString &why) {
        return fail(ErrorCode::PolicyInvalid,
            QStringLiteral("servers.proxy \"%1\": %2; use \"system\", \"none\" or http://HOST:PORT").arg(shown, why));
    };
    if (!url.isValid() || url.scheme() != QLatin1String("http") || url.host().isEmpty())
        return refuse(QStringLiteral("not an http:// proxy URL"));
    if (url.port() <= 0)
        return refuse(QStringLiteral("the port is missing"));
    if (!url.userInfo().isEmpty())
        return refuse(QStringLiteral("a user name or password does not belong in the policy"));
    if ((!url.path().isEmpty() && url.path() != QLatin1String("/")) || url.hasQuery() || url.hasFragment())
        return refuse(QStringLiteral("a proxy URL has no path, query or fragment"));
    setting.mode = Mode::Http;
    setting.url = url;
    return setting;
}

PolicyProxyFactory::PolicyProxyFactory(ProxySetting setting)
    : m_setting(std::move(setting))
{
}

bool PolicyProxyFactory::isLoopbackHost(const QString &host)
{
    if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0)
        return true;
    const QHostAddress address(host);
    return !address.isNull() && address.isLoopback();
}

QList<QNetworkProxy> PolicyProxyFactory::queryProxy(const QNetworkProxyQuery &query)
{
    if (isLoopbackHost(query.peerHostName()))
        return {QNetworkProxy(QNetworkProxy::NoProxy)};
    switch (m_setting.mode) {
    case ProxySetting::Mode::None:
        return {QNetworkProxy(QNetworkProxy::NoProxy)};
    case ProxySetting::Mode::Http:
        return {QNetworkProxy(QNetworkProxy::HttpProxy, m_setting.url.host(), quint16(m_setting.url.port()))};
    case ProxySetting::Mode::System:
        break;
    }
    return systemProxyForQuery(query);
}

void applyToApplication(const ProxySetting &setting)
{
    switch (setting.mode) {
    case ProxySetting::Mode::System:
        QNetworkProxyFactory::setUseSystemConfiguration(true);
        QNetworkProxy::setApplicationProxy(QNetworkProxy(QNetworkProxy::DefaultProxy));
        break;
    case ProxySetting::Mode::None:
        QNetworkProxyFactory::setUseSystemConfiguration(false);
        QNetworkProxy::setApplicationProxy(QNetworkProxy(QNetworkProxy::NoProxy));
        break;
    case ProxySetting::Mode::Http:
        QNetworkProxyFactory::setUseSystemConfiguration(false);
        QNetworkProxy::setApplicationProxy(QNetworkProxy(QNetworkProxy::HttpProxy, setting.url.host(), quint16(setting.url.port())));
        break;
    }
}

} // namespace hotdesk::net

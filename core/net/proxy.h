// The policy's servers.proxy applied to Hotdesk's own HTTP client: the system's settings, none, or one HTTP proxy.
#pragma once

#include "../result.h"

#include <QNetworkProxyFactory>
#include <QString>
#include <QUrl>

namespace hotdesk::net {

struct ProxySetting {
    enum class Mode { System, None, Http };
    Mode mode = Mode::System;
    QUrl url; // with Http: http://HOST:PORT

    // "system", "none" or "http://HOST:PORT" (no user name, password, path or
    // query). Errors: PolicyInvalid naming what is wrong.
    static Result<ProxySetting> parse(const QString &text);
};

// Chooses the proxy for each request: loopback hosts (127.0.0.0/8, ::1,
// "localhost") are always reached directly, since a proxy elsewhere cannot
// reach this PC's loopback; everything else goes as the setting says. With
// System, Qt's reading of the operating system's settings decides (on Linux
// the http_proxy, https_proxy and no_proxy variables).
class PolicyProxyFactory final : public QNetworkProxyFactory {
public:
    explicit PolicyProxyFactory(ProxySetting setting);
    QList<QNetworkProxy> queryProxy(const QNetworkProxyQuery &query) override;

    static bool isLoopbackHost(const QString &host);

private:
    ProxySetting m_setting;
};

// The same setting for the rest of the process, which is what the embedded
// browser (Qt WebEngine) follows: the application proxy, or the system's
// settings. Chromium reaches loopback directly on its own.
void applyToApplication(const ProxySetting &setting);

} // namespace hotdesk::net

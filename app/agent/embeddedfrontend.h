// The embedded browser as the flow's frontend: a window of Hotdesk shows the IdP and captures the redirect.
#pragma once

#include "core/flow/frontend.h"
#include "core/net/httpclient.h"

#include <QPointer>

#include <memory>

namespace hotdesk::ui {
class AuthBrowserDialog;
class AuthBrowserWidget;
struct AuthBrowserOptions;
}

namespace hotdesk::cli {

class EmbeddedFrontend final : public flow::AuthorizationFrontend {
    Q_OBJECT
public:
    // screenshotFile: where the page the sign-in waits on is saved, for tests and the demo; empty for nowhere.
    EmbeddedFrontend(QList<QSslCertificate> extraCas, QString issuer, QString screenshotFile, QObject *parent = nullptr);
    ~EmbeddedFrontend() override;
    // The private-use redirect URI (RFC 8252 §7.1): captured inside the view, so no port is opened.
    Result<QString> prepare() override;
    void open(const QUrl &authorizationUrl) override;
    void close() override;
    // The private-use redirect URI (RFC 8252 §7.1) the IdP registers for the agent.
    static QString redirectUri();
    // What every embedded sign-in starts from: the authorization URL, that
    // redirect URI, the IdP's origin and the policy's CA certificates.
    static ui::AuthBrowserOptions browserOptions(
        const QUrl &authorizationUrl, const QString &issuer, const QList<QSslCertificate> &extraCas);
    // Reports the browser's outcome as frontend's redirected() or failed() (cancelling is a failure).
    static void relay(ui::AuthBrowserWidget *browser, flow::AuthorizationFrontend *frontend);
    // Where a screenshot of the waiting page goes ($HOTDESK_SCREENSHOT), for tests and the demo.
    void setScreenshotFile(const QString &file) { m_screenshotFile = file; }

private:
    QList<QSslCertificate> m_extraCas;
    QString m_issuer;
    QString m_screenshotFile;
    ui::AuthBrowserDialog *m_dialog = nullptr;
    QPointer<ui::AuthBrowserDialog> m_closing;
};

// The frontend for "hotdesk login --browser embedded"; Unsupported without a display.
Result<std::unique_ptr<flow::AuthorizationFrontend>> makeEmbeddedFrontend(
    const net::TlsTrust &trust, const QString &issuer, const QString &screenshotFile);

} // namespace hotdesk::cli

// Embedded-browser frontend of the flow.
#include "embeddedfrontend.h"

#include "ui/authbrowser.h"

#include <QApplication>
#include <QGuiApplication>
#include <QTimer>

namespace hotdesk::cli {

EmbeddedFrontend::EmbeddedFrontend(QList<QSslCertificate> extraCas, QString issuer, QString screenshotFile, QObject *parent)
    : AuthorizationFrontend(parent)
    , m_extraCas(std::move(extraCas))
    , m_issuer(std::move(issuer))
    , m_screenshotFile(std::move(screenshotFile))
{
}

EmbeddedFrontend::~EmbeddedFrontend()
{
    close();
    // Not left to deleteLater: the event loop may be gone, and WebEngine wants
    // its pages deleted before the application ends.
    delete m_closing.data();
}

QString EmbeddedFrontend::redirectUri()
{
    return QStringLiteral("%1:/callback").arg(QLatin1String(ui::kRedirectScheme));
}

ui::AuthBrowserOptions EmbeddedFrontend::browserOptions(
    const QUrl &authorizationUrl, const QString &issuer, const QList<QSslCertificate> &extraCas)
{
    ui::AuthBrowserOptions options;
    options.authorizationUrl = authorizationUrl;
    options.redirectUri = QUrl(redirectUri());
    options.allowedOrigin = QUrl(issuer);
    options.extraCaCertificates = extraCas;
    return options;
}

void EmbeddedFrontend::relay(ui::AuthBrowserWidget *browser, flow::AuthorizationFrontend *frontend)
{
    connect(browser, &ui::AuthBrowserWidget::redirected, frontend, &AuthorizationFrontend::redirected);
    connect(browser, &ui::AuthBrowserWidget::cancelled, frontend,
        [frontend] { Q_EMIT frontend->failed(Error {ErrorCode::Cancelled, tr("Sign-in was cancelled.")}); });
    connect(browser, &ui::AuthBrowserWidget::failed, frontend, &AuthorizationFrontend::failed);
}

Result<QString> EmbeddedFrontend::prepare()
{
    return redirectUri();
}

void EmbeddedFrontend::open(const QUrl &authorizationUrl)
{
    close();
    m_dialog = new ui::AuthBrowserDialog;
    m_dialog->setAttribute(Qt::WA_DeleteOnClose, false);
    ui::AuthBrowserOptions options = browserOptions(authorizationUrl, m_issuer, m_extraCas);
    options.title = tr("Sign in to continue");
    ui::AuthBrowserWidget *browser = m_dialog->browser();
    relay(browser, this);
    if (!m_screenshotFile.isEmpty()) {
        // The waiting page, once it is drawn: a record of what the user saw.
        connect(browser, &ui::AuthBrowserWidget::pageLoaded, this, [this, browser] {
            QTimer::singleShot(500, browser, [this, browser] {
                const QImage image = browser->grabPage();
                if (!image.isNull() && !m_screenshotFile.isEmpty())
                    image.save(m_screenshotFile);
            });
        });
    }
    if (auto started = m_dialog->start(options); !started) {
        // Reported after open() returns, like every other outcome.
        QTimer::singleShot(0, this, [this, error = started.error()] { Q_EMIT failed(error); });
        return;
    }
    m_dialog->show();
    m_dialog->raise();
    m_dialog->activateWindow();
}

void EmbeddedFrontend::close()
{
    if (!m_dialog)
        return;
    m_dialog->browser()->disconnect(this);
    m_dialog->hide();
    // Later: close() may run inside one of the dialog's own signals.
    delete m_closing.data();
    m_closing = m_dialog;
    m_dialog->deleteLater();
    m_dialog = nullptr;
}

Result<std::unique_ptr<flow::AuthorizationFrontend>> makeEmbeddedFrontend(
    const net::TlsTrust &trust, const QString &issuer, const QString &screenshotFile)
{
    if (!qobject_cast<QApplication *>(QCoreApplication::instance()))
        return fail(ErrorCode::Unsupported,
            QStringLiteral("the embedded browser needs a display; use --browser system or --browser print"));
    return std::unique_ptr<flow::AuthorizationFrontend>(
        std::make_unique<EmbeddedFrontend>(trust.extraCertificates(), issuer, screenshotFile));
}

} // namespace hotdesk::cli

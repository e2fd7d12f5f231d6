// The WebEngine module: an off-the-record WebEngine page held to the IdP's origin, behind ui/embeddedbrowser.h.
#include "ui/browserurls.h"
#include "ui/embeddedbrowser.h"

#include <QPointer>
#include <QThread>
#include <QWebEngineCertificateError>
#include <QWebEngineClientCertificateSelection>
#include <QWebEngineDownloadRequest>
#include <QWebEngineFileSystemAccessRequest>
#include <QWebEngineFullScreenRequest>
#include <QWebEngineLoadingInfo>
#include <QWebEngineNewWindowRequest>
#include <QWebEnginePage>
#include <QWebEngineProfile>
#include <QWebEngineRegisterProtocolHandlerRequest>
#include <QWebEngineSettings>
#include <QWebEngineUrlRequestInfo>
#include <QWebEngineUrlRequestInterceptor>
#include <QWebEngineUrlRequestJob>
#include <QWebEngineUrlScheme>
#include <QWebEngineUrlSchemeHandler>
#include <QWebEngineView>

namespace hotdesk::ui {
namespace {

// Chromium's net::ERR_ABORTED: a navigation that was cancelled (by us, or by a newer one).
constexpr int kNetErrorAborted = -3;

// WebEngine accepts schemes only before its first profile exists; the module
// is loaded after QApplication, so this runs before the first engine is made.
void registerRedirectScheme()
{
    const QByteArray name(kRedirectScheme);
    if (QWebEngineUrlScheme::schemeByName(name).name() == name)
        return;
    QWebEngineUrlScheme scheme {name};
    // com.hotdesk.agent:/callback?code=… has a path and a query, no host (RFC 8252 §7.1).
    scheme.setSyntax(QWebEngineUrlScheme::Syntax::Path);
    QWebEngineUrlScheme::registerScheme(scheme);
}

// The page: decides every navigation before a request for it is made.
class AuthPage : public QWebEnginePage {
public:
    AuthPage(QWebEngineProfile *profile, const EmbeddedBrowserSetup &setup)
        : QWebEnginePage(profile)
        , m_setup(setup)
    {
    }

protected:
    bool acceptNavigationRequest(const QUrl &url, NavigationType type, bool isMainFrame) override
    {
        const EmbeddedBrowserCallbacks &c = m_setup.callbacks;
        if (atRedirectEndpoint(url, m_setup.redirectUri)) {
            // The authorization response: taken here, so no request goes to the
            // listener (or to whatever else holds that port) and nothing is shown.
            if (isMainFrame && matchesRedirectUri(url, m_setup.redirectUri))
                c.captured(url);
            else
                c.blocked(url, isMainFrame);
            return false;
        }
        if (!c.running())
            return false;
        if (sameOrigin(url, m_setup.origin))
            return true;
        // Frames the page builds itself load nothing from the network.
        if (!isMainFrame && url.scheme() == QLatin1String("about"))
            return true;
        // A link the person chose goes to their own browser; anything the page
        // does by itself (scripts, redirects, forms) stays blocked. WebEngine
        // 6.4 reports a script's location.href as LinkClicked too and tells
        // nothing of user gestures, hence the check for a click or key just before.
        if (isMainFrame && type == NavigationTypeLinkClicked && c.recentUserInput() && isWebUrl(url))
            c.openOutside(url);
        else
            c.blocked(url, isMainFrame);
        return false;
    }

    // No pop-ups: window.open and target=_blank get no window (a person's
    // click on such a link is handed to their browser in newWindowRequested).
    QWebEnginePage *createWindow(WebWindowType) override { return nullptr; }

    // No file picker: on a lock screen it would browse the locked session's files.
    QStringList chooseFiles(FileSelectionMode, const QStringList &, const QStringList &) override { return {}; }

private:
    const EmbeddedBrowserSetup &m_setup;
};

// Every request of the profile passes here before it leaves: the backstop for
// what acceptNavigationRequest does not see (subresources, fetch, redirects of
// subframes). Requests to the redirect endpoint are blocked, always.
class RedirectInterceptor : public QWebEngineUrlRequestInterceptor {
public:
    RedirectInterceptor(const QUrl &redirectUri, std::function<void(const QUrl &)> captured, QObject *parent)
        : QWebEngineUrlRequestInterceptor(parent)
        , m_redirectUri(redirectUri)
        , m_captured(std::move(captured))
    {
    }

    void interceptRequest(QWebEngineUrlRequestInfo &info) override
    {
        const QUrl url = info.requestUrl();
        if (!atRedirectEndpoint(url, m_redirectUri))
            return;
        info.block(true);
        if (info.resourceType() != QWebEngineUrlRequestInfo::ResourceTypeMainFrame || !matchesRedirectUri(url, m_redirectUri))
            return;
        // Qt 6.4 calls profile interceptors on the UI thread (seen in tests); should that ever
        // change, the capture is posted to the profile's thread instead.
        if (QThread::currentThread() == thread())
            m_captured(url);
        else
            QMetaObject::invokeMethod(
                this, [this, url] { m_captured(url); }, Qt::QueuedConnection);
    }

private:
    const QUrl m_redirectUri; // const: safe whichever thread WebEngine calls from
    const std::function<void(const QUrl &)> m_captured;
};

// Answers com.hotdesk.agent: requests that got past the two checks above
// (none should): the response is taken, the request gets no content.
class RedirectSchemeHandler : public QWebEngineUrlSchemeHandler {
public:
    RedirectSchemeHandler(const EmbeddedBrowserSetup &setup, QObject *parent)
        : QWebEngineUrlSchemeHandler(parent)
        , m_setup(setup)
    {
    }

    void requestStarted(QWebEngineUrlRequestJob *job) override
    {
        const QUrl url = job->requestUrl();
        job->fail(QWebEngineUrlRequestJob::RequestDenied);
        if (matchesRedirectUri(url, m_setup.redirectUri))
            m_setup.callbacks.captured(url);
    }

private:
    const EmbeddedBrowserSetup &m_setup;
};

class WebEngineBrowser final : public EmbeddedBrowserEngine {
public:
    explicit WebEngineBrowser(EmbeddedBrowserSetup setup);
    ~WebEngineBrowser() override;

    QWidget *widget() const override { return m_view; }
    void load(const QUrl &url) override { m_page->load(url); }
    void stop() override { m_page->triggerAction(QWebEnginePage::Stop); }

private:
    void onCertificateError(const QWebEngineCertificateError &error);
    void onLoadingChanged(const QWebEngineLoadingInfo &info);

    const EmbeddedBrowserSetup m_setup; // the page, interceptor and handler refer to it
    // Deleted in this order: view, page, profile (WebEngine complains when a
    // profile goes before its pages). QPointer: the view sits in the host's
    // layout, which might go first.
    QPointer<QWebEngineView> m_view;
    AuthPage *m_page = nullptr;
    QWebEngineProfile *m_profile = nullptr;
};

WebEngineBrowser::WebEngineBrowser(EmbeddedBrowserSetup setup)
    : m_setup(std::move(setup))
{
    // No storage name: off the record. Cookies, cache and site data live in
    // memory and die with this flow, so nothing passes between people using the PC.
    m_profile = new QWebEngineProfile;
    Q_ASSERT(m_profile->isOffTheRecord());
    m_profile->setHttpCacheType(QWebEngineProfile::MemoryHttpCache);
    m_profile->setPersistentCookiesPolicy(QWebEngineProfile::NoPersistentCookies);
    m_profile->setSpellCheckEnabled(false);

    QWebEngineSettings *settings = m_profile->settings();
    // The IdP's pages need JavaScript (number matching, countdown, polling).
    settings->setAttribute(QWebEngineSettings::JavascriptEnabled, true);
    settings->setAttribute(QWebEngineSettings::JavascriptCanOpenWindows, false);
    settings->setAttribute(QWebEngineSettings::JavascriptCanAccessClipboard, false);
    settings->setAttribute(QWebEngineSettings::JavascriptCanPaste, false);
    settings->setAttribute(QWebEngineSettings::AllowWindowActivationFromJavaScript, false);
    settings->setAttribute(QWebEngineSettings::LocalContentCanAccessRemoteUrls, false);
    settings->setAttribute(QWebEngineSettings::LocalContentCanAccessFileUrls, false);
    settings->setAttribute(QWebEngineSettings::AllowRunningInsecureContent, false);
    settings->setAttribute(QWebEngineSettings::AllowGeolocationOnInsecureOrigins, false);
    settings->setAttribute(QWebEngineSettings::PluginsEnabled, false);
    settings->setAttribute(QWebEngineSettings::PdfViewerEnabled, false);
    settings->setAttribute(QWebEngineSettings::FullScreenSupportEnabled, false);
    settings->setAttribute(QWebEngineSettings::ScreenCaptureEnabled, false);
    settings->setAttribute(QWebEngineSettings::HyperlinkAuditingEnabled, false);
    settings->setAttribute(QWebEngineSettings::DnsPrefetchEnabled, false);
    settings->setAttribute(QWebEngineSettings::NavigateOnDropEnabled, false);
    settings->setAttribute(QWebEngineSettings::AutoLoadIconsForPage, false);
    settings->setAttribute(QWebEngineSettings::TouchIconsEnabled, false);
    // The host shows its own message with Retry instead of Chromium's error page.
    settings->setAttribute(QWebEngineSettings::ErrorPageEnabled, false);
    settings->setAttribute(QWebEngineSettings::LinksIncludedInFocusChain, true);
    settings->setAttribute(QWebEngineSettings::FocusOnNavigationEnabled, true);
    // mailto:, tel: and friends would otherwise start other programs.
    settings->setUnknownUrlSchemePolicy(QWebEngineSettings::DisallowUnknownUrlSchemes);

    // The interceptor and the scheme handler are the profile's children.
    m_profile->setUrlRequestInterceptor(new RedirectInterceptor(m_setup.redirectUri, m_setup.callbacks.captured, m_profile));
    m_profile->installUrlSchemeHandler(QByteArray(kRedirectScheme), new RedirectSchemeHandler(m_setup, m_profile));
    QObject::connect(m_profile, &QWebEngineProfile::downloadRequested, m_profile,
        [](QWebEngineDownloadRequest *download) { download->cancel(); });

    m_page = new AuthPage(m_profile, m_setup);
    AuthPage *page = m_page;
    QObject::connect(
        page, &QWebEnginePage::featurePermissionRequested, page, [page](const QUrl &origin, QWebEnginePage::Feature feature) {
            page->setFeaturePermission(origin, feature, QWebEnginePage::PermissionDeniedByUser);
        });
    QObject::connect(page, &QWebEnginePage::fileSystemAccessRequested, page,
        [](QWebEngineFileSystemAccessRequest request) { request.reject(); });
    QObject::connect(page, &QWebEnginePage::registerProtocolHandlerRequested, page,
        [](QWebEngineRegisterProtocolHandlerRequest request) { request.reject(); });
    QObject::connect(
        page, &QWebEnginePage::fullScreenRequested, page, [](QWebEngineFullScreenRequest request) { request.reject(); });
    // No client certificates: the shared PC's certificate store is not the user's.
    QObject::connect(page, &QWebEnginePage::selectClientCertificate, page,
        [](QWebEngineClientCertificateSelection selection) { selection.selectNone(); });
    QObject::connect(page, &QWebEnginePage::newWindowRequested, page, [this](QWebEngineNewWindowRequest &request) {
        if (request.isUserInitiated() && isWebUrl(request.requestedUrl()))
            m_setup.callbacks.openOutside(request.requestedUrl());
    });
    QObject::connect(page, &QWebEnginePage::certificateError, page,
        [this](const QWebEngineCertificateError &error) { onCertificateError(error); });
    QObject::connect(
        page, &QWebEnginePage::loadingChanged, page, [this](const QWebEngineLoadingInfo &info) { onLoadingChanged(info); });
    QObject::connect(page, &QWebEnginePage::loadProgress, page, [this](int percent) { m_setup.callbacks.loadProgress(percent); });

    m_view = new QWebEngineView;
    m_view->setObjectName(QStringLiteral("authbrowser-view"));
    m_view->setAccessibleName(m_setup.accessibleName);
    m_view->setContextMenuPolicy(Qt::NoContextMenu);
    m_view->setAcceptDrops(false);
    m_view->setPage(m_page);
}

WebEngineBrowser::~WebEngineBrowser()
{
    delete m_view.data();
    delete m_page;
    delete m_profile;
}

void WebEngineBrowser::onCertificateError(const QWebEngineCertificateError &error)
{
    QWebEngineCertificateError decision = error; // shares the decision with WebEngine
    const QUrl url = decision.url();
    const bool running = m_setup.callbacks.running();
    // Only an unknown issuer can be fixed by the policy's CAs; anything else
    // (expired, wrong name, revoked, weak, obsolete TLS) is refused as Chromium found it.
    const bool fixable
        = decision.type() == QWebEngineCertificateError::CertificateAuthorityInvalid && decision.isOverridable() && running;
    QString reason = decision.description();
    if (fixable) {
        const QString untrusted = m_setup.callbacks.verifyChain(decision.certificateChain(), url.host());
        if (untrusted.isEmpty()) {
            decision.acceptCertificate();
            return;
        }
        reason = untrusted;
    }
    decision.rejectCertificate();
    if (running && sameOrigin(url, m_setup.origin))
        m_setup.callbacks.certificateRejected(url, reason);
}

void WebEngineBrowser::onLoadingChanged(const QWebEngineLoadingInfo &info)
{
    const EmbeddedBrowserCallbacks &c = m_setup.callbacks;
    switch (info.status()) {
    case QWebEngineLoadingInfo::LoadStartedStatus:
        c.loadStarted();
        return;
    case QWebEngineLoadingInfo::LoadStoppedStatus:
        c.loadStopped();
        return;
    case QWebEngineLoadingInfo::LoadSucceededStatus:
        c.loadSucceeded(info.url());
        return;
    case QWebEngineLoadingInfo::LoadFailedStatus:
        break;
    }
    // Aborted: a navigation we refused (already handled) or one replaced by the next.
    if (info.errorCode() == kNetErrorAborted) {
        c.loadStopped();
        return;
    }
    EmbeddedLoadFailure failure;
    failure.url = info.url();
    failure.errorCode = info.errorCode();
    failure.errorString = info.errorString();
    switch (info.errorDomain()) {
    case QWebEngineLoadingInfo::CertificateErrorDomain:
        failure.domain = EmbeddedLoadFailure::Domain::Certificate;
        break;
    case QWebEngineLoadingInfo::HttpErrorDomain:
    case QWebEngineLoadingInfo::HttpStatusCodeDomain:
        failure.domain = EmbeddedLoadFailure::Domain::Http;
        break;
    default:
        failure.domain = EmbeddedLoadFailure::Domain::Network;
        break;
    }
    c.loadFailed(failure);
}

} // namespace
} // namespace hotdesk::ui

extern "C" {

Q_DECL_EXPORT int hotdesk_webengine_abi()
{
    return hotdesk::ui::kEmbeddedBrowserAbi;
}

Q_DECL_EXPORT hotdesk::ui::EmbeddedBrowserEngine *hotdesk_webengine_create(const hotdesk::ui::EmbeddedBrowserSetup &setup)
{
    hotdesk::ui::registerRedirectScheme();
    return new hotdesk::ui::WebEngineBrowser(setup);
}

} // extern "C"

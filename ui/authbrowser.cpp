// The embedded sign-in browser: an off-the-record WebEngine page held to the IdP's origin.
#include "authbrowser.h"

#include "certificatecheck.h"

#include <QChildEvent>
#include <QDesktopServices>
#include <QHBoxLayout>
#include <QHostAddress>
#include <QKeyEvent>
#include <QLabel>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QShortcut>
#include <QStackedWidget>
#include <QThread>
#include <QVBoxLayout>
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

// How long after a click (or Enter) a navigation still counts as the person's doing.
constexpr qint64 kUserActivationMs = 2000;

// Chromium's net::ERR_ABORTED: a navigation that was cancelled (by us, or by a newer one).
constexpr int kNetErrorAborted = -3;

int effectivePort(const QUrl &url)
{
    const QString scheme = url.scheme();
    if (scheme == QLatin1String("https") || scheme == QLatin1String("wss"))
        return url.port(443);
    if (scheme == QLatin1String("http") || scheme == QLatin1String("ws"))
        return url.port(80);
    return url.port(-1);
}

bool isWebUrl(const QUrl &url)
{
    return url.scheme() == QLatin1String("https") || url.scheme() == QLatin1String("http");
}

bool isLoopbackHost(const QString &host)
{
    if (host == QLatin1String("localhost"))
        return true;
    const QHostAddress address(host);
    return !address.isNull() && address.isLoopback();
}

bool sameOrigin(const QUrl &a, const QUrl &b)
{
    return a.scheme() == b.scheme() && a.host() == b.host() && effectivePort(a) == effectivePort(b);
}

// The endpoint the redirect URI names: every request there is the agent's to
// receive, whatever its path. The private-use scheme, or the loopback
// listener's host and port with any scheme (an https:// or ws:// request would
// reach the same socket).
bool atRedirectEndpoint(const QUrl &url, const QUrl &redirectUri)
{
    if (url.scheme() == QLatin1String(kRedirectScheme))
        return true;
    return redirectUri.scheme() != QLatin1String(kRedirectScheme) && url.host() == redirectUri.host()
        && effectivePort(url) == effectivePort(redirectUri);
}

bool isRedirectSchemeRegistered()
{
    const QByteArray name(kRedirectScheme);
    return QWebEngineUrlScheme::schemeByName(name).name() == name;
}

} // namespace

void registerAuthBrowserSchemes()
{
    if (isRedirectSchemeRegistered())
        return;
    QWebEngineUrlScheme scheme {QByteArray(kRedirectScheme)};
    // com.hotdesk.agent:/callback?code=… has a path and a query, no host (RFC 8252 §7.1).
    scheme.setSyntax(QWebEngineUrlScheme::Syntax::Path);
    QWebEngineUrlScheme::registerScheme(scheme);
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

Status validateOptions(const AuthBrowserOptions &options)
{
    const QUrl &auth = options.authorizationUrl;
    if (!auth.isValid() || !isWebUrl(auth) || auth.host().isEmpty())
        return fail(ErrorCode::Malformed,
            QStringLiteral("the authorization URL \"%1\" is not an http(s) URL; check the IdP issuer in the policy")
                .arg(auth.toString()));
    if (auth.scheme() == QLatin1String("http") && !isLoopbackHost(auth.host()))
        return fail(ErrorCode::Malformed,
            QStringLiteral(
                "the authorization URL %1 is not HTTPS; the sign-in page must come over TLS (plain HTTP only on loopback)")
                .arg(originOf(auth)));
    const QUrl origin = options.allowedOrigin.isEmpty() ? auth : options.allowedOrigin;
    if (!origin.isValid() || !isWebUrl(origin) || origin.host().isEmpty())
        return fail(ErrorCode::Malformed,
            QStringLiteral("the allowed origin \"%1\" is not an http(s) origin").arg(options.allowedOrigin.toString()));
    if (!sameOrigin(auth, origin))
        return fail(ErrorCode::Malformed,
            QStringLiteral("the authorization URL %1 lies outside the identity provider's origin %2")
                .arg(originOf(auth), originOf(origin)));

    const QUrl &redirect = options.redirectUri;
    const bool privateUse = redirect.scheme() == QLatin1String(kRedirectScheme) && redirect.host().isEmpty()
        && redirect.path().startsWith(QLatin1Char('/'));
    const bool loopback = redirect.scheme() == QLatin1String("http") && isLoopbackHost(redirect.host()) && redirect.port() > 0;
    if (!redirect.isValid() || !(privateUse || loopback))
        return fail(ErrorCode::Malformed,
            QStringLiteral("the redirect URI \"%1\" is neither http://127.0.0.1:PORT/PATH nor %2:/PATH")
                .arg(redirect.toString(), QLatin1String(kRedirectScheme)));
    if (privateUse && !isRedirectSchemeRegistered())
        return fail(ErrorCode::Unsupported,
            QStringLiteral("the %1 scheme is not registered: call registerAuthBrowserSchemes() before QApplication exists")
                .arg(QLatin1String(kRedirectScheme)));
    if (options.loadTimeout.count() <= 0)
        return fail(ErrorCode::Malformed, QStringLiteral("the load timeout must be positive"));
    return {};
}

// The page: decides every navigation before a request for it is made.
class AuthPage : public QWebEnginePage {
public:
    AuthPage(QWebEngineProfile *profile, AuthBrowserWidget *browser)
        : QWebEnginePage(profile)
        , m_browser(browser)
    {
    }

protected:
    bool acceptNavigationRequest(const QUrl &url, NavigationType type, bool isMainFrame) override
    {
        AuthBrowserWidget *b = m_browser;
        if (atRedirectEndpoint(url, b->m_options.redirectUri)) {
            // The authorization response: taken here, so no request goes to the
            // listener (or to whatever else holds that port) and nothing is shown.
            if (isMainFrame && matchesRedirectUri(url, b->m_options.redirectUri))
                b->capture(url);
            else
                b->navigationBlocked(url, isMainFrame);
            return false;
        }
        if (b->m_state != AuthBrowserWidget::State::Running)
            return false;
        if (b->isAllowedOrigin(url))
            return true;
        // Frames the page builds itself load nothing from the network.
        if (!isMainFrame && url.scheme() == QLatin1String("about"))
            return true;
        // A link the person chose goes to their own browser; anything the page
        // does by itself (scripts, redirects, forms) stays blocked. WebEngine
        // 6.4 reports a script's location.href as LinkClicked too and tells
        // nothing of user gestures, hence the check for a click or key just before.
        if (isMainFrame && type == NavigationTypeLinkClicked && b->recentUserInput() && isWebUrl(url))
            b->openOutside(url);
        else
            b->navigationBlocked(url, isMainFrame);
        return false;
    }

    // No pop-ups: window.open and target=_blank get no window (a person's
    // click on such a link is handed to their browser in newWindowRequested).
    QWebEnginePage *createWindow(WebWindowType) override { return nullptr; }

    // No file picker: on a lock screen it would browse the locked session's files.
    QStringList chooseFiles(FileSelectionMode, const QStringList &, const QStringList &) override { return {}; }

private:
    AuthBrowserWidget *m_browser;
};

// Every request of the profile passes here before it leaves: the backstop for
// what acceptNavigationRequest does not see (subresources, fetch, redirects of
// subframes). Requests to the redirect endpoint are blocked, always.
class RedirectInterceptor : public QWebEngineUrlRequestInterceptor {
public:
    RedirectInterceptor(const QUrl &redirectUri, AuthBrowserWidget *browser, QObject *parent)
        : QWebEngineUrlRequestInterceptor(parent)
        , m_redirectUri(redirectUri)
        , m_browser(browser)
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
        // change, the capture is posted to the widget's thread instead.
        AuthBrowserWidget *browser = m_browser;
        if (QThread::currentThread() == browser->thread())
            browser->capture(url);
        else
            QMetaObject::invokeMethod(
                browser, [browser, url] { browser->capture(url); }, Qt::QueuedConnection);
    }

private:
    const QUrl m_redirectUri; // const: safe whichever thread WebEngine calls from
    AuthBrowserWidget *m_browser;
};

// Answers com.hotdesk.agent: requests that got past the two checks above
// (none should): the response is taken, the request gets no content.
class RedirectSchemeHandler : public QWebEngineUrlSchemeHandler {
public:
    RedirectSchemeHandler(AuthBrowserWidget *browser, QObject *parent)
        : QWebEngineUrlSchemeHandler(parent)
        , m_browser(browser)
    {
    }

    void requestStarted(QWebEngineUrlRequestJob *job) override
    {
        const QUrl url = job->requestUrl();
        job->fail(QWebEngineUrlRequestJob::RequestDenied);
        if (matchesRedirectUri(url, m_browser->m_options.redirectUri))
            m_browser->capture(url);
    }

private:
    AuthBrowserWidget *m_browser;
};

AuthBrowserWidget::AuthBrowserWidget(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("authbrowser"));
    auto *layout = new QVBoxLayout(this);

    m_title = new QLabel(this);
    m_title->setObjectName(QStringLiteral("authbrowser-title"));
    m_title->setWordWrap(true);
    QFont titleFont = m_title->font();
    titleFont.setBold(true);
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.2);
    m_title->setFont(titleFont);
    m_title->hide();
    layout->addWidget(m_title);

    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("authbrowser-status"));
    m_status->setAccessibleName(tr("Sign-in status"));
    m_status->setWordWrap(true);
    layout->addWidget(m_status);

    m_progress = new QProgressBar(this);
    m_progress->setObjectName(QStringLiteral("authbrowser-progress"));
    m_progress->setAccessibleName(tr("Loading the sign-in page"));
    m_progress->setRange(0, 100);
    m_progress->setTextVisible(false);
    m_progress->setMaximumHeight(6);
    m_progress->hide();
    layout->addWidget(m_progress);

    m_stack = new QStackedWidget(this);
    m_placeholder = new QWidget(m_stack);
    m_stack->addWidget(m_placeholder);
    auto *messagePanel = new QWidget(m_stack);
    messagePanel->setObjectName(QStringLiteral("authbrowser-message-panel"));
    auto *messageLayout = new QVBoxLayout(messagePanel);
    m_message = new QLabel(messagePanel);
    m_message->setObjectName(QStringLiteral("authbrowser-message"));
    m_message->setAccessibleName(tr("What went wrong"));
    m_message->setWordWrap(true);
    m_message->setTextFormat(Qt::PlainText);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_message->setAlignment(Qt::AlignCenter);
    messageLayout->addStretch();
    messageLayout->addWidget(m_message);
    messageLayout->addStretch();
    m_stack->addWidget(messagePanel);
    layout->addWidget(m_stack, 1);

    auto *buttons = new QHBoxLayout;
    buttons->addStretch();
    m_retry = new QPushButton(tr("&Retry"), this);
    m_retry->setObjectName(QStringLiteral("authbrowser-retry"));
    m_retry->setAccessibleName(tr("Retry"));
    m_retry->setAccessibleDescription(tr("Load the sign-in page again"));
    m_retry->setAutoDefault(false);
    m_retry->hide();
    buttons->addWidget(m_retry);
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_cancel->setObjectName(QStringLiteral("authbrowser-cancel"));
    m_cancel->setAccessibleName(tr("Cancel sign-in"));
    m_cancel->setAccessibleDescription(tr("Stop signing in and close the sign-in page"));
    m_cancel->setAutoDefault(false);
    buttons->addWidget(m_cancel);
    layout->addLayout(buttons);
    setTabOrder(m_retry, m_cancel);

    connect(m_retry, &QPushButton::clicked, this, &AuthBrowserWidget::retry);
    connect(m_cancel, &QPushButton::clicked, this, &AuthBrowserWidget::cancel);
    m_loadTimer.setSingleShot(true);
    connect(&m_loadTimer, &QTimer::timeout, this, &AuthBrowserWidget::onLoadTimeout);
}

AuthBrowserWidget::~AuthBrowserWidget()
{
    teardown();
}

void AuthBrowserWidget::teardown()
{
    m_loadTimer.stop();
    delete m_view;
    m_view = nullptr;
    delete m_page;
    m_page = nullptr;
    // The interceptor and the scheme handler are the profile's children.
    delete m_profile;
    m_profile = nullptr;
    m_interceptor = nullptr;
    m_schemeHandler = nullptr;
}

Status AuthBrowserWidget::start(AuthBrowserOptions options)
{
    if (auto valid = validateOptions(options); !valid)
        return valid;
    teardown();
    m_options = std::move(options);
    m_origin = m_options.allowedOrigin.isEmpty() ? m_options.authorizationUrl : m_options.allowedOrigin;
    m_title->setText(m_options.title);
    m_title->setVisible(!m_options.title.isEmpty());

    // No storage name: off the record. Cookies, cache and site data live in
    // memory and die with this flow, so nothing passes between people using the PC.
    m_profile = new QWebEngineProfile(this);
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
    // Our own message with Retry instead of Chromium's error page.
    settings->setAttribute(QWebEngineSettings::ErrorPageEnabled, false);
    settings->setAttribute(QWebEngineSettings::LinksIncludedInFocusChain, true);
    settings->setAttribute(QWebEngineSettings::FocusOnNavigationEnabled, true);
    // mailto:, tel: and friends would otherwise start other programs.
    settings->setUnknownUrlSchemePolicy(QWebEngineSettings::DisallowUnknownUrlSchemes);

    m_interceptor = new RedirectInterceptor(m_options.redirectUri, this, m_profile);
    m_profile->setUrlRequestInterceptor(m_interceptor);
    if (isRedirectSchemeRegistered()) {
        m_schemeHandler = new RedirectSchemeHandler(this, m_profile);
        m_profile->installUrlSchemeHandler(QByteArray(kRedirectScheme), m_schemeHandler);
    }
    connect(
        m_profile, &QWebEngineProfile::downloadRequested, this, [](QWebEngineDownloadRequest *download) { download->cancel(); });

    m_page = new AuthPage(m_profile, this);
    AuthPage *page = m_page;
    connect(page, &QWebEnginePage::featurePermissionRequested, this, [page](const QUrl &origin, QWebEnginePage::Feature feature) {
        page->setFeaturePermission(origin, feature, QWebEnginePage::PermissionDeniedByUser);
    });
    connect(page, &QWebEnginePage::fileSystemAccessRequested, this,
        [](QWebEngineFileSystemAccessRequest request) { request.reject(); });
    connect(page, &QWebEnginePage::registerProtocolHandlerRequested, this,
        [](QWebEngineRegisterProtocolHandlerRequest request) { request.reject(); });
    connect(page, &QWebEnginePage::fullScreenRequested, this, [](QWebEngineFullScreenRequest request) { request.reject(); });
    // No client certificates: the shared PC's certificate store is not the user's.
    connect(page, &QWebEnginePage::selectClientCertificate, this,
        [](QWebEngineClientCertificateSelection selection) { selection.selectNone(); });
    connect(page, &QWebEnginePage::newWindowRequested, this, [this](QWebEngineNewWindowRequest &request) {
        if (request.isUserInitiated() && isWebUrl(request.requestedUrl()))
            openOutside(request.requestedUrl());
    });
    connect(page, &QWebEnginePage::certificateError, this, &AuthBrowserWidget::onCertificateError);
    connect(page, &QWebEnginePage::loadingChanged, this, &AuthBrowserWidget::onLoadingChanged);
    connect(page, &QWebEnginePage::loadProgress, m_progress, &QProgressBar::setValue);

    m_view = new QWebEngineView(m_stack);
    m_view->setObjectName(QStringLiteral("authbrowser-view"));
    m_view->setAccessibleName(tr("Sign-in page"));
    m_view->setContextMenuPolicy(Qt::NoContextMenu);
    m_view->setAcceptDrops(false);
    m_view->setPage(m_page);
    m_view->installEventFilter(this);
    for (QWidget *child : m_view->findChildren<QWidget *>())
        child->installEventFilter(this);
    m_lastInput.invalidate();
    m_stack->addWidget(m_view);
    setTabOrder(m_view, m_retry);
    setTabOrder(m_retry, m_cancel);

    load();
    return {};
}

void AuthBrowserWidget::load()
{
    m_state = State::Running;
    m_pageShown = false;
    m_attemptFailed = false;
    m_status->setText(tr("Connecting to sign-in page…"));
    m_progress->setValue(0);
    m_progress->show();
    m_retry->hide();
    m_stack->setCurrentWidget(m_view);
    m_loadTimer.start(m_options.loadTimeout);
    m_page->load(m_options.authorizationUrl);
}

void AuthBrowserWidget::retry()
{
    if (m_state != State::Failed || !m_page)
        return;
    load();
}

void AuthBrowserWidget::cancel()
{
    if (m_state == State::Finished)
        return;
    finish();
    m_status->setText(tr("Sign-in cancelled."));
    Q_EMIT cancelled();
}

void AuthBrowserWidget::finish()
{
    m_state = State::Finished;
    m_loadTimer.stop();
    m_progress->hide();
    m_retry->hide();
    // Stopping from inside a WebEngine callback is not safe; from the event loop it is.
    later([this] {
        if (m_page)
            m_page->triggerAction(QWebEnginePage::Stop);
    });
}

void AuthBrowserWidget::later(std::function<void()> work)
{
    // With this widget as context: dropped if the widget is gone by then.
    QMetaObject::invokeMethod(this, std::move(work), Qt::QueuedConnection);
}

void AuthBrowserWidget::capture(const QUrl &url)
{
    if (m_state != State::Running)
        return;
    finish();
    m_status->setText(tr("Returning to Hotdesk…"));
    // Queued: this runs inside WebEngine's navigation decision, and a receiver
    // may well delete the widget.
    later([this, url] { Q_EMIT redirected(url); });
}

bool AuthBrowserWidget::eventFilter(QObject *watched, QEvent *event)
{
    switch (event->type()) {
    case QEvent::ChildAdded:
        // WebEngine draws into a child of the view it creates (and may recreate) on its own.
        if (QObject *child = static_cast<QChildEvent *>(event)->child(); child->isWidgetType())
            child->installEventFilter(this);
        break;
    case QEvent::MouseButtonRelease:
    case QEvent::TouchEnd:
        m_lastInput.start();
        break;
    case QEvent::KeyPress:
        switch (static_cast<QKeyEvent *>(event)->key()) {
        case Qt::Key_Return:
        case Qt::Key_Enter:
        case Qt::Key_Space:
            m_lastInput.start();
            break;
        default:
            break;
        }
        break;
    default:
        break;
    }
    return QWidget::eventFilter(watched, event);
}

bool AuthBrowserWidget::recentUserInput() const
{
    return m_lastInput.isValid() && m_lastInput.elapsed() < kUserActivationMs;
}

bool AuthBrowserWidget::isAllowedOrigin(const QUrl &url) const
{
    return sameOrigin(url, m_origin);
}

void AuthBrowserWidget::openOutside(const QUrl &url)
{
    // The redirect endpoint never leaves the agent, not even to the system browser.
    if (!isWebUrl(url) || atRedirectEndpoint(url, m_options.redirectUri))
        return;
    m_status->setText(tr("%1 opens in your web browser; this window only shows the sign-in page.").arg(originOf(url)));
    auto opener = m_options.openExternally;
    later([opener, url] {
        if (opener)
            opener(url);
        else
            QDesktopServices::openUrl(url);
    });
}

void AuthBrowserWidget::navigationBlocked(const QUrl &url, bool isMainFrame)
{
    if (!isMainFrame || m_state != State::Running)
        return;
    if (!m_pageShown) {
        // The IdP sent us elsewhere before showing anything: there is nothing to sign in with.
        fail(ErrorCode::Unsupported,
            tr("The identity provider sent this window to %1, outside %2. Only the identity provider's own pages "
               "open here. Tell your administrator.")
                .arg(originOf(url), originOf(m_origin)));
        return;
    }
    m_status->setText(tr("This window only shows the identity provider's pages; %1 was not opened.").arg(originOf(url)));
}

void AuthBrowserWidget::onCertificateError(const QWebEngineCertificateError &error)
{
    QWebEngineCertificateError decision = error; // shares the decision with WebEngine
    const QUrl url = decision.url();
    // Only an unknown issuer can be fixed by the policy's CAs; anything else
    // (expired, wrong name, revoked, weak, obsolete TLS) is refused as Chromium found it.
    const bool fixable = decision.type() == QWebEngineCertificateError::CertificateAuthorityInvalid && decision.isOverridable()
        && m_state == State::Running;
    QString reason = decision.description();
    if (fixable) {
        const Status trusted
            = verifyCertificateChain(decision.certificateChain(), url.host(), agentTrustAnchors(m_options.extraCaCertificates));
        if (trusted) {
            decision.acceptCertificate();
            return;
        }
        reason = trusted.error().message;
    }
    decision.rejectCertificate();
    if (m_state == State::Running && isAllowedOrigin(url))
        fail(ErrorCode::Tls,
            tr("The sign-in page at %1 could not prove its identity (%2), so it was not opened. Tell your "
               "administrator: the identity provider's certificate, or the CA bundle of the Hotdesk policy, needs fixing.")
                .arg(originOf(url), reason));
}

void AuthBrowserWidget::onLoadingChanged(const QWebEngineLoadingInfo &info)
{
    if (m_state != State::Running)
        return;
    switch (info.status()) {
    case QWebEngineLoadingInfo::LoadStartedStatus:
        m_progress->show();
        return;
    case QWebEngineLoadingInfo::LoadStoppedStatus:
        m_progress->hide();
        return;
    case QWebEngineLoadingInfo::LoadSucceededStatus:
        m_loadTimer.stop();
        m_progress->hide();
        m_pageShown = true;
        m_status->setText(m_options.helpText.isEmpty()
                ? tr("Sign in with your organisation's account. This window closes by itself when you are done.")
                : m_options.helpText);
        later([this, url = info.url()] { Q_EMIT pageLoaded(url); });
        return;
    case QWebEngineLoadingInfo::LoadFailedStatus:
        break;
    }
    m_progress->hide();
    // Aborted: a navigation we refused (already handled) or one replaced by the next.
    if (m_attemptFailed || info.errorCode() == kNetErrorAborted)
        return;
    const QString origin = originOf(info.url());
    const QString detail = info.errorString().isEmpty() ? QString::number(info.errorCode()) : info.errorString();
    switch (info.errorDomain()) {
    case QWebEngineLoadingInfo::CertificateErrorDomain:
        fail(ErrorCode::Tls,
            tr("The sign-in page at %1 could not prove its identity (%2), so it was not opened. Tell your "
               "administrator: the identity provider's certificate, or the CA bundle of the Hotdesk policy, needs fixing.")
                .arg(origin, detail));
        return;
    case QWebEngineLoadingInfo::HttpErrorDomain:
    case QWebEngineLoadingInfo::HttpStatusCodeDomain:
        fail(ErrorCode::ServerError,
            tr("The sign-in page at %1 answered with an error (%2). Choose Retry; if it keeps failing, tell your administrator.")
                .arg(origin, detail));
        return;
    default:
        fail(ErrorCode::Unreachable,
            tr("The sign-in page at %1 cannot be reached (%2). Check that this PC is connected to the network, then "
               "choose Retry. If it keeps failing, tell your administrator.")
                .arg(origin, detail));
        return;
    }
}

void AuthBrowserWidget::onLoadTimeout()
{
    if (m_state != State::Running || m_pageShown)
        return;
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(m_options.loadTimeout).count();
    fail(ErrorCode::Timeout,
        tr("The sign-in page at %1 did not load within %n second(s). Check the network connection, then choose Retry. "
           "If it keeps happening, tell your administrator.",
            nullptr, int(seconds))
            .arg(originOf(m_options.authorizationUrl)));
}

void AuthBrowserWidget::fail(ErrorCode code, const QString &message)
{
    m_attemptFailed = true;
    m_state = State::Failed;
    m_loadTimer.stop();
    later([this] {
        if (m_page)
            m_page->triggerAction(QWebEnginePage::Stop);
    });
    m_progress->hide();
    m_status->setText(tr("The sign-in page did not open."));
    m_message->setText(message);
    m_stack->setCurrentWidget(m_message->parentWidget());
    m_retry->show();
    // Queued for the same reason as redirected(): we may be inside WebEngine.
    const Error error {code, message};
    later([this, error] { Q_EMIT failed(error); });
}

QImage AuthBrowserWidget::grabPage() const
{
    return m_view ? m_view->grab().toImage() : QImage();
}

QString AuthBrowserWidget::statusText() const
{
    return m_status->text();
}

QString AuthBrowserWidget::messageText() const
{
    return m_message->text();
}

AuthBrowserDialog::AuthBrowserDialog(QWidget *parent)
    : QDialog(parent)
{
    setWindowTitle(tr("Sign in – Hotdesk"));
    m_browser = new AuthBrowserWidget(this);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_browser);
    resize(560, 720);
    connect(m_browser, &AuthBrowserWidget::redirected, this, [this](const QUrl &url) {
        m_redirected = url;
        accept();
    });
    connect(m_browser, &AuthBrowserWidget::cancelled, this, [this] { QDialog::reject(); });
    // QDialog's own Esc handling never sees the key while the page has focus:
    // WebEngine keeps it. A window shortcut comes before the page.
    auto *escape = new QShortcut(QKeySequence(Qt::Key_Escape), this);
    escape->setContext(Qt::WindowShortcut);
    connect(escape, &QShortcut::activated, this, &AuthBrowserDialog::reject);
}

Status AuthBrowserDialog::start(AuthBrowserOptions options)
{
    if (!options.title.isEmpty())
        setWindowTitle(options.title);
    return m_browser->start(std::move(options));
}

void AuthBrowserDialog::reject()
{
    // Esc, the close button and Cancel: the widget says cancelled(), which closes us.
    if (m_browser->isFinished())
        QDialog::reject();
    else
        m_browser->cancel();
}

} // namespace hotdesk::ui

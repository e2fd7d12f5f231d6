// The embedded sign-in browser: an off-the-record WebEngine page held to the IdP's origin.
#include "authbrowser.h"

#include "certificatecheck.h"
#include "embeddedbrowser.h"

#include "core/trustoverrides.h"

#include <QChildEvent>
#include <QCoreApplication>
#include <QDesktopServices>
#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHostAddress>
#include <QKeyEvent>
#include <QLabel>
#include <QLibrary>
#include <QOpenGLContext>
#include <QProgressBar>
#include <QPushButton>
#include <QShortcut>
#include <QStackedWidget>
#include <QVBoxLayout>
#include <QtGui/private/qopenglcontext_p.h>

namespace hotdesk::ui {
namespace {

// How long after a click (or Enter) a navigation still counts as the person's doing.
constexpr qint64 kUserActivationMs = 2000;

bool isLoopbackHost(const QString &host)
{
    if (host == QLatin1String("localhost"))
        return true;
    const QHostAddress address(host);
    return !address.isNull() && address.isLoopback();
}

// WebEngine renders through a global shared OpenGL context that it makes
// itself only when it is linked into the executable (before QApplication
// exists). Loaded later, it finds this one and has no cause to warn that it
// "seems to be initialized from a plugin". Made now, not at start-up: on a
// machine without a GPU the context alone maps Mesa's software renderer.
void ensureSharedOpenGLContext()
{
    if (qt_gl_global_share_context())
        return;
    static QOpenGLContext *context = nullptr;
    context = new QOpenGLContext;
    context->create();
    qt_gl_set_global_share_context(context);
    // Not Qt::AA_ShareOpenGLContexts as well: set before QApplication it makes
    // Qt create such a context at once (the cost this avoids), and set now Qt
    // warns that it is too late. Without it the view's QQuickWidget only
    // rebuilds its scene graph when it moves to another window.
    qAddPostRoutine([] {
        if (qt_gl_global_share_context() == context)
            qt_gl_set_global_share_context(nullptr);
        delete context;
        context = nullptr;
    });
}

// The files the module is looked for in, first found first: HOTDESK_WEBENGINE_MODULE
// alone when set (and honoured, core/trustoverrides.h), else the installed module
// next to the executable's lib directory, then, in a test build only, the one of
// the build tree this was built in: on an installed PC that path may not exist,
// and whoever could create it would have their code loaded.
QStringList moduleCandidates()
{
    const QString overridden = trustedOverrideVariable("HOTDESK_WEBENGINE_MODULE");
    if (!overridden.isEmpty())
        return {overridden};
    const QString fileName = QFileInfo(QStringLiteral(HOTDESK_WEBENGINE_BUILD_PATH)).fileName();
    const QDir appDir(QCoreApplication::applicationDirPath());
    QStringList candidates {QDir::cleanPath(appDir.filePath(QStringLiteral("../" HOTDESK_WEBENGINE_INSTALL_DIR "/") + fileName)),
        appDir.filePath(fileName)};
    if (isTestBuild())
        candidates << QStringLiteral(HOTDESK_WEBENGINE_BUILD_PATH);
    return candidates;
}

// Loads the module once per process (never unloaded: WebEngine does not
// survive being unloaded) and returns its factory.
Result<HotdeskWebEngineCreateFunction> webEngineModule()
{
    static HotdeskWebEngineCreateFunction create = nullptr;
    if (create)
        return create;
    QStringList tried;
    for (const QString &path : moduleCandidates()) {
        if (!QFileInfo::exists(path)) {
            tried << QStringLiteral("%1 (missing)").arg(path);
            continue;
        }
        ensureSharedOpenGLContext();
        QLibrary library(path);
        if (!library.load()) {
            tried << library.errorString();
            continue;
        }
        const auto abi = reinterpret_cast<HotdeskWebEngineAbiFunction>(library.resolve(kWebEngineAbiSymbol));
        const auto factory = reinterpret_cast<HotdeskWebEngineCreateFunction>(library.resolve(kWebEngineCreateSymbol));
        if (!abi || !factory || abi() != kEmbeddedBrowserAbi) {
            tried << QStringLiteral("%1 (not a module of this Hotdesk version)").arg(path);
            continue;
        }
        create = factory;
        return create;
    }
    return fail(ErrorCode::Unsupported,
        QStringLiteral("the embedded browser's WebEngine module could not be loaded (%1); reinstall Hotdesk, or use "
                       "--browser system")
            .arg(tried.join(QStringLiteral("; "))));
}

} // namespace

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
    if (options.loadTimeout.count() <= 0)
        return fail(ErrorCode::Malformed, QStringLiteral("the load timeout must be positive"));
    return {};
}

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
    m_engine.reset();
}

QWidget *AuthBrowserWidget::view() const
{
    return m_engine ? m_engine->widget() : nullptr;
}

Status AuthBrowserWidget::start(AuthBrowserOptions options)
{
    if (auto valid = validateOptions(options); !valid)
        return valid;
    auto create = webEngineModule();
    if (!create)
        return tl::unexpected(create.error());
    teardown();
    m_options = std::move(options);
    m_origin = m_options.allowedOrigin.isEmpty() ? m_options.authorizationUrl : m_options.allowedOrigin;
    m_title->setText(m_options.title);
    m_title->setVisible(!m_options.title.isEmpty());
    m_cancel->setVisible(m_options.showCancel);

    EmbeddedBrowserSetup setup;
    setup.redirectUri = m_options.redirectUri;
    setup.origin = m_origin;
    setup.accessibleName = tr("Sign-in page");
    EmbeddedBrowserCallbacks &c = setup.callbacks;
    c.running = [this] { return m_state == State::Running; };
    c.recentUserInput = [this] { return recentUserInput(); };
    c.captured = [this](const QUrl &url) { capture(url); };
    c.blocked = [this](const QUrl &url, bool isMainFrame) { navigationBlocked(url, isMainFrame); };
    c.openOutside = [this](const QUrl &url) { openOutside(url); };
    c.verifyChain = [this](const QList<QSslCertificate> &chain, const QString &host) {
        const Status trusted = verifyCertificateChain(chain, host, agentTrustAnchors(m_options.extraCaCertificates));
        return trusted ? QString() : trusted.error().message;
    };
    c.certificateRejected = [this](const QUrl &url, const QString &reason) { certificateRejected(url, reason); };
    c.loadStarted = [this] {
        if (m_state == State::Running)
            m_progress->show();
    };
    c.loadProgress = [this](int percent) { m_progress->setValue(percent); };
    c.loadSucceeded = [this](const QUrl &url) { onLoadSucceeded(url); };
    c.loadStopped = [this] {
        if (m_state == State::Running)
            m_progress->hide();
    };
    c.loadFailed = [this](const EmbeddedLoadFailure &failure) { onLoadFailed(failure); };
    m_engine.reset((*create)(setup));

    QWidget *view = m_engine->widget();
    view->installEventFilter(this);
    for (QWidget *child : view->findChildren<QWidget *>())
        child->installEventFilter(this);
    m_lastInput.invalidate();
    m_stack->addWidget(view);
    setTabOrder(view, m_retry);
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
    m_stack->setCurrentWidget(m_engine->widget());
    m_loadTimer.start(m_options.loadTimeout);
    m_engine->load(m_options.authorizationUrl);
}

void AuthBrowserWidget::retry()
{
    if (m_state != State::Failed || !m_engine)
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
    stopLater();
}

void AuthBrowserWidget::stopLater()
{
    // Stopping from inside a WebEngine callback is not safe; from the event loop it is.
    later([this] {
        if (m_engine)
            m_engine->stop();
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

void AuthBrowserWidget::certificateRejected(const QUrl &url, const QString &reason)
{
    if (m_state != State::Running)
        return;
    fail(ErrorCode::Tls,
        tr("The sign-in page at %1 could not prove its identity (%2), so it was not opened. Tell your "
           "administrator: the identity provider's certificate, or the CA bundle of the Hotdesk policy, needs fixing.")
            .arg(originOf(url), reason));
}

void AuthBrowserWidget::onLoadSucceeded(const QUrl &url)
{
    if (m_state != State::Running)
        return;
    m_loadTimer.stop();
    m_progress->hide();
    m_pageShown = true;
    m_status->setText(m_options.helpText.isEmpty()
            ? tr("Sign in with your organisation's account. This window closes by itself when you are done.")
            : m_options.helpText);
    later([this, url] { Q_EMIT pageLoaded(url); });
}

void AuthBrowserWidget::onLoadFailed(const EmbeddedLoadFailure &failure)
{
    if (m_state != State::Running)
        return;
    m_progress->hide();
    if (m_attemptFailed)
        return;
    const QString origin = originOf(failure.url);
    const QString detail = failure.errorString.isEmpty() ? QString::number(failure.errorCode) : failure.errorString;
    switch (failure.domain) {
    case EmbeddedLoadFailure::Domain::Certificate:
        fail(ErrorCode::Tls,
            tr("The sign-in page at %1 could not prove its identity (%2), so it was not opened. Tell your "
               "administrator: the identity provider's certificate, or the CA bundle of the Hotdesk policy, needs fixing.")
                .arg(origin, detail));
        return;
    case EmbeddedLoadFailure::Domain::Http:
        fail(ErrorCode::ServerError,
            tr("The sign-in page at %1 answered with an error (%2). Choose Retry; if it keeps failing, tell your administrator.")
                .arg(origin, detail));
        return;
    case EmbeddedLoadFailure::Domain::Network:
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
    stopLater();
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
    QWidget *page = view();
    return page ? page->grab().toImage() : QImage();
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

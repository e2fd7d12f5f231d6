// Lock screen windows and their coordination across screens.
#include "lockscreen.h"

#include "authbrowser.h"

#include "core/username.h"

#include <QCloseEvent>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScreen>
#include <QStackedWidget>
#include <QVBoxLayout>

#ifdef HOTDESK_WITH_X11_LOCK
#include "x11lockguard.h"
#endif

namespace hotdesk::ui {

LockWindow::LockWindow(QScreen *screen, bool primary, QWidget *parent)
    : QWidget(parent, Qt::Window | Qt::FramelessWindowHint | Qt::WindowStaysOnTopHint)
    , m_screen(screen)
    , m_primary(primary)
{
    setObjectName(QStringLiteral("hotdeskLockWindow"));
    setAttribute(Qt::WA_DeleteOnClose, false);
    setAutoFillBackground(true);
    setStyleSheet(QStringLiteral("#hotdeskLockWindow { background: #1d2330; } QLabel { color: #f0f2f5; }"));

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(48, 48, 48, 48);
    m_headline = new QLabel(this);
    QFont big = m_headline->font();
    big.setPointSizeF(big.pointSizeF() * 1.8);
    big.setBold(true);
    m_headline->setFont(big);
    m_headline->setWordWrap(true);
    m_detail = new QLabel(this);
    m_detail->setWordWrap(true);
    m_attempts = new QLabel(this);
    m_help = new QLabel(this);
    m_help->setWordWrap(true);
    m_help->setTextFormat(Qt::PlainText);
    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 0);
    m_progress->setTextVisible(false);
    m_progress->setMaximumWidth(320);
    m_progress->hide();
    layout->addWidget(m_headline);
    layout->addWidget(m_detail);
    layout->addWidget(m_attempts);

    m_pageArea = new QStackedWidget(this);
    layout->addWidget(m_pageArea, 1);
    layout->addWidget(m_status);
    layout->addWidget(m_progress);

    auto *buttons = new QHBoxLayout;
    m_signIn = new QPushButton(this);
    m_cancel = new QPushButton(this);
    m_switchUser = new QPushButton(this);
    m_offline = new QPushButton(this);
    m_recovery = new QPushButton(this);
    m_signIn->setDefault(true);
    buttons->addWidget(m_signIn);
    buttons->addWidget(m_cancel);
    buttons->addWidget(m_offline);
    buttons->addWidget(m_recovery);
    buttons->addStretch(1);
    buttons->addWidget(m_switchUser);
    layout->addLayout(buttons);

    layout->addWidget(createSwitchRow());
    layout->addWidget(createCodeRow());
    layout->addWidget(m_help);

    // Only the primary window signs in; the others point to it.
    for (QWidget *w : {static_cast<QWidget *>(m_signIn), static_cast<QWidget *>(m_cancel),
             static_cast<QWidget *>(m_switchUser)})
        w->setVisible(m_primary);
    m_cancel->setEnabled(false);
    m_offline->hide();
    m_recovery->hide();

    connectControls();

    retranslate();
    if (m_screen)
        setGeometry(m_screen->geometry());
}

QWidget *LockWindow::createSwitchRow()
{
    m_switchRow = new QWidget(this);
    auto *switchLayout = new QHBoxLayout(m_switchRow);
    switchLayout->setContentsMargins(0, 0, 0, 0);
    m_switchEdit = new QLineEdit(m_switchRow);
    m_switchGo = new QPushButton(m_switchRow);
    switchLayout->addWidget(m_switchEdit, 1);
    switchLayout->addWidget(m_switchGo);
    m_switchRow->hide();
    return m_switchRow;
}

QWidget *LockWindow::createCodeRow()
{
    m_codeRow = new QWidget(this);
    auto *codeLayout = new QHBoxLayout(m_codeRow);
    codeLayout->setContentsMargins(0, 0, 0, 0);
    m_codePrompt = new QLabel(m_codeRow);
    m_codePrompt->setWordWrap(true);
    m_codeEdit = new QLineEdit(m_codeRow);
    m_codeEdit->setMaxLength(32);
    // Nothing typed here should be remembered or predicted.
    m_codeEdit->setInputMethodHints(Qt::ImhSensitiveData | Qt::ImhNoPredictiveText | Qt::ImhNoAutoUppercase);
    m_codePrompt->setBuddy(m_codeEdit);
    m_codeGo = new QPushButton(m_codeRow);
    codeLayout->addWidget(m_codePrompt, 2);
    codeLayout->addWidget(m_codeEdit, 1);
    codeLayout->addWidget(m_codeGo);
    m_codeRow->hide();
    return m_codeRow;
}

void LockWindow::connectControls()
{
    connect(m_offline, &QPushButton::clicked, this, &LockWindow::offlineUnlockRequested);
    connect(m_signIn, &QPushButton::clicked, this, &LockWindow::signInRequested);
    connect(m_cancel, &QPushButton::clicked, this, &LockWindow::cancelRequested);
    connect(m_switchUser, &QPushButton::clicked, this, [this] { showSwitchUser(!m_switchRow->isVisible()); });
    auto submitSwitch = [this] {
        const QString user = m_switchEdit->text().trimmed();
        if (user.isEmpty())
            return;
        showSwitchUser(false);
        Q_EMIT switchUserRequested(user);
    };
    connect(m_switchGo, &QPushButton::clicked, this, submitSwitch);
    connect(m_switchEdit, &QLineEdit::returnPressed, this, submitSwitch);
    connect(m_recovery, &QPushButton::clicked, this, [this] {
        if (m_codeRow->isVisible() && m_codeKind == CodeKind::RecoveryCode)
            hideCode();
        else
            askForCode(CodeKind::RecoveryCode, tr("Type one of your recovery codes (it looks like 7K3M-Q9TD):"));
    });
    auto submitCode = [this] {
        // A password is taken as typed; codes lose the spaces around them.
        const QString code = m_codeKind == CodeKind::AccountPassword ? m_codeEdit->text() : m_codeEdit->text().trimmed();
        if (code.isEmpty())
            return;
        m_codeEdit->clear();
        const CodeKind kind = m_codeKind;
        hideCode();
        Q_EMIT codeEntered(kind, code);
    };
    connect(m_codeGo, &QPushButton::clicked, this, submitCode);
    connect(m_codeEdit, &QLineEdit::returnPressed, this, submitCode);
}

void LockWindow::retranslate()
{
    setWindowTitle(tr("Hotdesk: this PC is locked"));
    m_signIn->setText(tr("&Sign in"));
    m_signIn->setAccessibleName(tr("Sign in again"));
    m_cancel->setText(tr("&Cancel"));
    m_cancel->setAccessibleName(tr("Cancel this sign-in attempt"));
    m_offline->setText(tr("Unlock &offline"));
    m_offline->setAccessibleName(tr("Unlock without the sign-in service, as the offline policy allows"));
    m_switchEdit->setPlaceholderText(tr("User name"));
    m_switchEdit->setAccessibleName(tr("User name of the person who wants to use this PC"));
    m_switchGo->setText(tr("Co&ntinue"));
    m_switchGo->setAccessibleName(tr("Continue as this user"));
    m_progress->setAccessibleName(tr("Sign-in in progress"));
    m_recovery->setText(tr("Use a &recovery code"));
    m_recovery->setAccessibleName(tr("Unlock with one of your one-time recovery codes, for example when your phone is lost"));
    m_codeGo->setText(tr("Sub&mit"));
    m_codeGo->setAccessibleName(tr("Submit the code"));
    // askForCode() names the field after what it asks for; until then, what it is.
    if (m_codePrompt->text().isEmpty())
        m_codeEdit->setAccessibleName(tr("Code"));
    m_pageArea->setAccessibleName(tr("Sign-in page"));
    setInfo(m_info);
}

void LockWindow::setInfo(const LockInfo &info)
{
    m_info = info;
    if (!m_primary) {
        m_headline->setText(tr("This PC is locked"));
        m_detail->setText(tr("Sign in on the main screen to continue."));
        m_attempts->hide();
    } else {
        m_headline->setText(info.user.isEmpty() ? tr("This PC is locked")
                                                : tr("%1, please sign in again").arg(info.user));
        m_detail->setText(info.reason);
        m_attempts->setVisible(info.attemptsLeft >= 0);
        m_attempts->setText(tr("Attempts left: %1").arg(info.attemptsLeft));
    }
    m_headline->setAccessibleName(m_headline->text());
    m_detail->setAccessibleName(m_detail->text());
    m_attempts->setAccessibleName(m_attempts->text());
    m_help->setText(info.helpText);
    m_help->setAccessibleName(info.helpText);
    m_help->setVisible(!info.helpText.isEmpty());
    m_switchUser->setText(info.user.isEmpty() ? tr("S&witch user") : tr("Not %1? S&witch user").arg(info.user));
    m_switchUser->setAccessibleName(tr("Sign in as another user"));
    if (m_primary) {
        m_signIn->setEnabled(info.signInAllowed && m_progress->isHidden());
        m_offline->setVisible(info.offerOffline);
        m_recovery->setVisible(info.offerRecoveryCode);
        m_recovery->setEnabled(info.signInAllowed && !m_busy);
    }
}

void LockWindow::setStatus(const QString &text, bool busy)
{
    m_status->setText(text);
    m_status->setAccessibleName(text);
    m_progress->setVisible(busy);
    m_busy = busy;
    if (m_primary) {
        m_signIn->setEnabled(!busy && m_info.signInAllowed);
        m_cancel->setEnabled(busy);
        m_recovery->setEnabled(!busy && m_info.signInAllowed);
    }
}

void LockWindow::askForCode(CodeKind kind, const QString &prompt)
{
    if (!m_primary)
        return;
    m_codeKind = kind;
    m_codeEdit->setEchoMode(kind == CodeKind::AccountPassword ? QLineEdit::Password : QLineEdit::Normal);
    m_codePrompt->setText(prompt);
    m_codeEdit->setAccessibleName(prompt);
    m_codeEdit->clear();
    showSwitchUser(false);
    m_codeRow->show();
    m_codeEdit->setFocus();
}

void LockWindow::hideCode()
{
    m_codeRow->hide();
    m_codeEdit->clear();
}

bool LockWindow::isAskingForCode() const
{
    return m_codeRow->isVisibleTo(const_cast<LockWindow *>(this));
}

void LockWindow::setBrowser(AuthBrowserWidget *browser)
{
    if (m_browser) {
        m_pageArea->removeWidget(m_browser);
        m_browser->setParent(nullptr);
    }
    m_browser = browser;
    if (browser) {
        m_pageArea->addWidget(browser);
        m_pageArea->setCurrentWidget(browser);
    }
}

void LockWindow::showSwitchUser(bool show)
{
    m_switchRow->setVisible(show && m_primary);
    if (show && m_primary) {
        m_switchEdit->clear();
        m_switchEdit->setFocus();
    }
}

void LockWindow::closeEvent(QCloseEvent *event)
{
    // Alt+F4 and the window manager's close request: the lock stays.
    if (m_closable)
        event->accept();
    else
        event->ignore();
}

void LockWindow::keyPressEvent(QKeyEvent *event)
{
    if (event->key() == Qt::Key_Escape || (event->key() == Qt::Key_F4 && (event->modifiers() & Qt::AltModifier))) {
        event->accept();
        return;
    }
    QWidget::keyPressEvent(event);
}

bool LockWindow::event(QEvent *event)
{
    if (event->type() == QEvent::LanguageChange)
        retranslate();
    return QWidget::event(event);
}

LockScreen::LockScreen(QObject *parent)
    : QObject(parent)
{
    connect(qGuiApp, &QGuiApplication::screenAdded, this, [this](QScreen *screen) {
        if (m_locked)
            addScreen(screen);
    });
    connect(qGuiApp, &QGuiApplication::screenRemoved, this, &LockScreen::removeScreen);
#ifdef HOTDESK_WITH_X11_LOCK
    // The primary window first: it takes the grabs.
    m_guard = X11LockGuard::create(
        [this] {
            QList<QWidget *> list;
            for (LockWindow *w : std::as_const(m_windows))
                w->isPrimary() ? list.prepend(w) : list.append(w);
            return list;
        },
        this);
    if (m_guard) {
        connect(m_guard, &X11LockGuard::held, this, &LockScreen::grabbed);
        connect(m_guard, &X11LockGuard::raisedAgain, this, &LockScreen::raisedAgain);
        connect(m_guard, &X11LockGuard::failed, this, [this](const QString &why) {
            m_grabFailed = true;
            Q_EMIT grabFailed(why);
        });
    }
#endif
}

LockScreen::GrabState LockScreen::grabState() const
{
#ifdef HOTDESK_WITH_X11_LOCK
    if (!m_guard)
        return GrabState::Unsupported;
    if (!m_locked)
        return GrabState::Released;
    if (m_grabFailed)
        return GrabState::Failed;
    if (m_grabSuspended)
        return GrabState::Suspended;
    return m_guard->isHeld() ? GrabState::Held : GrabState::Grabbing;
#else
    return GrabState::Unsupported;
#endif
}

void LockScreen::suspendGrabs()
{
#ifdef HOTDESK_WITH_X11_LOCK
    if (m_guard && m_locked && !m_grabFailed) {
        m_grabSuspended = true;
        m_guard->stop();
    }
#endif
}

void LockScreen::resumeGrabs()
{
#ifdef HOTDESK_WITH_X11_LOCK
    if (!m_grabSuspended)
        return;
    m_grabSuspended = false;
    if (m_guard && m_locked && !m_grabFailed)
        m_guard->start();
#endif
}

void LockScreen::setGrabRetries(int attempts, int intervalMs)
{
#ifdef HOTDESK_WITH_X11_LOCK
    if (m_guard)
        m_guard->setRetries(attempts, intervalMs);
#else
    Q_UNUSED(attempts);
    Q_UNUSED(intervalMs);
#endif
}

LockScreen::~LockScreen()
{
    for (LockWindow *w : std::as_const(m_windows)) {
        w->allowClose();
        delete w;
    }
}

LockWindow *LockScreen::primaryWindow() const
{
    for (LockWindow *w : m_windows) {
        if (w->isPrimary())
            return w;
    }
    return nullptr;
}

void LockScreen::addScreen(QScreen *screen)
{
    const bool primary = screen == QGuiApplication::primaryScreen() && !primaryWindow();
    auto *window = new LockWindow(screen, primary);
    window->setInfo(m_info);
    window->setStatus(m_status, m_busy);
    connect(window, &LockWindow::signInRequested, this, [this] { Q_EMIT signInRequested(m_info.user); });
    connect(window, &LockWindow::cancelRequested, this, &LockScreen::cancelRequested);
    connect(window, &LockWindow::switchUserRequested, this, &LockScreen::switchUserRequested);
    connect(window, &LockWindow::offlineUnlockRequested, this, [this] { Q_EMIT offlineUnlockRequested(m_info.user); });
    connect(window, &LockWindow::codeEntered, this, [this](CodeKind kind, const QString &code) {
        m_codeKind.reset();
        if (kind == CodeKind::OneTimeCode)
            Q_EMIT oneTimeCodeEntered(code);
        else if (kind == CodeKind::AccountPassword)
            Q_EMIT accountPasswordEntered(m_info.user, code);
        else
            Q_EMIT recoveryCodeEntered(m_info.user, code);
    });
    if (primary && m_browser)
        window->setBrowser(m_browser);
    m_windows.append(window);
    window->setScreen(screen);
    window->setGeometry(screen->geometry());
#ifdef HOTDESK_WITH_X11_LOCK
    if (m_guard)
        X11LockGuard::makeSticky(window); // the initial state, before it is shown
#endif
    window->showFullScreen();
#ifdef HOTDESK_WITH_X11_LOCK
    if (m_guard) {
        X11LockGuard::makeSticky(window); // and for a window manager that already manages it
        m_guard->windowsChanged();
    }
#endif
    if (primary) {
        window->raise();
        window->activateWindow();
        window->signInButton()->setFocus();
        if (m_codeKind)
            window->askForCode(*m_codeKind, m_codePrompt);
    }
}

void LockScreen::removeScreen(QScreen *screen)
{
    for (qsizetype i = 0; i < m_windows.size(); ++i) {
        LockWindow *w = m_windows[i];
        if (w->lockedScreen() != screen)
            continue;
        const bool wasPrimary = w->isPrimary();
        AuthBrowserWidget *browser = w->browser();
        if (browser)
            w->setBrowser(nullptr);
        m_windows.removeAt(i);
        w->allowClose();
        w->deleteLater();
#ifdef HOTDESK_WITH_X11_LOCK
        if (m_guard)
            m_guard->windowsChanged();
#endif
        // The sign-in must stay reachable: the next screen takes it over.
        if (wasPrimary && m_locked) {
            const QList<LockWindow *> rest = m_windows;
            for (LockWindow *other : rest) {
                m_windows.removeOne(other);
                other->allowClose();
                other->deleteLater();
            }
            coverAll();
        }
        return;
    }
}

void LockScreen::coverAll()
{
    QList<QScreen *> screens = QGuiApplication::screens();
    // The primary screen first, so it gets the sign-in.
    if (QScreen *primary = QGuiApplication::primaryScreen()) {
        screens.removeOne(primary);
        screens.prepend(primary);
    }
    for (QScreen *screen : std::as_const(screens)) {
        bool covered = false;
        for (LockWindow *w : std::as_const(m_windows))
            covered = covered || w->lockedScreen() == screen;
        if (!covered)
            addScreen(screen);
    }
}

void LockScreen::lock(const LockInfo &info)
{
    m_info = info;
    m_locked = true;
    for (LockWindow *w : std::as_const(m_windows))
        w->setInfo(info);
    coverAll();
#ifdef HOTDESK_WITH_X11_LOCK
    // A lock whose grabs failed is not tried again here: the caller fell back to the OS lock.
    if (m_guard && !m_guard->isActive() && !m_grabFailed && !m_grabSuspended)
        m_guard->start();
#endif
}

void LockScreen::setInfo(const LockInfo &info)
{
    m_info = info;
    for (LockWindow *w : std::as_const(m_windows))
        w->setInfo(info);
}

void LockScreen::setStatus(const QString &text, bool busy)
{
    m_status = text;
    m_busy = busy;
    for (LockWindow *w : std::as_const(m_windows))
        w->setStatus(text, busy);
}

void LockScreen::setBrowser(AuthBrowserWidget *browser)
{
    m_browser = browser;
    if (LockWindow *primary = primaryWindow())
        primary->setBrowser(browser);
}

SignInFailureText LockScreen::failureText(const Error &error)
{
    switch (error.code) {
    case ErrorCode::Cancelled:
        return {tr("Sign-in was cancelled."), tr("Sign-in was cancelled. Select Sign in to try again.")};
    case ErrorCode::Unreachable:
    case ErrorCode::Timeout:
        return {tr("The sign-in service could not be reached."),
            tr("The sign-in service could not be reached. Check the network cable or Wi-Fi, then select Sign in.")};
    case ErrorCode::Tls:
        return {tr("The connection to the sign-in service is not trusted."),
            tr("The connection to the sign-in service is not trusted. Check the network cable or Wi-Fi, then select Sign "
               "in.")};
    case ErrorCode::ServerError:
        return {tr("The sign-in service reported an error."),
            tr("The sign-in service reported an error. Check the network cable or Wi-Fi, then select Sign in.")};
    case ErrorCode::AccessDenied:
        return {tr("The sign-in was refused."), tr("The sign-in was refused. Select Sign in to try again.")};
    case ErrorCode::DeviceUnrecognized:
    case ErrorCode::DeviceUnknown:
    case ErrorCode::NotEnrolled:
        return {tr("The sign-in service does not recognize this PC."),
            tr("The sign-in service does not recognize this PC. Select Sign in to try again.")};
    case ErrorCode::UserUnknown:
        return {tr("The sign-in service does not know this user."),
            tr("The sign-in service does not know this user. Select Sign in to try again.")};
    case ErrorCode::PolicyInvalid:
        return {tr("The Hotdesk policy on this PC cannot be used for this sign-in (%1).").arg(error.message),
            tr("The Hotdesk policy on this PC cannot be used for this sign-in. Tell your administrator.")};
    default:
        return {tr("The sign-in could not be completed (%1).").arg(error.message),
            tr("The sign-in could not be completed. Select Sign in to try again.")};
    }
}

bool LockScreen::unlock(const flow::FlowResult &proof)
{
    if (!m_locked)
        return true;
    if (m_daemonHold)
        return false;
    // The flow validated the token for proof.user; the lock is for m_info.user
    // (or whoever switched in, which setInfo recorded).
    if (proof.idToken.subject.isEmpty() || proof.idToken.subject != proof.sharedId || !namesUser(m_info.user, proof.user))
        return false;
    lift(proof.user);
    return true;
}

bool LockScreen::unlockOffline(const policy::OfflineGranted &grant)
{
    if (!m_locked)
        return true;
    if (m_daemonHold)
        return false;
    if (grant.user.isEmpty() || !sameUser(grant.user, m_info.user))
        return false;
    lift(grant.user);
    return true;
}

bool LockScreen::unlockWithRecoveryCode(const store::RecoveryCodeAccepted &proof)
{
    if (!m_locked)
        return true;
    if (m_daemonHold)
        return false;
    if (proof.user.isEmpty() || !sameUser(proof.user, m_info.user))
        return false;
    lift(proof.user);
    return true;
}

bool LockScreen::unlockValidatedByDaemon(const QString &user)
{
    if (!m_locked) {
        m_daemonHold = false;
        return true;
    }
    if (user.isEmpty() || !sameUser(user, m_info.user))
        return false;
    m_daemonHold = false;
    lift(user);
    return true;
}

void LockScreen::askForCode(CodeKind kind, const QString &prompt)
{
    m_codeKind = kind;
    m_codePrompt = prompt;
    if (LockWindow *primary = primaryWindow())
        primary->askForCode(kind, prompt);
}

void LockScreen::hideCode(std::optional<CodeKind> only)
{
    LockWindow *primary = primaryWindow();
    if (only && primary && primary->isAskingForCode() && primary->codeKind() != *only)
        return;
    m_codeKind.reset();
    if (primary)
        primary->hideCode();
}

void LockScreen::lift(const QString &user)
{
    // The next lock starts quiet: nothing of this one's progress carries over.
    m_codeKind.reset();
    m_status.clear();
    m_busy = false;
    m_locked = false;
    m_grabFailed = false;
    m_grabSuspended = false;
#ifdef HOTDESK_WITH_X11_LOCK
    if (m_guard)
        m_guard->stop();
#endif
    if (LockWindow *primary = primaryWindow())
        primary->setBrowser(nullptr);
    for (LockWindow *w : std::as_const(m_windows)) {
        w->allowClose();
        w->close();
        w->deleteLater();
    }
    m_windows.clear();
    Q_EMIT unlocked(user);
}

} // namespace hotdesk::ui

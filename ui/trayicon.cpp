// The tray icon, its menu and notifications; the icon follows the agent's state and the panel's colours.
#include "trayicon.h"

#include <QAction>
#include <QApplication>
#include <QEvent>
#include <QMenu>
#include <QPalette>
#include <QSystemTrayIcon>
#include <QTimer>

namespace hotdesk::ui {

using control::AgentState;

namespace {

constexpr int kDefaultRetryMs = 5000;

} // namespace

DesktopIntegration::DesktopIntegration(QObject *parent, std::function<bool()> trayAvailable)
    : QObject(parent)
    , m_trayAvailable(trayAvailable ? std::move(trayAvailable) : [] { return QSystemTrayIcon::isSystemTrayAvailable(); })
    , m_tray(new QSystemTrayIcon(this))
    , m_menu(new QMenu)
    , m_retry(new QTimer(this))
{
    m_status = m_menu->addAction(QString());
    m_status->setEnabled(false);
    m_menu->addSeparator();
    m_reauth = m_menu->addAction(QString());
    m_enroll = m_menu->addAction(QString());
    m_menu->addSeparator();
    m_auditLog = m_menu->addAction(QString());
    m_about = m_menu->addAction(QString());
    connect(m_reauth, &QAction::triggered, this, &DesktopIntegration::reauthRequested);
    connect(m_enroll, &QAction::triggered, this, &DesktopIntegration::enrollRequested);
    connect(m_auditLog, &QAction::triggered, this, &DesktopIntegration::openAuditLogRequested);
    connect(m_about, &QAction::triggered, this, &DesktopIntegration::aboutRequested);
    m_tray->setContextMenu(m_menu);

    // Timer-driven, never a loop: an absent tray costs one check per interval.
    m_retry->setInterval(kDefaultRetryMs);
    connect(m_retry, &QTimer::timeout, this, &DesktopIntegration::tryShow);

    // The panel's colours and the language can change while the agent runs.
    if (qApp)
        qApp->installEventFilter(this);
    retranslate();
    tryShow();
}

DesktopIntegration::~DesktopIntegration()
{
    // QSystemTrayIcon does not own its menu.
    m_tray->setContextMenu(nullptr);
    delete m_menu;
}

void DesktopIntegration::setState(AgentState state, const QString &user, const QString &detail)
{
    m_state = state;
    m_user = user;
    m_detail = detail;
    refresh();
}

void DesktopIntegration::notify(const QString &title, const QString &text)
{
    if (isTrayShown() && QSystemTrayIcon::supportsMessages()) {
        m_tray->showMessage(title, text, m_tray->icon());
        return;
    }
    m_pendingTitle = title;
    m_pendingText = text;
}

QString DesktopIntegration::statusText() const
{
    switch (m_state) {
    case AgentState::Ok:
        return m_user.isEmpty() ? tr("Hotdesk is protecting this PC") : tr("Signed in as %1").arg(m_user);
    case AgentState::ReauthSoon:
        return m_user.isEmpty() ? tr("Re-authentication due soon") : tr("%1 must re-authenticate soon").arg(m_user);
    case AgentState::Locked:
        return m_user.isEmpty() ? tr("Locked until someone signs in again")
                                : tr("Locked until %1 signs in again").arg(m_user);
    case AgentState::Offline:
        return tr("Offline: the authentication server cannot be reached");
    case AgentState::Error:
        return tr("Hotdesk has a problem; see the audit log");
    }
    return QString();
}

QString DesktopIntegration::toolTip() const
{
    if (m_detail.isEmpty())
        return tr("Hotdesk: %1").arg(statusText());
    return tr("Hotdesk: %1\n%2").arg(statusText(), m_detail);
}

QString DesktopIntegration::iconPath(AgentState state, bool darkPanel)
{
    return QStringLiteral(":/icons/tray-%1-%2.svg")
        .arg(control::agentStateName(state), darkPanel ? QStringLiteral("dark") : QStringLiteral("light"));
}

QString DesktopIntegration::iconPath() const
{
    return iconPath(m_state, isDarkPanel(QApplication::palette()));
}

bool DesktopIntegration::isDarkPanel(const QPalette &palette)
{
    return palette.color(QPalette::Window).lightness() < 128;
}

bool DesktopIntegration::isTrayShown() const
{
    return m_tray->isVisible();
}

bool DesktopIntegration::isWaitingForTray() const
{
    return m_retry->isActive();
}

void DesktopIntegration::setRetryInterval(int ms)
{
    m_retry->setInterval(ms);
}

bool DesktopIntegration::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == qApp) {
        if (event->type() == QEvent::ApplicationPaletteChange)
            refresh();
        else if (event->type() == QEvent::LanguageChange)
            retranslate();
    }
    return QObject::eventFilter(watched, event);
}

void DesktopIntegration::tryShow()
{
    if (!m_trayAvailable()) {
        if (!m_retry->isActive())
            m_retry->start();
        return;
    }
    m_retry->stop();
    m_tray->show();
    if (!m_pendingTitle.isEmpty() || !m_pendingText.isEmpty()) {
        const QString title = std::exchange(m_pendingTitle, QString());
        const QString text = std::exchange(m_pendingText, QString());
        notify(title, text);
    }
}

void DesktopIntegration::refresh()
{
    m_tray->setIcon(QIcon(iconPath()));
    m_tray->setToolTip(toolTip());
    m_status->setText(statusText());
}

void DesktopIntegration::retranslate()
{
    m_reauth->setText(tr("Re-authenticate now"));
    m_enroll->setText(tr("Enroll this PC…"));
    m_auditLog->setText(tr("Open audit log"));
    m_about->setText(tr("About Hotdesk"));
    refresh();
}

} // namespace hotdesk::ui

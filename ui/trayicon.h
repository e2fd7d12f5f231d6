// The agent's presence on the desktop: tray icon, its menu and notifications (one owner, which emits requests).
#pragma once

#include "core/control/controlserver.h"

#include <QIcon>
#include <QObject>
#include <QString>

#include <functional>

class QAction;
class QMenu;
class QPalette;
class QSystemTrayIcon;
class QTimer;

namespace hotdesk::ui {

// Owns the tray icon, its menu and notifications. It never opens windows or
// starts flows itself: it emits requests, and the agent decides (so the lock
// screen and policy stay in one place). The icon shows the agent's state
// (control::AgentState); its light or dark variant follows the lightness of
// the palette's window colour. When the desktop has no system tray yet (a
// session still starting, a panel restarting) it checks again every
// retryIntervalMs until one appears.
class DesktopIntegration : public QObject {
    Q_OBJECT
public:
    // trayAvailable: by default QSystemTrayIcon::isSystemTrayAvailable (tests replace it).
    explicit DesktopIntegration(QObject *parent = nullptr, std::function<bool()> trayAvailable = {});
    ~DesktopIntegration() override;

    void setState(control::AgentState state, const QString &user = {}, const QString &detail = {});
    control::AgentState state() const { return m_state; }

    // A balloon or desktop notification ("Re-authentication in 5 minutes");
    // kept and shown once a tray appears if there is none yet.
    void notify(const QString &title, const QString &text);

    // What the icon says now.
    QString statusText() const;   // the menu's first (disabled) line
    QString toolTip() const;
    QString iconPath() const;     // the resource of the current icon
    static QString iconPath(control::AgentState state, bool darkPanel);
    static bool isDarkPanel(const QPalette &palette);

    QMenu *menu() const { return m_menu; }
    QAction *statusAction() const { return m_status; }
    QAction *reauthAction() const { return m_reauth; }
    QAction *enrollAction() const { return m_enroll; }
    QAction *auditLogAction() const { return m_auditLog; }
    QAction *aboutAction() const { return m_about; }

    bool isTrayShown() const;
    bool isWaitingForTray() const;
    void setRetryInterval(int ms);

Q_SIGNALS:
    void reauthRequested();
    void enrollRequested();
    void openAuditLogRequested();
    void aboutRequested();

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void tryShow();
    void refresh();
    void retranslate();

    std::function<bool()> m_trayAvailable;
    control::AgentState m_state = control::AgentState::Offline;
    QString m_user;
    QString m_detail;
    QSystemTrayIcon *m_tray = nullptr;
    QMenu *m_menu = nullptr;
    QAction *m_status = nullptr;
    QAction *m_reauth = nullptr;
    QAction *m_enroll = nullptr;
    QAction *m_auditLog = nullptr;
    QAction *m_about = nullptr;
    QTimer *m_retry = nullptr;
    QString m_pendingTitle;
    QString m_pendingText;
};

} // namespace hotdesk::ui

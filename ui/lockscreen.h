// The lock screen: one window on every screen, which only a validated ID token lifts.
#pragma once

#include "authbrowser.h"
#include "core/flow/reauthflow.h"
#include "core/policy/decisionengine.h"
#include "core/store/recoverycodestore.h"

#include <QList>
#include <QObject>
#include <QPointer>
#include <QWidget>

#include <optional>

class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QScreen;
class QStackedWidget;

namespace hotdesk::ui {

class X11LockGuard;

// What the lock screen says.
struct LockInfo {
    QString user;        // who must re-authenticate
    QString reason;      // why, for people ("You have been away for 15 minutes.")
    int attemptsLeft = -1; // -1: not shown
    QString helpText;    // the policy's help-desk text
    bool signInAllowed = true; // false while this user is locked out, or without a policy
    // The servers cannot be reached and the policy has an offline grace: offer
    // "Unlock offline" (the decision engine still decides whether it may).
    bool offerOffline = false;
    // The policy allows recovery codes: offer "Use a recovery code" (for a lost phone).
    bool offerRecoveryCode = false;
};

// What the code field of the lock screen is asking for.
enum class CodeKind {
    OneTimeCode,  // flow 4: the code the DAS sent out of band to register this PC
    RecoveryCode, // one of the user's one-time recovery codes
    AccountPassword, // the account password, for an offline unlock hotdeskd checks (never shown, never trimmed)
};

// One screen's window. The primary one holds the sign-in; the others say where it is.
class LockWindow : public QWidget {
    Q_OBJECT
public:
    LockWindow(QScreen *screen, bool primary, QWidget *parent = nullptr);

    bool isPrimary() const { return m_primary; }
    QScreen *lockedScreen() const { return m_screen; }
    void setInfo(const LockInfo &info);
    void setStatus(const QString &text, bool busy);
    void setBrowser(AuthBrowserWidget *browser); // takes it into the page area (primary only)
    AuthBrowserWidget *browser() const { return m_browser; }
    void showSwitchUser(bool show);
    // Shows the code field with this prompt and puts the focus in it; hideCode() takes it away.
    void askForCode(CodeKind kind, const QString &prompt);
    void hideCode();
    bool isAskingForCode() const;
    CodeKind codeKind() const { return m_codeKind; }
    void allowClose() { m_closable = true; }

    QPushButton *signInButton() const { return m_signIn; }
    QPushButton *cancelButton() const { return m_cancel; }
    QPushButton *switchUserButton() const { return m_switchUser; }
    QPushButton *offlineButton() const { return m_offline; }
    QLineEdit *switchUserEdit() const { return m_switchEdit; }
    QPushButton *recoveryButton() const { return m_recovery; }
    QLineEdit *codeEdit() const { return m_codeEdit; }
    QPushButton *codeSubmitButton() const { return m_codeGo; }
    QLabel *codePrompt() const { return m_codePrompt; }
    QLabel *headline() const { return m_headline; }
    QLabel *detail() const { return m_detail; }

Q_SIGNALS:
    void signInRequested();
    void cancelRequested();
    void switchUserRequested(const QString &user);
    void offlineUnlockRequested();
    void codeEntered(hotdesk::ui::CodeKind kind, const QString &code);

protected:
    void closeEvent(QCloseEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    bool event(QEvent *event) override;

private:
    // The rows that appear on request below the buttons; each starts hidden.
    QWidget *createSwitchRow();
    QWidget *createCodeRow();
    void connectControls();
    void retranslate();

    QScreen *m_screen = nullptr;
    bool m_primary = false;
    bool m_closable = false;
    LockInfo m_info;
    QLabel *m_headline = nullptr;
    QLabel *m_detail = nullptr;
    QLabel *m_attempts = nullptr;
    QLabel *m_help = nullptr;
    QLabel *m_status = nullptr;
    QProgressBar *m_progress = nullptr;
    QPushButton *m_signIn = nullptr;
    QPushButton *m_cancel = nullptr;
    QPushButton *m_switchUser = nullptr;
    QPushButton *m_offline = nullptr;
    QWidget *m_switchRow = nullptr;
    QLineEdit *m_switchEdit = nullptr;
    QPushButton *m_switchGo = nullptr;
    QPushButton *m_recovery = nullptr;
    QWidget *m_codeRow = nullptr;
    QLabel *m_codePrompt = nullptr;
    QLineEdit *m_codeEdit = nullptr;
    QPushButton *m_codeGo = nullptr;
    CodeKind m_codeKind = CodeKind::OneTimeCode;
    bool m_busy = false;
    QStackedWidget *m_pageArea = nullptr;
    QPointer<AuthBrowserWidget> m_browser;
};

// A failed sign-in as the lock screen tells it, in the person's language: why
// (LockInfo::reason) and the status line, why and what to do next. Each is a
// whole translated sentence chosen by the error's code. The core's own messages
// are not translated and go to the log; where the person or the help desk needs
// the detail (a policy problem, an unexpected error) the reason names it in brackets.
struct SignInFailureText {
    QString reason;
    QString status;
};

// Covers every screen at once, including screens plugged in while locked.
// lock() and unlock() are the only way in and out: Esc, Alt+F4 and a window
// manager's close request change nothing, and unlock() takes the result of a
// flow whose ID token was validated, so no other path can lift the lock.
class LockScreen : public QObject {
    Q_OBJECT
public:
    explicit LockScreen(QObject *parent = nullptr);
    ~LockScreen() override;

    void lock(const LockInfo &info);
    bool isLocked() const { return m_locked; }
    void setInfo(const LockInfo &info);
    void setStatus(const QString &text, bool busy);
    // The sign-in browser goes to the primary screen's window.
    void setBrowser(AuthBrowserWidget *browser);
    // Only a completed flow (its ID token validated) unlocks, and only for the
    // user the lock was for or one who switched in.
    bool unlock(const flow::FlowResult &proof);
    // The failure policy's offline grace, granted by the decision engine for
    // the user the lock is for: the one other way the lock lifts.
    bool unlockOffline(const policy::OfflineGranted &grant);
    // A recovery code of the user the lock is for was accepted and used up.
    bool unlockWithRecoveryCode(const store::RecoveryCodeAccepted &proof);
    // hotdeskd, over its root-owned socket, says it validated a sign-in of the
    // session's owner and lifted the lock it required; user is the lock's.
    // It also ends holdForDaemon().
    bool unlockValidatedByDaemon(const QString &user);
    // While held, the lock is hotdeskd's: only unlockValidatedByDaemon() lifts
    // it, and the agent's own proofs (its sign-in, offline grace, recovery
    // codes) are refused.
    void holdForDaemon(bool hold) { m_daemonHold = hold; }
    bool isHeldForDaemon() const { return m_daemonHold; }
    // The code field on the primary screen (a one-time code the flow waits
    // for, or a recovery code); it moves with the sign-in if screens change.
    void askForCode(CodeKind kind, const QString &prompt);
    // Hides the code field; with `only`, just when it asks for that kind.
    void hideCode(std::optional<CodeKind> only = std::nullopt);

    const QList<LockWindow *> &windows() const { return m_windows; }
    LockWindow *primaryWindow() const;

    // The hold on the session's input (X11 only, ui/x11lockguard.h). Where Qt
    // does not run on X11 it stays Unsupported: no client can hold a Wayland
    // session, and hotdeskd uses the OS lock there.
    enum class GrabState {
        Unsupported, // not X11: nothing is grabbed
        Released, // not locked
        Grabbing, // locked, asking the X server for both grabs (and retrying)
        Held, // the X server granted the keyboard and the pointer grab
        Failed, // not granted after the retries: grabFailed() said why
        Suspended, // let go for the OS lock (suspendGrabs())
    };
    GrabState grabState() const;
    // Lets the grabs go and stops raising the lock windows while the OS lock
    // is asked to lock the session (its locker needs the grabs and the top);
    // resumeGrabs() takes them again once the session is unlocked, if the
    // lock is still up. Nothing on other platforms.
    void suspendGrabs();
    void resumeGrabs();
    // How often and how far apart the grabs are tried (default 20 × 100 ms; tests shorten it).
    void setGrabRetries(int attempts, int intervalMs);

    static SignInFailureText failureText(const Error &error);

Q_SIGNALS:
    void signInRequested(const QString &user);
    void cancelRequested();
    void switchUserRequested(const QString &user);
    void offlineUnlockRequested(const QString &user);
    void oneTimeCodeEntered(const QString &code);
    void recoveryCodeEntered(const QString &user, const QString &code);
    // The account password typed for an offline unlock (CodeKind::AccountPassword).
    void accountPasswordEntered(const QString &user, const QString &password);
    void unlocked(const QString &user);
    // X11: the lock holds the keyboard and the pointer (again after another
    // client unmapped a lock window, which ends X grabs).
    void grabbed();
    // X11: the grabs could not be had after the retries; the lock windows
    // stay, but they do not hold the session: the caller locks it the OS's way.
    void grabFailed(const QString &why);
    // X11: another window came above the lock windows; they were raised and grabbed again.
    void raisedAgain(const QString &why);

private:
    void lift(const QString &user);
    void addScreen(QScreen *screen);
    void removeScreen(QScreen *screen);
    void coverAll();

    bool m_locked = false;
    bool m_daemonHold = false;
    LockInfo m_info;
    QString m_status;
    bool m_busy = false;
    QList<LockWindow *> m_windows;
    QPointer<AuthBrowserWidget> m_browser;
    std::optional<CodeKind> m_codeKind;
    QString m_codePrompt;
    X11LockGuard *m_guard = nullptr;
    bool m_grabFailed = false;
    bool m_grabSuspended = false;
};

} // namespace hotdesk::ui

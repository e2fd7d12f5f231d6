// The embedded sign-in browser of flow 1 (steps 4 and 7): shows the IdP's pages and captures the redirect.
#pragma once

#include "browserurls.h"
#include "core/result.h"

#include <QDialog>
#include <QElapsedTimer>
#include <QImage>
#include <QList>
#include <QSslCertificate>
#include <QString>
#include <QTimer>
#include <QUrl>
#include <QWidget>

#include <chrono>
#include <functional>
#include <memory>

class QLabel;
class QProgressBar;
class QPushButton;
class QStackedWidget;

namespace hotdesk::ui {

class EmbeddedBrowserEngine;
struct EmbeddedLoadFailure;

struct AuthBrowserOptions {
    // authorization_endpoint?client_id=…&request=JWT
    QUrl authorizationUrl;
    // Where the IdP sends the browser back: http://127.0.0.1:PORT/callback
    // (RFC 8252 loopback) or com.hotdesk.agent:/callback. Captured inside
    // the browser, never requested.
    QUrl redirectUri;
    // The IdP's origin (scheme, host, port); the only place the browser goes.
    // Empty: the origin of authorizationUrl.
    QUrl allowedOrigin;
    // CA certificates trusted on top of the system store (net::TlsTrust::extraCertificates()).
    QList<QSslCertificate> extraCaCertificates;
    QString title; // shown above the page; empty hides the line
    QString helpText; // shown once the page is there; empty: a generic hint
    // How long the first page may take before the flow fails with Timeout.
    std::chrono::milliseconds loadTimeout {30000};
    // Opens a link the user clicked that leads outside the IdP. Empty:
    // QDesktopServices::openUrl. A lock screen passes its own (the system
    // browser would open behind it).
    std::function<void(const QUrl &)> openExternally;
    // False when the host has a Cancel of its own (the lock screen): the
    // widget's is hidden, so the person sees one. Retry still shows after a failure.
    bool showCancel = true;
};

// Checks what start() would refuse: a non-HTTPS authorization URL (plain HTTP
// only on loopback), an authorization URL outside the allowed origin, or a
// redirect URI that is neither a loopback http URL nor com.hotdesk.agent:/….
// Loads nothing.
Status validateOptions(const AuthBrowserOptions &options);

// The browser as a widget, so a lock screen can embed it. WebEngine starts
// only in start(): constructing the widget creates no profile and no page,
// and the first start() of the process loads the WebEngine module
// (ui/webengine, embeddedbrowser.h) after creating the shared OpenGL context
// WebEngine needs.
//
// Signals: redirected() and cancelled() end the flow, and once one of them
// came nothing else is emitted. failed() reports an attempt that did not get
// to the IdP (the widget then shows what happened with Retry and Cancel);
// after Retry it may come again.
class AuthBrowserWidget : public QWidget {
    Q_OBJECT
public:
    explicit AuthBrowserWidget(QWidget *parent = nullptr);
    ~AuthBrowserWidget() override;

    // Starts a flow with a fresh off-the-record profile (nothing from an earlier
    // flow or user survives) and loads the authorization URL. Options that
    // validateOptions() refuses: the error, and nothing starts. A module that
    // cannot be loaded: Unsupported, saying which files were tried.
    Status start(AuthBrowserOptions options);
    // Loads the authorization URL again after a failure.
    void retry();
    // Stops the flow and emits cancelled(), unless it has already ended.
    void cancel();

    bool isRunning() const { return m_state == State::Running; }
    bool isFinished() const { return m_state == State::Finished; }
    // The page as it is drawn now (empty before start()); for tests and demos.
    QImage grabPage() const;
    // The view (a QWebEngineView of the module), for focus handling by a host
    // and for tests; null before start().
    QWidget *view() const;
    QString statusText() const;
    QString messageText() const;

Q_SIGNALS:
    // The IdP sent the browser to the redirect URI; url carries code, state and iss (or error).
    void redirected(const QUrl &url);
    void cancelled();
    void failed(const hotdesk::Error &error);
    // A page of the IdP finished loading (the host may move focus there).
    void pageLoaded(const QUrl &url);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    enum class State { Idle, Running, Failed, Finished };

    void teardown();
    // Runs work from the event loop: nothing is emitted or stopped from inside
    // a WebEngine callback, where a receiver deleting the widget would crash.
    void later(std::function<void()> work);
    void load();
    void capture(const QUrl &url);
    bool recentUserInput() const;
    void openOutside(const QUrl &url);
    void navigationBlocked(const QUrl &url, bool isMainFrame);
    void certificateRejected(const QUrl &url, const QString &reason);
    void onLoadSucceeded(const QUrl &url);
    void onLoadFailed(const EmbeddedLoadFailure &failure);
    void onLoadTimeout();
    void fail(ErrorCode code, const QString &message);
    void finish();
    void stopLater();

    AuthBrowserOptions m_options;
    QUrl m_origin;
    State m_state = State::Idle;
    bool m_pageShown = false; // an IdP page loaded in this attempt
    bool m_attemptFailed = false; // failed() already came for this attempt
    QTimer m_loadTimer;
    QElapsedTimer m_lastInput; // the last click, tap or Enter in the page

    // The module's profile, page and view for this flow.
    std::unique_ptr<EmbeddedBrowserEngine> m_engine;

    QLabel *m_title = nullptr;
    QLabel *m_status = nullptr;
    QProgressBar *m_progress = nullptr;
    QStackedWidget *m_stack = nullptr;
    QWidget *m_placeholder = nullptr;
    QLabel *m_message = nullptr;
    QPushButton *m_retry = nullptr;
    QPushButton *m_cancel = nullptr;
};

// The browser in a window of its own (hotdesk login --browser embedded).
// Esc, the window's close button and Cancel all cancel; a captured redirect
// accepts the dialog.
class AuthBrowserDialog : public QDialog {
    Q_OBJECT
public:
    explicit AuthBrowserDialog(QWidget *parent = nullptr);

    Status start(AuthBrowserOptions options);
    AuthBrowserWidget *browser() const { return m_browser; }
    // The captured redirect once the dialog was accepted.
    QUrl redirectedUrl() const { return m_redirected; }

public Q_SLOTS:
    void reject() override;

private:
    AuthBrowserWidget *m_browser = nullptr;
    QUrl m_redirected;
};

} // namespace hotdesk::ui

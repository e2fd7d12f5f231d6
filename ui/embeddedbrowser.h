// The boundary between hotdesk_ui and the WebEngine module (ui/webengine): plain C++, no Qt signals.
#pragma once

#include <QImage>
#include <QList>
#include <QSslCertificate>
#include <QString>
#include <QUrl>
#include <QWidget>

#include <functional>

// The module (libhotdesk_webengine.so) is loaded with QLibrary on the first
// sign-in, so that a process that never shows the sign-in page never maps Qt
// WebEngine or OpenGL. Only what this header declares crosses over: both
// sides are built from the same tree against the same Qt, and each keeps its
// own QObject classes, so no metaobject exists twice.
namespace hotdesk::ui {

// Raised whenever this header changes incompatibly; the loader refuses a module of another version.
inline constexpr int kEmbeddedBrowserAbi = 1;

// What the engine reports of a navigation that failed.
struct EmbeddedLoadFailure {
    enum class Domain { Certificate, Http, Network };
    Domain domain = Domain::Network;
    QUrl url;
    int errorCode = 0;
    QString errorString;
};

// How the engine asks and tells the widget around it. Called on the GUI
// thread, possibly from inside a WebEngine callback: receivers must not
// delete the engine there.
struct EmbeddedBrowserCallbacks {
    // Whether the flow still takes navigations (false once it failed or ended).
    std::function<bool()> running;
    // A click, tap or Enter in the page just now: a link then counts as the person's choice.
    std::function<bool()> recentUserInput;
    // The main frame reached the redirect URI; url carries the response.
    std::function<void(const QUrl &url)> captured;
    // A navigation the engine refused (outside the IdP, or elsewhere at the redirect endpoint).
    std::function<void(const QUrl &url, bool isMainFrame)> blocked;
    // A link the person chose that leads outside the IdP: for their own browser.
    std::function<void(const QUrl &url)> openOutside;
    // Checks a chain Chromium did not trust against the agent's anchors:
    // empty when trusted, else why not.
    std::function<QString(const QList<QSslCertificate> &chain, const QString &host)> verifyChain;
    // A certificate of the IdP's origin was refused; reason as Chromium or verifyChain said.
    std::function<void(const QUrl &url, const QString &reason)> certificateRejected;
    std::function<void()> loadStarted;
    std::function<void(int percent)> loadProgress;
    std::function<void(const QUrl &url)> loadSucceeded;
    std::function<void()> loadStopped;
    std::function<void(const EmbeddedLoadFailure &failure)> loadFailed;
};

struct EmbeddedBrowserSetup {
    QUrl redirectUri;
    QUrl origin; // the only origin pages load from
    QString accessibleName; // of the view
    EmbeddedBrowserCallbacks callbacks;
};

// One flow's off-the-record profile, page and view. Deleting it deletes them
// in the order WebEngine wants (view, page, profile).
class EmbeddedBrowserEngine {
public:
    virtual ~EmbeddedBrowserEngine() = default;
    // The QWebEngineView; the caller puts it into its layout (and so owns its place, not its life).
    virtual QWidget *widget() const = 0;
    virtual void load(const QUrl &url) = 0;
    virtual void stop() = 0;
};

} // namespace hotdesk::ui

// The module's entry points, looked up by name (extern "C": no mangling).
extern "C" {
// kEmbeddedBrowserAbi of the module.
using HotdeskWebEngineAbiFunction = int (*)();
// Registers the redirect scheme (first call only) and creates an engine. Call on the GUI thread.
using HotdeskWebEngineCreateFunction = hotdesk::ui::EmbeddedBrowserEngine *(*)(const hotdesk::ui::EmbeddedBrowserSetup &setup);
}

namespace hotdesk::ui {
inline constexpr char kWebEngineAbiSymbol[] = "hotdesk_webengine_abi";
inline constexpr char kWebEngineCreateSymbol[] = "hotdesk_webengine_create";
} // namespace hotdesk::ui

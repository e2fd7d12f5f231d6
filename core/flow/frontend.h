// Where the user meets the identity provider: the embedded browser, the system browser, or a printed URL.
#pragma once

#include "../oidc/loopbackreceiver.h"
#include "../result.h"

#include <QObject>
#include <QUrl>

#include <functional>

namespace hotdesk::flow {

// One sign-in at the IdP. prepare() fixes the redirect URI before the DAS is
// asked for a request object (the URI is signed into it); open() shows the
// authorization URL; the frontend then reports the captured redirect, or why
// there will be none (the user cancelled, the page could not load, ...).
class AuthorizationFrontend : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;
    virtual Result<QString> prepare() = 0;
    virtual void open(const QUrl &authorizationUrl) = 0;
    // Stops listening and closes what was opened; no signal follows.
    virtual void close() = 0;

Q_SIGNALS:
    void redirected(const QUrl &redirect);
    void failed(const hotdesk::Error &error);
};

// The system browser or a printed URL: the response comes back to a loopback
// listener (RFC 8252 §7.3). The opener shows the URL: it starts a browser, or
// prints "open: URL" for someone at another machine or a script.
class LoopbackFrontend final : public AuthorizationFrontend {
    Q_OBJECT
public:
    using Opener = std::function<Status(const QUrl &)>;
    explicit LoopbackFrontend(Opener opener, QObject *parent = nullptr);
    Result<QString> prepare() override;
    void open(const QUrl &authorizationUrl) override;
    void close() override;

private:
    Opener m_opener;
    oidc::LoopbackReceiver *m_receiver = nullptr;
};

} // namespace hotdesk::flow

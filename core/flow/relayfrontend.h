// The frontend of a sign-in that hotdeskd runs: the session's agent shows the IdP page and relays the redirect it captured.
#pragma once

#include "frontend.h"

namespace hotdesk::flow {

// The flow stays where it is (with its state, nonce and PKCE verifier); only
// the authorization URL goes out (authorizationUrlReady) and only the
// authorization response comes back (deliver()).
//
// deliver() takes a URL only while the flow waits for one, and only when it
// goes to the registered redirect URI (scheme, host, port and path exactly,
// no user info). Anything else is refused and the flow keeps waiting, until
// its own deadline or a cancel: a URL for another place is not an answer to
// this request at all. The first URL that does go to the redirect URI is
// handed to the flow, which then checks state, iss and the code itself and
// fails closed on any mismatch (a forged or foreign response ends the
// sign-in); later deliveries are refused.
class RelayFrontend final : public AuthorizationFrontend {
    Q_OBJECT
public:
    // com.hotdesk.agent:/callback, the private-use redirect URI (RFC 8252 §7.1)
    // that the agent's embedded browser captures and the IdP registers for the
    // agent; the same as the embedded frontend's (app/agent/embeddedfrontend.cpp).
    static QString privateUseRedirectUri();
    // The URIs a presenting agent can capture: the private-use one, or a
    // loopback listener http://127.0.0.1:PORT/callback or http://[::1]:PORT/callback
    // (RFC 8252 §7.3; IP literals only). Errors: Unsupported naming the URI.
    static Status checkRedirectUri(const QString &redirectUri);

    explicit RelayFrontend(QString redirectUri = privateUseRedirectUri(), QObject *parent = nullptr);

    // The redirect URI, once it passed checkRedirectUri.
    Result<QString> prepare() override;
    // Emits authorizationUrlReady(url) for whoever presents it; from then on deliver() is accepted.
    void open(const QUrl &authorizationUrl) override;
    void close() override;

    // The authorization response (redirect URI with code, state and iss, or
    // error) as the presenting agent captured it. Success means handed to the
    // flow, not signed in. Errors: StateMismatch when no flow waits for a
    // response, MalformedAnswer for a URL that does not go to the redirect URI.
    Status deliver(const QUrl &redirect);
    bool isWaiting() const { return m_waiting; }
    const QString &redirectUri() const { return m_redirectUri; }

Q_SIGNALS:
    void authorizationUrlReady(const QUrl &authorizationUrl);

private:
    QString m_redirectUri;
    bool m_waiting = false;
};

} // namespace hotdesk::flow

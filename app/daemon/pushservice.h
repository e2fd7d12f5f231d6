// The push sign-ins hotdeskd runs for pam_hotdesk.so (docs/pam.md, docs/ciba.md): OpenID CIBA in poll mode. The DAS
// signs the backchannel request for this PC's user, the IdP pushes it to the phone with the number to match, and only
// an ID token this class validated (issuer, audience, signature, sub = the user's shared id) is a success.
#pragma once

#include "signinservice.h"

#include "core/clock.h"
#include "core/flow/reauthflow.h"
#include "core/random.h"
#include "core/result.h"

#include <QObject>

#include <map>
#include <memory>

namespace hotdesk::store {
class AgentState;
class FileSecretStore;
} // namespace hotdesk::store

namespace hotdesk::daemon {

struct PushResult {
    QString user;
    QString sharedId; // the validated ID token's sub
    QString acr;
    qint64 validatedAt = 0;
    // The token requests made, and the seconds the IdP asked the client to wait before them (its interval, plus 5 s
    // per slow_down): what of the push's time was the IdP's pacing rather than work.
    int polls = 0;
    qint64 pollWaitSeconds = 0;
};

// Any number of pushes at once (one per PAM conversation). Exactly one of
// succeeded() and failed() per push id, never inside start(); after it the id
// is unknown. Nothing here logs.
class PushService : public QObject {
    Q_OBJECT
public:
    PushService(SignInSettings settings, flow::FingerprintSource fingerprint, const Clock &clock, RandomSource &random,
        QObject *parent = nullptr);
    ~PushService() override;

    // Starts a push for user (canonical name); its id. timeout bounds the whole push (the module's own wait).
    Result<QString> start(const QString &user, const QStringList &acrValues, std::chrono::seconds timeout);
    // failed(Cancelled) follows at once; an unknown id is ignored.
    void cancel(const QString &pushId);

Q_SIGNALS:
    // The phone has the request: the person must see the number (binding message) now.
    void numberReady(const QString &pushId, const QString &number, qint64 expiresInSeconds);
    void succeeded(const QString &pushId, const hotdesk::daemon::PushResult &result);
    // server: "das" or "idp", the server the push was dealing with when it failed; empty when it failed on this PC
    // before asking either (the device key, the state directory) or was cancelled then.
    void failed(const QString &pushId, const hotdesk::Error &error, const QString &server);

private:
    class Push;
    void begin(const QString &pushId);
    void registerUser(Push &push);
    void requestAtDas(Push &push);
    void startCiba(Push &push, const oidc::ProviderMetadata &provider);
    void finish(const QString &pushId, Result<PushResult> result);

    SignInSettings m_settings;
    const Clock &m_clock;
    RandomSource &m_random;
    ServerAccess m_access; // users, enrollments, device keys; discovery and the IdP's keys, shared by the pushes
    std::map<QString, Push *> m_pushes; // by id; each a child of this object
};

} // namespace hotdesk::daemon

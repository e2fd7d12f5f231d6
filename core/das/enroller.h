// Enrolling this PC with a DAS (DESIGN flow 3) and loading the device credential an enrollment left behind.
#pragma once

#include "../clock.h"
#include "../jose/jwk.h"
#include "../net/httpclient.h"
#include "../policy/serverpolicy.h"
#include "../random.h"
#include "../result.h"
#include "../store/agentstate.h"
#include "../store/secretstore.h"
#include "dasclient.h"
#include "enrollment.h"

#include <QByteArray>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QUrl>

#include <functional>
#include <memory>
#include <optional>

namespace hotdesk::das {

// Where and how to enroll.
struct EnrollTarget {
    QUrl dasUrl; // where the activation is asked for (POST {dasUrl}/v1/activation)
    // The activation's "iss" must equal this: the DAS URL when the policy names it.
    std::optional<QString> expectedDasUrl;
    jose::JwkSet activationKeys; // the policy's pinned activation keys (servers.das_activation_keys)
    QString deviceId; // empty: this PC's id at that DAS from an earlier enrollment, or defaultDeviceId()
};

// The target for the policy: dasUrl (one of the policy's DAS URLs, or another
// one the administrator names) or else the policy's first DAS URL. Errors:
// PolicyInvalid when the policy pins no activation key.
Result<EnrollTarget> enrollTargetFor(const policy::AgentPolicy &policy, const std::optional<QUrl> &dasUrl = {});

// A device id for this PC: its host name reduced to the characters a device
// id allows, and a short random suffix so that two PCs cloned from one image
// (same host name) still differ: "desk-12-3fa9c2".
Result<QString> defaultDeviceId(RandomSource &random);

// An enrollment as the agent uses it.
struct LoadedCredential {
    store::EnrollmentRecord record;
    DeviceCredential credential;
};

// Runs flow 3: activation from the administrator's token, verified against
// the pinned keys; SPAKE2 with the DAS; a fresh ES256 device key registered
// over the confirmed exchange; and, only after the DAS's confirmation
// verified, the private key in the SecretStore under deviceKeyName(dasUrl) and
// the EnrollmentRecord in the AgentState (replacing an earlier enrollment with
// the same DAS; enrollments with other DAS services stay).
//
// Errors: AccessDenied (the DAS refused the administrator token, or the
// activation is used up), the activation checks of verifyActivation
// (BadSignature, KeyNotFound, IssuerMismatch, Expired, ...), ConfirmationFailed
// (the DAS or the agent could not confirm the exchange: a wrong or tampered
// activation), Expired (activation or exchange too old), transport errors of
// the HTTP client, MalformedAnswer, ServerError, Keychain, Io.
// One enrollment at a time per object; each callback runs exactly once.
class Enroller : public QObject {
    Q_OBJECT
public:
    Enroller(net::HttpClient &http, store::SecretStore &secrets, store::AgentState &state, const Clock &clock,
        RandomSource &random, QObject *parent = nullptr);
    ~Enroller() override;

    using Callback = std::function<void(Result<store::EnrollmentRecord>)>;

    // With an administrator token (a DAS "admin" token, "hdat_…").
    void enroll(const EnrollTarget &target, const QByteArray &adminToken, Callback done);
    // With an administrator's sign-in at the IdP (hotdesk enroll without a
    // token): the DAS's sign-in id and the ID token that sign-in earned.
    void enrollWithSignIn(const EnrollTarget &target, const QString &signIn, const QByteArray &idToken, Callback done);
    // With an activation the administrator obtained and passed on (POST /v1/activation's "activation").
    void enrollWithActivation(const EnrollTarget &target, const QByteArray &activationJwt, Callback done);
    // From the key exchange on, for an activation verifyActivation accepted.
    // Public so that a test can run the exchange with an activation it altered;
    // never call it with an activation that did not come out of verifyActivation.
    void enrollVerified(const Activation &activation, const QString &deviceId, Callback done);

Q_SIGNALS:
    // A step of the enrollment, for people watching ("asking ... for an activation").
    void progress(const QString &step);

private:
    struct Run;
    void exchange(std::shared_ptr<Run> run);
    void confirm(std::shared_ptr<Run> run, const QJsonObject &answer);
    void keep(std::shared_ptr<Run> run, const QJsonObject &answer);
    void requestActivation(const EnrollTarget &target, const QJsonObject &body, const QByteArray &authorization, Callback done);
    void post(const QString &url, const QJsonObject &body, const QByteArray &authorization,
        std::function<void(Result<QJsonObject>)> done);
    Result<QString> chooseDeviceId(const QString &dasUrl, const QString &given);

    net::HttpClient &m_http;
    store::SecretStore &m_secrets;
    store::AgentState &m_state;
    const Clock &m_clock;
    RandomSource &m_random;
};

// The enrollment with the first of dasUrls (the policy's, in order) that has one; nullopt when none has.
std::optional<store::EnrollmentRecord> enrollmentFor(const QList<store::EnrollmentRecord> &records, const QList<QUrl> &dasUrls);

// The credential of the enrollment whose DAS URL is one of dasUrls (the
// policy's, in order): its record, and its device key from the SecretStore.
// Errors: NotEnrolled ("run hotdesk enroll") when there is none or the key is
// gone from the keychain, DeviceUnknown when the keychain holds another key
// than the one enrolled, Keychain, Malformed (a damaged state file).
void loadCredential(store::SecretStore &secrets, const store::AgentState &state, const QList<QUrl> &dasUrls,
    std::function<void(Result<LoadedCredential>)> done);

} // namespace hotdesk::das

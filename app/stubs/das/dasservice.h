// The Device Authentication Server role: enrollment, device tokens, users, 2FA request objects, device recognition.
#pragma once

#include "../common/httpservice.h"
#include "../common/keyring.h"
#include "../common/serviceclient.h"
#include "../common/sidethread.h"
#include "../common/stubsconfig.h"
#include "../common/userdirectory.h"
#include "core/random.h"
#include "dashttp.h"
#include "dasrecognition.h"
#include "dasstore.h"

#include "core/jose/jwk.h"

#include <QHash>

#include <functional>
#include <memory>
#include <vector>

namespace hotdesk::stubs::das {

struct AuthorizationParams; // dasservice_p.h

class DasService : public HttpService {
    Q_OBJECT
public:
    explicit DasService(StubsContext &context, QObject *parent = nullptr);
    ~DasService() override;

    // Creates this role's tables and keys; called once after every role listens, before any request is served.
    Status prepare() override;

    // The DAS URL (base URL without a trailing slash): "iss" of activations,
    // SPAKE2 idB, and the "aud" every device token must carry.
    QString url() const;
    // The OpenID Provider request objects are for: --issuer, or the in-process IdP.
    QString issuer() const;
    Keyring &signingKeys() { return m_signingKeys; }
    Keyring &activationKeys() { return m_activationKeys; }
    // How unknown users get their shared id; prepare() picks the enterprise
    // relay when an enterprise server runs, else the in-process IdP's SCIM.
    void setUserDirectory(std::unique_ptr<UserDirectory> directory) { m_directory = std::move(directory); }
    ServiceClient &serviceClient() { return *m_client; }
    SmtpMailer *mailer() const { return m_mailer.get(); }

private:
    struct AuthorizationServer {
        QString issuer;
        QString authorizationEndpoint;
        QString jwksUri;
    };
    struct TwoFactorRequest;
    // A POST /v1/2fa-tokens waiting for its group's transaction (issuePending).
    struct PendingIssue {
        QByteArray token; // of "Authorization: DeviceToken", empty when absent
        Result<QJsonObject> body;
        std::shared_ptr<LaterResponder> reply;
    };

    QHttpServerResponse activation(const QHttpServerRequest &request);
    // A new activation made by createdBy; spend, when given, runs in the transaction that records it, and may refuse.
    QHttpServerResponse newActivation(
        const QString &createdBy, const std::function<Result<Checked<void>>(QSqlDatabase &)> &spend = {});
    // hotdesk enroll without a token: POST /v1/admin-sign-ins gives an
    // administrator a request object; POST /v1/activation with the sign-in and
    // the ID token it earned gives the activation.
    void adminSignIn(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    // Records an administrator's sign-in (a few per window at most) and answers with its request object.
    void issueAdminSignIn(
        const std::shared_ptr<LaterResponder> &reply, const AuthorizationParams &params, const MappedUser &admin);
    void activationBySignIn(const QJsonObject &body, const std::shared_ptr<LaterResponder> &reply);
    // The OpenID Provider's current signing keys, read from its jwks_uri.
    void withProviderKeys(std::function<void(Checked<jose::JwkSet>)> done);
    // Flow 2 through the enterprise server or SCIM; the mapping is stored before done.
    void provisionUser(const UserRegistration &user, std::function<void(Checked<MappedUser>)> done);
    QHttpServerResponse spake2(const QString &uid, const QHttpServerRequest &request);
    QHttpServerResponse confirm(const QString &uid, const QHttpServerRequest &request);
    // Spends the activation and records the device's key under its id (a confirmed key exchange).
    Result<Checked<void>> enrollDevice(
        QSqlDatabase &db, const QString &uid, const QString &deviceId, const jose::Jwk &key, qint64 now);
    void registerUser(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void twoFactorToken(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    Result<Checked<TwoFactorRequest>> checkTwoFactor(QSqlDatabase &db, const PendingIssue &issue);
    void issuePending();
    QHttpServerResponse keySet(Keyring &keys);
    // Flow 4, for devices.
    QHttpServerResponse requestApproval(const QString &deviceId, const QHttpServerRequest &request);
    QHttpServerResponse approvalStatus(const QString &deviceId, const QString &id, const QHttpServerRequest &request);
    QHttpServerResponse issueOobToken(const QHttpServerRequest &request);
    void mailOobToken(const IssuedOobToken &issued);
    QHttpServerResponse verifyOobToken(const QHttpServerRequest &request);
    QHttpServerResponse reportEvent(const QHttpServerRequest &request);
    // The administrators' API under /v1/admin/, with an admin or approver token.
    QHttpServerResponse adminEvents(const QHttpServerRequest &request);
    QHttpServerResponse adminApprovals(const QHttpServerRequest &request);
    QHttpServerResponse adminDecision(const QString &id, const QHttpServerRequest &request);

    Result<Checked<AdminIdentity>> authenticateAdmin(QSqlDatabase &db, const QHttpServerRequest &request, AdminRole needed);
    // Checks "Authorization: DeviceToken <JWT>" and records its jti; returns the device id.
    Result<Checked<QString>> authenticateDevice(QSqlDatabase &db, const QHttpServerRequest &request);
    Result<Checked<QString>> authenticateDevice(QSqlDatabase &db, const QByteArray &token);
    // The same for a request about the device on its path (/v1/devices/{id}/…): another device's token is refused.
    Result<Checked<QString>> authenticateDevice(QSqlDatabase &db, const QHttpServerRequest &request, const QString &pathDevice);
    // A device's request with a body: the device token checked as above, then the JSON body.
    struct DeviceRequest {
        QString device;
        QJsonObject body;
    };
    Result<Checked<DeviceRequest>> deviceRequest(QSqlDatabase &db, const QHttpServerRequest &request);
    Result<jose::Jwk> deviceKey(const QString &json);
    // Device recognition (DESIGN flow 4): the presented fingerprint against the
    // registered one under the drift threshold; 403 device-unrecognized beyond it.
    Result<Checked<void>> recognizeDevice(
        QSqlDatabase &db, const QString &deviceId, const QString &user, const hotdesk::das::Fingerprint &fingerprint);
    // Calls done at once when the authorization endpoint is known, after discovery otherwise.
    void withAuthorizationServer(std::function<void(Checked<AuthorizationServer>)> done);
    // The authorization endpoint when it is known without asking the provider (no discovery pending).
    std::optional<AuthorizationServer> authorizationServerAtHand() const;
    // 201 with the request object, or the refusal that signing it came to.
    void sendRequestObject(const std::shared_ptr<LaterResponder> &reply, const AuthorizationServer &server, const Result<QByteArray> &jwt);
    Result<QByteArray> signRequestObject(
        const TwoFactorRequest &request, const AuthorizationServer &server, const jose::Jwk &key);
    // POST /v1/ciba-requests (dasciba.cpp, docs/ciba.md): the signed OpenID CIBA request for an enrolled device's user.
    struct CibaIssue;
    QHttpServerResponse cibaRequest(const QHttpServerRequest &request);
    Result<Checked<CibaIssue>> checkCibaRequest(QSqlDatabase &db, const QHttpServerRequest &request);
    Result<QByteArray> signCibaRequest(const CibaIssue &issue, const jose::Jwk &key);

    StubsContext &m_context;
    Keyring m_signingKeys;
    Keyring m_activationKeys;
    OpenSslRandom m_random;
    std::unique_ptr<ServiceClient> m_client;
    std::unique_ptr<UserDirectory> m_directory;
    DeviceRecognition m_recognition;
    std::unique_ptr<SmtpMailer> m_mailer; // with --smtp
    std::optional<AuthorizationServer> m_discovered;
    QHash<QString, jose::Jwk> m_deviceKeys; // parsed device keys by their stored JSON
    JtiPurge m_jtiPurge;
    std::vector<PendingIssue> m_pendingIssues;
    bool m_groupPolled = false; // the pending group has had its extra turn of the event loop (issuePending)
    SideThread m_signer; // signs a group's request objects while its COMMIT waits for the disk
};

} // namespace hotdesk::stubs::das

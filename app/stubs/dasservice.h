// The Device Authentication Server role: enrollment, device tokens, users, 2FA request objects.
#pragma once

#include "core/random.h"
#include "dasdirectory.h"
#include "dasstore.h"
#include "httpservice.h"
#include "keyring.h"
#include "serviceclient.h"
#include "stubsconfig.h"

#include "core/jose/jwk.h"

#include <QHash>

#include <functional>
#include <memory>

namespace hotdesk::stubs {

// A value, or the problem that answers the request instead.
template <typename T> using Checked = tl::expected<T, Problem>;

class DasService : public HttpService {
    Q_OBJECT
public:
    explicit DasService(StubsContext &context, QObject *parent = nullptr);
    ~DasService() override;

    // Creates this role's tables and keys; called once before listening.
    Status prepare();

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

private:
    struct AuthorizationServer {
        QString issuer;
        QString authorizationEndpoint;
    };
    struct TwoFactorRequest;

    QHttpServerResponse activation(const QHttpServerRequest &request);
    QHttpServerResponse spake2(const QString &uid, const QHttpServerRequest &request);
    QHttpServerResponse confirm(const QString &uid, const QHttpServerRequest &request);
    void registerUser(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void twoFactorToken(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    QHttpServerResponse keySet(Keyring &keys);

    Result<Checked<AdminIdentity>> authenticateAdmin(QSqlDatabase &db, const QHttpServerRequest &request, AdminRole needed);
    // Checks "Authorization: DeviceToken <JWT>" and records its jti; returns the device id.
    Result<Checked<QString>> authenticateDevice(QSqlDatabase &db, const QHttpServerRequest &request);
    Result<jose::Jwk> deviceKey(const QString &json);
    // The seam for device recognition (DESIGN flow 4): part 2 compares here with
    // the registered fingerprint under the drift threshold and answers 403
    // device-unrecognized beyond it. For now the presented fingerprint is recorded.
    Result<Checked<void>> recognizeDevice(QSqlDatabase &db, const QString &deviceId, const QJsonObject &fingerprint);
    // Calls done at once when the authorization endpoint is known, after discovery otherwise.
    void withAuthorizationServer(std::function<void(Checked<AuthorizationServer>)> done);
    Result<QByteArray> signRequestObject(const TwoFactorRequest &request, const AuthorizationServer &server);

    StubsContext &m_context;
    Keyring m_signingKeys;
    Keyring m_activationKeys;
    OpenSslRandom m_random;
    std::unique_ptr<ServiceClient> m_client;
    std::unique_ptr<UserDirectory> m_directory;
    std::optional<AuthorizationServer> m_discovered;
    QHash<QString, jose::Jwk> m_deviceKeys; // parsed device keys by their stored JSON
    qint64 m_lastJtiPurge = 0;
};

} // namespace hotdesk::stubs

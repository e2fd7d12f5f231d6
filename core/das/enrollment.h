// Device enrollment (DESIGN flow 3): the signed activation, and the SPAKE2 binding both the agent and the DAS follow.
#pragma once

#include "../clock.h"
#include "../jose/jwk.h"
#include "../pake/spake2.h"
#include "../random.h"
#include "../result.h"

#include <QByteArray>
#include <QString>

#include <chrono>
#include <optional>

namespace hotdesk::das {

inline constexpr char kActivationType[] = "hotdesk-activation+jwt";
inline constexpr char kActivationAudience[] = "hotdesk-agent";
inline constexpr std::chrono::seconds kMaxActivationLifetime {600};
// The SPAKE2 associated data (RFC 9382 §4): bound into the confirmation keys, so
// a transcript of any other use of the same password never confirms here.
inline constexpr char kSpake2Aad[] = "hotdesk das enrollment v1";
// Bad confirmations an activation survives; the next one burns it.
inline constexpr int kMaxConfirmationFailures = 3;

// What a verified activation JWT says.
struct Activation {
    QString dasUrl; // "iss": SPAKE2 idB, and the audience of every device token
    QByteArray password; // "activation_password", the claim's characters as they are (the scrypt input)
    QString serviceUid; // "service_uid": the scrypt salt and the {uid} of the SPAKE2 endpoints
    QString jti;
    qint64 issuedAt = 0;
    qint64 expiresAt = 0;
};

struct ActivationRequirements {
    // The DAS URL when the agent already knows it (from the policy); "iss" must equal it.
    std::optional<QString> dasUrl;
    std::chrono::seconds leeway {60};
};

// Checks an activation against the DAS activation keys pinned in the policy:
// ES256 only, typ, aud, iss an https URL (or the expected one), iat/exp with
// leeway and a lifetime of at most 10 minutes, a 43-character password and a
// service_uid of base64url characters.
Result<Activation> verifyActivation(
    QByteArrayView token, const jose::JwkSet &activationKeys, const ActivationRequirements &requirements, const Clock &clock);

// Device ids are chosen by the agent: 1 to 128 of A-Z a-z 0-9 . _ : - , starting with a letter or digit.
bool isValidDeviceId(QStringView deviceId);
// service_uid and other random ids: 16 to 64 base64url characters.
bool isValidServiceUid(QStringView uid);

// w = passwordScalar(activation_password, salt = service_uid), the same on both sides.
Result<QByteArray> activationPasswordScalar(QByteArrayView password, QStringView serviceUid);

// key_mac = HMAC-SHA256(Ke, the device key's RFC 7638 thumbprint as its
// base64url text): proof that the key the DAS registers is the one the agent
// sent over the exchange that knew the password.
Result<QByteArray> deviceKeyMac(QByteArrayView ke, const jose::Jwk &deviceKey);
// Constant-time comparison of a MAC with the expected one (ConfirmationFailed when they differ).
Status compareMac(QByteArrayView expected, QByteArrayView presented);

// The agent's side of one exchange (SPAKE2 role A, idA = device id, idB = the
// DAS URL from the activation). Order: start -> pA; finish(pB) -> mac_a;
// keyMac(device key), sent together with mac_a; verifyServerConfirmation(mac_b).
// Out of order, or after a failure, every call fails: a new attempt needs a new object.
// Built from core/pake's RFC steps, not pake::Spake2: that class rightly withholds
// Ke until the peer has confirmed, and here Ke must travel with mac_a.
class DeviceEnrollment {
public:
    // Runs scrypt (about 32 MiB, a fraction of a second).
    static Result<DeviceEnrollment> create(const Activation &activation, const QString &deviceId);
    DeviceEnrollment(DeviceEnrollment &&) noexcept = default;
    DeviceEnrollment &operator=(DeviceEnrollment &&) noexcept = default;
    ~DeviceEnrollment();

    Result<QByteArray> start(RandomSource &random);
    Result<QByteArray> finish(QByteArrayView pB);
    // Ke authenticates the device key in the same message as mac_a, before the
    // DAS has confirmed; that reveals no more than mac_a itself does.
    Result<QByteArray> keyMac(const jose::Jwk &deviceKey) const;
    Status verifyServerConfirmation(QByteArrayView macB);
    bool isConfirmed() const { return m_state == State::Confirmed; }

    const QString &deviceId() const { return m_deviceId; }
    const Activation &activation() const { return m_activation; }

private:
    enum class State { Created, Started, Finished, Confirmed, Failed };
    DeviceEnrollment(QByteArray w, Activation activation, QString deviceId);
    Status expect(State state, const char *step) const;

    State m_state = State::Created;
    QByteArray m_w;
    QByteArray m_x;
    QByteArray m_pA;
    QByteArray m_ke;
    QByteArray m_macB;
    Activation m_activation;
    QString m_deviceId;
};

// The DAS's side (role B) in one step: once pA is in, B can derive every key,
// so it answers pB and keeps only what the confirmation step needs. Nothing
// secret beyond Ke and the expected MACs outlives this call.
struct ServerExchange {
    QByteArray pB;
    QByteArray macA; // expected from the agent
    QByteArray macB; // released only after mac_a matched
    QByteArray ke;
};

Result<ServerExchange> answerEnrollment(
    QByteArrayView w, const QString &deviceId, const QString &dasUrl, QByteArrayView pA, RandomSource &random);

} // namespace hotdesk::das

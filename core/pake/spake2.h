// SPAKE2 (RFC 9382) over P-256 with SHA-256, HKDF-SHA256 and HMAC-SHA256: pairing by a shared password.
#pragma once

#include "../random.h"
#include "../result.h"

#include <QByteArray>
#include <QByteArrayView>

namespace hotdesk::pake {

// A sends pA = x*G + w*M, B sends pB = y*G + w*N. In Hotdesk the client is A
// and the server is B; both sides must agree on who is which, or the keys differ.
enum class Role { A, B };

inline constexpr qsizetype kScalarSize = 32;  // big-endian, padded to the length of the P-256 order
inline constexpr qsizetype kMessageSize = 65; // pA, pB and K: uncompressed SEC1 points
inline constexpr qsizetype kKeySize = 16;     // Ke, Ka, KcA, KcB: half of a SHA-256 output
inline constexpr qsizetype kMacSize = 32;     // HMAC-SHA256

// scrypt cost for passwordScalar. The defaults take 32 MiB per derivation,
// which is what makes each offline guess at the password expensive.
struct PasswordHashCost {
    quint64 n = quint64(1) << 15;
    quint32 r = 8;
    quint32 p = 1;
};

// Derives w from a password: scrypt(password, salt) stretched to 40 bytes and
// reduced modulo the group order. The 8 bytes beyond the order's 32 keep the
// bias of the reduction below 2^-64. Both sides must use the same salt; a
// per-pairing value both know (a pairing id) stops one precomputed table from
// serving every pairing. An empty password is refused.
Result<QByteArray> passwordScalar(QByteArrayView password, QByteArrayView salt,
                                  const PasswordHashCost &cost = {});

// The RFC's building blocks, in protocol order. Spake2 strings them together;
// they are public so every intermediate value of the RFC's test vectors can be
// checked. Scalars (w, x, y) are kScalarSize bytes with a value in [1, p-1].

// pA (role A, scalar x) or pB (role B, scalar y).
Result<QByteArray> computeMessage(Role role, QByteArrayView w, QByteArrayView scalar);

// K = scalar * (peerMessage - w*N) for A, or scalar * (peerMessage - w*M) for B.
// Refuses (ErrorCode::Malformed) a peer message that is not exactly an
// uncompressed point on P-256, or that unmasks to the identity element.
Result<QByteArray> computeSharedElement(Role role, QByteArrayView w, QByteArrayView scalar,
                                        QByteArrayView peerMessage);

// TT: each of A, B, pA, pB, K and w preceded by its length as 8 bytes, little-endian.
QByteArray encodeTranscript(QByteArrayView idA, QByteArrayView idB, QByteArrayView pA,
                            QByteArrayView pB, QByteArrayView k, QByteArrayView w);

// Everything derived from TT. Ke is the session key; the rest exists for confirmation.
struct KeySchedule {
    QByteArray ke;   // first half of SHA-256(TT)
    QByteArray ka;   // second half of SHA-256(TT)
    QByteArray kcA;  // KcA || KcB = HKDF-SHA256(salt empty, Ka, "ConfirmationKeys" || aad, 32)
    QByteArray kcB;
    QByteArray macA; // HMAC-SHA256(KcA, TT), sent by A
    QByteArray macB; // HMAC-SHA256(KcB, TT), sent by B
};

Result<KeySchedule> deriveKeySchedule(QByteArrayView transcript, QByteArrayView aad);

// One side of one exchange. Steps: start() -> send the message; finish(peer
// message) -> send the confirmation; verifyPeerConfirmation(peer's); then
// sessionKey(). A call out of that order returns ErrorCode::Unsupported and
// changes nothing. Any other error (bad peer message, wrong confirmation,
// crypto or random failure) ends the exchange: later calls fail too, and a
// new attempt needs a new object with a new secret scalar.
class Spake2 {
public:
    enum class State { Created, Started, Finished, Confirmed, Failed };

    // w from passwordScalar (or given directly); idA and idB may be empty but
    // must match on both sides; aad is bound into the confirmation keys.
    static Result<Spake2> create(Role role, QByteArrayView w, QByteArrayView idA = {},
                                 QByteArrayView idB = {}, QByteArrayView aad = {});

    Spake2(Spake2 &&other) noexcept;
    Spake2 &operator=(Spake2 &&other) noexcept;
    Spake2(const Spake2 &) = delete;
    Spake2 &operator=(const Spake2 &) = delete;
    ~Spake2();

    // Draws the secret scalar from random by rejection sampling (a 32-byte
    // candidate outside [1, p-1] is redrawn, which for P-256 happens with
    // probability about 2^-32, so the scalar is uniform) and returns pA or pB.
    Result<QByteArray> start(RandomSource &random);

    // Takes the peer's pA or pB and returns this side's confirmation MAC.
    Result<QByteArray> finish(QByteArrayView peerMessage);

    // Compares in constant time; a mismatch is ErrorCode::ConfirmationFailed,
    // which is what a wrong password looks like.
    Status verifyPeerConfirmation(QByteArrayView peerMac);

    // Ke, available only once the peer has proven it derived the same keys.
    Result<QByteArray> sessionKey() const;

    Role role() const { return m_role; }
    State state() const { return m_state; }

private:
    Spake2(Role role, QByteArray w, QByteArray idA, QByteArray idB, QByteArray aad);
    tl::unexpected<Error> failWith(Error error);
    void wipeSecrets();

    Role m_role = Role::A;
    State m_state = State::Failed;
    QByteArray m_w;
    QByteArray m_idA;
    QByteArray m_idB;
    QByteArray m_aad;
    QByteArray m_scalar;
    QByteArray m_ownMessage;
    KeySchedule m_keys;
};

} // namespace hotdesk::pake

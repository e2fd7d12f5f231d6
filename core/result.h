// Result<T>: the value of a synchronous call, or the typed Error that stopped it.
#pragma once

#include <QString>

#include <tl/expected.hpp>

namespace hotdesk {

// Stable, machine-readable reasons. The names (see errorCodeName) appear on the
// command line after "rejected:" and in the audit log, so never rename one.
enum class ErrorCode {
    Malformed,           // input is not what the format requires
    TooLarge,            // input exceeds a size limit
    Unsupported,         // well-formed but uses a feature Hotdesk refuses
    AlgNotAllowed,       // JWS alg outside the caller's allowlist, or "none"
    KeyNotFound,         // no key in the set fits the token
    KeyRejected,         // a key that cannot be used (too short, off-curve, wrong use)
    BadSignature,        // signature or MAC does not verify
    IssuerMismatch,
    AudienceMismatch,
    AzpMismatch,
    Expired,
    NotYetValid,
    IssuedInFuture,
    TokenTooOld,
    AuthTimeMissing,
    AuthTimeTooOld,
    NonceMismatch,
    NonceMissing,
    SubjectMissing,
    SubjectMismatch,
    InvalidClaim,        // a claim has the wrong JSON type or an impossible value
    ConfirmationFailed,  // PAKE key confirmation did not match
    CryptoFailure,       // OpenSSL reported an internal failure
    Io,                  // a file or network read failed
    Timeout,             // a server did not answer within the configured time
    // Talking to servers (the agent's flows). Transport first, then what an answer said.
    Unreachable,         // no connection: refused, no route, unknown host, connect timeout
    Tls,                 // the TLS handshake failed: untrusted or mismatched certificate
    Cancelled,           // the user or the caller stopped the operation
    ServerError,         // a 5xx answer, or a 4xx the protocol does not explain
    MalformedAnswer,     // a server answered with something that is not what the protocol says
    AccessDenied,        // the user (or the identity provider) refused
    StateMismatch,       // the authorization response does not belong to this request
    DeviceUnrecognized,  // the DAS does not recognize this PC (flow 4)
    DeviceUnknown,       // the DAS has no enrollment for this device: enroll again
    UserUnknown,         // the DAS does not know this user
    NotEnrolled,         // this PC holds no enrollment for the DAS the policy names
    PolicyInvalid,       // the administrator's policy cannot be used
    Keychain,            // the OS keychain refused to store or return a secret
    PolicyUntrusted,     // the policy file or a folder above it could be changed by someone other than root
};

QString errorCodeName(ErrorCode code);

struct Error {
    ErrorCode code = ErrorCode::Malformed;
    QString message; // for people: what failed and, where it helps, what to do

    QString codeName() const { return errorCodeName(code); }
};

template <typename T>
using Result = tl::expected<T, Error>;

using Status = tl::expected<void, Error>;

inline tl::unexpected<Error> fail(ErrorCode code, QString message)
{
    return tl::unexpected<Error>(Error{code, std::move(message)});
}

} // namespace hotdesk

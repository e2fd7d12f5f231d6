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
    Timeout,
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

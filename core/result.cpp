// Names of the stable error codes.
#include "result.h"

namespace hotdesk {

QString errorCodeName(ErrorCode code)
{
    switch (code) {
    case ErrorCode::Malformed: return QStringLiteral("malformed");
    case ErrorCode::TooLarge: return QStringLiteral("too_large");
    case ErrorCode::Unsupported: return QStringLiteral("unsupported");
    case ErrorCode::AlgNotAllowed: return QStringLiteral("alg_not_allowed");
    case ErrorCode::KeyNotFound: return QStringLiteral("key_not_found");
    case ErrorCode::KeyRejected: return QStringLiteral("key_rejected");
    case ErrorCode::BadSignature: return QStringLiteral("bad_signature");
    case ErrorCode::IssuerMismatch: return QStringLiteral("issuer_mismatch");
    case ErrorCode::AudienceMismatch: return QStringLiteral("audience_mismatch");
    case ErrorCode::AzpMismatch: return QStringLiteral("azp_mismatch");
    case ErrorCode::Expired: return QStringLiteral("expired");
    case ErrorCode::NotYetValid: return QStringLiteral("not_yet_valid");
    case ErrorCode::IssuedInFuture: return QStringLiteral("issued_in_future");
    case ErrorCode::TokenTooOld: return QStringLiteral("token_too_old");
    case ErrorCode::AuthTimeMissing: return QStringLiteral("auth_time_missing");
    case ErrorCode::AuthTimeTooOld: return QStringLiteral("auth_time_too_old");
    case ErrorCode::NonceMismatch: return QStringLiteral("nonce_mismatch");
    case ErrorCode::NonceMissing: return QStringLiteral("nonce_missing");
    case ErrorCode::SubjectMissing: return QStringLiteral("subject_missing");
    case ErrorCode::SubjectMismatch: return QStringLiteral("subject_mismatch");
    case ErrorCode::InvalidClaim: return QStringLiteral("invalid_claim");
    case ErrorCode::ConfirmationFailed: return QStringLiteral("confirmation_failed");
    case ErrorCode::CryptoFailure: return QStringLiteral("crypto_failure");
    case ErrorCode::Io: return QStringLiteral("io");
    case ErrorCode::Timeout: return QStringLiteral("timeout");
    case ErrorCode::Unreachable: return QStringLiteral("unreachable");
    case ErrorCode::Tls: return QStringLiteral("tls");
    case ErrorCode::Cancelled: return QStringLiteral("cancelled");
    case ErrorCode::ServerError: return QStringLiteral("server_error");
    case ErrorCode::MalformedAnswer: return QStringLiteral("malformed_answer");
    case ErrorCode::AccessDenied: return QStringLiteral("access_denied");
    case ErrorCode::StateMismatch: return QStringLiteral("state_mismatch");
    case ErrorCode::DeviceUnrecognized: return QStringLiteral("device_unrecognized");
    case ErrorCode::DeviceUnknown: return QStringLiteral("device_unknown");
    case ErrorCode::UserUnknown: return QStringLiteral("user_unknown");
    case ErrorCode::NotEnrolled: return QStringLiteral("not_enrolled");
    case ErrorCode::PolicyInvalid: return QStringLiteral("policy_invalid");
    case ErrorCode::Keychain: return QStringLiteral("keychain");
    case ErrorCode::PolicyUntrusted: return QStringLiteral("policy_untrusted");
    }
    return QStringLiteral("unknown");
}

} // namespace hotdesk

// Wire rules of the push provider shared by the server and the phone simulator: signed responses, simulated phone keys.
#pragma once

#include "core/jose/jwk.h"
#include "core/result.h"

#include <QByteArray>
#include <QString>

#include <optional>

namespace hotdesk::stubs::push {

// A challenge lives at most this long: the IdP page waits no longer either.
inline constexpr int kPushMaxTtlSeconds = 60;
inline constexpr qsizetype kPushMaxUserLength = 256;

inline constexpr char kDecisionApprove[] = "approve";
inline constexpr char kDecisionDeny[] = "deny";

// The exact bytes a phone signs (ES256) to answer a challenge:
// "hotdesk-push-v1\n<id>\n<nonce>\n<decision>\n<number>", where <number> is
// the decimal number when the response carries one and empty otherwise. The
// version prefix keeps these signatures from ever passing for another message.
QByteArray pushSigningInput(const QString &id, const QString &nonce, const QString &decision, std::optional<int> number);

// The base64url ES256 signature (r||s) of pushSigningInput by phoneKey.
Result<QByteArray> signPushResponse(const jose::Jwk &phoneKey, const QString &id, const QString &nonce, const QString &decision,
                                    std::optional<int> number);

// User names are free text from the directory; refuse only what can never be
// one (empty, too long, control characters) and "/", which the phone's URLs
// (/v1/phones/{user}/challenges, /phone/{user}) cannot carry in one segment.
Status checkPushUser(const QString &user);

// DATADIR/phones/<user>.json: the private key of a simulated phone. The file
// name is the user name with everything but letters, digits and "-._~@+"
// percent-encoded, so no user name can leave the directory.
QString phoneKeyPath(const QString &dataDir, const QString &user);
// The simulated phone's private key; an Io error when the user has none.
Result<jose::Jwk> loadPhoneKey(const QString &dataDir, const QString &user);
// Loads the simulated phone's key, or makes and saves (0600) a new ES256 one.
Result<jose::Jwk> loadOrCreatePhoneKey(const QString &dataDir, const QString &user);

} // namespace hotdesk::stubs::push

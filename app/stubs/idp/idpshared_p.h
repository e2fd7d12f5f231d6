// What the IdP's authorization code flow (idpservice.cpp) and its CIBA flow (idpciba.cpp) share.
#pragma once

#include "../common/httpservice.h"
#include "idpservice.h"

#include "core/random.h"

#include <QCryptographicHash>
#include <QJsonObject>
#include <QString>

namespace hotdesk::stubs::idp {

// The one authentication method of this IdP: a push to the user's phone,
// approved there with the number shown at the PC. Its acr value (OIDC Core 2).
inline const QString kAcrPush = QStringLiteral("urn:hotdesk:acr:push");

// OpenID CIBA Core 1.0 §10.1: the grant type of the token requests of a backchannel authentication.
inline constexpr char kCibaGrantType[] = "urn:openid:params:grant-type:ciba";

// The backchannel authentication requests (docs/ciba.md); auth_req_id is kept as its SHA-256.
inline constexpr char kIdpCibaMigration[]
    = "CREATE TABLE idp_ciba (id_hash TEXT PRIMARY KEY, shared_id TEXT NOT NULL, username TEXT NOT NULL,"
      " challenge_id TEXT NOT NULL, number INTEGER NOT NULL, acr_values TEXT NOT NULL, status TEXT NOT NULL,"
      " created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, auth_time INTEGER)";

inline QString randomToken(qsizetype bytes = 32)
{
    OpenSslRandom random;
    auto token = randomUrlSafeString(random, bytes);
    return token ? QString::fromLatin1(*token) : QString();
}

inline QByteArray sha256Hex(const QByteArray &data)
{
    return QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex();
}

// An OAuth error answer (RFC 6749 §5.2): {"error", "error_description"}.
inline QHttpServerResponse oauthError(
    const QString &error, const QString &description, HttpStatus status = HttpStatus::BadRequest)
{
    return jsonResponse(
        QJsonObject {{QStringLiteral("error"), error}, {QStringLiteral("error_description"), description}}, status);
}

// A sign-in of the authorization code flow; the CIBA flow answers with tokenResponse() of one too.
struct IdpService::Transaction {
    QString id;
    QString sharedId;
    QString username;
    QString redirectUri;
    QString state;
    QString nonce;
    QString codeChallenge;
    QString challengeId;
    int number = 0;
    QString status; // pending, approved, denied, expired, done
    qint64 createdAt = 0;
    qint64 expiresAt = 0;
    qint64 authTime = 0;
};

} // namespace hotdesk::stubs::idp

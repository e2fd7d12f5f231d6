// What the DAS's endpoint files (das*.cpp) share; not part of the DAS's interface.
#pragma once

#include "dasservice.h"

#include "core/das/fingerprint.h"

#include <QHttpServerResponder>
#include <QJsonObject>

#include <chrono>
#include <memory>

namespace hotdesk::stubs::das {

using Responder = std::shared_ptr<LaterResponder>;

inline constexpr std::chrono::seconds kRequestObjectLifetime {120};

QString withoutTrailingSlash(QString url);

// The "fingerprint" of a body (core/das/fingerprint.h).
Checked<hotdesk::das::Fingerprint> fingerprintField(const QJsonObject &body);

// What an agent sends for any request object: its OAuth state, nonce, PKCE
// challenge and redirect URI, and the acr_values it wants (may be absent).
struct AuthorizationParams {
    QString state;
    QString nonce;
    QString codeChallenge;
    QString redirectUri;
    QString acrValues;
};

Checked<AuthorizationParams> authorizationParams(const QJsonObject &body);

// The optional "acr_values" of a body: up to 8 space-separated values; empty when absent.
Checked<QString> acrValuesField(const QJsonObject &body);

struct DasService::TwoFactorRequest {
    QString deviceId;
    QString user;
    QString sharedId;
    QString state;
    QString nonce;
    QString codeChallenge;
    QString redirectUri;
    QString acrValues; // space-separated, as OIDC Core 3.1.2.1 writes them; may be empty
};

} // namespace hotdesk::stubs::das

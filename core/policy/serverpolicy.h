// The "servers" part of the administrator's policy: where the DAS and the IdP are and how to reach them.
#pragma once

#include "../jose/jwk.h"
#include "../result.h"

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QUrl>

#include <chrono>
#include <optional>

namespace hotdesk::policy {

// ISO 8601 durations as policies write them: PnDTnHnMnS with whole numbers
// (P1D, PT8H, PT15M, PT1H30M, PT0.5S is refused). Weeks, months and years are
// refused: their length depends on the calendar.
Result<std::chrono::seconds> parseDuration(QStringView text);
QString formatDuration(std::chrono::seconds duration);

struct ServerSettings {
    QList<QUrl> dasUrls;        // failover order; https (http only to loopback)
    QString idpIssuer;          // exactly as the IdP's discovery document says
    QString clientId;           // the agent's OAuth client id at the IdP
    QString caBundle;           // extra CA certificates (PEM), on top of the system store; may be empty
    jose::JwkSet activationKeys; // the DAS activation public keys (flow 3); may be empty
    // The enterprise gateways' origins (scheme, host, port) that may be sent the
    // IdP's access token (flow 5, "hotdesk open"); may be empty: then none is.
    QList<QUrl> gateways;
    std::chrono::milliseconds connectTimeout {5000};
    std::chrono::milliseconds responseTimeout {15000};
    // How long a user may take to approve on the phone before the flow gives up.
    std::chrono::milliseconds approvalTimeout {120000};
    // "system" (the OS settings), "none" (direct), or an HTTP proxy URL such as http://proxy.corp.example:3128.
    QString proxy = QStringLiteral("system");
};

struct AgentPolicy {
    QString sourceFile;
    int version = 1;
    ServerSettings servers;
    QJsonObject document; // the whole file, for the parts other modules read
};

// Reads the policy's server settings. The whole file must be a valid policy
// (policyvalidator.h; use parsePolicy in policy.h for the other parts). A
// relative ca_bundle is resolved against the policy file's directory. Errors:
// Io (unreadable), PolicyInvalid (every problem as "FILE:LINE:COL: message"),
// PolicyUntrusted (the platform location's file could be changed by others).
Result<AgentPolicy> loadAgentPolicy(const QString &file);
// The bytes of a policy file, at most 1 MiB. The file at the platform location
// (isPlatformPolicyFile) is read only when it is trusted (policytrust.h).
// Errors: Io, TooLarge, PolicyUntrusted.
Result<QByteArray> readPolicyFile(const QString &file);
// Whether file is the platform location (defaultPolicyFile()), however written.
bool isPlatformPolicyFile(const QString &file);
Result<AgentPolicy> parseAgentPolicy(QByteArrayView json, const QString &sourceFile);

// Whether url's origin (scheme, host and port) is one of the policy's gateways.
bool isGatewayOrigin(const ServerSettings &servers, const QUrl &url);

// Where the administrator puts the policy on this platform
// (/etc/hotdesk/policy.json on Linux; DESIGN.md "Policy").
QString defaultPolicyFile();

} // namespace hotdesk::policy

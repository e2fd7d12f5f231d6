// The bearer tokens one role writes into the data directory for the roles that call it.
#pragma once

#include "core/result.h"

#include <QByteArray>
#include <QString>

namespace hotdesk::stubs {

// The bearer token the enterprise server (or the DAS) uses for the IdP's
// /scim/v2 (DATADIR/scim-client-token, written by the IdP).
QString scimClientTokenPath(const QString &dataDir);
Result<QByteArray> readScimClientToken(const QString &dataDir);

// The bearer token the DAS presents at the enterprise server's POST /v1/users
// (DATADIR/enterprise-client-token, written by the enterprise server): 32
// random bytes, base64url; anything else in the file is refused.
inline constexpr qsizetype kEnterpriseClientTokenBytes = 32;
QString enterpriseClientTokenPath(const QString &dataDir);
Result<QByteArray> readEnterpriseClientToken(const QString &dataDir);

} // namespace hotdesk::stubs

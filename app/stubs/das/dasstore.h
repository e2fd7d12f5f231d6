// The DAS's tables, and the records the administration commands write beside a running server.
#pragma once

#include "../common/store.h"
#include "../common/userdirectory.h"
#include "core/clock.h"

#include <QString>

#include <optional>

namespace hotdesk::stubs::das {

// Brings the DAS tables up to date: DasService::prepare() and the admin commands both call it.
Status migrateDas(Store &store);

enum class AdminRole { Admin, Approver };
QString adminRoleName(AdminRole role);
std::optional<AdminRole> adminRoleFromName(QStringView name);

struct AdminIdentity {
    AdminRole role = AdminRole::Approver;
    QString subject;
};

// A new administrator token. Only its SHA-256 (hex) is stored, so the token
// itself exists nowhere but in what this returns.
Result<QString> createAdminToken(Store &store, AdminRole role, const QString &subject, const Clock &clock);
// The identity behind a bearer token, or nullopt when no such token was made.
Result<std::optional<AdminIdentity>> findAdminToken(QSqlDatabase &db, QByteArrayView token);

struct MappedUser {
    QString username; // canonical
    QString sharedId;
    QString sid; // empty when unknown (admin map-user)
};

Result<std::optional<MappedUser>> findUser(QSqlDatabase &db, const QString &canonicalName);
// Records username <-> shared id unless the name is already mapped; returns what is stored afterwards.
Result<MappedUser> insertUser(
    QSqlDatabase &db, const MappedUser &user, const QString &domain, const QString &type, const QString &source, qint64 now);
// admin map-user: stores the mapping, replacing an existing one for that name.
Status mapUser(Store &store, const QString &username, const QString &sharedId, const Clock &clock);

// Orders the transactions of every DAS process that count something about key
// before they add to it (a rate limit: count, then insert). On PostgreSQL at
// READ COMMITTED two of them could otherwise both count the same rows and both
// pass; this takes an advisory lock on the key until the transaction ends. On
// SQLite it does nothing: one writer at a time, and a transaction whose count
// is stale fails to write instead of passing.
Status serializeFor(QSqlDatabase &db, const QString &key);

// The role a user holds when they sign in themselves (hotdesk enroll without a
// token signs the administrator in at the IdP): admin grant / admin revoke.
// nullopt revokes. The user need not be registered yet.
Status setUserRole(Store &store, const QString &username, std::optional<AdminRole> role, const Clock &clock);
Result<std::optional<AdminRole>> userRole(QSqlDatabase &db, const QString &canonicalName);

// How many fingerprint components may change before the DAS stops recognizing
// a PC (hotdesk::das::kDefaultDriftThreshold until an administrator sets it). A setting
// in the database rather than a start-up option, so that 'hotdesk-stubs admin
// drift-threshold N' changes it for every DAS on that database while they run.
Result<int> driftThreshold(QSqlDatabase &db);
Status setDriftThreshold(Store &store, int threshold, const Clock &clock);

} // namespace hotdesk::stubs::das

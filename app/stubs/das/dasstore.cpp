// DAS schema, administrator tokens and user mappings.
#include "dasstore.h"

#include "core/das/fingerprint.h"
#include "core/random.h"

#include <QCryptographicHash>

namespace hotdesk::stubs::das {
namespace {

// Entry i moves the DAS schema from version i to i + 1; never edit a shipped entry.
const QList<const char *> kDasMigrations = {
    // One row per activation. The SPAKE2 columns hold the in-flight exchange
    // (what the confirmation needs), cleared when it ends either way.
    "CREATE TABLE das_activations (service_uid TEXT PRIMARY KEY, jti TEXT NOT NULL UNIQUE,"
    " password_scalar BLOB NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL, status TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0,"
    " device_id TEXT, pb BLOB, mac_a BLOB, mac_b BLOB, ke BLOB, exchange_expires_at INTEGER, used_at INTEGER);"
    "CREATE TABLE das_devices (device_id TEXT PRIMARY KEY, jwk TEXT NOT NULL, thumbprint TEXT NOT NULL,"
    " enrolled_at INTEGER NOT NULL, activation TEXT NOT NULL, fingerprint TEXT, fingerprint_at INTEGER);"
    "CREATE TABLE das_users (username TEXT PRIMARY KEY, shared_id TEXT NOT NULL, domain TEXT, sid TEXT,"
    " type TEXT, source TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);",
    // Device recognition (flow 4). candidate_fingerprint is the last fingerprint
    // refused as unrecognized: what an out-of-band token registers. Event ids
    // never repeat (AUTOINCREMENT), so "since=ID" pages through the feed.
    "ALTER TABLE das_devices ADD COLUMN candidate_fingerprint TEXT;"
    "ALTER TABLE das_devices ADD COLUMN candidate_at INTEGER;"
    "CREATE TABLE das_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE TABLE das_approval_requests (id TEXT PRIMARY KEY, device_id TEXT NOT NULL, username TEXT NOT NULL,"
    " fingerprint TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
    " decided_at INTEGER, decided_by TEXT);"
    "CREATE INDEX das_approval_requests_device ON das_approval_requests (device_id, status);"
    "CREATE TABLE das_oob_tokens (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL, device_id TEXT NOT NULL,"
    " salt BLOB NOT NULL, token_hash BLOB NOT NULL, status TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER);"
    "CREATE INDEX das_oob_tokens_user ON das_oob_tokens (username, created_at);"
    "CREATE TABLE das_events (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, source TEXT NOT NULL,"
    " type TEXT NOT NULL, device_id TEXT, username TEXT, detail TEXT);"
    "CREATE INDEX das_events_device ON das_events (device_id, at);",
    // Who may sign in as an administrator (hotdesk enroll without a token), and
    // the sign-ins in flight: the nonce the ID token must carry, spent once.
    "CREATE TABLE das_roles (username TEXT PRIMARY KEY, role TEXT NOT NULL, granted_at INTEGER NOT NULL);"
    "CREATE TABLE das_admin_sign_ins (id TEXT PRIMARY KEY, username TEXT NOT NULL, shared_id TEXT NOT NULL,"
    " nonce TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
    " used_at INTEGER);"
    "CREATE INDEX das_admin_sign_ins_user ON das_admin_sign_ins (username, created_at);",
};

constexpr char kDriftThresholdSetting[] = "drift_threshold";

QString tokenHash(QByteArrayView token)
{
    return QString::fromLatin1(QCryptographicHash::hash(token, QCryptographicHash::Sha256).toHex());
}

} // namespace

Status migrateDas(Store &store)
{
    return store.migrate(QStringLiteral("das"), kDasMigrations);
}

QString adminRoleName(AdminRole role)
{
    return role == AdminRole::Admin ? QStringLiteral("admin") : QStringLiteral("approver");
}

std::optional<AdminRole> adminRoleFromName(QStringView name)
{
    if (name == QLatin1String("admin"))
        return AdminRole::Admin;
    if (name == QLatin1String("approver"))
        return AdminRole::Approver;
    return std::nullopt;
}

Result<QString> createAdminToken(Store &store, AdminRole role, const QString &subject, const Clock &clock)
{
    if (subject.isEmpty() || subject.size() > 256 || hasForbiddenNameCharacter(subject))
        return fail(ErrorCode::Malformed,
            QStringLiteral("the subject must be 1 to 256 characters without quotes, backslashes or control characters"));
    OpenSslRandom random;
    auto secret = randomUrlSafeString(random, 32);
    if (!secret)
        return tl::unexpected(secret.error());
    // The prefix lets secret scanners and people recognise a leaked token.
    const QString token = QStringLiteral("hdat_") + QString::fromLatin1(*secret);
    auto stored = store.transaction([&](QSqlDatabase &db) -> Status {
        auto r = exec(db, QStringLiteral("INSERT INTO admin_tokens (token_hash, role, subject, created_at) VALUES (?, ?, ?, ?)"),
            {tokenHash(token.toLatin1()), adminRoleName(role), subject, clock.secondsSinceEpoch()});
        if (!r)
            return tl::unexpected(r.error());
        return {};
    });
    if (!stored)
        return tl::unexpected(stored.error());
    return token;
}

Result<std::optional<AdminIdentity>> findAdminToken(QSqlDatabase &db, QByteArrayView token)
{
    if (token.isEmpty() || token.size() > 512)
        return std::optional<AdminIdentity>();
    auto q = exec(db, QStringLiteral("SELECT role, subject FROM admin_tokens WHERE token_hash = ?"), {tokenHash(token)});
    if (!q)
        return tl::unexpected(q.error());
    if (!q->next())
        return std::optional<AdminIdentity>();
    const auto role = adminRoleFromName(q->value(0).toString());
    if (!role)
        return std::optional<AdminIdentity>();
    return std::optional<AdminIdentity>(AdminIdentity {*role, q->value(1).toString()});
}

Result<std::optional<MappedUser>> findUser(QSqlDatabase &db, const QString &canonicalName)
{
    auto q = exec(db, QStringLiteral("SELECT username, shared_id, sid FROM das_users WHERE username = ?"), {canonicalName});
    if (!q)
        return tl::unexpected(q.error());
    if (!q->next())
        return std::optional<MappedUser>();
    return std::optional<MappedUser>(MappedUser {q->value(0).toString(), q->value(1).toString(), q->value(2).toString()});
}

Result<MappedUser> insertUser(
    QSqlDatabase &db, const MappedUser &user, const QString &domain, const QString &type, const QString &source, qint64 now)
{
    // Two registrations of one name may race (two PCs, or two DAS instances on
    // one database): the first stored mapping wins and both answer with it.
    if (auto r = exec(db,
            QStringLiteral("INSERT INTO das_users (username, shared_id, domain, sid, type, source, created_at, updated_at)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING"),
            {user.username, user.sharedId, domain, user.sid, type, source, now, now});
        !r)
        return tl::unexpected(r.error());
    auto stored = findUser(db, user.username);
    if (!stored)
        return tl::unexpected(stored.error());
    if (!*stored)
        return fail(ErrorCode::Io, QStringLiteral("database: the user %1 vanished while being stored").arg(user.username));
    return **stored;
}

Status mapUser(Store &store, const QString &username, const QString &sharedId, const Clock &clock)
{
    auto name = checkedUserName(username);
    if (!name)
        return tl::unexpected(name.error());
    if (!isValidSharedId(sharedId))
        return fail(
            ErrorCode::Malformed, QStringLiteral("the shared id must be 1 to 256 printable ASCII characters without spaces"));
    if (auto ok = migrateDas(store); !ok)
        return ok;
    const qint64 now = clock.secondsSinceEpoch();
    return store.transaction([&](QSqlDatabase &db) -> Status {
        auto r = exec(db,
            QStringLiteral(
                "INSERT INTO das_users (username, shared_id, source, created_at, updated_at) VALUES (?, ?, 'admin', ?, ?)"
                " ON CONFLICT (username) DO UPDATE SET shared_id = excluded.shared_id, sid = NULL, source = 'admin',"
                " updated_at = excluded.updated_at"),
            {*name, sharedId, now, now});
        if (!r)
            return tl::unexpected(r.error());
        return {};
    });
}

Status serializeFor(QSqlDatabase &db, const QString &key)
{
    if (db.driverName() != QLatin1String("QPSQL"))
        return {};
    // 4711 is the stubs' advisory-lock space (1 is the migration lock); hashtext spreads the keys over it.
    auto r = exec(db, QStringLiteral("SELECT pg_advisory_xact_lock(4711, hashtext(?))"), {key});
    if (!r)
        return tl::unexpected(r.error());
    return {};
}

Status setUserRole(Store &store, const QString &username, std::optional<AdminRole> role, const Clock &clock)
{
    auto name = checkedUserName(username);
    if (!name)
        return tl::unexpected(name.error());
    if (auto ok = migrateDas(store); !ok)
        return ok;
    return store.transaction([&](QSqlDatabase &db) -> Status {
        auto r = role ? exec(db,
                            QStringLiteral("INSERT INTO das_roles (username, role, granted_at) VALUES (?, ?, ?)"
                                           " ON CONFLICT (username) DO UPDATE SET role = excluded.role,"
                                           " granted_at = excluded.granted_at"),
                            {*name, adminRoleName(*role), clock.secondsSinceEpoch()})
                      : exec(db, QStringLiteral("DELETE FROM das_roles WHERE username = ?"), {*name});
        if (!r)
            return tl::unexpected(r.error());
        return {};
    });
}

Result<std::optional<AdminRole>> userRole(QSqlDatabase &db, const QString &canonicalName)
{
    auto q = exec(db, QStringLiteral("SELECT role FROM das_roles WHERE username = ?"), {canonicalName});
    if (!q)
        return tl::unexpected(q.error());
    if (!q->next())
        return std::optional<AdminRole> {};
    return adminRoleFromName(q->value(0).toString());
}

Result<int> driftThreshold(QSqlDatabase &db)
{
    auto q = exec(db, QStringLiteral("SELECT value FROM das_settings WHERE name = ?"), {QLatin1String(kDriftThresholdSetting)});
    if (!q)
        return tl::unexpected(q.error());
    if (!q->next())
        return hotdesk::das::kDefaultDriftThreshold;
    bool ok = false;
    const int threshold = q->value(0).toString().toInt(&ok);
    // A value edited into the database by hand that makes no sense falls back to the strictest one.
    if (!ok || threshold < 0 || threshold > hotdesk::das::kMaxDriftThreshold)
        return 0;
    return threshold;
}

Status setDriftThreshold(Store &store, int threshold, const Clock &clock)
{
    if (threshold < 0 || threshold > hotdesk::das::kMaxDriftThreshold)
        return fail(ErrorCode::Malformed,
            QStringLiteral("the drift threshold is a number of changed components from 0 to %1")
                .arg(hotdesk::das::kMaxDriftThreshold));
    if (auto ok = migrateDas(store); !ok)
        return ok;
    return store.transaction([&](QSqlDatabase &db) -> Status {
        auto r = exec(db,
            QStringLiteral("INSERT INTO das_settings (name, value, updated_at) VALUES (?, ?, ?)"
                           " ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"),
            {QLatin1String(kDriftThresholdSetting), QString::number(threshold), clock.secondsSinceEpoch()});
        if (!r)
            return tl::unexpected(r.error());
        return {};
    });
}

} // namespace hotdesk::stubs::das

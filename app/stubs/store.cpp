// SQLite store with schema migrations.
#include "store.h"

#include <QSqlError>
#include <QSqlQuery>

namespace hotdesk::stubs {
namespace {

// Each entry migrates the schema from version i to i + 1; never edit a shipped entry.
const char *const kMigrations[] = {
    "CREATE TABLE signing_keys (kid TEXT PRIMARY KEY, role TEXT NOT NULL, jwk TEXT NOT NULL,"
    " created_at INTEGER NOT NULL, retired_at INTEGER, publish_until INTEGER);"
    "CREATE TABLE admin_tokens (token_hash TEXT PRIMARY KEY, role TEXT NOT NULL, subject TEXT NOT NULL,"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE seen_jti (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);",
};

} // namespace

Result<QSqlQuery> exec(QSqlDatabase &db, const QString &sql, const QVariantList &values)
{
    QSqlQuery query(db);
    if (!query.prepare(sql))
        return fail(ErrorCode::Io, QStringLiteral("database: %1 (%2)").arg(query.lastError().text(), sql.left(60)));
    for (const QVariant &v : values)
        query.addBindValue(v);
    if (!query.exec())
        return fail(ErrorCode::Io, QStringLiteral("database: %1 (%2)").arg(query.lastError().text(), sql.left(60)));
    return query;
}

Result<Store> Store::open(const QString &path, const QString &connectionName)
{
    Store store;
    store.m_connection = connectionName;
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connectionName);
    db.setDatabaseName(path);
    db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
    if (!db.open())
        return fail(ErrorCode::Io, QStringLiteral("cannot open %1: %2").arg(path, db.lastError().text()));
    for (const char *pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"}) {
        if (auto r = exec(db, QLatin1String(pragma)); !r)
            return tl::unexpected(r.error());
    }
    auto version = exec(db, QStringLiteral("PRAGMA user_version"));
    if (!version)
        return tl::unexpected(version.error());
    version->next();
    int current = version->value(0).toInt();
    const int target = int(std::size(kMigrations));
    if (current > target)
        return fail(ErrorCode::Unsupported, QStringLiteral("%1 was written by a newer hotdesk-stubs (schema %2)").arg(path).arg(current));
    auto migrated = store.transaction([&](QSqlDatabase &tx) -> Status {
        for (; current < target; ++current) {
            for (const QString &statement : QString::fromLatin1(kMigrations[current]).split(QLatin1Char(';'), Qt::SkipEmptyParts)) {
                if (auto r = exec(tx, statement); !r)
                    return tl::unexpected(r.error());
            }
        }
        if (auto r = exec(tx, QStringLiteral("PRAGMA user_version = %1").arg(target)); !r)
            return tl::unexpected(r.error());
        return {};
    });
    if (!migrated)
        return tl::unexpected(migrated.error());
    return store;
}

Store::Store(Store &&other) noexcept
    : m_connection(std::exchange(other.m_connection, QString()))
{
}

Store::~Store()
{
    if (m_connection.isEmpty())
        return;
    {
        QSqlDatabase db = QSqlDatabase::database(m_connection, false);
        db.close();
    }
    QSqlDatabase::removeDatabase(m_connection);
}

QSqlDatabase Store::database() const
{
    return QSqlDatabase::database(m_connection, false);
}

Status Store::transaction(const std::function<Status(QSqlDatabase &)> &work)
{
    QSqlDatabase db = database();
    if (!db.transaction())
        return fail(ErrorCode::Io, QStringLiteral("database: cannot begin a transaction: %1").arg(db.lastError().text()));
    Status result = work(db);
    if (!result) {
        db.rollback();
        return result;
    }
    if (!db.commit()) {
        const QString why = db.lastError().text();
        db.rollback();
        return fail(ErrorCode::Io, QStringLiteral("database: commit failed: %1").arg(why));
    }
    return {};
}

} // namespace hotdesk::stubs

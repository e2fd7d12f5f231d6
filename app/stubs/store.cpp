// SQLite store with schema migrations.
#include "store.h"

#include <QSqlError>
#include <QSqlQuery>

namespace hotdesk::stubs {
namespace {

// The tables every role shares; each role adds its own through Store::migrate.
const QList<const char *> kCommonMigrations = {
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
    if (auto ok = store.migrate(QStringLiteral("common"), kCommonMigrations); !ok)
        return tl::unexpected(ok.error());
    return store;
}

Status Store::migrate(const QString &component, const QList<const char *> &migrations)
{
    return transaction([&](QSqlDatabase &db) -> Status {
        if (auto r = exec(db, QStringLiteral("CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)")); !r)
            return tl::unexpected(r.error());
        auto q = exec(db, QStringLiteral("SELECT version FROM schema_versions WHERE component = ?"), {component});
        if (!q)
            return tl::unexpected(q.error());
        int current = q->next() ? q->value(0).toInt() : 0;
        const int target = int(migrations.size());
        if (current > target)
            return fail(ErrorCode::Unsupported, QStringLiteral("the %1 tables were written by a newer hotdesk-stubs (schema %2)").arg(component).arg(current));
        for (; current < target; ++current) {
            for (const QString &statement : QString::fromLatin1(migrations[current]).split(QLatin1Char(';'), Qt::SkipEmptyParts)) {
                if (statement.trimmed().isEmpty())
                    continue;
                if (auto r = exec(db, statement); !r)
                    return tl::unexpected(r.error());
            }
        }
        if (auto r = exec(db, QStringLiteral("INSERT OR REPLACE INTO schema_versions (component, version) VALUES (?, ?)"), {component, target}); !r)
            return tl::unexpected(r.error());
        return {};
    });
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

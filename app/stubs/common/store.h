// The companion servers' durable state: SQLite in WAL mode (or PostgreSQL), one transaction per request.
#pragma once

#include "core/result.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QVariantList>
#include <QString>

#include <functional>
#include <memory>

namespace hotdesk::stubs {

struct StatementCache;

// A PostgreSQL database named by a URL (libpq's form):
// postgres[ql]://[USER[:PASSWORD]@][HOST][:PORT]/DBNAME[?host=/socket/dir&sslmode=MODE].
struct PostgresUrl {
    QString user;
    QString password;
    QString host; // a name, an address, or a Unix socket directory (starts with '/'); empty: libpq's default
    int port = -1;
    QString database;
    QString sslMode;

    // The URL without the password, for messages and logs.
    QString redacted() const;
};

// Parses --db; the error message never repeats the password.
Result<PostgresUrl> parsePostgresUrl(const QString &url);

class Store {
public:
    enum class Dialect { Sqlite, Postgres };

    // Opens (and creates or migrates) the database at path. SQLite runs in WAL
    // mode with synchronous=FULL, so an acknowledged write survives kill -9.
    static Result<Store> open(const QString &path, const QString &connectionName);
    // Opens (and creates or migrates the tables in) a PostgreSQL database, which
    // several processes (several DAS instances, say) may share.
    static Result<Store> openPostgres(const PostgresUrl &url, const QString &connectionName);
    ~Store();
    Store(Store &&other) noexcept;
    Store &operator=(Store &&) = delete;
    Store(const Store &) = delete;

    QSqlDatabase database() const;
    Dialect dialect() const { return m_dialect; }

    // Brings one component's tables up to date. Each component (a server role)
    // keeps its own ordered list of migrations; entry i moves its schema from
    // version i to i + 1, and a shipped entry is never edited. Migrations are
    // written in SQLite's dialect; on PostgreSQL their column types are mapped
    // (see postgresDdl in store.cpp).
    Status migrate(const QString &component, const QList<const char *> &migrations);

    // Runs work inside one transaction: committed if it succeeds, rolled back
    // otherwise, so a failed request never leaves half-written state.
    // On PostgreSQL the isolation is READ COMMITTED: a statement that spends
    // something single-use must re-check, in its own WHERE clause, what the
    // transaction read (see execClaim and docs/stubs.md).
    Status transaction(const std::function<Status(QSqlDatabase &)> &work);

private:
    Store() = default;
    QString m_connection;
    Dialect m_dialect = Dialect::Sqlite;
};

// What exec() returns: the executed statement, its rows readable while it
// lives. A statement of a Store's connection is prepared once: when its Query
// goes it is reset (on SQLite a statement left mid-way would hold a read
// transaction, and its stale snapshot, open) and kept for the next exec of
// the same text, unless it failed.
class Query : public QSqlQuery {
public:
    Query(QSqlQuery &&query, std::weak_ptr<StatementCache> cache = {}, QString sql = {});
    Query(Query &&other) noexcept = default;
    Query &operator=(Query &&) = delete;
    ~Query();

private:
    std::weak_ptr<StatementCache> m_cache;
    QString m_sql;
};

// Prepares and executes a statement with positional values; a failure is an Io error naming the statement.
Result<Query> exec(QSqlDatabase &db, const QString &sql, const QVariantList &values = {});

// Executes an UPDATE (or DELETE) whose WHERE clause repeats the condition the
// transaction read (status = 'live', code_used = 0, …) and says whether it
// changed a row. False means another request, possibly in another process on
// the same database, got there first: the caller must treat the thing as spent.
Result<bool> execClaim(QSqlDatabase &db, const QString &sql, const QVariantList &values = {});

// Forgetting spent single-use ids (the table seen_jti, shared by the DAS's
// device tokens and the IdP's request objects). Each writer stores an expiry
// after which its own checks refuse the token anyway, so a row past it can go
// whoever wrote it. The purge runs inside a request's transaction, so it
// takes a bounded bite, oldest first through an index on the expiry: a
// server that issued 5000 tokens a second would otherwise delete 300,000 rows
// at once every minute while its requests wait.
class JtiPurge {
public:
    static constexpr int kBite = 500;
    static constexpr qint64 kIntervalSeconds = 1;

    // Deletes up to kBite expired rows when a second has passed since the
    // last purge, or at once when the last one left more behind.
    Status run(QSqlDatabase &db, qint64 now);
    // Rows the purges have deleted so far (for tests and logs).
    qint64 purged() const { return m_purged; }

private:
    qint64 m_last = 0;
    bool m_more = false;
    qint64 m_purged = 0;
};

} // namespace hotdesk::stubs

// The companion servers' durable state: SQLite in WAL mode, one transaction per request.
#pragma once

#include "core/result.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QVariantList>
#include <QString>

#include <functional>

namespace hotdesk::stubs {

class Store {
public:
    // Opens (and creates or migrates) the database at path. SQLite runs in WAL
    // mode with synchronous=FULL, so an acknowledged write survives kill -9.
    static Result<Store> open(const QString &path, const QString &connectionName);
    ~Store();
    Store(Store &&other) noexcept;
    Store &operator=(Store &&) = delete;
    Store(const Store &) = delete;

    QSqlDatabase database() const;

    // Brings one component's tables up to date. Each component (a server role)
    // keeps its own ordered list of migrations; entry i moves its schema from
    // version i to i + 1, and a shipped entry is never edited.
    Status migrate(const QString &component, const QList<const char *> &migrations);

    // Runs work inside one transaction: committed if it succeeds, rolled back
    // otherwise, so a failed request never leaves half-written state.
    Status transaction(const std::function<Status(QSqlDatabase &)> &work);

private:
    Store() = default;
    QString m_connection;
};

// Prepares and executes a statement with positional values; a failure is an Io error naming the statement.
Result<QSqlQuery> exec(QSqlDatabase &db, const QString &sql, const QVariantList &values = {});

} // namespace hotdesk::stubs

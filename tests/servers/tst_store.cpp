// The stubs' store on SQLite: prepared statements kept per connection, and what keeping them must not change.
#include "app/stubs/common/store.h"
#include "app/stubs/common/walcheckpointer.h"

#include <QDir>
#include <QFile>
#include <QSqlError>
#include <QSqlResult>
#include <QTemporaryDir>
#include <QFileInfo>
#include <QTest>

using namespace hotdesk;
using namespace hotdesk::stubs;

namespace {

const QList<const char *> kMigrations = {
    "CREATE TABLE things (name TEXT PRIMARY KEY, value INTEGER NOT NULL);",
};

QString why(const Status &s)
{
    return s ? QString() : s.error().message;
}

} // namespace

class TestStore : public QObject {
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;
    std::optional<Store> m_store;

    QString path() const { return m_dir->filePath(QStringLiteral("stubs.db")); }

    Status insert(QSqlDatabase &db, const QString &name, qint64 value)
    {
        auto r = exec(db, QStringLiteral("INSERT INTO things (name, value) VALUES (?, ?)"), {name, value});
        return r ? Status() : Status(tl::unexpected(r.error()));
    }

    // The value of name as this connection reads it now, -1 when absent.
    qint64 valueOf(QSqlDatabase &db, const QString &name)
    {
        auto q = exec(db, QStringLiteral("SELECT value FROM things WHERE name = ?"), {name});
        if (!q)
            qFatal("select failed: %s", qPrintable(q.error().message));
        return q->next() ? q->value(0).toLongLong() : -1;
    }

    // The nice value of this process's thread named name (this thread when
    // name is empty), from /proc; -100 when there is no such thread.
    static int threadNice(const QString &name)
    {
        const QString self = QStringLiteral("/proc/thread-self");
        const QStringList tids = name.isEmpty() ? QStringList {QString()}
                                                : QDir(QStringLiteral("/proc/self/task")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        for (const QString &tid : tids) {
            const QString dir = tid.isEmpty() ? self : QStringLiteral("/proc/self/task/") + tid;
            QFile comm(dir + QStringLiteral("/comm"));
            if (!name.isEmpty() && (!comm.open(QIODevice::ReadOnly) || QString::fromUtf8(comm.readAll()).trimmed() != name))
                continue;
            QFile stat(dir + QStringLiteral("/stat"));
            if (!stat.open(QIODevice::ReadOnly))
                continue;
            // proc(5): field 19 is nice; the fields after ") " start at field 3.
            const QByteArray line = stat.readAll();
            const QList<QByteArray> fields = line.mid(line.lastIndexOf(')') + 2).split(' ');
            if (fields.size() > 16)
                return fields[16].toInt();
        }
        return -100;
    }

    static qint64 rows(QSqlDatabase &db, const QString &sql)
    {
        auto q = exec(db, sql);
        if (!q || !q->next())
            qFatal("query failed: %s", qPrintable(sql));
        return q->value(0).toLongLong();
    }

private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        auto store = Store::open(path(), QStringLiteral("tst_store"));
        QVERIFY2(store.has_value(), store ? "" : qPrintable(store.error().message));
        m_store.emplace(std::move(*store));
        QVERIFY2(m_store->migrate(QStringLiteral("test"), kMigrations), "migration failed");
    }

    void cleanup()
    {
        m_store.reset();
        m_dir.reset();
    }

    // With the serving connection's automatic checkpoints off, the checkpoint
    // thread moves what was committed into the database file; the rows stay
    // readable throughout, and a new connection sees them after the WAL is gone.
    void checkpointsOnTheirOwnThread()
    {
        QSqlDatabase db = m_store->database();
        QVERIFY(exec(db, QStringLiteral("PRAGMA wal_autocheckpoint=0")).has_value());
        WalCheckpointer checkpointer(path(), std::chrono::milliseconds(20));
        QVERIFY(checkpointer.start());
        const qint64 sizeBefore = QFileInfo(path()).size();
        for (int i = 0; i < 200; ++i) {
            QVERIFY(m_store->transaction([&](QSqlDatabase &tx) {
                return insert(tx, QStringLiteral("row-%1").arg(i), qint64(i) * 1000 + QString(200, u'x').size());
            }));
        }
        QTRY_VERIFY_WITH_TIMEOUT(checkpointer.completedCheckpoints() > 0, 20000);
        // The pages reached the database file, which only a checkpoint writes in WAL mode.
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(path()).size() > sizeBefore, 20000);
        QCOMPARE(valueOf(db, QStringLiteral("row-199")), 199 * 1000 + 200);
    }

    // The checkpoint thread runs at nice 19, so that the serving thread gets
    // the CPU first whenever both want it (docs/stubs.md).
    void checkpointsAtTheLowestPriority()
    {
#ifndef Q_OS_LINUX
        QSKIP("the checkpoint thread lowers its priority only on Linux, where setpriority() takes a thread id; "
              "elsewhere it keeps the process's priority and there is nothing to check");
#else
        const int before = threadNice(QStringLiteral("wal-checkpoints"));
        QCOMPARE(before, -100); // no such thread yet
        const int mine = threadNice(QString());
        QVERIFY(mine != -100);
        WalCheckpointer checkpointer(path(), std::chrono::milliseconds(20));
        QVERIFY(checkpointer.start());
        // The thread sets its priority as it starts; its name is set before.
        QTRY_COMPARE_WITH_TIMEOUT(threadNice(QStringLiteral("wal-checkpoints")), 19, 10000);
        // Only that thread: this one keeps the nice value it had before.
        QCOMPARE(threadNice(QString()), mine);
#endif
    }

    // Spent single-use ids go in bites of JtiPurge::kBite, oldest first, and
    // only once they have expired; a full bite brings the next one forward.
    void expiredJtisPurgedInBoundedBites()
    {
        QSqlDatabase db = m_store->database();
        const qint64 now = 5000;
        const int expired = 2 * JtiPurge::kBite + 203;
        QVERIFY(m_store->transaction([&](QSqlDatabase &tx) -> Status {
            for (int i = 0; i < expired + 10; ++i) {
                // Ten live ones (expiring after now), interleaved with the expired.
                const qint64 expiry = i % (expired / 10 + 1) == 0 && i / (expired / 10 + 1) < 10 ? now + 60 : 1 + i;
                if (auto r = exec(tx, QStringLiteral("INSERT INTO seen_jti (jti, expires_at) VALUES (?, ?)"),
                        {QStringLiteral("t:%1").arg(i), expiry});
                    !r)
                    return tl::unexpected(r.error());
            }
            return {};
        }));
        const qint64 live = rows(db, QStringLiteral("SELECT COUNT(*) FROM seen_jti WHERE expires_at >= %1").arg(now));
        const qint64 dead = rows(db, QStringLiteral("SELECT COUNT(*) FROM seen_jti WHERE expires_at < %1").arg(now));
        QCOMPARE(live, 10);
        QVERIFY(dead > 2 * JtiPurge::kBite);

        JtiPurge purge;
        QVERIFY(purge.run(db, now));
        QCOMPARE(purge.purged(), JtiPurge::kBite);
        // The oldest went first.
        const qint64 oldestLeft = rows(db, QStringLiteral("SELECT MIN(expires_at) FROM seen_jti"));
        QCOMPARE(rows(db, QStringLiteral("SELECT COUNT(*) FROM seen_jti WHERE expires_at < %1").arg(oldestLeft)), 0);
        QVERIFY(oldestLeft > JtiPurge::kBite);
        // A full bite left more: the next call, in the same second, goes on.
        QVERIFY(purge.run(db, now));
        QCOMPARE(purge.purged(), 2 * JtiPurge::kBite);
        QVERIFY(purge.run(db, now));
        QCOMPARE(purge.purged(), dead);
        QCOMPARE(rows(db, QStringLiteral("SELECT COUNT(*) FROM seen_jti")), live);
        // A short bite means nothing is left: no purge before the interval has passed.
        QVERIFY(exec(db, QStringLiteral("INSERT INTO seen_jti (jti, expires_at) VALUES ('late', 10)")).has_value());
        QVERIFY(purge.run(db, now));
        QCOMPARE(rows(db, QStringLiteral("SELECT COUNT(*) FROM seen_jti WHERE jti = 'late'")), 1);
        QVERIFY(purge.run(db, now + JtiPurge::kIntervalSeconds));
        QCOMPARE(rows(db, QStringLiteral("SELECT COUNT(*) FROM seen_jti WHERE jti = 'late'")), 0);
        QCOMPARE(rows(db, QStringLiteral("SELECT COUNT(*) FROM seen_jti")), live);

        // The bite is found through the expiry index, not by reading the table.
        auto plan = exec(db, QStringLiteral("EXPLAIN QUERY PLAN SELECT jti FROM seen_jti WHERE expires_at < ? ORDER BY expires_at LIMIT ?"),
            {now, JtiPurge::kBite});
        QVERIFY(plan.has_value());
        QString steps;
        while (plan->next())
            steps += plan->value(3).toString() + QLatin1Char('\n');
        QVERIFY2(steps.contains(QLatin1String("seen_jti_expiry")), qPrintable(steps));
    }

    void statementPreparedOnce()
    {
        QSqlDatabase db = m_store->database();
        const QString sql = QStringLiteral("SELECT value FROM things WHERE name = ?");
        const QSqlResult *first = nullptr;
        {
            auto q = exec(db, sql, {QStringLiteral("a")});
            QVERIFY(q.has_value());
            first = q->result();
        }
        auto again = exec(db, sql, {QStringLiteral("b")});
        QVERIFY(again.has_value());
        QCOMPARE(again->result(), first);
    }

    // A statement still being read is not reset under its reader: the same text runs on a statement of its own.
    void nestedUseOfOneText()
    {
        QSqlDatabase db = m_store->database();
        QVERIFY2(m_store->transaction([&](QSqlDatabase &tx) -> Status {
            for (int i = 0; i < 5; ++i) {
                if (auto ok = insert(tx, QStringLiteral("n%1").arg(i), i); !ok)
                    return ok;
            }
            return {};
        }),
            "inserts failed");
        const QString sql = QStringLiteral("SELECT name, value FROM things WHERE value >= ? ORDER BY value");
        auto outer = exec(db, sql, {0});
        QVERIFY(outer.has_value());
        int rows = 0;
        while (outer->next()) {
            auto inner = exec(db, sql, {outer->value(1)});
            QVERIFY(inner.has_value());
            QVERIFY(inner->result() != outer->result());
            QVERIFY(inner->next());
            QCOMPARE(inner->value(0).toString(), outer->value(0).toString());
            ++rows;
        }
        QCOMPARE(rows, 5);
    }

    // SQLite would report a failed step again when the statement is next reset: a failed one is never reused.
    void failedStatementInASavepoint()
    {
        QSqlDatabase db = m_store->database();
        QVERIFY2(m_store->transaction([&](QSqlDatabase &tx) { return insert(tx, QStringLiteral("x"), 1); }), "first insert");
        const Status group = m_store->transaction([&](QSqlDatabase &tx) -> Status {
            if (auto r = exec(tx, QStringLiteral("SAVEPOINT issue")); !r)
                return tl::unexpected(r.error());
            // The same text as before, now failing on the primary key.
            auto duplicate = insert(tx, QStringLiteral("x"), 2);
            if (duplicate)
                return fail(ErrorCode::Io, QStringLiteral("a duplicate name was inserted"));
            for (const char *step : {"ROLLBACK TO issue", "RELEASE issue"}) {
                if (auto r = exec(tx, QLatin1String(step)); !r)
                    return tl::unexpected(r.error());
            }
            return insert(tx, QStringLiteral("y"), 3);
        });
        QVERIFY2(group, qPrintable(why(group)));
        QVERIFY2(m_store->transaction([&](QSqlDatabase &tx) { return insert(tx, QStringLiteral("z"), 4); }),
            "the statement after a failed one");
        QCOMPARE(valueOf(db, QStringLiteral("x")), 1);
        QCOMPARE(valueOf(db, QStringLiteral("y")), 3);
        QCOMPARE(valueOf(db, QStringLiteral("z")), 4);
    }

    // A read left half-way, its Query gone, holds no snapshot: another process's write is seen at once.
    void abandonedReadKeepsNoSnapshot()
    {
        QSqlDatabase db = m_store->database();
        QVERIFY2(m_store->transaction([&](QSqlDatabase &tx) -> Status {
            if (auto ok = insert(tx, QStringLiteral("p"), 1); !ok)
                return ok;
            return insert(tx, QStringLiteral("q"), 2);
        }),
            "inserts failed");
        {
            auto q = exec(db, QStringLiteral("SELECT name FROM things ORDER BY name"));
            QVERIFY(q.has_value());
            QVERIFY(q->next()); // one of two rows
        }
        auto other = Store::open(path(), QStringLiteral("tst_store_other"));
        QVERIFY(other.has_value());
        QVERIFY2(other->transaction([&](QSqlDatabase &tx) {
            auto r = exec(tx, QStringLiteral("UPDATE things SET value = ? WHERE name = ?"), {7, QStringLiteral("p")});
            return r ? Status() : Status(tl::unexpected(r.error()));
        }),
            "the other connection could not write");
        QCOMPARE(valueOf(db, QStringLiteral("p")), 7);
        // And this connection may write after it: a stale snapshot would make that SQLITE_BUSY_SNAPSHOT.
        QVERIFY2(m_store->transaction([&](QSqlDatabase &tx) { return insert(tx, QStringLiteral("r"), 3); }),
            "write after the other connection's");
    }

    // Another process migrating the schema (an upgraded server) leaves the kept statements working.
    void keptStatementsSurviveASchemaChange()
    {
        QSqlDatabase db = m_store->database();
        QVERIFY2(m_store->transaction([&](QSqlDatabase &tx) { return insert(tx, QStringLiteral("s"), 5); }), "insert");
        QCOMPARE(valueOf(db, QStringLiteral("s")), 5);
        {
            auto other = Store::open(path(), QStringLiteral("tst_store_other"));
            QVERIFY(other.has_value());
            const QList<const char *> upgraded = {kMigrations[0], "ALTER TABLE things ADD COLUMN note TEXT;"};
            QVERIFY2(other->migrate(QStringLiteral("test"), upgraded), "the upgrade failed");
        }
        QCOMPARE(valueOf(db, QStringLiteral("s")), 5);
        QVERIFY2(m_store->transaction([&](QSqlDatabase &tx) { return insert(tx, QStringLiteral("t"), 6); }),
            "insert after the upgrade");
        QCOMPARE(valueOf(db, QStringLiteral("t")), 6);
    }

    // A store closed and opened again under the same connection name starts with no statement of the old connection.
    void reopenedStore()
    {
        QVERIFY2(m_store->transaction([&](QSqlDatabase &tx) { return insert(tx, QStringLiteral("u"), 8); }), "insert");
        {
            QSqlDatabase db = m_store->database();
            QCOMPARE(valueOf(db, QStringLiteral("u")), 8);
        }
        m_store.reset();
        auto store = Store::open(path(), QStringLiteral("tst_store"));
        QVERIFY(store.has_value());
        m_store.emplace(std::move(*store));
        QSqlDatabase db = m_store->database();
        QCOMPARE(valueOf(db, QStringLiteral("u")), 8);
        QVERIFY2(
            m_store->transaction([&](QSqlDatabase &tx) { return insert(tx, QStringLiteral("v"), 9); }), "insert after reopening");
        QCOMPARE(valueOf(db, QStringLiteral("v")), 9);
    }
};

QTEST_GUILESS_MAIN(TestStore)
#include "tst_store.moc"

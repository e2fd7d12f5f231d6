// The DAS event queue on SQLite: durable enqueue, one delivery at a time, backoff with jitter, dead letters, expiry.
#include "eventqueue.h"

#include <QDateTime>
#include <QFile>
#include <QJsonDocument>
#include <QPointer>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <cerrno>
#include <cstring>
#include <limits>

#if defined(Q_OS_UNIX)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace hotdesk::store {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kSchemaVersion = 1;

const char *const kSchema[] = {
    "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, "
    "enqueued_at INTEGER NOT NULL, attempts INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL, last_error TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS dead_letters (id INTEGER PRIMARY KEY, body TEXT NOT NULL, enqueued_at INTEGER NOT NULL, "
    "refused_at INTEGER NOT NULL, attempts INTEGER NOT NULL, http_status INTEGER NOT NULL, reason TEXT NOT NULL)",
};

QString isoTime(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODate);
}

std::chrono::system_clock::time_point timeOf(qint64 ms)
{
    return std::chrono::system_clock::time_point(milliseconds(ms));
}

qint64 msOf(std::chrono::system_clock::time_point t)
{
    return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

// What the administrator reads when the file cannot be used: nothing is
// started with an empty queue in its place.
QString damaged(const QString &path, const QString &what)
{
    return QStringLiteral("the DAS event queue %1 cannot be used: %2. hotdeskd does not start with an empty queue in its "
                          "place, which would lose its events without a word; move the file aside (mv %1 %1.damaged; its "
                          "events then never reach the DAS) and start hotdeskd again")
        .arg(path, what);
}

// One statement on the queue's connection.
Result<QSqlQuery> run(const QString &connection, const QString &sql, const QVariantList &values = {})
{
    QSqlQuery query(QSqlDatabase::database(connection, false));
    if (!query.prepare(sql))
        return fail(ErrorCode::Io, query.lastError().text());
    for (qsizetype i = 0; i < values.size(); ++i)
        query.bindValue(int(i), values[i]);
    if (!query.exec())
        return fail(ErrorCode::Io, query.lastError().text());
    return query;
}

// A NOT NULL text column's value: Qt binds a null QString as NULL.
QVariant textValue(const QString &text)
{
    return text.isNull() ? QVariant(QStringLiteral("")) : QVariant(text.left(2048));
}

// The first column of the first row, with the statement finished: SQLite
// refuses to commit while a statement of the connection is still reading.
Result<QVariant> scalar(const QString &connection, const QString &sql, const QVariantList &values = {})
{
    auto query = run(connection, sql, values);
    if (!query)
        return tl::unexpected(query.error());
    const QVariant value = query->next() ? query->value(0) : QVariant();
    query->finish();
    return value;
}

QueuedEvent eventOf(const QSqlQuery &row)
{
    QueuedEvent event;
    event.id = row.value(0).toLongLong();
    event.body = QJsonDocument::fromJson(row.value(1).toByteArray()).object();
    event.enqueuedAt = timeOf(row.value(2).toLongLong());
    event.attempts = row.value(3).toInt();
    return event;
}

#if defined(Q_OS_UNIX)
// Creates the file 0600 before SQLite opens it, so that it (and the -wal and
// -shm files SQLite gives the same mode) is never readable by anyone else.
Status createPrivateFile(const QString &path)
{
    const QByteArray native = QFile::encodeName(path);
    const int fd = ::open(native.constData(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(ErrorCode::Io, damaged(path, QString::fromLocal8Bit(std::strerror(errno))));
    struct stat info { };
    const bool statted = ::fstat(fd, &info) == 0;
    const int error = errno;
    Status status;
    if (!statted)
        status = fail(ErrorCode::Io, damaged(path, QString::fromLocal8Bit(std::strerror(error))));
    else if (!S_ISREG(info.st_mode))
        status = fail(ErrorCode::Io, damaged(path, QStringLiteral("it is not a regular file")));
    else if (info.st_uid != ::geteuid())
        status = fail(ErrorCode::Io,
            damaged(path,
                QStringLiteral("it belongs to uid %1, not to uid %2 that runs hotdeskd").arg(info.st_uid).arg(::geteuid())));
    else if ((info.st_mode & 07777) != 0600 && ::fchmod(fd, 0600) != 0)
        status = fail(ErrorCode::Io, damaged(path, QString::fromLocal8Bit(std::strerror(errno))));
    ::close(fd);
    return status;
}
#endif

} // namespace

DeliveryResult DeliveryResult::fromHttpStatus(int status, QString message, seconds retryAfter)
{
    DeliveryResult result;
    result.httpStatus = status;
    result.message = std::move(message);
    result.retryAfter = retryAfter;
    if (status >= 200 && status < 300)
        result.outcome = Outcome::Acknowledged;
    else if (status >= 400 && status < 500 && status != 408 && status != 429)
        result.outcome = Outcome::Refused;
    else
        result.outcome = Outcome::RetryLater;
    return result;
}

EventQueue::EventQueue(QString path, const Clock &clock, RandomSource &random, AuditSink audit, EventQueueOptions options)
    : m_path(std::move(path))
    , m_connection(QStringLiteral("hotdesk-event-queue-%1").arg(quintptr(this)))
    , m_clock(clock)
    , m_random(random)
    , m_audit(std::move(audit))
    , m_options(options)
{
    m_timer.setSingleShot(true);
    m_timer.setTimerType(Qt::PreciseTimer); // it fires seldom; the due time it keeps is exact
    connect(&m_timer, &QTimer::timeout, this, &EventQueue::onTimer);
}

EventQueue::~EventQueue()
{
    if (QSqlDatabase::contains(m_connection)) {
        QSqlDatabase::database(m_connection, false).close();
        QSqlDatabase::removeDatabase(m_connection);
    }
}

Result<std::unique_ptr<EventQueue>> EventQueue::open(
    const QString &path, const Clock &clock, RandomSource &random, AuditSink audit, EventQueueOptions options)
{
    std::unique_ptr<EventQueue> queue(new EventQueue(path, clock, random, std::move(audit), options));
    if (auto prepared = queue->prepare(); !prepared)
        return tl::unexpected(prepared.error());
    queue->expireOld();
    return queue;
}

Status EventQueue::prepare()
{
#if defined(Q_OS_UNIX)
    if (auto created = createPrivateFile(m_path); !created)
        return created;
#endif
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connection);
    db.setDatabaseName(m_path);
    if (!db.open())
        return fail(ErrorCode::Io, damaged(m_path, db.lastError().text()));
    auto mode = scalar(m_connection, QStringLiteral("PRAGMA journal_mode=WAL"));
    if (!mode)
        return fail(ErrorCode::Io, damaged(m_path, mode.error().message));
    if (mode->toString() != u"wal")
        return fail(ErrorCode::Io, damaged(m_path, QStringLiteral("SQLite cannot keep it in WAL mode")));
    if (auto full = scalar(m_connection, QStringLiteral("PRAGMA synchronous=FULL")); !full)
        return fail(ErrorCode::Io, damaged(m_path, full.error().message));
    auto check = scalar(m_connection, QStringLiteral("PRAGMA quick_check"));
    if (!check)
        return fail(ErrorCode::Io, damaged(m_path, check.error().message));
    if (check->toString() != u"ok")
        return fail(ErrorCode::Io,
            damaged(m_path, QStringLiteral("SQLite's quick_check finds it damaged (%1)").arg(check->toString().left(200))));
    auto version = scalar(m_connection, QStringLiteral("PRAGMA user_version"));
    if (!version)
        return fail(ErrorCode::Io, damaged(m_path, version.error().message));
    const int found = version->toInt();
    if (found > kSchemaVersion)
        return fail(ErrorCode::Unsupported,
            damaged(m_path,
                QStringLiteral("a newer hotdeskd wrote it (schema %1, this one knows %2)").arg(found).arg(kSchemaVersion)));
    return createSchema();
}

Status EventQueue::createSchema()
{
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    if (!db.transaction())
        return fail(ErrorCode::Io, damaged(m_path, db.lastError().text()));
    for (const char *statement : kSchema) {
        if (auto done = run(m_connection, QLatin1String(statement)); !done) {
            db.rollback();
            return fail(ErrorCode::Io, damaged(m_path, done.error().message));
        }
    }
    if (auto done = run(m_connection, QStringLiteral("PRAGMA user_version = %1").arg(kSchemaVersion)); !done) {
        db.rollback();
        return fail(ErrorCode::Io, damaged(m_path, done.error().message));
    }
    if (!db.commit())
        return fail(ErrorCode::Io, damaged(m_path, db.lastError().text()));
    // Tables of the expected shape: a file with the right version but other tables is damaged too.
    if (auto probe = run(m_connection,
            QStringLiteral("SELECT id, body, enqueued_at, attempts, next_attempt_at, last_error FROM events LIMIT 0"));
        !probe)
        return fail(ErrorCode::Io, damaged(m_path, probe.error().message));
    if (auto probe = run(m_connection,
            QStringLiteral("SELECT id, body, enqueued_at, refused_at, attempts, http_status, reason FROM dead_letters LIMIT 0"));
        !probe)
        return fail(ErrorCode::Io, damaged(m_path, probe.error().message));
    return {};
}

qint64 EventQueue::nowMs() const
{
    return msOf(m_clock.now());
}

Result<qint64> EventQueue::enqueue(const QJsonObject &event)
{
    const QByteArray body = QJsonDocument(event).toJson(QJsonDocument::Compact);
    if (body.size() > m_options.maxEventBytes)
        return fail(ErrorCode::TooLarge,
            QStringLiteral("the event for the DAS takes %1 bytes, more than the queue's %2")
                .arg(body.size())
                .arg(m_options.maxEventBytes));
    if (!event.value(QLatin1String("type")).isString())
        return fail(ErrorCode::Malformed, QStringLiteral("an event for the DAS needs a \"type\" string"));
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    if (!db.transaction())
        return fail(ErrorCode::Io, QStringLiteral("cannot write the DAS event queue %1: %2").arg(m_path, db.lastError().text()));
    QList<QueuedEvent> dropped;
    const auto failed = [&](const Error &error) {
        db.rollback();
        return fail(ErrorCode::Io, QStringLiteral("cannot write the DAS event queue %1: %2").arg(m_path, error.message));
    };
    auto count = scalar(m_connection, QStringLiteral("SELECT COUNT(*) FROM events"));
    if (!count)
        return failed(count.error());
    const qint64 excess = count->toLongLong() - m_options.maxEvents + 1;
    if (excess > 0) {
        auto oldest = run(
            m_connection, QStringLiteral("SELECT id, body, enqueued_at, attempts FROM events ORDER BY id LIMIT ?"), {excess});
        if (!oldest)
            return failed(oldest.error());
        while (oldest->next())
            dropped << eventOf(*oldest);
        oldest->finish();
        if (auto gone = run(m_connection, QStringLiteral("DELETE FROM events WHERE id <= ?"), {dropped.constLast().id}); !gone)
            return failed(gone.error());
    }
    const qint64 now = nowMs();
    auto inserted = run(m_connection,
        QStringLiteral("INSERT INTO events (body, enqueued_at, attempts, next_attempt_at, last_error) VALUES (?, ?, 0, ?, '')"),
        {QString::fromUtf8(body), now, now});
    if (!inserted)
        return failed(inserted.error());
    const qint64 id = inserted->lastInsertId().toLongLong();
    inserted->finish();
    if (!db.commit())
        return failed(Error {ErrorCode::Io, db.lastError().text()});
    for (const QueuedEvent &gone : std::as_const(dropped))
        audit(QStringLiteral("admin_notify_failed"), QStringLiteral("queue_full"), gone,
            {{QStringLiteral("queue_limit"), m_options.maxEvents}});
    schedule();
    return id;
}

void EventQueue::setDelivery(Delivery delivery)
{
    m_delivery = std::move(delivery);
    schedule();
}

Result<std::optional<QueuedEvent>> EventQueue::head() const
{
    auto row = run(
        m_connection, QStringLiteral("SELECT id, body, enqueued_at, attempts, next_attempt_at FROM events ORDER BY id LIMIT 1"));
    if (!row)
        return tl::unexpected(row.error());
    if (!row->next())
        return std::optional<QueuedEvent>();
    return std::optional<QueuedEvent>(eventOf(*row));
}

std::optional<std::chrono::system_clock::time_point> EventQueue::nextAttemptAt() const
{
    auto row = run(m_connection, QStringLiteral("SELECT next_attempt_at FROM events ORDER BY id LIMIT 1"));
    if (!row || !row->next())
        return std::nullopt;
    qint64 due = row->value(0).toLongLong();
    // A clock set back (by hand, or NTP after a wrong start) must not park the queue for as long.
    const qint64 now = nowMs();
    const qint64 latest = now + std::chrono::duration_cast<milliseconds>(m_options.maxRetry).count();
    if (due > latest)
        due = now;
    return timeOf(due);
}

Result<qint64> EventQueue::pendingCount() const
{
    auto row = run(m_connection, QStringLiteral("SELECT COUNT(*) FROM events"));
    if (!row)
        return tl::unexpected(row.error());
    return row->next() ? row->value(0).toLongLong() : 0;
}

Result<qint64> EventQueue::deadLetterCount() const
{
    auto row = run(m_connection, QStringLiteral("SELECT COUNT(*) FROM dead_letters"));
    if (!row)
        return tl::unexpected(row.error());
    return row->next() ? row->value(0).toLongLong() : 0;
}

Result<QList<QueuedEvent>> EventQueue::pending() const
{
    auto rows = run(m_connection, QStringLiteral("SELECT id, body, enqueued_at, attempts FROM events ORDER BY id"));
    if (!rows)
        return tl::unexpected(rows.error());
    QList<QueuedEvent> events;
    while (rows->next())
        events << eventOf(*rows);
    return events;
}

std::optional<milliseconds> EventQueue::timerRemaining() const
{
    if (!m_timer.isActive())
        return std::nullopt;
    return milliseconds(m_timer.remainingTime());
}

void EventQueue::expireOld()
{
    const qint64 cutoff = nowMs() - std::chrono::duration_cast<milliseconds>(m_options.maxAge).count();
    auto old = run(m_connection,
        QStringLiteral("SELECT id, body, enqueued_at, attempts FROM events WHERE enqueued_at < ? ORDER BY id"), {cutoff});
    if (!old)
        return auditStorageFailure(old.error());
    QList<QueuedEvent> expired;
    while (old->next()) {
        if (!m_inFlight || *m_inFlight != old->value(0).toLongLong())
            expired << eventOf(*old);
    }
    old->finish();
    for (const QueuedEvent &event : std::as_const(expired)) {
        if (auto gone = run(m_connection, QStringLiteral("DELETE FROM events WHERE id = ?"), {event.id}); !gone)
            return auditStorageFailure(gone.error());
        audit(QStringLiteral("admin_notify_failed"), QStringLiteral("expired"), event,
            {{QStringLiteral("max_age_days"), qint64(m_options.maxAge.count() / 86400)}});
    }
}

void EventQueue::deliverDue()
{
    if (!m_delivery || m_inFlight)
        return;
    expireOld();
    auto next = head();
    if (!next) {
        auditStorageFailure(next.error());
        return schedule();
    }
    if (!next->has_value())
        return schedule();
    const auto due = nextAttemptAt();
    if (due && *due > m_clock.now())
        return schedule();
    const QueuedEvent event = **next;
    m_inFlight = event.id;
    const quint64 generation = ++m_generation;
    m_timer.start(m_options.deliveryTimeout);
    QPointer<EventQueue> self(this);
    m_delivery(event, [self, generation, event](const DeliveryResult &result) {
        if (self)
            self->finish(generation, event, result);
    });
}

void EventQueue::onTimer()
{
    if (!m_inFlight)
        return deliverDue();
    // The delivery never answered: count it as a failed attempt, and ignore its answer if it comes.
    const auto inFlight = head();
    if (inFlight && inFlight->has_value() && (*inFlight)->id == *m_inFlight) {
        DeliveryResult timedOut;
        timedOut.message = QStringLiteral("no answer within %1 s").arg(m_options.deliveryTimeout.count() / 1000);
        return finish(m_generation, **inFlight, timedOut);
    }
    m_inFlight.reset();
    ++m_generation;
    schedule();
}

void EventQueue::finish(quint64 generation, const QueuedEvent &event, const DeliveryResult &result)
{
    if (generation != m_generation || !m_inFlight)
        return;
    m_inFlight.reset();
    ++m_generation;
    m_timer.stop();
    Status stored;
    switch (result.outcome) {
    case DeliveryResult::Outcome::Acknowledged:
        stored = acknowledge(event);
        break;
    case DeliveryResult::Outcome::Refused:
        stored = deadLetter(event, result);
        break;
    case DeliveryResult::Outcome::RetryLater:
        stored = postpone(event, result);
        break;
    }
    if (!stored) {
        auditStorageFailure(stored.error());
        // Not at once: a disk that failed now is tried again after the first backoff.
        m_timer.start(std::chrono::duration_cast<milliseconds>(m_options.firstRetry));
        return;
    }
    schedule();
}

Status EventQueue::acknowledge(const QueuedEvent &event)
{
    if (auto gone = run(m_connection, QStringLiteral("DELETE FROM events WHERE id = ?"), {event.id}); !gone)
        return tl::unexpected(gone.error());
    audit(QStringLiteral("admin_notified"), event.body.value(QLatin1String("type")).toString(), event);
    Q_EMIT acknowledged(event.id);
    return {};
}

Status EventQueue::deadLetter(const QueuedEvent &event, const DeliveryResult &result)
{
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    if (!db.transaction())
        return fail(ErrorCode::Io, db.lastError().text());
    const QString body = QString::fromUtf8(QJsonDocument(event.body).toJson(QJsonDocument::Compact));
    const QList<std::pair<QString, QVariantList>> statements {
        {QStringLiteral("INSERT OR REPLACE INTO dead_letters (id, body, enqueued_at, refused_at, attempts, http_status, reason) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)"),
            {event.id, body, msOf(event.enqueuedAt), nowMs(), event.attempts + 1, result.httpStatus, textValue(result.message)}},
        {QStringLiteral("DELETE FROM events WHERE id = ?"), {event.id}},
        {QStringLiteral("DELETE FROM dead_letters WHERE id NOT IN (SELECT id FROM dead_letters ORDER BY id DESC LIMIT ?)"),
            {m_options.maxDeadLetters}},
    };
    for (const auto &[sql, values] : statements) {
        if (auto done = run(m_connection, sql, values); !done) {
            db.rollback();
            return tl::unexpected(done.error());
        }
    }
    if (!db.commit())
        return fail(ErrorCode::Io, db.lastError().text());
    audit(QStringLiteral("admin_notify_failed"), QStringLiteral("das_refused"), event,
        {{QStringLiteral("http_status"), result.httpStatus}, {QStringLiteral("detail"), result.message.left(2048)}});
    Q_EMIT refused(event.id);
    return {};
}

Status EventQueue::postpone(const QueuedEvent &event, const DeliveryResult &result)
{
    const int failed = event.attempts + 1;
    const milliseconds delay = backoff(failed, result.retryAfter);
    if (auto done
        = run(m_connection, QStringLiteral("UPDATE events SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?"),
            {failed, nowMs() + delay.count(), textValue(result.message), event.id});
        !done)
        return tl::unexpected(done.error());
    Q_EMIT retryScheduled(event.id, delay.count());
    return {};
}

milliseconds EventQueue::backoff(int failedAttempts, seconds retryAfter)
{
    const milliseconds cap = std::chrono::duration_cast<milliseconds>(m_options.maxRetry);
    milliseconds base = std::chrono::duration_cast<milliseconds>(m_options.firstRetry);
    for (int i = 1; i < failedAttempts && base < cap; ++i)
        base *= 2;
    base = std::min(base, cap);
    // Up to a quarter less, at random: the delays of successive attempts still never overlap.
    double share = 0.5;
    if (auto drawn = m_random.bytes(4); drawn && drawn->size() == 4) {
        quint32 value = 0;
        std::memcpy(&value, drawn->constData(), sizeof value);
        share = double(value) / 4294967296.0;
    }
    milliseconds delay(base.count() - qint64(double(base.count()) * 0.25 * share));
    const milliseconds asked = std::min(std::chrono::duration_cast<milliseconds>(retryAfter), cap);
    return std::max(delay, asked);
}

void EventQueue::schedule()
{
    if (m_inFlight)
        return; // the timer guards the attempt in flight
    const auto due = m_delivery ? nextAttemptAt() : std::nullopt;
    if (!due) {
        m_timer.stop();
        return;
    }
    const qint64 wait = std::max<qint64>(0, msOf(*due) - nowMs());
    m_timer.start(milliseconds(std::min<qint64>(wait, std::numeric_limits<int>::max())));
}

void EventQueue::audit(const QString &event, const QString &reason, const QueuedEvent &queued, QJsonObject extra)
{
    if (!m_audit)
        return;
    AuditEntry entry;
    entry.event = event;
    entry.reason = reason;
    entry.user = queued.body.value(QLatin1String("user")).toString();
    extra.insert(QStringLiteral("das_event"), queued.body.value(QLatin1String("type")).toString());
    extra.insert(QStringLiteral("queue_id"), queued.id);
    extra.insert(QStringLiteral("attempts"), queued.attempts);
    extra.insert(QStringLiteral("enqueued_at"), isoTime(msOf(queued.enqueuedAt)));
    entry.extra = extra;
    m_audit(entry);
}

void EventQueue::auditStorageFailure(const Error &error)
{
    if (!m_audit)
        return;
    AuditEntry entry;
    entry.event = auditEventName(AuditEvent::StateNotSaved);
    entry.reason = QStringLiteral("event_queue");
    entry.extra = {{QStringLiteral("path"), m_path}, {QStringLiteral("detail"), error.message.left(2048)}};
    m_audit(entry);
}

} // namespace hotdesk::store

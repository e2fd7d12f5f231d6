// The DAS event queue: events for the administrator's feed kept in SQLite until the DAS acknowledges them.
#pragma once

#include "../clock.h"
#include "../random.h"
#include "../result.h"
#include "auditlog.h"

#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QTimer>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

namespace hotdesk::store {

// What one delivery attempt came to.
struct DeliveryResult {
    enum class Outcome {
        Acknowledged, // the DAS has the event: it leaves the queue
        RetryLater, // nobody answered, or the DAS could not take it now: tried again after a backoff
        Refused, // the DAS will never take it: kept aside as a dead letter and audited
    };
    Outcome outcome = Outcome::RetryLater;
    int httpStatus = 0; // the answer's HTTP status; 0 when no server answered
    QString message; // what happened, for people
    std::chrono::seconds retryAfter {0}; // the server's Retry-After; 0 when it named none

    // The rule for an HTTP answer: 2xx acknowledged; 4xx refused, except 408
    // and 429, which are retried like 5xx, no answer (0) and anything else.
    static DeliveryResult fromHttpStatus(int status, QString message = {}, std::chrono::seconds retryAfter = {});
};

// One event as the queue holds it.
struct QueuedEvent {
    qint64 id = 0; // grows with every event, never reused
    QJsonObject body; // what the DAS gets (POST /v1/events: {"type", "user"?, "detail"?})
    std::chrono::system_clock::time_point enqueuedAt;
    int attempts = 0; // failed attempts before this one
};

using DeliveryDone = std::function<void(const DeliveryResult &)>;
// Sends one event and calls done exactly once, later or at once (das::DasClient::deliverEvent fits).
using Delivery = std::function<void(const QueuedEvent &event, DeliveryDone done)>;
// Where the queue's own audit records go (hotdeskd: its audit log and the journal).
using AuditSink = std::function<void(const AuditEntry &entry)>;

struct EventQueueOptions {
    qint64 maxEvents = 10000; // at the bound the oldest event makes room for the new one (audited)
    qint64 maxDeadLetters = 1000; // at the bound the oldest dead letter is deleted (it was audited when refused)
    std::chrono::seconds firstRetry {5}; // the backoff after the first failed attempt; doubles after each
    std::chrono::seconds maxRetry {3600}; // the backoff's cap
    std::chrono::seconds maxAge {30 * 24 * 3600}; // an event not delivered within this expires (audited)
    std::chrono::milliseconds deliveryTimeout {120000}; // a delivery that never calls done counts as failed then
    qsizetype maxEventBytes = 4096; // an event's JSON, compact
};

// Events are delivered one at a time, oldest first (the administrator's feed
// keeps their order). A failed attempt delays the whole queue, not only that
// event: what fails is nearly always the network or the DAS, and retrying a
// week's events one by one against a DAS that is down helps nobody. The delay
// after the n-th failed attempt of the oldest event is firstRetry * 2^(n-1),
// at most maxRetry, less a random quarter of it (jitter, so that a ward of PCs
// does not come back at the same second), and at least the DAS's Retry-After
// (up to maxRetry). An acknowledgement resets it. One QTimer waits for the
// next due time; nothing polls.
//
// The file is SQLite in WAL mode with synchronous=FULL: enqueue() returns only
// after the event is on disk, so it survives a crash, a power loss and a
// reboot. The file is created with mode 0600 (SQLite gives its -wal and -shm
// files the same). open() refuses a file that is not a database, fails
// SQLite's quick_check, or was written by a newer version: the caller must not
// go on with an empty queue in its place (see docs/hotdeskd.md).
//
// Audited (through the sink, with "das_event" = the event's type, "queue_id",
// "attempts", "enqueued_at"): admin_notified when the DAS acknowledged an
// event; admin_notify_failed with reason das_refused (a dead letter, with
// "http_status" and "detail"), expired (older than maxAge) or queue_full (the
// oldest event dropped at maxEvents); state_not_saved with reason event_queue
// when the file could not be written.
class EventQueue : public QObject {
    Q_OBJECT
public:
    static Result<std::unique_ptr<EventQueue>> open(
        const QString &path, const Clock &clock, RandomSource &random, AuditSink audit, EventQueueOptions options = {});
    ~EventQueue() override;

    // Durable when it returns: the event's id, or why it is not queued (TooLarge, Malformed, Io).
    Result<qint64> enqueue(const QJsonObject &event);

    // Starts delivering (an empty function stops; an attempt in flight still finishes).
    void setDelivery(Delivery delivery);
    // Attempts the oldest event now if it is due, else waits for it; the timer calls this.
    void deliverDue();

    Result<qint64> pendingCount() const;
    Result<qint64> deadLetterCount() const;
    Result<QList<QueuedEvent>> pending() const; // oldest first
    // When the oldest event is due, if there is one.
    std::optional<std::chrono::system_clock::time_point> nextAttemptAt() const;
    bool isDelivering() const { return m_inFlight.has_value(); }
    // When the timer fires next: the next attempt, or the end of the attempt in flight.
    std::optional<std::chrono::milliseconds> timerRemaining() const;
    const QString &path() const { return m_path; }

Q_SIGNALS:
    void acknowledged(qint64 id);
    void refused(qint64 id);
    void retryScheduled(qint64 id, qint64 delayMs);

private:
    EventQueue(QString path, const Clock &clock, RandomSource &random, AuditSink audit, EventQueueOptions options);
    Status prepare();
    Status createSchema();
    Result<std::optional<QueuedEvent>> head() const;
    void expireOld();
    void finish(quint64 generation, const QueuedEvent &event, const DeliveryResult &result);
    Status acknowledge(const QueuedEvent &event);
    Status deadLetter(const QueuedEvent &event, const DeliveryResult &result);
    Status postpone(const QueuedEvent &event, const DeliveryResult &result);
    std::chrono::milliseconds backoff(int failedAttempts, std::chrono::seconds retryAfter);
    void schedule();
    void onTimer();
    void audit(const QString &event, const QString &reason, const QueuedEvent &queued, QJsonObject extra = {});
    void auditStorageFailure(const Error &error);
    qint64 nowMs() const;

    QString m_path;
    QString m_connection;
    const Clock &m_clock;
    RandomSource &m_random;
    AuditSink m_audit;
    EventQueueOptions m_options;
    Delivery m_delivery;
    QTimer m_timer;
    std::optional<qint64> m_inFlight;
    quint64 m_generation = 0;
};

} // namespace hotdesk::store

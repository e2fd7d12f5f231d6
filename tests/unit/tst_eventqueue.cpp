// The DAS event queue: durable enqueue, order, backoff growth and cap, dead letters, expiry, the bound, damaged files.
#include "core/store/eventqueue.h"
#include "fakeclock.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>

using namespace hotdesk;
using namespace hotdesk::store;
using namespace std::chrono_literals;

namespace {

// Every draw the same byte: 0x00 takes nothing off the backoff, 0xff nearly a quarter.
class FixedRandom final : public RandomSource {
public:
    explicit FixedRandom(char byte = 0)
        : m_byte(byte)
    {
    }
    Result<QByteArray> bytes(qsizetype count) override { return QByteArray(count, m_byte); }
    char m_byte;
};

// Stands in for the DAS client: records what it is given and answers as told.
struct FakeDas {
    QList<QueuedEvent> seen;
    DeliveryResult answer = DeliveryResult::fromHttpStatus(201);
    bool hold = false; // keep the callbacks instead of answering
    QList<DeliveryDone> held;

    Delivery delivery()
    {
        return [this](const QueuedEvent &event, DeliveryDone done) {
            seen << event;
            if (hold)
                held << done;
            else
                done(answer);
        };
    }
    QStringList types() const
    {
        QStringList out;
        for (const QueuedEvent &e : seen)
            out << e.body.value(QLatin1String("type")).toString();
        return out;
    }
};

QJsonObject dasEvent(const QString &type, const QString &user = QStringLiteral("alice"))
{
    return {{QStringLiteral("type"), type}, {QStringLiteral("user"), user}, {QStringLiteral("detail"), QStringLiteral("d")}};
}

mode_t modeOf(const QString &path)
{
    struct stat info { };
    if (::stat(QFile::encodeName(path).constData(), &info) != 0)
        return 0;
    return info.st_mode & 07777;
}

} // namespace

class TestEventQueue : public QObject {
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;
    test::FakeClock m_clock;
    FixedRandom m_random;
    QList<AuditEntry> m_audited;

    QString path() const { return m_dir->filePath(QStringLiteral("events.sqlite")); }

    std::unique_ptr<EventQueue> open(EventQueueOptions options = {})
    {
        auto queue = EventQueue::open(
            path(), m_clock, m_random, [this](const AuditEntry &e) { m_audited << e; }, options);
        if (!queue)
            qFatal("cannot open the queue: %s", qPrintable(queue.error().message));
        return std::move(*queue);
    }

    QStringList auditedReasons(const QString &event) const
    {
        QStringList out;
        for (const AuditEntry &e : m_audited) {
            if (e.event == event)
                out << e.reason;
        }
        return out;
    }

    // Runs the attempt that is due now, and checks the queue made one.
    void attemptNow(EventQueue &queue, FakeDas &das)
    {
        const auto before = das.seen.size();
        queue.deliverDue();
        QCOMPARE(das.seen.size(), before + 1);
    }

private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        m_clock.setSeconds(1'767'225'600);
        m_random.m_byte = 0;
        m_audited.clear();
    }

    void eventsSurviveClosingAndReopening()
    {
        {
            auto queue = open();
            QVERIFY(queue->enqueue(dasEvent(QStringLiteral("auth_failed"))).has_value());
            m_clock.advance(1s);
            QVERIFY(queue->enqueue(dasEvent(QStringLiteral("lockout"), QStringLiteral("bob"))).has_value());
            QCOMPARE(modeOf(path()), mode_t(0600));
            QCOMPARE(modeOf(path() + QStringLiteral("-wal")), mode_t(0600));
            QCOMPARE(modeOf(path() + QStringLiteral("-shm")), mode_t(0600));
        } // the daemon stops; no delivery was set, so nothing was sent
        auto queue = open();
        auto pending = queue->pending();
        QVERIFY(pending.has_value());
        QCOMPARE(pending->size(), 2);
        QCOMPARE(pending->at(0).body, dasEvent(QStringLiteral("auth_failed")));
        QCOMPARE(pending->at(1).body.value(QLatin1String("user")).toString(), QStringLiteral("bob"));
        QVERIFY(pending->at(0).id < pending->at(1).id);
        QCOMPARE(pending->at(1).enqueuedAt, m_clock.now());
        QCOMPARE(modeOf(path()), mode_t(0600));
    }

    void anExistingFileIsMadePrivate()
    {
        {
            auto queue = open();
        }
        QVERIFY(::chmod(QFile::encodeName(path()).constData(), 0644) == 0);
        auto queue = open();
        QCOMPARE(modeOf(path()), mode_t(0600));
    }

    void deliversOldestFirstOneAtATime()
    {
        auto queue = open();
        FakeDas das;
        das.hold = true;
        for (const char *type : {"a_first", "b_second", "c_third"})
            QVERIFY(queue->enqueue(dasEvent(QLatin1String(type))).has_value());
        queue->setDelivery(das.delivery());
        QTRY_COMPARE(das.seen.size(), 1);
        QTest::qWait(20); // the timer gets its chance; nothing is sent while one attempt is in flight
        QCOMPARE(das.seen.size(), 1);
        QVERIFY(queue->isDelivering());
        das.hold = false;
        das.held.takeFirst()(DeliveryResult::fromHttpStatus(201));
        QTRY_COMPARE(*queue->pendingCount(), qint64(0));
        QCOMPARE(das.types(), (QStringList {QStringLiteral("a_first"), QStringLiteral("b_second"), QStringLiteral("c_third")}));
        QCOMPARE(auditedReasons(QStringLiteral("admin_notified")),
            (QStringList {QStringLiteral("a_first"), QStringLiteral("b_second"), QStringLiteral("c_third")}));
        QCOMPARE(m_audited.constFirst().user, QStringLiteral("alice"));
        QCOMPARE(m_audited.constFirst().extra.value(QLatin1String("das_event")).toString(), QStringLiteral("a_first"));
        QVERIFY(!queue->timerRemaining()); // nothing left: no timer
    }

    void backoffDoublesUpToTheCap_data()
    {
        QTest::addColumn<char>("byte");
        QTest::addColumn<double>("least"); // share of the undithered delay at least waited
        QTest::newRow("no jitter") << char(0) << 1.0;
        QTest::newRow("most jitter") << char(0xff) << 0.75;
    }
    void backoffDoublesUpToTheCap()
    {
        QFETCH(char, byte);
        QFETCH(double, least);
        m_random.m_byte = byte;
        auto queue = open();
        FakeDas das;
        das.answer = DeliveryResult::fromHttpStatus(0, QStringLiteral("unreachable"));
        QSignalSpy retries(queue.get(), &EventQueue::retryScheduled);
        QVERIFY(queue->enqueue(dasEvent(QStringLiteral("auth_failed"))).has_value());
        queue->setDelivery(das.delivery());
        qint64 expected = 5000;
        for (int attempt = 1; attempt <= 14; ++attempt) {
            attemptNow(*queue, das);
            QCOMPARE(retries.size(), attempt);
            const auto delay = retries.last().at(1).toLongLong();
            QVERIFY2(delay <= expected && delay >= qint64(double(expected) * least),
                qPrintable(QStringLiteral("attempt %1 waits %2 ms, expected %3").arg(attempt).arg(delay).arg(expected)));
            // One timer, at the due time; an early call sends nothing.
            const auto armed = queue->timerRemaining();
            QVERIFY2(armed && armed->count() <= delay && armed->count() > delay - 2000,
                qPrintable(QStringLiteral("timer %1 ms for a %2 ms delay").arg(armed ? armed->count() : -1).arg(delay)));
            m_clock.advance(std::chrono::milliseconds(delay - 1));
            queue->deliverDue();
            QCOMPARE(das.seen.size(), attempt);
            m_clock.advance(1ms);
            expected = std::min<qint64>(expected * 2, 3'600'000);
        }
        QCOMPARE(das.seen.constLast().attempts, 13);
        QVERIFY(auditedReasons(QStringLiteral("admin_notify_failed")).isEmpty()); // retries are not audited
    }

    void retryAfterIsHonouredUpToTheCap()
    {
        auto queue = open();
        FakeDas das;
        das.answer = DeliveryResult::fromHttpStatus(429, QStringLiteral("rate-limited"), 600s);
        QSignalSpy retries(queue.get(), &EventQueue::retryScheduled);
        QVERIFY(queue->enqueue(dasEvent(QStringLiteral("auth_failed"))).has_value());
        queue->setDelivery(das.delivery());
        attemptNow(*queue, das);
        QCOMPARE(retries.last().at(1).toLongLong(), qint64(600'000));
        das.answer.retryAfter = 86400s;
        m_clock.advance(600s);
        attemptNow(*queue, das);
        QCOMPARE(retries.last().at(1).toLongLong(), qint64(3'600'000));
    }

    void anAcknowledgementResetsTheBackoff()
    {
        auto queue = open();
        FakeDas das;
        das.answer = DeliveryResult::fromHttpStatus(503);
        QSignalSpy retries(queue.get(), &EventQueue::retryScheduled);
        QVERIFY(queue->enqueue(dasEvent(QStringLiteral("first"))).has_value());
        QVERIFY(queue->enqueue(dasEvent(QStringLiteral("second"))).has_value());
        queue->setDelivery(das.delivery());
        attemptNow(*queue, das);
        m_clock.advance(5s);
        attemptNow(*queue, das);
        QCOMPARE(retries.size(), 2);
        QCOMPARE(retries.last().at(1).toLongLong(), qint64(10'000));
        QVERIFY(m_audited.isEmpty());
        das.answer = DeliveryResult::fromHttpStatus(201);
        m_clock.advance(10s);
        attemptNow(*queue, das);
        QTRY_COMPARE(das.seen.size(), 4); // the second one goes at once
        QCOMPARE(das.seen.last().attempts, 0);
        QCOMPARE(das.types(),
            (QStringList {QStringLiteral("first"), QStringLiteral("first"), QStringLiteral("first"), QStringLiteral("second")}));
    }

    void attemptsAndTheDueTimeSurviveARestart()
    {
        FakeDas das;
        das.answer = DeliveryResult::fromHttpStatus(0);
        {
            auto queue = open();
            QVERIFY(queue->enqueue(dasEvent(QStringLiteral("offline_unlock"))).has_value());
            queue->setDelivery(das.delivery());
            attemptNow(*queue, das);
            m_clock.advance(5s);
            attemptNow(*queue, das);
        }
        auto queue = open();
        queue->setDelivery(das.delivery());
        QCOMPARE(queue->nextAttemptAt(), m_clock.now() + 10s); // still waiting: a restart does not hammer the DAS
        queue->deliverDue();
        QCOMPARE(das.seen.size(), 2);
        m_clock.advance(10s);
        QSignalSpy retries(queue.get(), &EventQueue::retryScheduled);
        attemptNow(*queue, das);
        QCOMPARE(das.seen.last().attempts, 2);
        QCOMPARE(retries.last().at(1).toLongLong(), qint64(20'000));
    }

    void aClockSetBackDoesNotParkTheQueue()
    {
        auto queue = open();
        FakeDas das;
        das.answer = DeliveryResult::fromHttpStatus(0);
        QVERIFY(queue->enqueue(dasEvent(QStringLiteral("auth_failed"))).has_value());
        queue->setDelivery(das.delivery());
        attemptNow(*queue, das);
        m_clock.advance(-std::chrono::milliseconds(std::chrono::hours(24 * 365)));
        attemptNow(*queue, das);
    }

    void httpStatusesAreJudged_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<int>("outcome");
        const int ack = int(DeliveryResult::Outcome::Acknowledged);
        const int retry = int(DeliveryResult::Outcome::RetryLater);
        const int refused = int(DeliveryResult::Outcome::Refused);
        QTest::newRow("no answer") << 0 << retry;
        QTest::newRow("200") << 200 << ack;
        QTest::newRow("201") << 201 << ack;
        QTest::newRow("302") << 302 << retry;
        QTest::newRow("400") << 400 << refused;
        QTest::newRow("401") << 401 << refused;
        QTest::newRow("403") << 403 << refused;
        QTest::newRow("404") << 404 << refused;
        QTest::newRow("408") << 408 << retry;
        QTest::newRow("413") << 413 << refused;
        QTest::newRow("429") << 429 << retry;
        QTest::newRow("500") << 500 << retry;
        QTest::newRow("503") << 503 << retry;
    }
    void httpStatusesAreJudged()
    {
        QFETCH(int, status);
        QFETCH(int, outcome);
        QCOMPARE(int(DeliveryResult::fromHttpStatus(status).outcome), outcome);
    }

    void aRefusedEventBecomesAnAuditedDeadLetter()
    {
        auto queue = open();
        FakeDas das;
        das.answer = DeliveryResult::fromHttpStatus(400, QStringLiteral("malformed-request"));
        QSignalSpy refused(queue.get(), &EventQueue::refused);
        QVERIFY(queue->enqueue(dasEvent(QStringLiteral("bad"))).has_value());
        QVERIFY(queue->enqueue(dasEvent(QStringLiteral("good"))).has_value());
        queue->setDelivery(das.delivery());
        attemptNow(*queue, das);
        QCOMPARE(refused.size(), 1);
        das.answer = DeliveryResult::fromHttpStatus(201);
        QTRY_COMPARE(*queue->pendingCount(), qint64(0)); // the next one is not held up
        QCOMPARE(das.types(), (QStringList {QStringLiteral("bad"), QStringLiteral("good")}));
        QCOMPARE(*queue->deadLetterCount(), qint64(1));
        QCOMPARE(auditedReasons(QStringLiteral("admin_notify_failed")), QStringList {QStringLiteral("das_refused")});
        const AuditEntry &entry = m_audited.constFirst();
        QCOMPARE(entry.extra.value(QLatin1String("http_status")).toInt(), 400);
        QCOMPARE(entry.extra.value(QLatin1String("detail")).toString(), QStringLiteral("malformed-request"));
        QCOMPARE(entry.extra.value(QLatin1String("das_event")).toString(), QStringLiteral("bad"));
        queue.reset();
        QCOMPARE(*open()->deadLetterCount(), qint64(1)); // kept on disk
    }

    void deadLettersAreBounded()
    {
        EventQueueOptions options;
        options.maxDeadLetters = 2;
        auto queue = open(options);
        FakeDas das;
        das.answer = DeliveryResult::fromHttpStatus(403);
        for (int i = 0; i < 4; ++i)
            QVERIFY(queue->enqueue(dasEvent(QStringLiteral("e%1").arg(i))).has_value());
        queue->setDelivery(das.delivery());
        QTRY_COMPARE(*queue->pendingCount(), qint64(0));
        QCOMPARE(*queue->deadLetterCount(), qint64(2));
        QCOMPARE(auditedReasons(QStringLiteral("admin_notify_failed")).size(), 4); // each audited when refused
    }

    void oldEventsExpireAndAreAudited()
    {
        {
            auto queue = open();
            QVERIFY(queue->enqueue(dasEvent(QStringLiteral("old"))).has_value());
            m_clock.advance(std::chrono::hours(24 * 2));
            QVERIFY(queue->enqueue(dasEvent(QStringLiteral("newer"))).has_value());
        }
        m_clock.advance(std::chrono::hours(24 * 29)); // "old" is 31 days old, "newer" 29
        auto queue = open();
        QCOMPARE(auditedReasons(QStringLiteral("admin_notify_failed")), QStringList {QStringLiteral("expired")});
        QCOMPARE(m_audited.constFirst().extra.value(QLatin1String("das_event")).toString(), QStringLiteral("old"));
        QCOMPARE(*queue->pendingCount(), qint64(1));
        m_clock.advance(std::chrono::hours(24 * 2));
        FakeDas das;
        queue->setDelivery(das.delivery()); // an attempt expires what got too old meanwhile
        QTRY_COMPARE(auditedReasons(QStringLiteral("admin_notify_failed")),
            (QStringList {QStringLiteral("expired"), QStringLiteral("expired")}));
        QCOMPARE(*queue->pendingCount(), qint64(0));
        QVERIFY(das.seen.isEmpty());
    }

    void theBoundDropsTheOldestAndAuditsIt()
    {
        EventQueueOptions options;
        options.maxEvents = 3;
        auto queue = open(options);
        for (int i = 0; i < 5; ++i)
            QVERIFY(queue->enqueue(dasEvent(QStringLiteral("e%1").arg(i))).has_value());
        auto pending = queue->pending();
        QCOMPARE(pending->size(), 3);
        QCOMPARE(pending->constFirst().body.value(QLatin1String("type")).toString(), QStringLiteral("e2"));
        QCOMPARE(auditedReasons(QStringLiteral("admin_notify_failed")),
            (QStringList {QStringLiteral("queue_full"), QStringLiteral("queue_full")}));
        QCOMPARE(m_audited.at(0).extra.value(QLatin1String("das_event")).toString(), QStringLiteral("e0"));
        QCOMPARE(m_audited.at(1).extra.value(QLatin1String("das_event")).toString(), QStringLiteral("e1"));
    }

    void badEventsAreNotQueued()
    {
        auto queue = open();
        auto big = queue->enqueue(dasEvent(QStringLiteral("x"), QString(5000, QLatin1Char('a'))));
        QVERIFY(!big);
        QCOMPARE(big.error().code, ErrorCode::TooLarge);
        auto untyped = queue->enqueue({{QStringLiteral("user"), QStringLiteral("alice")}});
        QVERIFY(!untyped);
        QCOMPARE(untyped.error().code, ErrorCode::Malformed);
        QCOMPARE(*queue->pendingCount(), qint64(0));
    }

    void aDeliveryThatNeverAnswersCountsAsFailed()
    {
        EventQueueOptions options;
        options.deliveryTimeout = 50ms;
        auto queue = open(options);
        FakeDas das;
        das.hold = true;
        QSignalSpy retries(queue.get(), &EventQueue::retryScheduled);
        QSignalSpy acknowledged(queue.get(), &EventQueue::acknowledged);
        QVERIFY(queue->enqueue(dasEvent(QStringLiteral("auth_failed"))).has_value());
        queue->setDelivery(das.delivery());
        QTRY_COMPARE(retries.size(), 1);
        QVERIFY(!queue->isDelivering());
        das.held.takeFirst()(DeliveryResult::fromHttpStatus(201)); // too late: ignored
        QCOMPARE(acknowledged.size(), 0);
        QCOMPARE(*queue->pendingCount(), qint64(1));
    }

    void anAnswerAfterTheQueueIsGoneIsIgnored()
    {
        auto queue = open();
        FakeDas das;
        das.hold = true;
        QVERIFY(queue->enqueue(dasEvent(QStringLiteral("auth_failed"))).has_value());
        queue->setDelivery(das.delivery());
        QTRY_COMPARE(das.held.size(), 1);
        queue.reset();
        das.held.takeFirst()(DeliveryResult::fromHttpStatus(201));
        QCOMPARE(*open()->pendingCount(), qint64(1)); // not acknowledged: sent again after the restart
    }

    void damagedFilesAreRefused_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::newRow("not a database") << QByteArray("this is not an SQLite database, only some text\n").repeated(100);
        QTest::newRow("header only") << QByteArray("SQLite format 3\0", 16) + QByteArray(84, '\xff');
    }
    void damagedFilesAreRefused()
    {
        QFETCH(QByteArray, content);
        QFile file(path());
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(content);
        file.close();
        auto queue = EventQueue::open(path(), m_clock, m_random, {});
        QVERIFY(!queue);
        QVERIFY2(queue.error().message.contains(path()), qPrintable(queue.error().message));
        QVERIFY2(queue.error().message.contains(QStringLiteral("move the file aside")), qPrintable(queue.error().message));
        QCOMPARE(QFile(path()).size(), content.size()); // left as it was, for the administrator
    }

    void aTruncatedDatabaseIsRefused()
    {
        {
            auto queue = open();
            for (int i = 0; i < 300; ++i)
                QVERIFY(queue->enqueue(dasEvent(QStringLiteral("e%1").arg(i), QString(1000, QLatin1Char('u')))).has_value());
        } // the last connection folds the WAL into the file
        QVERIFY(!QFile::exists(path() + QStringLiteral("-wal")));
        QFile file(path());
        QVERIFY(file.size() > 100000);
        QVERIFY(file.resize(file.size() / 2));
        auto queue = EventQueue::open(path(), m_clock, m_random, {});
        QVERIFY(!queue);
        QVERIFY2(queue.error().message.contains(QStringLiteral("cannot be used")), qPrintable(queue.error().message));
    }

    void aNewerSchemaIsRefused()
    {
        {
            auto queue = open();
        }
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("newer"));
            db.setDatabaseName(path());
            QVERIFY(db.open());
            QVERIFY(QSqlQuery(db).exec(QStringLiteral("PRAGMA user_version = 7")));
            db.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("newer"));
        auto queue = EventQueue::open(path(), m_clock, m_random, {});
        QVERIFY(!queue);
        QVERIFY2(queue.error().message.contains(QStringLiteral("newer hotdeskd")), qPrintable(queue.error().message));
    }

    void aLinkOrDirectoryInItsPlaceIsRefused()
    {
        QVERIFY(QFile::link(m_dir->filePath(QStringLiteral("elsewhere.sqlite")), path()));
        auto linked = EventQueue::open(path(), m_clock, m_random, {});
        QVERIFY(!linked);
        QVERIFY(!QFileInfo::exists(m_dir->filePath(QStringLiteral("elsewhere.sqlite"))));
        QVERIFY(QFile::remove(path()));
        QVERIFY(QDir(m_dir->path()).mkdir(QStringLiteral("events.sqlite")));
        auto directory = EventQueue::open(path(), m_clock, m_random, {});
        QVERIFY(!directory);
        QVERIFY2(directory.error().message.contains(path()), qPrintable(directory.error().message));
    }
};

QTEST_GUILESS_MAIN(TestEventQueue)
#include "tst_eventqueue.moc"

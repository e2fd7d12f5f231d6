// The DAS event queue delivering through das::DasClient to the real DAS in-process: the feed, a refusal, an offline DAS, 429.
#include "core/das/dasclient.h"
#include "core/store/eventqueue.h"
#include "dasfixture.h"

#include <QJsonArray>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>

using namespace hotdesk;
using namespace hotdesk::test;
using namespace std::chrono_literals;

namespace {

QJsonObject dasEvent(const QString &type, const QString &user = QStringLiteral("alice@corp.example"))
{
    return {{QStringLiteral("type"), type}, {QStringLiteral("user"), user},
        {QStringLiteral("detail"), QStringLiteral("from the queue")}};
}

} // namespace

class TestEventDelivery : public QObject {
    Q_OBJECT

    DasFixture f;
    EnrolledDevice m_device;
    std::unique_ptr<net::HttpClient> m_http;
    std::unique_ptr<das::DasClient> m_das;
    std::unique_ptr<QTemporaryDir> m_dir;
    QList<store::AuditEntry> m_audited;

    std::unique_ptr<store::EventQueue> openQueue()
    {
        auto queue = store::EventQueue::open(m_dir->filePath(QStringLiteral("events.sqlite")), f.clock, f.random,
            [this](const store::AuditEntry &e) { m_audited << e; });
        if (!queue)
            qFatal("queue: %s", qPrintable(queue.error().message));
        return std::move(*queue);
    }

    std::unique_ptr<das::DasClient> client(const QUrl &url)
    {
        return std::make_unique<das::DasClient>(
            *m_http, QList<QUrl> {url}, das::DeviceCredential {m_device.id, m_device.key}, f.clock, f.random);
    }

    // As hotdeskd passes it: every queued event goes to DasClient::deliverEvent.
    static store::Delivery deliveryThrough(das::DasClient &das)
    {
        return [&das](const store::QueuedEvent &queued, store::DeliveryDone done) { das.deliverEvent(queued.body, done); };
    }

    // The device events of the DAS feed, as "type user detail".
    QStringList feed()
    {
        const HttpResult r = f.get(QStringLiteral("/v1/admin/events?limit=1000"), DasFixture::bearer(f.adminToken()));
        QStringList out;
        for (const QJsonValue &v : jsonOf(r).value(QLatin1String("events")).toArray()) {
            const QJsonObject e = v.toObject();
            if (e.value(QLatin1String("source")).toString() == u"device")
                out << e.value(QLatin1String("type")).toString();
        }
        return out;
    }

    QStringList audited(const QString &event) const
    {
        QStringList out;
        for (const store::AuditEntry &e : m_audited) {
            if (e.event == event)
                out << e.reason;
        }
        return out;
    }

private Q_SLOTS:
    void init()
    {
        f.start();
        f.enroll(QStringLiteral("pc-desk-12"), m_device);
        auto trust = net::TlsTrust::fromBundle(f.server->caFile());
        QVERIFY(trust.has_value());
        m_http = std::make_unique<net::HttpClient>(*trust, net::Timeouts {3000ms, 10000ms});
        m_das = client(QUrl(f.dasUrl()));
        m_dir = std::make_unique<QTemporaryDir>();
        m_audited.clear();
    }
    void cleanup()
    {
        m_das.reset();
        m_http.reset();
        f.stop();
    }

    void queuedEventsReachTheFeedInOrder()
    {
        auto queue = openQueue();
        for (const char *type : {"auth_failed", "lockout", "offline_unlock"})
            QVERIFY(queue->enqueue(dasEvent(QLatin1String(type))).has_value());
        queue->setDelivery(deliveryThrough(*m_das));
        QTRY_COMPARE_WITH_TIMEOUT(*queue->pendingCount(), qint64(0), 20000);
        QCOMPARE(
            feed(), (QStringList {QStringLiteral("auth_failed"), QStringLiteral("lockout"), QStringLiteral("offline_unlock")}));
        QCOMPARE(audited(QStringLiteral("admin_notified")), feed());
    }

    void aRefusedEventIsKeptAsideAndTheNextGoesOn()
    {
        auto queue = openQueue();
        QVERIFY(queue->enqueue(dasEvent(QStringLiteral("Not A Slug"))).has_value()); // 400 malformed-request
        QVERIFY(queue->enqueue(dasEvent(QStringLiteral("lockout"))).has_value());
        queue->setDelivery(deliveryThrough(*m_das));
        QTRY_COMPARE_WITH_TIMEOUT(*queue->pendingCount(), qint64(0), 20000);
        QCOMPARE(*queue->deadLetterCount(), qint64(1));
        QCOMPARE(feed(), QStringList {QStringLiteral("lockout")});
        QCOMPARE(audited(QStringLiteral("admin_notify_failed")), QStringList {QStringLiteral("das_refused")});
        QCOMPARE(m_audited.constFirst().extra.value(QLatin1String("http_status")).toInt(), 400);
    }

    // The DAS cannot be reached; the daemon restarts; the DAS is back: the event arrives.
    void anEventWaitsForAnOfflineDasAcrossARestart()
    {
        QTcpServer closed;
        QVERIFY(closed.listen(QHostAddress::LocalHost));
        const QUrl nowhere(QStringLiteral("https://127.0.0.1:%1").arg(closed.serverPort()));
        closed.close(); // nothing listens there any more: connections are refused
        auto offline = client(nowhere);
        {
            auto queue = openQueue();
            QSignalSpy retries(queue.get(), &store::EventQueue::retryScheduled);
            QVERIFY(queue->enqueue(dasEvent(QStringLiteral("offline_unlock"))).has_value());
            queue->setDelivery(deliveryThrough(*offline));
            QTRY_COMPARE_WITH_TIMEOUT(retries.size(), 1, 20000);
            QVERIFY(retries.last().at(1).toLongLong() <= 5000);
        }
        QVERIFY(feed().isEmpty());
        auto queue = openQueue();
        queue->setDelivery(deliveryThrough(*m_das));
        QTest::qWait(50);
        QCOMPARE(*queue->pendingCount(), qint64(1)); // not due yet: the backoff survived the restart
        f.clock.advance(5s);
        queue->deliverDue();
        QTRY_COMPARE_WITH_TIMEOUT(*queue->pendingCount(), qint64(0), 20000);
        QCOMPARE(feed(), QStringList {QStringLiteral("offline_unlock")});
        QVERIFY(audited(QStringLiteral("admin_notify_failed")).isEmpty());
    }

    // The DAS takes 120 events from a device in 10 minutes, then answers 429 with Retry-After.
    void aRateLimitIsWaitedOutNotDeadLettered()
    {
        auto queue = openQueue();
        for (int i = 0; i < 123; ++i)
            QVERIFY(queue->enqueue(dasEvent(QStringLiteral("auth_failed"))).has_value());
        QSignalSpy retries(queue.get(), &store::EventQueue::retryScheduled);
        queue->setDelivery(deliveryThrough(*m_das));
        QTRY_COMPARE_WITH_TIMEOUT(retries.size(), 1, 60000);
        QCOMPARE(*queue->pendingCount(), qint64(3));
        QCOMPARE(*queue->deadLetterCount(), qint64(0));
        const qint64 delay = retries.last().at(1).toLongLong();
        QVERIFY2(delay > 5000, qPrintable(QString::number(delay))); // the DAS's Retry-After, not the first backoff
        f.clock.advance(std::chrono::milliseconds(delay));
        queue->deliverDue();
        QTRY_COMPARE_WITH_TIMEOUT(*queue->pendingCount(), qint64(0), 20000);
        QCOMPARE(feed().size(), 123);
    }
};

QTEST_GUILESS_MAIN(TestEventDelivery)
#include "tst_eventdelivery.moc"

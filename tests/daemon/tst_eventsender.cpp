// daemon::EventSender in-process with the real DAS, a real queue file and the daemon's state directory: an event
// waits (audited once per reason) without a policy and without an enrollment, and arrives once both are there.
#include "app/daemon/eventsender.h"
#include "core/das/dasclient.h"
#include "core/store/agentstate.h"
#include "core/store/filesecretstore.h"
#include "dasfixture.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QSignalSpy>
#include <QTemporaryDir>

using namespace hotdesk;
using namespace hotdesk::test;
using namespace std::chrono_literals;

class TestEventSender : public QObject {
    Q_OBJECT

    DasFixture f;
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_stateDir;
    QList<store::AuditEntry> m_audited;
    std::optional<policy::ServerSettings> m_servers;

    std::unique_ptr<store::EventQueue> openQueue()
    {
        auto queue = store::EventQueue::open(m_dir->filePath(QStringLiteral("events.sqlite")), f.clock, f.random,
            [this](const store::AuditEntry &e) { m_audited << e; });
        if (!queue)
            qFatal("queue: %s", qPrintable(queue.error().message));
        return std::move(*queue);
    }

    std::unique_ptr<daemon::EventSender> sender(store::EventQueue &queue)
    {
        return std::make_unique<daemon::EventSender>(
            queue, m_stateDir, [this] { return m_servers; }, f.clock, [this](const store::AuditEntry &e) { m_audited << e; });
    }

    // What "hotdesk enroll --system" leaves in the state directory.
    bool enrollDaemon()
    {
        EnrolledDevice device;
        f.enroll(QStringLiteral("pc-desk-7"), device);
        store::EnrollmentRecord record;
        record.dasUrl = das::DasClient::audienceOf(QUrl(f.dasUrl()));
        record.deviceId = device.id;
        record.keyName = store::deviceKeyName(record.dasUrl);
        record.kid = QString::fromLatin1(device.key.thumbprint());
        record.enrolledAt = f.clock.secondsSinceEpoch();
        store::FileSecretStore secrets(store::daemonSecretDirectory(m_stateDir));
        return secrets.write(record.keyName, QJsonDocument(device.key.toPrivateJson()).toJson(QJsonDocument::Compact))
            && store::AgentState(m_stateDir).saveEnrollment(record);
    }

    // The policy's servers: this DAS, its CA (a copy: the DAS's data goes with it when it stops), no proxy.
    policy::ServerSettings serversOfThePolicy()
    {
        policy::ServerSettings servers;
        servers.dasUrls = {QUrl(f.dasUrl())};
        servers.caBundle = m_dir->filePath(QStringLiteral("ca.pem"));
        QFile::remove(servers.caBundle);
        if (!QFile::copy(f.server->caFile(), servers.caBundle))
            qFatal("cannot copy the CA file");
        servers.proxy = QStringLiteral("none");
        return servers;
    }

    // The device events of the DAS feed.
    QList<QJsonObject> feed()
    {
        const HttpResult r = f.get(QStringLiteral("/v1/admin/events?limit=1000"), DasFixture::bearer(f.adminToken()));
        QList<QJsonObject> out;
        for (const QJsonValue &v : jsonOf(r).value(QLatin1String("events")).toArray()) {
            if (v.toObject().value(QLatin1String("source")).toString() == u"device")
                out << v.toObject();
        }
        return out;
    }

    QStringList reasons(const QString &event) const
    {
        QStringList out;
        for (const store::AuditEntry &e : m_audited) {
            if (e.event == event)
                out << e.reason;
        }
        return out;
    }

    // The next attempt, now: the fake clock moved to the queue's due time.
    static void attemptNow(DasFixture &f, store::EventQueue &queue)
    {
        const auto due = queue.nextAttemptAt();
        QVERIFY(due.has_value());
        if (*due > f.clock.now())
            f.clock.advance(std::chrono::duration_cast<std::chrono::milliseconds>(*due - f.clock.now()) + 1ms);
        queue.deliverDue();
    }

private Q_SLOTS:
    void init()
    {
        f.start();
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        m_stateDir = m_dir->filePath(QStringLiteral("state"));
        QVERIFY(QDir().mkpath(m_stateDir));
        QVERIFY(QFile::setPermissions(m_stateDir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
        m_audited.clear();
        m_servers.reset();
    }
    void cleanup() { f.stop(); }

    void anEventWaitsForAPolicyAndAnEnrollmentThenArrives()
    {
        auto queue = openQueue();
        auto events = sender(*queue);
        QSignalSpy retries(queue.get(), &store::EventQueue::retryScheduled);
        QSignalSpy acknowledged(queue.get(), &store::EventQueue::acknowledged);
        QVERIFY(events->enqueue(QStringLiteral("too_many_failures"), QStringLiteral("alice"), QStringLiteral("s1"),
            QStringLiteral("3 failed sign-ins")));
        events->start();

        // No usable policy: waits, audited once however often it is tried.
        QTRY_COMPARE_WITH_TIMEOUT(retries.size(), 1, 10000);
        attemptNow(f, *queue);
        QTRY_COMPARE_WITH_TIMEOUT(retries.size(), 2, 10000);
        QCOMPARE(reasons(QStringLiteral("admin_notify_delayed")), QStringList {QStringLiteral("no_policy")});

        // A policy, but this PC is not enrolled with its DAS.
        m_servers = serversOfThePolicy();
        attemptNow(f, *queue);
        QTRY_COMPARE_WITH_TIMEOUT(retries.size(), 3, 10000);
        attemptNow(f, *queue);
        QTRY_COMPARE_WITH_TIMEOUT(retries.size(), 4, 10000);
        QCOMPARE(reasons(QStringLiteral("admin_notify_delayed")),
            (QStringList {QStringLiteral("no_policy"), QStringLiteral("not_enrolled")}));
        QCOMPARE(*queue->pendingCount(), qint64(1));
        QVERIFY(feed().isEmpty());

        // Enrolled since: the next attempt reads the key again and the event arrives.
        QVERIFY(enrollDaemon());
        attemptNow(f, *queue);
        QTRY_COMPARE_WITH_TIMEOUT(acknowledged.size(), 1, 20000);
        QCOMPARE(*queue->pendingCount(), qint64(0));
        const QList<QJsonObject> arrived = feed();
        QCOMPARE(arrived.size(), 1);
        QCOMPARE(arrived.first().value(QLatin1String("type")).toString(), QStringLiteral("too_many_failures"));
        QCOMPARE(arrived.first().value(QLatin1String("user")).toString(), QStringLiteral("alice"));
        const QString detail = arrived.first().value(QLatin1String("detail")).toString();
        QVERIFY2(detail.startsWith(QStringLiteral("session s1 at 20")) && detail.endsWith(QLatin1String(": 3 failed sign-ins")),
            qPrintable(detail));
        QCOMPARE(reasons(QStringLiteral("admin_notified")), QStringList {QStringLiteral("too_many_failures")});
        QVERIFY(reasons(QStringLiteral("admin_notify_failed")).isEmpty());
    }

    // A DAS that went down is audited once, however often it is tried; a failed enqueue is audited and said.
    void aDasThatIsDownIsAuditedOnce()
    {
        QVERIFY(enrollDaemon());
        m_servers = serversOfThePolicy();
        auto queue = openQueue();
        auto events = sender(*queue);
        QSignalSpy retries(queue.get(), &store::EventQueue::retryScheduled);
        QSignalSpy acknowledged(queue.get(), &store::EventQueue::acknowledged);
        events->start();
        QVERIFY(events->enqueue(QStringLiteral("offline_unlock"), QStringLiteral("alice"), QStringLiteral("s2"), {}));
        QTRY_COMPARE_WITH_TIMEOUT(acknowledged.size(), 1, 20000);

        f.stop();
        QVERIFY(events->enqueue(QStringLiteral("recovery_code_used"), QStringLiteral("alice"), QStringLiteral("s2"), {}));
        QTRY_COMPARE_WITH_TIMEOUT(retries.size(), 1, 20000);
        attemptNow(f, *queue);
        QTRY_COMPARE_WITH_TIMEOUT(retries.size(), 2, 20000);
        QCOMPARE(reasons(QStringLiteral("admin_notify_delayed")), QStringList {QStringLiteral("network_error")});
        QCOMPARE(*queue->pendingCount(), qint64(1));
        // An enqueue that fails is audited and said (too large for the queue here).
        QVERIFY(!events->enqueue(
            QStringLiteral("too_many_failures"), QStringLiteral("alice"), QStringLiteral("s2"), QString(5000, u'x')));
        QCOMPARE(reasons(QStringLiteral("admin_notify_failed")), QStringList {QStringLiteral("not_queued")});
    }
};

QTEST_GUILESS_MAIN(TestEventSender)
#include "tst_eventsender.moc"

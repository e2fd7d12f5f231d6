// hotdeskd's events for the administrator, all real processes: hotdesk-stubs, "hotdesk enroll --system", the daemon on
// python3-dbusmock's logind and an agent as uid 65534. A failed sign-in under failure.actions ["notify_admin"] reaches
// the DAS's admin feed; with the DAS down it waits on disk, survives kill -9, and arrives once both are back.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "daemonclient.h"
#include "enrolleddaemon.h"
#include "httpsclient.h"
#include "logindmock.h"
#include "relayclient.h"
#include "stubsprocess.h"

#include <sys/stat.h>
#include <unistd.h>

using namespace hotdesk::test;

namespace {

constexpr uid_t kNobody = 65534;
const QString kSession = QStringLiteral("s1");


} // namespace

class TestHotdeskdAdminEvents : public QObject, protected EnrolledDaemonFixture {
    Q_OBJECT
private:
    QByteArray m_adminToken;

    bool startDaemon() { return startEnrolledDaemon({QStringLiteral("--client-timeout"), QStringLiteral("60000")}); }

    // The device events of the DAS's admin feed; nullopt when the DAS did not answer.
    std::optional<QList<QJsonObject>> feed() const
    {
        const QJsonObject endpoints = readJsonFile(QDir(m_stubs->dataDir()).filePath(QStringLiteral("endpoints.json")));
        const QUrl das(endpoints.value(QLatin1String("das")).toString());
        HttpsClient client(m_stubs->caFile());
        const HttpResult answer = client.send(das.resolved(QUrl(QStringLiteral("/v1/admin/events?limit=1000"))), "GET", {}, {},
            {{"Authorization", "Bearer " + m_adminToken}});
        if (answer.status != 200) {
            qWarning("the admin feed: %d %s", answer.status, answer.body.constData());
            return std::nullopt;
        }
        QList<QJsonObject> events;
        for (const QJsonValue &e : QJsonDocument::fromJson(answer.body).object().value(QLatin1String("events")).toArray())
            if (e.toObject().value(QLatin1String("source")).toString() == u"device")
                events << e.toObject();
        return events;
    }

    // The session's agent, attached, the lock required (by "reauth"), with a sign-in waiting for the IdP's page.
    std::unique_ptr<RelayClient> agentSigningIn(QString *signInId)
    {
        auto agent = std::make_unique<RelayClient>();
        if (!agent->start(m_socket, kNobody, true))
            return nullptr;
        QJsonObject attached;
        for (int i = 0; i < 50; ++i) { // an earlier agent may not be gone from the daemon's view yet ("busy")
            attached = agent->request(command("attach", {{QStringLiteral("session"), kSession}}));
            if (attached.value(QLatin1String("error")).toString() != u"busy")
                break;
            QTest::qWait(100);
        }
        if (!attached.value(QLatin1String("ok")).toBool())
            return nullptr;
        agent->request(command("reauth"));
        *signInId = agent->request(command("sign_in")).value(QLatin1String("sign_in")).toString();
        if (signInId->isEmpty() || agent->event(QStringLiteral("sign_in_url"), 30000).isEmpty())
            return nullptr;
        return agent;
    }

    // alice's own cancel: a failed attempt, and with max_attempts 1 a notify_admin decision.
    static bool cancel(RelayClient &agent, const QString &signInId)
    {
        return agent.request(command("sign_in_cancel", {{QStringLiteral("sign_in"), signInId}}))
                   .value(QLatin1String("ok"))
                   .toBool()
            && agent.event(QStringLiteral("sign_in_failed")).value(QLatin1String("sign_in")).toString() == signInId;
    }

    static int countOf(const QList<QJsonObject> &events, const QString &type)
    {
        return int(std::count_if(events.cbegin(), events.cend(), [&](const QJsonObject &e) {
            return e.value(QLatin1String("type")).toString() == type && e.value(QLatin1String("user")).toString() == u"alice";
        }));
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (const char *missing = LogindMock::missingForEnrolledDaemon())
            QSKIP(missing);
        QVERIFY(startEnrolledServers({QStringLiteral("alice")})); // uid 65534 reaches the socket
        m_adminToken = m_stubs->createAdminToken();
        QVERIFY(!m_adminToken.isEmpty());

        // Every failed sign-in tells the administrator; none locks alice out, so each test can fail one.
        QJsonObject policy = readJsonFile(m_stubs->policyFile());
        QVERIFY(!policy.isEmpty());
        policy.insert(QStringLiteral("failure"),
            QJsonObject {
                {QStringLiteral("max_attempts"), 1}, {QStringLiteral("actions"), QJsonArray {QStringLiteral("notify_admin")}}});
        QVERIFY(writeJsonFile(m_policyFile, policy));

        QVERIFY(startLogind());
        QVERIFY(m_logind.addSession(kSession, QStringLiteral("x11"), kNobody, QStringLiteral("alice")));
        QVERIFY(startDaemon());
    }

    void cleanupTestCase() { stopEnrolledDaemon(); }

    void aFailedSignInReachesTheAdminFeed()
    {
        QString id;
        auto agent = agentSigningIn(&id);
        QVERIFY(agent);
        QVERIFY(cancel(*agent, id));
        QTRY_COMPARE_WITH_TIMEOUT(audited(QStringLiteral("admin_notified")).size(), 1, 30000);
        QCOMPARE(audited(QStringLiteral("admin_notified")).first().value(QLatin1String("das_event")).toString(),
            QStringLiteral("too_many_failures"));
        const auto events = feed();
        QVERIFY(events);
        QCOMPARE(countOf(*events, QStringLiteral("too_many_failures")), 1);
        // The DAS dates it when it arrives: the detail says where and when it happened.
        const QString detail = events->constLast().value(QLatin1String("detail")).toString();
        QVERIFY2(detail.startsWith(QStringLiteral("session s1 at ")) && detail.contains(QLatin1String("cancelled")),
            qPrintable(detail));
        QVERIFY(audited(QStringLiteral("admin_notify_delayed")).isEmpty());
    }

    // The DAS is down when it happens; the daemon is killed; both come back: the event arrives.
    void anEventWaitsForTheDasAcrossAKill()
    {
        QString id;
        auto agent = agentSigningIn(&id);
        QVERIFY(agent);
        m_stubs->stop();
        QVERIFY(cancel(*agent, id));
        // Tried once and found nobody there: still queued, the wait audited.
        QTRY_VERIFY_WITH_TIMEOUT(!audited(QStringLiteral("admin_notify_delayed")).isEmpty(), 30000);
        QCOMPARE(audited(QStringLiteral("admin_notify_delayed")).constLast().value(QLatin1String("reason")).toString(),
            QStringLiteral("network_error"));
        agent.reset();
        m_daemon.kill(); // SIGKILL: nothing is flushed on the way out
        QVERIFY(m_daemon.waitForFinished(10000));

        m_stubs->start({}, 0);
        auto events = feed();
        QVERIFY(events);
        QCOMPARE(countOf(*events, QStringLiteral("too_many_failures")), 1); // only the first test's
        QCOMPARE(audited(QStringLiteral("admin_notified")).size(), 1);
        QVERIFY(startDaemon());
        // The first retry is due 5 s (less jitter) after the failed attempt.
        QTRY_COMPARE_WITH_TIMEOUT(audited(QStringLiteral("admin_notified")).size(), 2, 30000);
        // The event queued before the kill. Whether the failed attempt was counted on disk before SIGKILL
        // depends on when the kill lands (the wait is audited first), so the count is 0 or 1, never more.
        const int attempts = audited(QStringLiteral("admin_notified")).constLast().value(QLatin1String("attempts")).toInt(-1);
        QVERIFY2(attempts == 0 || attempts == 1, qPrintable(QString::number(attempts)));
        events = feed();
        QVERIFY(events);
        QCOMPARE(countOf(*events, QStringLiteral("too_many_failures")), 2);
        QVERIFY(audited(QStringLiteral("admin_notify_failed")).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestHotdeskdAdminEvents)
#include "tst_hotdeskd_adminevents.moc"

// A shared kiosk account (policy enforcement.kiosk_accounts) in hotdeskd, all real processes: hotdesk-stubs,
// "hotdesk enroll --system", the daemon on python3-dbusmock's logind, the ward's agent as uid 65534. Switching the
// person needs that person's own validated sign-in; the audit log names the account and both people.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "daemonclient.h"
#include "enrolleddaemon.h"
#include "flowfollower.h"
#include "logindmock.h"
#include "relayclient.h"
#include "stubsprocess.h"

#include <sys/stat.h>
#include <unistd.h>

using namespace hotdesk::test;

namespace {

constexpr uid_t kWard = 65534;
constexpr uid_t kAlice = 65533;
const QString kKiosk = QStringLiteral("k1");
const QString kAlicesSession = QStringLiteral("a1");

} // namespace

class TestHotdeskdKiosk : public QObject, protected EnrolledDaemonFixture {
    Q_OBJECT
private:
    std::unique_ptr<RelayClient> m_agent; // the ward's agent, attached to k1

    QJsonObject session(uid_t uid, const QString &id)
    {
        Client client;
        if (!client.connect(m_socket)
            || !client.send(QByteArray("{\"v\":1,\"command\":\"status\",\"uid\":") + QByteArray::number(uid) + "}\n"))
            return {};
        for (const QJsonValue &session : client.reply().value(QLatin1String("sessions")).toArray())
            if (session.toObject().value(QLatin1String("id")).toString() == id)
                return session.toObject();
        return {};
    }

    bool kioskLocked()
    {
        return session(kWard, kKiosk).value(QLatin1String("lock")).toObject().value(QLatin1String("required")).toBool();
    }

    // sign_in for the person; the sign-in's id, empty when refused.
    QString startSignIn(const QString &person)
    {
        const QJsonObject started = m_agent->request(command("sign_in", {{QStringLiteral("person"), person}}));
        if (!started.value(QLatin1String("ok")).toBool())
            qWarning("sign_in: %s", QJsonDocument(started).toJson().constData());
        return started.value(QLatin1String("sign_in")).toString();
    }

    // The IdP's page followed as the lock window would (the person's phone approves at once), the redirect relayed.
    bool relay(const QString &signInId)
    {
        const QJsonObject url = m_agent->event(QStringLiteral("sign_in_url"), 30000);
        if (url.value(QLatin1String("sign_in")).toString() != signInId)
            return false;
        FlowFollower browser(m_stubs->caFile());
        browser.setRefreshDelayMs(50);
        const FollowResult followed
            = browser.follow(QUrl(url.value(QLatin1String("url")).toString()), QStringLiteral("com.hotdesk.agent:"), true);
        if (!followed.reachedRedirect) {
            qWarning("the browser stopped: %s", qPrintable(followed.error));
            return false;
        }
        return m_agent
            ->request(command("sign_in_response",
                {{QStringLiteral("sign_in"), signInId}, {QStringLiteral("url"), followed.redirect.toString(QUrl::FullyEncoded)}}))
            .value(QLatin1String("ok"))
            .toBool();
    }

    // The person's sign-in, start to end: the unlocked event, or {} when it failed.
    QJsonObject signIn(const QString &person)
    {
        const QString id = startSignIn(person);
        if (id.isEmpty() || !relay(id))
            return {};
        return m_agent->event(QStringLiteral("unlocked"), 30000);
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (const char *missing = LogindMock::missingForEnrolledDaemon())
            QSKIP(missing);
        QVERIFY(startEnrolledServers({QStringLiteral("bob"), QStringLiteral("carol")}));

        // The servers' policy with the ward's shared login as a kiosk account; failures never add up to a lockout.
        QJsonObject policy = readJsonFile(m_stubs->policyFile());
        QVERIFY(!policy.isEmpty());
        policy.insert(QStringLiteral("failure"), QJsonObject {{QStringLiteral("max_attempts"), 100}});
        policy.insert(
            QStringLiteral("enforcement"), QJsonObject {{QStringLiteral("kiosk_accounts"), QJsonArray {QStringLiteral("ward")}}});
        QVERIFY(writeJsonFile(m_policyFile, policy));

        QVERIFY(startLogind());
        QVERIFY(m_logind.addSession(kKiosk, QStringLiteral("x11"), kWard, QStringLiteral("ward")));
        QVERIFY(m_logind.addSession(kAlicesSession, QStringLiteral("x11"), kAlice, QStringLiteral("alice")));
        QVERIFY(startEnrolledDaemon({QStringLiteral("--client-timeout"), QStringLiteral("60000")}));

        m_agent = std::make_unique<RelayClient>();
        QVERIFY(m_agent->start(m_socket, kWard, true));
        const QJsonObject attached = m_agent->request(command("attach", {{QStringLiteral("session"), kKiosk}}));
        QVERIFY2(attached.value(QLatin1String("ok")).toBool(), QJsonDocument(attached).toJson().constData());
        QVERIFY(attached.value(QLatin1String("kiosk")).toBool());
        QCOMPARE(attached.value(QLatin1String("person")).toString(), QString());
    }

    void cleanupTestCase()
    {
        m_agent.reset();
        stopProcess(m_daemon);
        m_stubs.reset();
    }

    void aPersonOutsideAKioskAccountIsRefused()
    {
        RelayClient alice;
        QVERIFY(alice.start(m_socket, kAlice, false));
        QVERIFY(
            alice.request(command("reauth", {{QStringLiteral("session"), kAlicesSession}})).value(QLatin1String("ok")).toBool());
        // alice's own session is no kiosk: nobody else signs in there, and the session shows no person.
        const QJsonObject refused = alice.request(
            command("sign_in", {{QStringLiteral("session"), kAlicesSession}, {QStringLiteral("person"), QStringLiteral("bob")}}));
        QCOMPARE(refused.value(QLatin1String("error")).toString(), QStringLiteral("forbidden"));
        QVERIFY2(refused.value(QLatin1String("message")).toString().contains(QLatin1String("kiosk_accounts")),
            qPrintable(refused.value(QLatin1String("message")).toString()));
        QVERIFY(!session(kAlice, kAlicesSession).contains(QLatin1String("kiosk")));
        QVERIFY(audited(QStringLiteral("sign_in_started")).isEmpty());
        // A name that is no login name is refused in the kiosk session too.
        QCOMPARE(m_agent->request(command("sign_in", {{QStringLiteral("person"), QStringLiteral("bob smith")}}))
                     .value(QLatin1String("error"))
                     .toString(),
            QStringLiteral("bad_request"));
        QCOMPARE(m_agent->request(command("sign_in", {{QStringLiteral("person"), 42}})).value(QLatin1String("error")).toString(),
            QStringLiteral("bad_request"));
    }

    void switchingThePersonNeedsTheirSignIn()
    {
        // bob at the ward's PC: the session locks for the switch and lifts for bob's own sign-in.
        QVERIFY(!kioskLocked());
        const QString id = startSignIn(QStringLiteral("bob"));
        QVERIFY(!id.isEmpty());
        QVERIFY(kioskLocked());
        QVERIFY(relay(id));
        const QJsonObject unlocked = m_agent->event(QStringLiteral("unlocked"), 30000);
        QCOMPARE(unlocked.value(QLatin1String("person")).toString(), QStringLiteral("bob"));
        QVERIFY(!kioskLocked());
        QCOMPARE(session(kWard, kKiosk).value(QLatin1String("person")).toString(), QStringLiteral("bob"));
        QCOMPARE(session(kWard, kKiosk).value(QLatin1String("user")).toString(), QStringLiteral("ward"));

        // carol takes over from bob.
        const QJsonObject carol = signIn(QStringLiteral("carol"));
        QCOMPARE(carol.value(QLatin1String("person")).toString(), QStringLiteral("carol"));
        QCOMPARE(session(kWard, kKiosk).value(QLatin1String("person")).toString(), QStringLiteral("carol"));

        // The audit log: each sign-in is the person's, in the ward's account; each switch names both people.
        const auto succeeded = audited(QStringLiteral("reauth_succeeded"));
        QCOMPARE(succeeded.size(), 2);
        QCOMPARE(succeeded[0].value(QLatin1String("user")).toString(), QStringLiteral("bob"));
        QCOMPARE(succeeded[0].value(QLatin1String("account")).toString(), QStringLiteral("ward"));
        QCOMPARE(succeeded[1].value(QLatin1String("user")).toString(), QStringLiteral("carol"));
        QCOMPARE(succeeded[1].value(QLatin1String("previous_person")).toString(), QStringLiteral("bob"));
        const auto switched = audited(QStringLiteral("person_switched"));
        QCOMPARE(switched.size(), 2);
        QCOMPARE(switched[1].value(QLatin1String("user")).toString(), QStringLiteral("ward"));
        QCOMPARE(switched[1].value(QLatin1String("session")).toString(), kKiosk);
        QCOMPARE(switched[1].value(QLatin1String("from")).toString(), QStringLiteral("bob"));
        QCOMPARE(switched[1].value(QLatin1String("to")).toString(), QStringLiteral("carol"));

        // The person is the session's state: kept in its file under the daemon's state directory.
        const QJsonObject saved = readJsonFile(m_stateDir + QStringLiteral("/sessions/k1.json"));
        QCOMPARE(saved.value(QLatin1String("person")).toString(), QStringLiteral("carol"));
    }

    void aTokenForSomeoneElseThanAskedKeepsTheLock()
    {
        // The daemon knows bob by carol's shared id: bob's own (valid) ID token is then not the one asked for.
        const QString usersFile = m_stateDir + QStringLiteral("/users.json");
        QJsonObject users = readJsonFile(usersFile);
        QJsonObject known = users.value(QLatin1String("users")).toObject();
        QVERIFY(known.contains(QLatin1String("bob")) && known.contains(QLatin1String("carol")));
        known.insert(QStringLiteral("bob"), known.value(QLatin1String("carol")));
        users.insert(QStringLiteral("users"), known);
        QVERIFY(writeJsonFile(usersFile, users));

        const QString id = startSignIn(QStringLiteral("bob"));
        QVERIFY(!id.isEmpty());
        QVERIFY(relay(id));
        const QJsonObject failed = m_agent->event(QStringLiteral("sign_in_failed"), 30000);
        QCOMPARE(failed.value(QLatin1String("sign_in")).toString(), id);
        QCOMPARE(failed.value(QLatin1String("error")).toString(), QStringLiteral("subject_mismatch"));
        QVERIFY(kioskLocked());
        QCOMPARE(session(kWard, kKiosk).value(QLatin1String("person")).toString(), QStringLiteral("carol"));
        const auto records = audited(QStringLiteral("reauth_failed"));
        QVERIFY(!records.isEmpty());
        QCOMPARE(records.last().value(QLatin1String("user")).toString(), QStringLiteral("bob"));
        QCOMPARE(records.last().value(QLatin1String("account")).toString(), QStringLiteral("ward"));
        QCOMPARE(records.last().value(QLatin1String("current_person")).toString(), QStringLiteral("carol"));
        QCOMPARE(audited(QStringLiteral("person_switched")).size(), 2);
    }
};

QTEST_GUILESS_MAIN(TestHotdeskdKiosk)
#include "tst_hotdeskd_kiosk.moc"

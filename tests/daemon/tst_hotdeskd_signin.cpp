// hotdeskd's sign-in over its socket, all real processes: hotdesk-stubs, "hotdesk enroll --system", the daemon on
// python3-dbusmock's logind, and a relaying client as uid 65534; only the IdP's page is followed in this test.
// The offline unlock too: servers that are down, the policy's offline grace and the account password through real
// PAM (libpam-wrapper's pam_matrix.so in a test PAM directory, never the machine's /etc/shadow).
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>
#include <QUrlQuery>

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

constexpr uid_t kNobody = 65534;
constexpr uid_t kSomeoneElse = 65533;
const QString kSession = QStringLiteral("s1");
const QString kPassword = QStringLiteral("Tr0ub4dor&3");


QUrl withState(QUrl url, const QString &state)
{
    QUrlQuery query(url);
    query.removeAllQueryItems(QStringLiteral("state"));
    query.addQueryItem(QStringLiteral("state"), state);
    url.setQuery(query);
    return url;
}

} // namespace

class TestHotdeskdSignIn : public QObject, protected EnrolledDaemonFixture {
    Q_OBJECT
private:
    QString m_pamDir;

    // The service hotdesk-offline as pam_matrix: alice's password is kPassword, for that service only.
    bool writePamConfig()
    {
        m_pamDir = m_dir.filePath(QStringLiteral("pam.d"));
        const QString passdb = m_dir.filePath(QStringLiteral("passdb"));
        QFile users(passdb);
        if (!QDir().mkpath(m_pamDir) || !users.open(QIODevice::WriteOnly))
            return false;
        users.write("alice:" + kPassword.toUtf8() + ":hotdesk-offline\n");
        QFile service(m_pamDir + QStringLiteral("/hotdesk-offline"));
        if (!service.open(QIODevice::WriteOnly))
            return false;
        for (const char *type : {"auth", "account"})
            service.write(QByteArray(type) + " required " HOTDESK_PAM_MATRIX " passdb=" + QFile::encodeName(passdb) + '\n');
        return true;
    }

    // The policy with failure.offline as given (and failures that never add up to a lockout).
    bool writeOfflinePolicy(const QJsonObject &offline)
    {
        QJsonObject policy = readJsonFile(m_policyFile);
        policy.insert(
            QStringLiteral("failure"), QJsonObject {{QStringLiteral("max_attempts"), 100}, {QStringLiteral("offline"), offline}});
        return writeJsonFile(m_policyFile, policy);
    }

    static QJsonObject offlineUnlock(RelayClient &client, const QString &password, const QString &session = {})
    {
        QJsonObject request = command("offline_unlock", {{QStringLiteral("password"), password}});
        if (!session.isEmpty())
            request.insert(QStringLiteral("session"), session);
        return client.request(request);
    }

    bool startDaemon()
    {
        return startEnrolledDaemon(
            {QStringLiteral("--client-timeout"), QStringLiteral("60000"), QStringLiteral("--pam-confdir"), m_pamDir});
    }

    bool lockRequired()
    {
        Client client;
        if (!client.connect(m_socket) || !client.send("{\"v\":1,\"command\":\"status\",\"uid\":65534}\n"))
            return false;
        for (const QJsonValue &session : client.reply().value(QLatin1String("sessions")).toArray())
            if (session.toObject().value(QLatin1String("id")).toString() == kSession)
                return session.toObject().value(QLatin1String("lock")).toObject().value(QLatin1String("required")).toBool();
        qWarning("no session %s in the status", qPrintable(kSession));
        return false;
    }

    std::unique_ptr<RelayClient> lockedAgent() { return lockedRelayAgent(m_socket, kSession, kNobody); }

    // sign_in; the id it answered, empty when refused.
    static QString startSignIn(RelayClient &agent)
    {
        const QJsonObject started = agent.request(command("sign_in"));
        if (!started.value(QLatin1String("ok")).toBool())
            qWarning("sign_in: %s", QJsonDocument(started).toJson().constData());
        return started.value(QLatin1String("sign_in")).toString();
    }

    // What the tray agent does with sign_in_url: shows the IdP's page (here: a browser without JavaScript, while the
    // simulated phone approves at once) and captures the redirect.
    QUrl followToRedirect(RelayClient &agent, const QString &signInId)
    {
        const QJsonObject url = agent.event(QStringLiteral("sign_in_url"), 30000);
        if (url.value(QLatin1String("sign_in")).toString() != signInId) {
            qWarning("no sign_in_url for %s", qPrintable(signInId));
            return {};
        }
        FlowFollower browser(m_stubs->caFile());
        browser.setRefreshDelayMs(50);
        const FollowResult followed
            = browser.follow(QUrl(url.value(QLatin1String("url")).toString()), QStringLiteral("com.hotdesk.agent:"), true);
        if (!followed.reachedRedirect)
            qWarning("the browser stopped: %s", qPrintable(followed.error));
        return followed.redirect;
    }

    static QJsonObject respond(RelayClient &agent, const QString &signInId, const QUrl &redirect)
    {
        return agent.request(command("sign_in_response",
            {{QStringLiteral("sign_in"), signInId}, {QStringLiteral("url"), redirect.toString(QUrl::FullyEncoded)}}));
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (const char *missing = LogindMock::missingForEnrolledDaemon())
            QSKIP(missing);
        QVERIFY(m_dir.isValid());
        if (QFile::exists(QStringLiteral(HOTDESK_PAM_MATRIX)))
            QVERIFY(writePamConfig());
        QVERIFY(startEnrolledServers({QStringLiteral("alice")}, 31000)); // uid 65534 reaches the socket inside

        // The servers' policy; failures never add up to a lockout here (tst_decisionengine counts them).
        QJsonObject policy = readJsonFile(m_stubs->policyFile());
        QVERIFY(!policy.isEmpty());
        policy.insert(QStringLiteral("failure"), QJsonObject {{QStringLiteral("max_attempts"), 100}});
        QVERIFY(writeJsonFile(m_policyFile, policy));

        QVERIFY(startLogind());
        // alice's session, as uid 65534: the daemon signs in the session's user, whoever the client is.
        QVERIFY(m_logind.addSession(kSession, QStringLiteral("x11"), kNobody, QStringLiteral("alice")));
        QVERIFY(startDaemon());
    }

    void cleanupTestCase() { stopEnrolledDaemon(); }

    void signInLiftsTheLock()
    {
        auto agent = lockedAgent();
        QVERIFY(agent);
        QVERIFY(agent->event(QStringLiteral("lock")).value(QLatin1String("sign_in")).toBool());
        QVERIFY(lockRequired());
        const QString id = startSignIn(*agent);
        QVERIFY(!id.isEmpty());
        const QUrl redirect = followToRedirect(*agent, id);
        QVERIFY(redirect.isValid());
        // Still locked until the daemon has checked what the agent relays.
        QVERIFY(lockRequired());
        QVERIFY(respond(*agent, id, redirect).value(QLatin1String("ok")).toBool());
        const QJsonObject unlocked = agent->event(QStringLiteral("unlocked"), 30000);
        QCOMPARE(unlocked.value(QLatin1String("session")).toString(), kSession);
        QCOMPARE(unlocked.value(QLatin1String("reason")).toString(), QStringLiteral("sign_in"));
        QVERIFY(!lockRequired());
        const auto succeeded = audited(QStringLiteral("reauth_succeeded"));
        QCOMPARE(succeeded.size(), 1);
        QCOMPARE(succeeded.first().value(QLatin1String("user")).toString(), QStringLiteral("alice"));
        QCOMPARE(succeeded.first().value(QLatin1String("sign_in")).toString(), id);
        // The same response again is no second sign-in.
        QCOMPARE(respond(*agent, id, redirect).value(QLatin1String("error")).toString(), QStringLiteral("no_such_sign_in"));
    }

    void signInWithoutALockIsRefused()
    {
        RelayClient agent;
        QVERIFY(agent.start(m_socket, kNobody, false));
        QVERIFY(!lockRequired());
        // For its own session, named: refused as the attached agent is (sign_in has no lock to lift).
        QCOMPARE(
            agent.request(command("sign_in", {{QStringLiteral("session"), kSession}})).value(QLatin1String("error")).toString(),
            QStringLiteral("not_locked"));
        // Root, for any session, must name it.
        RelayClient root;
        QVERIFY(root.start(m_socket, 0, false));
        const QJsonObject named = root.request(command("sign_in", {{QStringLiteral("session"), kSession}}));
        QCOMPARE(named.value(QLatin1String("error")).toString(), QStringLiteral("not_locked"));
        QCOMPARE(root.request(command("sign_in")).value(QLatin1String("error")).toString(), QStringLiteral("bad_request"));
    }

    void anotherUidsSignInIsForbidden()
    {
        auto agent = lockedAgent();
        QVERIFY(agent);
        const QString id = startSignIn(*agent);
        QVERIFY(!id.isEmpty());
        RelayClient other;
        QVERIFY(other.start(m_socket, kSomeoneElse, false));
        const QJsonObject forged {{QStringLiteral("sign_in"), id},
            {QStringLiteral("url"), QStringLiteral("com.hotdesk.agent:/callback?code=x&state=y")}};
        QCOMPARE(other.request(command("sign_in_response", forged)).value(QLatin1String("error")).toString(),
            QStringLiteral("forbidden"));
        QCOMPARE(other.request(command("sign_in_cancel", {{QStringLiteral("sign_in"), id}})).value(QLatin1String("error")),
            QStringLiteral("forbidden"));
        // Nor may it start one for a session not its own.
        QCOMPARE(other.request(command("sign_in", {{QStringLiteral("session"), kSession}})).value(QLatin1String("error")),
            QStringLiteral("forbidden"));
        // The sign-in is still the owner's: cancelled by it, it fails, and the lock stays.
        QVERIFY(agent->request(command("sign_in_cancel", {{QStringLiteral("sign_in"), id}})).value(QLatin1String("ok")).toBool());
        QCOMPARE(
            agent->event(QStringLiteral("sign_in_failed")).value(QLatin1String("error")).toString(), QStringLiteral("cancelled"));
        QVERIFY(lockRequired());
    }

    void aForgedResponseKeepsTheLock()
    {
        auto agent = lockedAgent();
        QVERIFY(agent);
        const QString id = startSignIn(*agent);
        QVERIFY(!id.isEmpty());
        const QUrl redirect = followToRedirect(*agent, id);
        QVERIFY(redirect.isValid());
        // Not the redirect URI, or too long to be a response: refused, and the sign-in keeps waiting.
        QCOMPARE(respond(*agent, id, QUrl(QStringLiteral("https://evil.example/callback?code=x&state=y")))
                     .value(QLatin1String("error"))
                     .toString(),
            QStringLiteral("bad_request"));
        QUrl longUrl = redirect;
        longUrl.setFragment(QString(5000, u'a'));
        QCOMPARE(respond(*agent, id, longUrl).value(QLatin1String("error")).toString(), QStringLiteral("bad_request"));
        // Handed to the flow, which refuses another state.
        QVERIFY(respond(*agent, id, withState(redirect, QStringLiteral("forged"))).value(QLatin1String("ok")).toBool());
        const QJsonObject failed = agent->event(QStringLiteral("sign_in_failed"), 30000);
        QCOMPARE(failed.value(QLatin1String("sign_in")).toString(), id);
        QCOMPARE(failed.value(QLatin1String("error")).toString(), QStringLiteral("state_mismatch"));
        QVERIFY(lockRequired());
        QVERIFY(!audited(QStringLiteral("reauth_failed")).isEmpty());
        QCOMPARE(audited(QStringLiteral("reauth_succeeded")).size(), 1);
        // Over: the genuine response comes too late.
        QCOMPARE(respond(*agent, id, redirect).value(QLatin1String("error")).toString(), QStringLiteral("no_such_sign_in"));
    }

    void aTokenForAnotherSubjectKeepsTheLock()
    {
        // The daemon's users.json names a shared id for alice that the IdP does not issue.
        const QString usersFile = m_stateDir + QStringLiteral("/users.json");
        QJsonObject users = readJsonFile(usersFile);
        QJsonObject known = users.value(QLatin1String("users")).toObject();
        QVERIFY(known.contains(QLatin1String("alice")));
        known.insert(QStringLiteral("alice"), QJsonObject {{QStringLiteral("shared_id"), QStringLiteral("not-alices-id")}});
        users.insert(QStringLiteral("users"), known);
        QVERIFY(writeJsonFile(usersFile, users));

        auto agent = lockedAgent();
        QVERIFY(agent);
        const QString id = startSignIn(*agent);
        QVERIFY(!id.isEmpty());
        const QUrl redirect = followToRedirect(*agent, id);
        QVERIFY(redirect.isValid());
        QVERIFY(respond(*agent, id, redirect).value(QLatin1String("ok")).toBool());
        const QJsonObject failed = agent->event(QStringLiteral("sign_in_failed"), 30000);
        QCOMPARE(failed.value(QLatin1String("error")).toString(), QStringLiteral("subject_mismatch"));
        QVERIFY(lockRequired());
        const auto records = audited(QStringLiteral("reauth_failed"));
        QVERIFY(!records.isEmpty());
        QCOMPARE(records.last().value(QLatin1String("reason")).toString(), QStringLiteral("subject_mismatch"));
        QCOMPARE(records.last().value(QLatin1String("sign_in")).toString(), id);
        QCOMPARE(audited(QStringLiteral("reauth_succeeded")).size(), 1);
    }

    void aClientThatLeavesTakesItsSignInAlong()
    {
        auto agent = lockedAgent();
        QVERIFY(agent);
        const QString id = startSignIn(*agent);
        QVERIFY(!id.isEmpty());
        agent->kill();
        QTRY_VERIFY_WITH_TIMEOUT(!audited(QStringLiteral("reauth_failed")).isEmpty()
                && audited(QStringLiteral("reauth_failed")).last().value(QLatin1String("sign_in")).toString() == id,
            10000);
        QCOMPARE(audited(QStringLiteral("reauth_failed")).last().value(QLatin1String("reason")).toString(),
            QStringLiteral("cancelled"));
        // The session is free for the next agent's sign-in.
        auto next = lockedAgent();
        QVERIFY(next);
        const QString again = startSignIn(*next);
        QVERIFY(!again.isEmpty());
        QVERIFY(
            next->request(command("sign_in_cancel", {{QStringLiteral("sign_in"), again}})).value(QLatin1String("ok")).toBool());
        QVERIFY(lockRequired());
    }

    // alice signed in with the phone (signInLiftsTheLock): the grace counts from then.
    void offlineUnlockNeedsThePasswordWithinTheGrace()
    {
        if (m_pamDir.isEmpty())
            QSKIP("libpam-wrapper's pam_matrix.so is not installed (./dev installs it; Debian package libpam-wrapper)");
        auto agent = lockedAgent();
        QVERIFY(agent);
        // Online (the servers answered last): no offline unlock, and PAM is not asked.
        QCOMPARE(offlineUnlock(*agent, kPassword).value(QLatin1String("why")).toString(), QStringLiteral("online"));
        // The servers go down: the daemon's own sign-in finds them unreachable. They come back for the tests after this one.
        m_stubs->stop();
        const auto restart = qScopeGuard([this] { m_stubs->start({}, 0); });
        const QString id = startSignIn(*agent);
        QVERIFY(!id.isEmpty());
        const QJsonObject failed = agent->event(QStringLiteral("sign_in_failed"), 30000);
        QCOMPARE(failed.value(QLatin1String("sign_in")).toString(), id);
        QCOMPARE(failed.value(QLatin1String("error")).toString(), QStringLiteral("unreachable"));
        // The policy so far allows no offline unlock: refused even with the right password.
        const QJsonObject denied = offlineUnlock(*agent, kPassword);
        QCOMPARE(denied.value(QLatin1String("error")).toString(), QStringLiteral("offline_refused"));
        QCOMPARE(denied.value(QLatin1String("why")).toString(), QStringLiteral("offline_deny"));
        QVERIFY(audited(QStringLiteral("offline_unlock_started")).isEmpty());
        QVERIFY(lockRequired());

        // A grace of one offline unlock; a wrong password (tried once the new policy is read) is refused and counted.
        QVERIFY(writeOfflinePolicy({{QStringLiteral("mode"), QStringLiteral("grace")},
            {QStringLiteral("grace"), QStringLiteral("PT8H")}, {QStringLiteral("max_uses"), 1}}));
        QJsonObject checking;
        for (int i = 0; i < 100 && !checking.value(QLatin1String("ok")).toBool(); ++i) {
            checking = offlineUnlock(*agent, QStringLiteral("not the password"));
            if (!checking.value(QLatin1String("ok")).toBool())
                QTest::qWait(100);
        }
        QVERIFY2(checking.value(QLatin1String("checking")).toBool(), QJsonDocument(checking).toJson().constData());
        QCOMPARE(agent->event(QStringLiteral("offline_unlock_failed")).value(QLatin1String("error")).toString(),
            QStringLiteral("wrong_password"));
        QVERIFY(lockRequired());
        QCOMPARE(audited(QStringLiteral("offline_unlock_refused")).last().value(QLatin1String("reason")).toString(),
            QStringLiteral("wrong_password"));

        // Only the session's agent (or root) asks: not another client of alice's uid, nor another uid.
        RelayClient sameUid;
        QVERIFY(sameUid.start(m_socket, kNobody, false));
        QCOMPARE(
            offlineUnlock(sameUid, kPassword, kSession).value(QLatin1String("error")).toString(), QStringLiteral("not_attached"));
        RelayClient other;
        QVERIFY(other.start(m_socket, kSomeoneElse, false));
        QCOMPARE(offlineUnlock(other, kPassword, kSession).value(QLatin1String("error")).toString(), QStringLiteral("forbidden"));
        QCOMPARE(
            offlineUnlock(*agent, QString(600, u'x')).value(QLatin1String("error")).toString(), QStringLiteral("bad_request"));
        QVERIFY(lockRequired());

        // The right password within the grace: the lock is lifted.
        QVERIFY(offlineUnlock(*agent, kPassword).value(QLatin1String("checking")).toBool());
        const QJsonObject unlocked = agent->event(QStringLiteral("unlocked"));
        QCOMPARE(unlocked.value(QLatin1String("reason")).toString(), QStringLiteral("offline"));
        QCOMPARE(unlocked.value(QLatin1String("uses_left")).toInt(-1), 0);
        QVERIFY(!lockRequired());
        const auto granted = audited(QStringLiteral("offline_unlock_granted"));
        QCOMPARE(granted.size(), 1);
        QCOMPARE(granted.first().value(QLatin1String("user")).toString(), QStringLiteral("alice"));
        QCOMPARE(granted.first().value(QLatin1String("uses_left")).toInt(-1), 0);
        // The password is in no record.
        QFile log(m_logsDir + QStringLiteral("/audit.jsonl"));
        QVERIFY(log.open(QIODevice::ReadOnly));
        QVERIFY(!log.readAll().contains(kPassword.toUtf8()));

        // Locked again: the one offline unlock is used up, the right password changes nothing.
        agent->request(command("reauth"));
        QVERIFY(lockRequired());
        QCOMPARE(offlineUnlock(*agent, kPassword).value(QLatin1String("why")).toString(), QStringLiteral("grace_used_up"));
        QVERIFY(lockRequired());

        QVERIFY(writeOfflinePolicy({{QStringLiteral("mode"), QStringLiteral("deny")}}));
        QTRY_COMPARE_WITH_TIMEOUT(
            offlineUnlock(*agent, kPassword).value(QLatin1String("why")).toString(), QStringLiteral("offline_deny"), 10000);
    }

    // Every record so far names this PC as "hotdesk enroll --system" enrolled it: from daemon_started (before the
    // policy was read) through the sign-ins and offline unlocks.
    void everyRecordNamesTheEnrolledDevice()
    {
        const QJsonArray enrollments
            = readJsonFile(m_stateDir + QStringLiteral("/enrollments.json")).value(QLatin1String("enrollments")).toArray();
        QCOMPARE(enrollments.size(), 1);
        const QString deviceId = enrollments.first().toObject().value(QLatin1String("device_id")).toString();
        QVERIFY(!deviceId.isEmpty());
        QFile log(m_logsDir + QStringLiteral("/audit.jsonl"));
        QVERIFY(log.open(QIODevice::ReadOnly));
        QStringList events;
        while (!log.atEnd()) {
            const QJsonObject record = QJsonDocument::fromJson(log.readLine()).object();
            const QString event = record.value(QLatin1String("event")).toString();
            events << event;
            QVERIFY2(record.value(QLatin1String("device_id")).toString() == deviceId,
                qPrintable(event + QStringLiteral(": device_id \"") + record.value(QLatin1String("device_id")).toString()
                    + QStringLiteral("\", expected \"") + deviceId + u'"'));
        }
        QVERIFY(events.contains(QStringLiteral("daemon_started")));
        QVERIFY(events.contains(QStringLiteral("reauth_succeeded")));
    }

    // Last: it locks alice out.
    void aNewPolicyCancelsTheSignInAndALockoutRefusesTheNext()
    {
        auto agent = lockedAgent();
        QVERIFY(agent);
        const QString id = startSignIn(*agent);
        QVERIFY(!id.isEmpty());
        // One failed attempt is enough from now on.
        QJsonObject policy = readJsonFile(m_policyFile);
        policy.insert(QStringLiteral("failure"), QJsonObject {{QStringLiteral("max_attempts"), 1}});
        QVERIFY(writeJsonFile(m_policyFile, policy));
        const QJsonObject cancelled = agent->event(QStringLiteral("sign_in_failed"), 15000);
        QCOMPARE(cancelled.value(QLatin1String("sign_in")).toString(), id);
        QCOMPARE(cancelled.value(QLatin1String("error")).toString(), QStringLiteral("cancelled"));
        // The daemon's doing, not alice's: audited, not counted.
        const auto records = audited(QStringLiteral("sign_in_cancelled"));
        QVERIFY(!records.isEmpty());
        QCOMPARE(records.last().value(QLatin1String("sign_in")).toString(), id);
        // The lock the agent was sent at attach allowed a sign-in.
        QVERIFY(agent->event(QStringLiteral("lock")).value(QLatin1String("sign_in")).toBool());

        // alice's own cancel counts: locked out, her agent is told, and the daemon refuses the next sign-in.
        const QString next = startSignIn(*agent);
        QVERIFY(!next.isEmpty());
        QVERIFY(
            agent->request(command("sign_in_cancel", {{QStringLiteral("sign_in"), next}})).value(QLatin1String("ok")).toBool());
        QCOMPARE(agent->event(QStringLiteral("sign_in_failed")).value(QLatin1String("sign_in")).toString(), next);
        QJsonObject lock;
        do
            lock = agent->event(QStringLiteral("lock"));
        while (!lock.isEmpty() && lock.value(QLatin1String("sign_in")).toBool());
        QVERIFY2(!lock.isEmpty(), "no lock event that says no sign-in is possible");
        QVERIFY(!audited(QStringLiteral("lock_out_user")).isEmpty());
        QCOMPARE(agent->request(command("sign_in")).value(QLatin1String("error")).toString(), QStringLiteral("locked_out"));
        QVERIFY(lockRequired());
    }
};

QTEST_GUILESS_MAIN(TestHotdeskdSignIn)
#include "tst_hotdeskd_signin.moc"

// Recovery codes kept by hotdeskd, all real processes: hotdesk-stubs, "hotdesk enroll --system", the daemon on
// python3-dbusmock's logind, clients as uid 65534 and 65533, and "hotdesk recovery-codes" through the daemon.
#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include "core/control/daemonlink.h"
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
const QString kBobsSession = QStringLiteral("s2");
constexpr int kMaxAttempts = 4;
constexpr int kCodes = 5; // the least a policy may ask for

QStringList codesOf(const QJsonObject &event)
{
    QStringList codes;
    for (const QJsonValue &code : event.value(QLatin1String("codes")).toArray())
        codes << code.toString();
    return codes;
}

} // namespace

class TestHotdeskdRecovery : public QObject, protected EnrolledDaemonFixture {
    Q_OBJECT
private:
    QStringList m_everyCode; // every code the daemon handed out: none may be in a file

    bool writePolicy(bool codesEnabled)
    {
        QJsonObject policy = readJsonFile(m_stubs->policyFile());
        policy.insert(QStringLiteral("failure"),
            QJsonObject {{QStringLiteral("max_attempts"), kMaxAttempts},
                {QStringLiteral("actions"), QJsonArray {QStringLiteral("lock"), QStringLiteral("notify_admin")}},
                {QStringLiteral("recovery_codes"),
                    QJsonObject {{QStringLiteral("enabled"), codesEnabled}, {QStringLiteral("count"), kCodes}}}});
        return writeJsonFile(m_policyFile, policy);
    }

    QJsonObject sessionStatus()
    {
        Client client;
        if (!client.connect(m_socket) || !client.send("{\"v\":1,\"command\":\"status\",\"uid\":65534}\n"))
            return {};
        for (const QJsonValue &session : client.reply().value(QLatin1String("sessions")).toArray())
            if (session.toObject().value(QLatin1String("id")).toString() == kSession)
                return session.toObject();
        return {};
    }

    bool lockRequired()
    {
        return sessionStatus().value(QLatin1String("lock")).toObject().value(QLatin1String("required")).toBool();
    }

    std::unique_ptr<RelayClient> lockedAgent() { return lockedRelayAgent(m_socket, kSession, kNobody); }

    // A sign-in with the purpose "recovery_codes" on a plain connection of alice's uid, relayed as the command line
    // does; the daemon's "recovery_codes" event, {} when there is none.
    QJsonObject signInForCodes()
    {
        RelayClient client;
        if (!client.start(m_socket, kNobody, false))
            return {};
        const QJsonObject started = client.request(command(
            "sign_in", {{QStringLiteral("purpose"), QStringLiteral("recovery_codes")}, {QStringLiteral("session"), kSession}}));
        const QString id = started.value(QLatin1String("sign_in")).toString();
        if (id.isEmpty()) {
            qWarning("sign_in: %s", QJsonDocument(started).toJson().constData());
            return {};
        }
        const QJsonObject url = client.event(QStringLiteral("sign_in_url"), 30000);
        FlowFollower browser(m_stubs->caFile());
        browser.setRefreshDelayMs(50);
        const FollowResult followed
            = browser.follow(QUrl(url.value(QLatin1String("url")).toString()), QStringLiteral("com.hotdesk.agent:"), true);
        if (!followed.reachedRedirect) {
            qWarning("the browser stopped: %s", qPrintable(followed.error));
            return {};
        }
        client.request(command("sign_in_response",
            {{QStringLiteral("sign_in"), id}, {QStringLiteral("url"), followed.redirect.toString(QUrl::FullyEncoded)}}));
        const QJsonObject made = client.event(QStringLiteral("recovery_codes"), 60000);
        m_everyCode << codesOf(made);
        return made;
    }

    static QJsonObject giveCode(RelayClient &client, const QString &code, const QString &session = {})
    {
        QJsonObject request = command("recovery_code", {{QStringLiteral("code"), code}});
        if (!session.isEmpty())
            request.insert(QStringLiteral("session"), session);
        return client.request(request);
    }

    // Every file under dir that holds one of the codes handed out (with or without its hyphen).
    QStringList filesWithACode(const QString &dir) const
    {
        QStringList found;
        QDir::Filters filter = QDir::Files | QDir::Hidden | QDir::System;
        const QFileInfoList files = QDir(dir).entryInfoList(filter | QDir::Dirs | QDir::NoDotAndDotDot);
        for (const QFileInfo &info : files) {
            if (info.isDir()) {
                found << filesWithACode(info.filePath());
                continue;
            }
            QFile file(info.filePath());
            if (!file.open(QIODevice::ReadOnly))
                continue;
            const QByteArray text = file.readAll();
            for (const QString &code : m_everyCode)
                if (text.contains(code.toLatin1()) || text.contains(QString(code).remove(u'-').toLatin1()))
                    found << info.filePath();
        }
        return found;
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (const char *missing = LogindMock::missingForEnrolledDaemon())
            QSKIP(missing);
        QVERIFY(startEnrolledServers({QStringLiteral("alice")}));
        QVERIFY(writePolicy(true));
        QVERIFY(startLogind());
        QVERIFY(m_logind.addSession(kSession, QStringLiteral("x11"), kNobody, QStringLiteral("alice")));
        QVERIFY(m_logind.addSession(kBobsSession, QStringLiteral("x11"), kSomeoneElse, QStringLiteral("bob")));
        QVERIFY(startEnrolledDaemon({QStringLiteral("--client-timeout"), QStringLiteral("60000")}));
    }

    void cleanupTestCase() { stopEnrolledDaemon(); }

    // bob (uid 65533) has made no codes: his code is refused without counting, and alice's uid cannot give one for him.
    void aUserWithoutCodesAndAnotherUsersSession()
    {
        RelayClient bob;
        QVERIFY(bob.start(m_socket, kSomeoneElse, true));
        QJsonObject attached;
        for (int i = 0; i < 50 && !attached.value(QLatin1String("ok")).toBool(); ++i) {
            attached = bob.request(command("attach", {{QStringLiteral("session"), kBobsSession}}));
            if (!attached.value(QLatin1String("ok")).toBool())
                QTest::qWait(100); // the daemon may not follow s2 yet
        }
        QVERIFY2(attached.value(QLatin1String("ok")).toBool(), QJsonDocument(attached).toJson().constData());
        QVERIFY(bob.request(command("reauth")).value(QLatin1String("ok")).toBool());
        QVERIFY(giveCode(bob, QStringLiteral("7K3M-Q9TD")).value(QLatin1String("checking")).toBool());
        const QJsonObject failed = bob.event(QStringLiteral("recovery_code_failed"), 30000);
        QCOMPARE(failed.value(QLatin1String("error")).toString(), QStringLiteral("no_codes"));
        QCOMPARE(failed.value(QLatin1String("session")).toString(), kBobsSession);
        const auto refused = audited(QStringLiteral("recovery_code_refused"));
        QCOMPARE(refused.size(), 1);
        QCOMPARE(refused.first().value(QLatin1String("user")).toString(), QStringLiteral("bob"));
        QCOMPARE(refused.first().value(QLatin1String("counted")).toBool(true), false);
        RelayClient alice;
        QVERIFY(alice.start(m_socket, kNobody, false));
        QCOMPARE(giveCode(alice, QStringLiteral("7K3M-Q9TD"), kBobsSession).value(QLatin1String("error")).toString(),
            QStringLiteral("forbidden"));
        QCOMPARE(audited(QStringLiteral("recovery_code_checking")).size(), 1);
    }

    void codesAreMadeAfterAValidatedSignInOnly()
    {
        QVERIFY(!lockRequired());
        // No sign-in, no codes: a purpose the daemon does not know is refused, and an unfinished sign-in makes none.
        RelayClient client;
        QVERIFY(client.start(m_socket, kNobody, false));
        QCOMPARE(client
                     .request(command("sign_in",
                         {{QStringLiteral("purpose"), QStringLiteral("codes")}, {QStringLiteral("session"), kSession}}))
                     .value(QLatin1String("error"))
                     .toString(),
            QStringLiteral("bad_request"));
        QVERIFY(!QFile::exists(m_stateDir + QStringLiteral("/recovery-codes")));

        const QJsonObject made = signInForCodes();
        const QStringList codes = codesOf(made);
        QCOMPARE(codes.size(), kCodes);
        QCOMPARE(made.value(QLatin1String("user")).toString(), QStringLiteral("alice"));
        static const QRegularExpression shape(QStringLiteral("^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$"));
        for (const QString &code : codes)
            QVERIFY2(shape.match(code).hasMatch(), qPrintable(code));
        QCOMPARE(audited(QStringLiteral("recovery_codes_issued")).size(), 1);
        QCOMPARE(audited(QStringLiteral("recovery_codes_issued")).first().value(QLatin1String("count")).toInt(), kCodes);
        // Unlocked before, unlocked after: this sign-in lifts nothing and locks nothing.
        QVERIFY(!lockRequired());

        // One root-only file in a root-only directory, with Argon2id hashes and no code in clear.
        const QString dir = m_stateDir + QStringLiteral("/recovery-codes");
        struct stat info { };
        QVERIFY(::stat(QFile::encodeName(dir).constData(), &info) == 0);
        QCOMPARE(info.st_mode & 07777, mode_t(0700));
        QCOMPARE(info.st_uid, uid_t(0));
        const QStringList files = QDir(dir).entryList(QDir::Files | QDir::Hidden);
        QCOMPARE(files.size(), 1);
        const QString file = dir + u'/' + files.first();
        QVERIFY(::lstat(QFile::encodeName(file).constData(), &info) == 0);
        QVERIFY(S_ISREG(info.st_mode));
        QCOMPARE(info.st_mode & 07777, mode_t(0600));
        QCOMPARE(info.st_uid, uid_t(0));
        QFile stored(file);
        QVERIFY(stored.open(QIODevice::ReadOnly));
        QCOMPARE(stored.readAll().count("$argon2id$"), kCodes);
        QCOMPARE(filesWithACode(m_stateDir), QStringList());
        QCOMPARE(filesWithACode(m_logsDir), QStringList());
    }

    void aCodeLiftsTheLockOnceAndOnlyOnce()
    {
        const QStringList codes = codesOf(signInForCodes()); // a new set replaces the old one
        QCOMPARE(codes.size(), kCodes);
        auto agent = lockedAgent();
        QVERIFY(agent);
        QVERIFY(lockRequired());
        // A code of the set before is no code any more.
        const QString old = m_everyCode.first();
        QVERIFY(giveCode(*agent, old).value(QLatin1String("checking")).toBool());
        QCOMPARE(agent->event(QStringLiteral("recovery_code_failed"), 30000).value(QLatin1String("error")).toString(),
            QStringLiteral("wrong_code"));
        QVERIFY(lockRequired());

        // Typed in lower case with spaces, as a person may.
        QVERIFY(giveCode(*agent, codes.first().toLower().replace(u'-', u' ')).value(QLatin1String("checking")).toBool());
        const QJsonObject unlocked = agent->event(QStringLiteral("unlocked"), 30000);
        QCOMPARE(unlocked.value(QLatin1String("reason")).toString(), QStringLiteral("recovery_code"));
        QVERIFY(!lockRequired());
        const auto succeeded = audited(QStringLiteral("reauth_succeeded"));
        QVERIFY(!succeeded.isEmpty());
        QCOMPARE(succeeded.last().value(QLatin1String("reason")).toString(), QStringLiteral("recovery_code"));
        QCOMPARE(succeeded.last().value(QLatin1String("codes_left")).toInt(-1), kCodes - 1);
        QTRY_VERIFY_WITH_TIMEOUT(!audited(QStringLiteral("admin_event")).isEmpty(), 5000);
        QCOMPARE(audited(QStringLiteral("admin_event")).last().value(QLatin1String("reason")).toString(),
            QStringLiteral("recovery_code_used"));
        // Not locked: nothing to lift, the next code is not used up.
        QCOMPARE(giveCode(*agent, codes.at(1)).value(QLatin1String("error")).toString(), QStringLiteral("not_locked"));

        // Locked again: the used code is refused; an unused one still works.
        agent->request(command("reauth"));
        QVERIFY(lockRequired());
        QVERIFY(giveCode(*agent, codes.first()).value(QLatin1String("checking")).toBool());
        QCOMPARE(agent->event(QStringLiteral("recovery_code_failed"), 30000).value(QLatin1String("error")).toString(),
            QStringLiteral("wrong_code"));
        QVERIFY(lockRequired());
        QVERIFY(giveCode(*agent, codes.at(1)).value(QLatin1String("checking")).toBool());
        QCOMPARE(agent->event(QStringLiteral("unlocked"), 30000).value(QLatin1String("reason")).toString(),
            QStringLiteral("recovery_code"));
        QCOMPARE(filesWithACode(m_logsDir), QStringList());
    }

    void onlyTheSessionsAgentOrRootGivesACode()
    {
        const QStringList codes = codesOf(signInForCodes());
        QCOMPARE(codes.size(), kCodes);
        auto agent = lockedAgent();
        QVERIFY(agent);
        RelayClient other;
        QVERIFY(other.start(m_socket, kSomeoneElse, false));
        QCOMPARE(giveCode(other, codes.first(), kSession).value(QLatin1String("error")).toString(), QStringLiteral("forbidden"));
        RelayClient sameUid;
        QVERIFY(sameUid.start(m_socket, kNobody, false));
        QCOMPARE(
            giveCode(sameUid, codes.first(), kSession).value(QLatin1String("error")).toString(), QStringLiteral("not_attached"));
        QCOMPARE(giveCode(*agent, QString(65, u'A')).value(QLatin1String("error")).toString(), QStringLiteral("bad_request"));
        QVERIFY(lockRequired());
        // Nor may another uid make codes for alice.
        QCOMPARE(other
                     .request(command("sign_in",
                         {{QStringLiteral("purpose"), QStringLiteral("recovery_codes")}, {QStringLiteral("session"), kSession}}))
                     .value(QLatin1String("error"))
                     .toString(),
            QStringLiteral("forbidden"));
        // The code was not used up by the refused attempts: root, naming the session, lifts the lock with it.
        RelayClient root;
        QVERIFY(root.start(m_socket, 0, false));
        QVERIFY(giveCode(root, codes.first(), kSession).value(QLatin1String("checking")).toBool());
        QCOMPARE(root.event(QStringLiteral("unlocked"), 30000).value(QLatin1String("reason")).toString(),
            QStringLiteral("recovery_code"));
        QVERIFY(!lockRequired());
    }

    void codesAreRefusedWhenThePolicyDisablesThem()
    {
        const QStringList codes = codesOf(signInForCodes());
        QCOMPARE(codes.size(), kCodes);
        RelayClient root;
        QVERIFY(root.start(m_socket, 0, false));
        QVERIFY(writePolicy(false));
        // Unlocked: "not_locked" (nothing used up) until the new policy is read, then its refusal.
        QTRY_COMPARE_WITH_TIMEOUT(giveCode(root, codes.first(), kSession).value(QLatin1String("error")).toString(),
            QStringLiteral("recovery_codes_disabled"), 10000);
        auto agent = lockedAgent();
        QVERIFY(agent);
        QCOMPARE(
            giveCode(*agent, codes.first()).value(QLatin1String("error")).toString(), QStringLiteral("recovery_codes_disabled"));
        RelayClient client;
        QVERIFY(client.start(m_socket, kNobody, false));
        QCOMPARE(client
                     .request(command("sign_in",
                         {{QStringLiteral("purpose"), QStringLiteral("recovery_codes")}, {QStringLiteral("session"), kSession}}))
                     .value(QLatin1String("error"))
                     .toString(),
            QStringLiteral("recovery_codes_disabled"));
        QVERIFY(lockRequired());
        // Allowed again: the first code checked is a wrong one (counted; the right one below clears the count).
        QVERIFY(writePolicy(true));
        QJsonObject checking; // not QTRY_VERIFY: it asks once more after the answer came, and a second code would be busy
        for (int i = 0; i < 100 && !checking.value(QLatin1String("checking")).toBool(); ++i) {
            checking = giveCode(*agent, QStringLiteral("0000-0000"));
            if (!checking.value(QLatin1String("checking")).toBool())
                QTest::qWait(100);
        }
        QVERIFY2(checking.value(QLatin1String("checking")).toBool(), QJsonDocument(checking).toJson().constData());
        QCOMPARE(agent->event(QStringLiteral("recovery_code_failed"), 30000).value(QLatin1String("error")).toString(),
            QStringLiteral("wrong_code"));
        QVERIFY(giveCode(*agent, codes.first()).value(QLatin1String("checking")).toBool());
        QCOMPARE(agent->event(QStringLiteral("unlocked"), 30000).value(QLatin1String("reason")).toString(),
            QStringLiteral("recovery_code"));
    }

    void theCommandLineMakesTheCodesThroughTheDaemon()
    {
        // "hotdesk recovery-codes" as alice's uid: it prints the IdP's URL, relays the loopback redirect to the
        // daemon and prints the codes the daemon made.
        const QString home = m_dir.filePath(QStringLiteral("home"));
        QVERIFY(QDir().mkpath(home));
        QVERIFY(::chown(QFile::encodeName(home).constData(), kNobody, kNobody) == 0);
        QProcess cli;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("HOME"), home);
        env.insert(QStringLiteral("HOTDESK_DAEMON_SOCKET"), m_socket);
        env.insert(QStringLiteral("XDG_SESSION_ID"), kSession);
        cli.setProcessEnvironment(env);
        cli.start(QStringLiteral("setpriv"),
            {QStringLiteral("--reuid=%1").arg(kNobody), QStringLiteral("--regid=%1").arg(kNobody),
                QStringLiteral("--clear-groups"), QStringLiteral(HOTDESK_BINARY), QStringLiteral("recovery-codes"),
                QStringLiteral("--browser"), QStringLiteral("print")});
        QVERIFY(cli.waitForStarted(10000));
        QByteArray out;
        QDeadlineTimer deadline(60000);
        while (!out.contains('\n') && cli.state() != QProcess::NotRunning && !deadline.hasExpired()) {
            cli.waitForReadyRead(200);
            out += cli.readAllStandardOutput();
        }
        QVERIFY2(out.startsWith("open: https://"), QByteArray(out + cli.readAllStandardError()).constData());
        FlowFollower browser(m_stubs->caFile());
        browser.setRefreshDelayMs(50);
        const FollowResult followed
            = browser.follow(QUrl::fromEncoded(out.mid(6, out.indexOf('\n') - 6)), QStringLiteral("http://127.0.0.1:"));
        QVERIFY2(followed.reachedRedirect, qPrintable(followed.error));
        QVERIFY(cli.waitForFinished(60000));
        out += cli.readAllStandardOutput();
        const QByteArray err = cli.readAllStandardError();
        QVERIFY2(cli.exitCode() == 0, err.constData());
        QList<QByteArray> lines = out.trimmed().split('\n');
        lines.removeFirst(); // "open: ..."
        QCOMPARE(lines.size(), kCodes);
        for (const QByteArray &line : std::as_const(lines))
            m_everyCode << QString::fromLatin1(line);
        QVERIFY(err.contains("kept by hotdeskd"));
        QCOMPARE(audited(QStringLiteral("recovery_codes_issued")).last().value(QLatin1String("user")).toString(),
            QStringLiteral("alice"));
        // They are the codes now: the first one lifts the lock.
        auto agent = lockedAgent();
        QVERIFY(agent);
        QVERIFY(giveCode(*agent, QString::fromLatin1(lines.first())).value(QLatin1String("checking")).toBool());
        QCOMPARE(agent->event(QStringLiteral("unlocked"), 30000).value(QLatin1String("reason")).toString(),
            QStringLiteral("recovery_code"));
    }

    // The tray agent's line to the daemon (control::DaemonLink) with the lock window's code: a refusal in the reply
    // and a wrong code's event both come out as recoveryCodeRefused, a right code as "unlocked".
    void theAgentsDaemonLinkSendsTheCode()
    {
        const QStringList codes = codesOf(signInForCodes());
        QCOMPARE(codes.size(), kCodes);
        hotdesk::control::DaemonLink link({m_socket, kSession, std::chrono::milliseconds(300)},
            [](std::function<void(std::optional<std::chrono::milliseconds>)> answer) { answer(std::nullopt); });
        QStringList refused;
        int failedRequests = 0;
        QString unlockedBy;
        connect(&link, &hotdesk::control::DaemonLink::recoveryCodeRefused, this,
            [&refused](const QString &error, const QString &) { refused << error; });
        connect(&link, &hotdesk::control::DaemonLink::requestFailed, this, [&failedRequests] { ++failedRequests; });
        connect(&link, &hotdesk::control::DaemonLink::event, this, [&unlockedBy](const QJsonObject &event) {
            if (event.value(QLatin1String("event")).toString() == u"unlocked")
                unlockedBy = event.value(QLatin1String("reason")).toString();
        });
        QVERIFY(!link.sendRecoveryCode(codes.first())); // not attached yet
        link.start();
        QTRY_VERIFY_WITH_TIMEOUT(link.isAttached(), 15000);
        QVERIFY(!lockRequired());
        QVERIFY(link.sendRecoveryCode(codes.first()));
        QTRY_COMPARE_WITH_TIMEOUT(refused, QStringList {QStringLiteral("not_locked")}, 10000);
        QVERIFY(link.send({{QStringLiteral("command"), QStringLiteral("reauth")}}));
        QTRY_VERIFY_WITH_TIMEOUT(lockRequired(), 10000);
        QVERIFY(link.sendRecoveryCode(QStringLiteral("0000-0000")));
        QTRY_COMPARE_WITH_TIMEOUT(refused.size(), 2, 30000);
        QCOMPARE(refused.last(), QStringLiteral("wrong_code"));
        QVERIFY(link.sendRecoveryCode(codes.first()));
        QTRY_COMPARE_WITH_TIMEOUT(unlockedBy, QStringLiteral("recovery_code"), 30000);
        QVERIFY(!lockRequired());
        QCOMPARE(refused.size(), 2);
        QCOMPARE(failedRequests, 0); // the code's refusals are not said twice
    }

    // Last: it locks alice out.
    void wrongCodesAreCountedUntilALockout()
    {
        const QStringList codes = codesOf(signInForCodes());
        QCOMPARE(codes.size(), kCodes);
        auto agent = lockedAgent();
        QVERIFY(agent);
        const qsizetype before = audited(QStringLiteral("recovery_code_refused")).size();
        for (int i = 0; i < kMaxAttempts; ++i) {
            QVERIFY(giveCode(*agent, QStringLiteral("0000-000%1").arg(i)).value(QLatin1String("checking")).toBool());
            QCOMPARE(agent->event(QStringLiteral("recovery_code_failed"), 30000).value(QLatin1String("error")).toString(),
                QStringLiteral("wrong_code"));
        }
        const auto refused = audited(QStringLiteral("recovery_code_refused"));
        QCOMPARE(refused.size(), before + kMaxAttempts);
        QVERIFY(refused.last().value(QLatin1String("counted")).toBool());
        QVERIFY(!audited(QStringLiteral("lock_out_user")).isEmpty());
        // Locked out: even a right code is refused, and it stays unused.
        QCOMPARE(giveCode(*agent, codes.first()).value(QLatin1String("error")).toString(), QStringLiteral("locked_out"));
        QVERIFY(lockRequired());
        QCOMPARE(filesWithACode(m_logsDir), QStringList());
        QCOMPARE(filesWithACode(m_stateDir), QStringList());
    }
};

QTEST_GUILESS_MAIN(TestHotdeskdRecovery)
#include "tst_hotdeskd_recovery.moc"

// The push at the OS's own sign-in, all real: Linux-PAM loads pam_hotdesk.so, the module asks hotdeskd, the daemon
// (enrolled with "hotdesk enroll --system") gets a signed CIBA request from hotdesk-stubs' DAS, the stub IdP pushes it
// to the simulated phone, the daemon polls and validates the ID token. The phone approves or denies through
// "hotdesk-stubs phone"; the person sees the number to enter there. An approval at the unlock of a display manager
// lifts the daemon's lock of the user's session; one at sudo does not. A module that goes away stops the polling.
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>

#include "daemonclient.h"
#include "logindmock.h"
#include "stubsprocess.h"

#include <security/pam_appl.h>

#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>
#include <unistd.h>

using namespace hotdesk::test;

namespace {

const char kUser[] = "nobody"; // a local account (uid 65534), registered with the DAS by the daemon's first push
const char kSessionless[] = "daemon"; // a local account (uid 1) with no session on this PC

// What the module said to the person, collected across threads.
struct Seen {
    std::mutex mutex;
    QStringList infos;
    QStringList errors;
    QStringList prompts; // echo-off prompts (prompt_services), answered with an empty line
    bool failInfo = false; // the conversation fails on the info line, as a cancelled dialog does
    QStringList all()
    {
        std::lock_guard lock(mutex);
        return infos + errors + prompts;
    }
};

int converse(int count, const pam_message **messages, pam_response **answers, void *data)
{
    auto *seen = static_cast<Seen *>(data);
    auto *responses = static_cast<pam_response *>(std::calloc(size_t(count), sizeof(pam_response)));
    std::lock_guard lock(seen->mutex);
    for (int i = 0; i < count; ++i) {
        const QString text = QString::fromUtf8(messages[i]->msg);
        if (messages[i]->msg_style == PAM_ERROR_MSG) {
            seen->errors << text;
        } else if (messages[i]->msg_style == PAM_TEXT_INFO) {
            seen->infos << text;
            if (seen->failInfo) {
                std::free(responses);
                return PAM_CONV_ERR;
            }
        } else {
            seen->prompts << text;
            responses[i].resp = strdup("");
        }
    }
    *answers = responses;
    return PAM_SUCCESS;
}

int authenticate(const QByteArray &confDir, const QByteArray &service, const QByteArray &user, Seen *seen)
{
    const pam_conv conv {converse, seen};
    pam_handle_t *handle = nullptr;
    if (pam_start_confdir(service.constData(), user.constData(), &conv, confDir.constData(), &handle) != PAM_SUCCESS)
        return -1;
    const int code = pam_authenticate(handle, 0);
    pam_end(handle, code);
    return code;
}

} // namespace

class TestHotdeskdPamPush : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    LogindMock m_logind;
    std::unique_ptr<StubsProcess> m_stubs;
    std::vector<std::unique_ptr<QProcess>> m_roles; // single roles of hotdesk-stubs (aServerDown)
    quint16 m_ports = 0;
    QProcess m_daemon;
    std::unique_ptr<NotifySocket> m_notify;
    QString m_socket;
    QString m_confDir;
    QJsonObject m_policy; // as first written

    // Runs the module for service in a thread while main() answers on the phone; the PAM code.
    int authenticateWhile(
        const char *service, Seen &seen, const std::function<bool()> &phone, bool *answered, const char *user = kUser)
    {
        int code = -1;
        std::thread module([&] { code = authenticate(QFile::encodeName(m_confDir), service, user, &seen); });
        *answered = phone();
        module.join();
        return code;
    }

    QString path(const QString &name) const { return m_dir.filePath(name); }

    QJsonObject ask(const QByteArray &line)
    {
        Client client;
        if (!client.connect(m_socket) || !client.send(line + '\n'))
            return {};
        return client.reply();
    }

    bool lockRequired()
    {
        const QJsonArray sessions
            = ask("{\"v\":1,\"command\":\"status\",\"uid\":65534}").value(QLatin1String("sessions")).toArray();
        return !sessions.isEmpty()
            && sessions.first().toObject().value(QLatin1String("lock")).toObject().value(QLatin1String("required")).toBool();
    }

    // The audit records of event for kUser (for anyone with anyUser; for user when given), oldest first.
    QList<QJsonObject> audited(const char *event, bool anyUser = false, const char *user = kUser)
    {
        QList<QJsonObject> found;
        QFile file(path(QStringLiteral("logs/audit.jsonl")));
        if (!file.open(QIODevice::ReadOnly))
            return found;
        for (const QByteArray &line : file.readAll().split('\n')) {
            const QJsonObject record = QJsonDocument::fromJson(line).object();
            if (record.value(QLatin1String("event")).toString() == QLatin1String(event)
                && (anyUser || record.value(QLatin1String("user")).toString() == QLatin1String(user)))
                found << record;
        }
        return found;
    }

    QString lastResult()
    {
        const QList<QJsonObject> attempts = audited("pam_attempt");
        return attempts.isEmpty() ? QString() : QString::fromUtf8(QJsonDocument(attempts.last()).toJson(QJsonDocument::Compact));
    }

    // The phone's answer to kUser's newest challenge; the number is the one the module showed
    // (or, with wrongNumber, another one, which the phone must not accept).
    bool answerOnPhone(const QString &decision, Seen &seen, bool wrongNumber = false, const char *user = kUser)
    {
        static const QRegularExpression number(QStringLiteral("number (\\d+)"));
        QString shown;
        if (!QTest::qWaitFor(
                [&] {
                    const QStringList lines = seen.all();
                    for (const QString &line : lines)
                        if (const auto match = number.match(line); match.hasMatch())
                            shown = match.captured(1);
                    return !shown.isEmpty();
                },
                30000))
            return false;
        QStringList args {QStringLiteral("phone"), decision, QLatin1String(user)};
        if (wrongNumber)
            shown = QString::number(shown.toInt() == 99 ? 10 : shown.toInt() + 1);
        if (decision == u"approve")
            args << QStringLiteral("--number") << shown;
        return !m_stubs->admin(args).isNull();
    }

    bool startDaemon()
    {
        return startHotdeskd(m_daemon, m_notify, QStringLiteral(HOTDESKD_BINARY), path(QStringLiteral("notify")),
            {QStringLiteral("--socket"), m_socket, QStringLiteral("--state-dir"), path(QStringLiteral("state")),
                QStringLiteral("--policy"), path(QStringLiteral("policy.json"))},
            {QStringLiteral("LOGS_DIRECTORY=") + path(QStringLiteral("logs")),
                QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS=") + m_logind.address()});
    }

    // Writes policy and waits until the daemon applied it.
    bool applyPolicy(const QJsonObject &policy)
    {
        const qsizetype applied = audited("policy_applied", true).size();
        return writeJsonFile(path(QStringLiteral("policy.json")), policy)
            && QTest::qWaitFor([&] { return audited("policy_applied", true).size() > applied; }, 15000);
    }

    // hotdesk-stubs' roles, each in a process of its own on the same data directory and ports as "all" (the DAS
    // last: it reads where the others are when it starts); true when each is up.
    bool startRoles(const QStringList &roles)
    {
        for (const QString &role : roles) {
            auto process = std::make_unique<QProcess>();
            process->setProcessChannelMode(QProcess::ForwardedErrorChannel);
            process->start(QStringLiteral(HOTDESK_STUBS_BINARY),
                {role, QStringLiteral("--data"), m_stubs->dataDir(), QStringLiteral("--port-base"), QString::number(m_ports),
                    QStringLiteral("--ciba-interval"), QStringLiteral("1")});
            if (!process->waitForStarted(10000))
                return false;
            QByteArray out;
            if (!QTest::qWaitFor([&] { return (out += process->readAllStandardOutput()).contains("\nca "); }, 30000))
                return false;
            m_roles.push_back(std::move(process));
        }
        return true;
    }

    void stopRoles()
    {
        for (auto &process : m_roles)
            stopProcess(*process);
        m_roles.clear();
    }

    // The URL the policy gives the DAS or the IdP.
    QString serverUrl(const QString &server) const
    {
        const QJsonObject servers = m_policy.value(QLatin1String("servers")).toObject();
        if (server == u"das")
            return servers.value(QLatin1String("das")).toArray().first().toString();
        return server == u"idp" ? servers.value(QLatin1String("idp_issuer")).toString() : QString();
    }

    // An approved unlock with all servers up: the user's last second factor is now, the offline grace unused.
    void freshSecondFactor()
    {
        if (!lockRequired())
            QVERIFY(ask("{\"v\":1,\"command\":\"reauth\",\"session\":\"c1\"}").value(QLatin1String("ok")).toBool());
        Seen seen;
        bool answered = false;
        const int code = authenticateWhile(
            "gdm-password", seen, [&] { return answerOnPhone(QStringLiteral("approve"), seen); }, &answered);
        QVERIFY(answered);
        QCOMPARE(code, PAM_SUCCESS);
        QTRY_VERIFY_WITH_TIMEOUT(!lockRequired(), 10000);
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (const char *missing = LogindMock::missingForEnrolledDaemon())
            QSKIP(missing);
        QVERIFY(m_dir.isValid());
        QVERIFY(QFile::setPermissions(m_dir.path(),
            QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner | QFileDevice::ReadGroup
                | QFileDevice::ExeGroup | QFileDevice::ReadOther | QFileDevice::ExeOther));
        m_socket = path(QStringLiteral("hotdeskd.sock"));

        m_ports = freePortBase(35000);
        QVERIFY(m_ports != 0);
        m_stubs = std::make_unique<StubsProcess>(QStringLiteral(HOTDESK_STUBS_BINARY), path(QStringLiteral("data")), m_ports);
        // The IdP asks for a poll each second; the phone answers only when the test says.
        m_stubs->setExtraArguments({QStringLiteral("--ciba-interval"), QStringLiteral("1")});
        m_stubs->start({}, -1);
        QVERIFY(!m_stubs->admin({QStringLiteral("phone"), QStringLiteral("enroll"), QLatin1String(kUser)}).isNull());
        QVERIFY(!m_stubs->admin({QStringLiteral("phone"), QStringLiteral("enroll"), QLatin1String(kSessionless)}).isNull());
        const QString enrolled = m_stubs->enrollForDaemon(QStringLiteral(HOTDESK_BINARY), path(QStringLiteral("state")));
        QVERIFY2(enrolled.isEmpty(), qPrintable(enrolled));

        QJsonObject policy = readJsonFile(m_stubs->policyFile());
        QVERIFY(!policy.isEmpty());
        // One offline unlock within an hour of the last second factor (failmode=offline at an unlock).
        policy.insert(QStringLiteral("failure"),
            QJsonObject {{QStringLiteral("max_attempts"), 100},
                {QStringLiteral("offline"),
                    QJsonObject {{QStringLiteral("mode"), QStringLiteral("grace")},
                        {QStringLiteral("grace"), QStringLiteral("PT1H")}, {QStringLiteral("max_uses"), 1}}}});
        policy.insert(QStringLiteral("pam"),
            QJsonObject {{QStringLiteral("services"),
                QJsonArray {QStringLiteral("sudo"), QStringLiteral("gdm-password"), QStringLiteral("sshd"),
                    QStringLiteral("login"), QStringLiteral("su"), QStringLiteral("lightdm"), QStringLiteral("polkit-1")}}});
        m_policy = policy;
        QVERIFY(writeJsonFile(path(QStringLiteral("policy.json")), policy));

        m_confDir = path(QStringLiteral("pam.d"));
        QVERIFY(QDir().mkpath(m_confDir));
        // sshd asks an echo-off prompt (prompt_services); login waits 10 s at most; su has failmode=offline; polkit-1
        // logs each step (debug).
        const QList<std::pair<const char *, QByteArray>> services {{"sudo", "timeout=60"}, {"gdm-password", "timeout=60"},
            {"sshd", "timeout=60 prompt_services=sshd"}, {"login", "timeout=10"}, {"su", "timeout=60 failmode=offline"},
            {"lightdm", "timeout=60 failmode=offline"}, {"polkit-1", "timeout=60 debug"}};
        for (const auto &[service, options] : services) {
            QFile file(m_confDir + QLatin1Char('/') + QLatin1String(service));
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write("auth required " HOTDESK_PAM_MODULE " socket=" + QFile::encodeName(m_socket) + " " + options + "\n");
        }

        QString why;
        QVERIFY2(m_logind.start(&why), qPrintable(why));
        QVERIFY(m_logind.addSession(QStringLiteral("c1"), QStringLiteral("wayland"), 65534, QLatin1String(kUser)));
        QVERIFY(startDaemon());
    }

    void cleanupTestCase()
    {
        stopRoles();
        m_daemon.terminate();
        m_daemon.waitForFinished(10000);
        m_stubs.reset();
    }

    // sudo: the number on the terminal, entered and approved on the phone; no session lock is touched.
    void approvedOnThePhone()
    {
        QVERIFY(ask("{\"v\":1,\"command\":\"reauth\",\"session\":\"c1\"}").value(QLatin1String("ok")).toBool());
        const qsizetype pushesBefore = audited("pam_push_started").size();
        Seen seen;
        bool answered = false;
        const int code = authenticateWhile(
            "sudo", seen, [&] { return answerOnPhone(QStringLiteral("approve"), seen); }, &answered);
        QVERIFY(answered);
        // One push for one attempt.
        QCOMPARE(audited("pam_push_started").size(), pushesBefore + 1);
        QCOMPARE(code, PAM_SUCCESS);
        QVERIFY2(seen.infos.size() == 1 && seen.infos.first().contains(QLatin1String("on your phone")),
            qPrintable(seen.infos.join(QLatin1Char('|'))));
        QVERIFY2(lastResult().contains(QLatin1String("\"result\":\"approved\"")), qPrintable(lastResult()));
        QVERIFY(!audited("pam_push_started").isEmpty());
        // The IdP's pacing is in the record: at least the poll that brought the tokens, each after the 1 s interval.
        const QJsonObject attempt = audited("pam_attempt").last();
        const int polls = attempt.value(QLatin1String("polls")).toInt();
        QVERIFY2(polls >= 1, qPrintable(lastResult()));
        QCOMPARE(attempt.value(QLatin1String("poll_wait_s")).toInt(), polls);
        // sudo is not the unlock: the session the daemon locked stays locked.
        QVERIFY(lockRequired());
    }

    // The display manager's unlock: the approval is the second factor the locked session waits for.
    void anApprovedUnlockLiftsTheSessionLock()
    {
        QVERIFY(lockRequired());
        Seen seen;
        int code = -1;
        std::thread module([&] { code = authenticate(QFile::encodeName(m_confDir), "gdm-password", kUser, &seen); });
        const bool answered = answerOnPhone(QStringLiteral("approve"), seen);
        module.join();
        QVERIFY(answered);
        QCOMPARE(code, PAM_SUCCESS);
        QTRY_VERIFY_WITH_TIMEOUT(!lockRequired(), 10000);
    }

    // The person at the PC shows one number; someone approving with another one (a push they did not start) is
    // refused by the push provider, and the challenge is denied: the sign-in fails.
    void aWrongNumberOnThePhoneDenies()
    {
        Seen seen;
        bool refused = false;
        const int code = authenticateWhile(
            "sudo", seen, [&] { return !answerOnPhone(QStringLiteral("approve"), seen, true); }, &refused);
        QVERIFY(refused);
        QCOMPARE(code, PAM_AUTH_ERR);
        QVERIFY2(lastResult().contains(QLatin1String("\"result\":\"denied\"")), qPrintable(lastResult()));
    }

    void deniedOnThePhone()
    {
        Seen seen;
        int code = -1;
        std::thread module([&] { code = authenticate(QFile::encodeName(m_confDir), "sudo", kUser, &seen); });
        const bool answered = answerOnPhone(QStringLiteral("deny"), seen);
        module.join();
        QVERIFY(answered);
        QCOMPARE(code, PAM_AUTH_ERR);
        QVERIFY2(lastResult().contains(QLatin1String("\"result\":\"denied\"")), qPrintable(lastResult()));
        QCOMPARE(seen.errors.size(), 1);
    }

    // The module's process dies while the phone has the request: the daemon stops polling for it at once.
    void aModuleThatGoesAwayStopsThePush()
    {
        QProcess child;
        child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        child.start(QCoreApplication::applicationFilePath(), {QStringLiteral("--pam-child"), m_confDir});
        QVERIFY(child.waitForStarted(10000));
        const qsizetype before = audited("pam_attempt").size();
        QByteArray shown;
        QTRY_VERIFY2_WITH_TIMEOUT((shown += child.readAllStandardOutput()).contains("number"), shown.constData(), 30000);
        ::kill(pid_t(child.processId()), SIGKILL);
        child.waitForFinished(5000);
        QTRY_VERIFY_WITH_TIMEOUT(audited("pam_attempt").size() > before, 10000);
        QVERIFY2(lastResult().contains(QLatin1String("\"error\":\"cancelled\"")), qPrintable(lastResult()));
    }

    // OpenSSH holds info lines until the next prompt: there the number comes as an echo-off prompt.
    void thePromptModeShowsTheNumberInThePrompt()
    {
        Seen seen;
        bool answered = false;
        const int code = authenticateWhile(
            "sshd", seen, [&] { return answerOnPhone(QStringLiteral("approve"), seen); }, &answered);
        QVERIFY(answered);
        QCOMPARE(code, PAM_SUCCESS);
        QVERIFY(seen.infos.isEmpty());
        QCOMPARE(seen.prompts.size(), 1);
        QVERIFY2(
            seen.prompts.first().contains(QLatin1String("number")) && seen.prompts.first().contains(QLatin1String("Press Enter")),
            qPrintable(seen.prompts.first()));
    }

    // The person closes the dialog while waiting (the conversation fails): PAM_CONV_ERR, and the daemon stops the push.
    void aFailedConversationStopsThePush()
    {
        Seen seen;
        seen.failInfo = true;
        QCOMPARE(authenticate(QFile::encodeName(m_confDir), "sudo", kUser, &seen), PAM_CONV_ERR);
        QTRY_VERIFY2_WITH_TIMEOUT(
            lastResult().contains(QLatin1String("\"error\":\"cancelled\"")), qPrintable(lastResult()), 10000);
    }

    // Nobody answers on the phone: the module's own timeout (10 s for login) ends the wait, and the push with it.
    void theModulesTimeoutEndsTheWait()
    {
        Seen seen;
        const int code = authenticate(QFile::encodeName(m_confDir), "login", kUser, &seen);
        QVERIFY2(code == PAM_AUTH_ERR, qPrintable(lastResult()));
        QVERIFY2(seen.errors.join(QLatin1Char('|')).contains(QLatin1String("not approved in time")),
            qPrintable(seen.errors.join(QLatin1Char('|'))));
        QTRY_VERIFY2_WITH_TIMEOUT(
            lastResult().contains(QLatin1String("\"error\":\"cancelled\"")), qPrintable(lastResult()), 10000);
    }

    // The IdP's expiry (the policy's approval_timeout, here 3 s) passes before the phone answers: expired.
    void anExpiredRequestIsRefused()
    {
        QJsonObject policy = m_policy;
        QJsonObject servers = policy.value(QLatin1String("servers")).toObject();
        servers.insert(QStringLiteral("approval_timeout"), QStringLiteral("PT3S"));
        policy.insert(QStringLiteral("servers"), servers);
        const qsizetype applied = audited("policy_applied", true).size();
        QVERIFY(writeJsonFile(path(QStringLiteral("policy.json")), policy));
        const auto restore = qScopeGuard([this] { writeJsonFile(path(QStringLiteral("policy.json")), m_policy); });
        // The daemon follows its policy file; the next push asks for 3 s.
        QTRY_VERIFY_WITH_TIMEOUT(audited("policy_applied", true).size() > applied, 15000);
        Seen seen;
        QCOMPARE(authenticate(QFile::encodeName(m_confDir), "sudo", kUser, &seen), PAM_AUTH_ERR);
        QVERIFY2(lastResult().contains(QLatin1String("\"result\":\"expired\"")), qPrintable(lastResult()));
        // The first policy again before the next test.
        QVERIFY(writeJsonFile(path(QStringLiteral("policy.json")), m_policy));
        QTRY_VERIFY_WITH_TIMEOUT(audited("policy_applied", true).size() > applied + 1, 15000);
    }

    // An IdP that says slow_down to the first poll: the daemon waits the raised interval (1 s + 5 s) from then on, and
    // its record names every wait.
    void theRecordCountsTheWaitsTheIdpAskedFor()
    {
        m_stubs->start({QStringLiteral("ciba-slow-down")}, -1);
        Seen seen;
        int code = -1;
        std::thread module([&] { code = authenticate(QFile::encodeName(m_confDir), "sudo", kUser, &seen); });
        const bool answered = answerOnPhone(QStringLiteral("approve"), seen);
        module.join();
        QVERIFY(answered);
        QCOMPARE(code, PAM_SUCCESS);
        const QJsonObject attempt = audited("pam_attempt").last();
        QVERIFY2(lastResult().contains(QLatin1String("\"result\":\"approved\"")), qPrintable(lastResult()));
        // 1 s before the first poll, 6 s before each later one (the phone may answer after the second on a slow machine).
        const int polls = attempt.value(QLatin1String("polls")).toInt();
        QVERIFY2(polls >= 2, qPrintable(lastResult()));
        QCOMPARE(attempt.value(QLatin1String("poll_wait_s")).toInt(), 1 + 6 * (polls - 1));
    }

    // The module's option debug: each step in the system log at LOG_DEBUG (the child process catches what the module
    // sends to /dev/log), never the daemon's text with the number; the outcome the same as without it.
    void theDebugOptionLogsEachStep()
    {
        m_stubs->start({}, -1); // without the last test's slow_down
        for (const char *service : {"polkit-1", "sudo"}) {
            QProcess child;
            child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
            child.start(QCoreApplication::applicationFilePath(),
                {QStringLiteral("--pam-child"), m_confDir, QLatin1String(service), QStringLiteral("--syslog")});
            QVERIFY(child.waitForStarted(10000));
            static const QRegularExpression number(QStringLiteral("number (\\d+)"));
            QByteArray out;
            QRegularExpressionMatch shown;
            QTRY_VERIFY2_WITH_TIMEOUT((shown = number.match(QString::fromUtf8(out += child.readAllStandardOutput()))).hasMatch(),
                out.constData(), 30000);
            QVERIFY(!m_stubs
                         ->admin({QStringLiteral("phone"), QStringLiteral("approve"), QLatin1String(kUser),
                             QStringLiteral("--number"), shown.captured(1)})
                         .isNull());
            QVERIFY(child.waitForFinished(30000));
            out += child.readAllStandardOutput();
            QCOMPARE(child.exitCode(), PAM_SUCCESS);
            QStringList logged;
            for (const QByteArray &line : out.split('\n'))
                if (line.startsWith("syslog: "))
                    logged << QString::fromUtf8(line.mid(8));
            const QString log = logged.join(QLatin1Char('\n'));
            // The result line, always; nothing of the person's text.
            QVERIFY2(log.contains(QLatin1String("Success (approved)")), qPrintable(log));
            QVERIFY2(!log.contains(QLatin1String("on your phone")), qPrintable(log));
            const QStringList steps {QStringLiteral("connecting to ") + m_socket, QStringLiteral("request pam_authenticate sent"),
                QStringLiteral("reply: ok true, result (none"), QStringLiteral("shown as an info line"),
                QStringLiteral("pam_result approved"), QStringLiteral("the wait ended after")};
            for (const QString &step : steps)
                QVERIFY2(
                    log.contains(step) == (qstrcmp(service, "polkit-1") == 0), qPrintable(QLatin1String(service) + u": " + log));
        }
    }

    // A user with no session here (sudo over SSH before a session exists, a service): a denied or expired push counts
    // toward failure.max_attempts all the same, in the daemon's record of the user, which outlives a restart and other
    // sessions' saves; at the limit the user is locked out (PAM_MAXTRIES, no push). An approval there is no recent
    // sign-in for the next call (pam.recent_sign_in): the next call pushes again.
    void aUserWithoutASessionIsCounted()
    {
        m_stubs->start({}, -1); // without the last test's slow_down
        QJsonObject policy = m_policy;
        policy.insert(QStringLiteral("failure"),
            QJsonObject {{QStringLiteral("max_attempts"), 2}, {QStringLiteral("window"), QStringLiteral("PT1H")}});
        QJsonObject pam = policy.value(QLatin1String("pam")).toObject();
        pam.insert(QStringLiteral("recent_sign_in"), QStringLiteral("PT1H"));
        policy.insert(QStringLiteral("pam"), pam);
        QVERIFY(applyPolicy(policy));
        const auto restore = qScopeGuard([&] { applyPolicy(m_policy); });
        const auto push = [&](const QString &decision) {
            Seen seen;
            bool answered = false;
            const int code = authenticateWhile(
                "sudo", seen, [&] { return answerOnPhone(decision, seen, false, kSessionless); }, &answered, kSessionless);
            return answered ? code : -1;
        };
        const auto last = [&] {
            const QList<QJsonObject> attempts = audited("pam_attempt", false, kSessionless);
            return attempts.isEmpty() ? QJsonObject() : attempts.last();
        };

        QCOMPARE(push(QStringLiteral("approve")), PAM_SUCCESS);
        const qsizetype pushes = audited("pam_push_started", false, kSessionless).size();
        QCOMPARE(push(QStringLiteral("deny")), PAM_AUTH_ERR); // not "recent": a push again
        QCOMPARE(audited("pam_push_started", false, kSessionless).size(), pushes + 1);
        QVERIFY2(last().value(QLatin1String("counted")).toBool(),
            qPrintable(QString::fromUtf8(QJsonDocument(last()).toJson(QJsonDocument::Compact))));
        QVERIFY(audited("lock_out_user", false, kSessionless).isEmpty());

        // The count is kept across a restart; the second denial locks the user out.
        stopProcess(m_daemon);
        QVERIFY(startDaemon());
        QCOMPARE(push(QStringLiteral("deny")), PAM_AUTH_ERR);
        QTRY_COMPARE(audited("lock_out_user", false, kSessionless).size(), 1);
        // Another user's session saving its state (the lock reauth requires) keeps the lockout.
        QVERIFY(ask("{\"v\":1,\"command\":\"reauth\",\"session\":\"c1\"}").value(QLatin1String("ok")).toBool());
        Seen seen;
        QCOMPARE(authenticate(QFile::encodeName(m_confDir), "sudo", kSessionless, &seen), PAM_MAXTRIES);
        QCOMPARE(last().value(QLatin1String("result")).toString(), QStringLiteral("locked_out"));
        QCOMPARE(audited("pam_push_started", false, kSessionless).size(), pushes + 2);
        stopProcess(m_daemon);
        QVERIFY(startDaemon());
        QCOMPARE(authenticate(QFile::encodeName(m_confDir), "sudo", kSessionless, &seen), PAM_MAXTRIES);
    }

    // hotdeskd, the DAS or the IdP out of reach (the others up), under both failmodes. failmode=secure: unavailable
    // everywhere, the lock of the user's session included. failmode=offline: unavailable where it is no unlock (su);
    // at an unlock (lightdm) the policy's offline grace (one use within an hour of the last second factor) lets the
    // locked session through once, and only once. Without the daemon nothing is granted. The audit record says which
    // server could not be reached.
    void aServerDown_data()
    {
        QTest::addColumn<QStringList>("running"); // the roles of hotdesk-stubs that stay up, each a process of its own
        QTest::addColumn<bool>("daemonDown");
        QTest::addColumn<QString>("server"); // the server the audit record names; empty: no record (no daemon)
        const QStringList all {QStringLiteral("idp"), QStringLiteral("push"), QStringLiteral("das")};
        QTest::newRow("daemon down") << all << true << QString();
        QTest::newRow("DAS down") << QStringList {QStringLiteral("idp"), QStringLiteral("push")} << false
                                  << QStringLiteral("das");
        QTest::newRow("IdP down") << QStringList {QStringLiteral("push"), QStringLiteral("das")} << false
                                  << QStringLiteral("idp");
        QTest::newRow("DAS and IdP down") << QStringList() << false << QStringLiteral("das");
    }

    void aServerDown()
    {
        QFETCH(QStringList, running);
        QFETCH(bool, daemonDown);
        QFETCH(QString, server);
        freshSecondFactor();
        if (QTest::currentTestFailed())
            return;
        QVERIFY(ask("{\"v\":1,\"command\":\"reauth\",\"session\":\"c1\"}").value(QLatin1String("ok")).toBool());
        QVERIFY(lockRequired());
        const auto restore = qScopeGuard([&] {
            stopRoles();
            m_stubs->start({}, -1);
            if (m_daemon.state() == QProcess::NotRunning)
                startDaemon();
        });
        m_stubs->stop();
        QVERIFY(startRoles(running));
        if (daemonDown)
            stopProcess(m_daemon);
        const QString url = serverUrl(server);
        const qsizetype before = audited("pam_attempt").size();
        // Each attempt's PAM code, and its audit record: unavailable, unreachable, the server and its URL.
        const auto attempt = [&](const char *service, int expected) {
            Seen seen;
            const qsizetype records = audited("pam_attempt").size();
            const int code = authenticate(QFile::encodeName(m_confDir), service, kUser, &seen);
            if (code != expected)
                return QStringLiteral("%1: PAM code %2, not %3 (%4)")
                    .arg(QLatin1String(service))
                    .arg(code)
                    .arg(expected)
                    .arg(lastResult());
            if (daemonDown)
                return audited("pam_attempt").size() == records ? QString() : QStringLiteral("a record without a daemon");
            const QJsonObject record = audited("pam_attempt").value(records);
            const QString result = expected == PAM_SUCCESS ? QStringLiteral("offline_granted") : QStringLiteral("unavailable");
            const bool right = record.value(QLatin1String("service")).toString() == QLatin1String(service)
                && record.value(QLatin1String("result")).toString() == result
                && record.value(QLatin1String("error")).toString() == QLatin1String("unreachable")
                && record.value(QLatin1String("server")).toString() == server
                && record.value(QLatin1String("reason")).toString().contains(url);
            return right ? QString() : QStringLiteral("%1: %2").arg(QLatin1String(service), lastResult());
        };
        QString problem = attempt("sudo", PAM_AUTHINFO_UNAVAIL);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        problem = attempt("gdm-password", PAM_AUTHINFO_UNAVAIL); // an unlock, but failmode=secure
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QVERIFY(daemonDown || lockRequired());
        problem = attempt("su", PAM_AUTHINFO_UNAVAIL); // failmode=offline, but no unlock
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QVERIFY(daemonDown
            || (!audited("pam_offline").isEmpty()
                && audited("pam_offline").last().value(QLatin1String("service")).toString() == QLatin1String("su")));
        problem = attempt("lightdm", daemonDown ? PAM_AUTHINFO_UNAVAIL : PAM_SUCCESS);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        if (daemonDown) {
            QCOMPARE(audited("pam_attempt").size(), before);
            QVERIFY(startDaemon());
            return;
        }
        QTRY_VERIFY_WITH_TIMEOUT(!lockRequired(), 10000);
        // The grace is used up: the next lock stays.
        QVERIFY(ask("{\"v\":1,\"command\":\"reauth\",\"session\":\"c1\"}").value(QLatin1String("ok")).toBool());
        problem = attempt("lightdm", PAM_AUTHINFO_UNAVAIL);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QVERIFY(lockRequired());
    }
};

// The module in a process of its own.
namespace {
int converseToStdout(int count, const pam_message **messages, pam_response **answers, void *)
{
    auto *responses = static_cast<pam_response *>(std::calloc(size_t(count), sizeof(pam_response)));
    for (int i = 0; i < count; ++i) {
        std::printf("%s\n", messages[i]->msg);
        std::fflush(stdout);
    }
    *answers = responses;
    return PAM_SUCCESS;
}

// Linux-PAM's pam_syslog writes to /dev/log: in a mount namespace of its own (a tmpfs on /dev) the child binds a
// datagram socket there, which collects what the module logs; -1 when that cannot be set up.
int syslogCatcher()
{
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0
        || mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755") != 0)
        return -1;
    const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address {};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, "/dev/log");
    if (fd < 0 || bind(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0)
        return -1;
    return fd;
}

// "syslog: " and each message that arrived, on standard output.
void printSyslog(int fd)
{
    char message[8192];
    for (ssize_t size; (size = recv(fd, message, sizeof message - 1, MSG_DONTWAIT)) > 0;) {
        message[size] = 0;
        std::printf("syslog: %s\n", message);
    }
    std::fflush(stdout);
}

// "--pam-child CONFDIR [SERVICE [--syslog]]": the module for kUser (SERVICE, default sudo) in a process of its own that
// prints what it shows, with --syslog also what it logged; its exit code is PAM's.
int pamChild(int argc, char **argv)
{
    const int logSocket = argc == 5 && std::strcmp(argv[4], "--syslog") == 0 ? syslogCatcher() : -2;
    if (logSocket == -1)
        return 101;
    const pam_conv conv {converseToStdout, nullptr};
    pam_handle_t *handle = nullptr;
    if (pam_start_confdir(argc >= 4 ? argv[3] : "sudo", kUser, &conv, argv[2], &handle) != PAM_SUCCESS)
        return 100;
    const int code = pam_authenticate(handle, 0);
    pam_end(handle, code);
    if (logSocket >= 0)
        printSyslog(logSocket);
    return code;
}
} // namespace

int main(int argc, char **argv)
{
    if (argc >= 3 && std::strcmp(argv[1], "--pam-child") == 0)
        return pamChild(argc, argv);
    QCoreApplication app(argc, argv);
    TestHotdeskdPamPush test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_hotdeskd_pampush.moc"

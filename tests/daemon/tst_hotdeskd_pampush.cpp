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
    QProcess m_daemon;
    std::unique_ptr<NotifySocket> m_notify;
    QString m_socket;
    QString m_confDir;
    QJsonObject m_policy; // as first written

    // Runs the module for service in a thread while main() answers on the phone; the PAM code.
    int authenticateWhile(const char *service, Seen &seen, const std::function<bool()> &phone, bool *answered)
    {
        int code = -1;
        std::thread module([&] { code = authenticate(QFile::encodeName(m_confDir), service, kUser, &seen); });
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

    // The audit records of event for kUser (for anyone with anyUser), oldest first.
    QList<QJsonObject> audited(const char *event, bool anyUser = false)
    {
        QList<QJsonObject> found;
        QFile file(path(QStringLiteral("logs/audit.jsonl")));
        if (!file.open(QIODevice::ReadOnly))
            return found;
        for (const QByteArray &line : file.readAll().split('\n')) {
            const QJsonObject record = QJsonDocument::fromJson(line).object();
            if (record.value(QLatin1String("event")).toString() == QLatin1String(event)
                && (anyUser || record.value(QLatin1String("user")).toString() == QLatin1String(kUser)))
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
    bool answerOnPhone(const QString &decision, Seen &seen, bool wrongNumber = false)
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
        QStringList args {QStringLiteral("phone"), decision, QLatin1String(kUser)};
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

private Q_SLOTS:
    void initTestCase()
    {
        if (geteuid() != 0)
            QSKIP("hotdesk enroll --system and hotdeskd's state need root (CI runs the suite as root)");
        if (!LogindMock::installed())
            QSKIP("python3-dbusmock is not installed (./dev installs it; Debian package python3-dbusmock)");
        QVERIFY(m_dir.isValid());
        QVERIFY(QFile::setPermissions(m_dir.path(),
            QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner | QFileDevice::ReadGroup
                | QFileDevice::ExeGroup | QFileDevice::ReadOther | QFileDevice::ExeOther));
        m_socket = path(QStringLiteral("hotdeskd.sock"));

        const quint16 ports = freePortBase(35000);
        QVERIFY(ports != 0);
        m_stubs = std::make_unique<StubsProcess>(QStringLiteral(HOTDESK_STUBS_BINARY), path(QStringLiteral("data")), ports);
        // The IdP asks for a poll each second; the phone answers only when the test says.
        m_stubs->setExtraArguments({QStringLiteral("--ciba-interval"), QStringLiteral("1")});
        m_stubs->start({}, -1);
        QVERIFY(!m_stubs->admin({QStringLiteral("phone"), QStringLiteral("enroll"), QLatin1String(kUser)}).isNull());
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
                    QStringLiteral("login"), QStringLiteral("su"), QStringLiteral("lightdm")}}});
        m_policy = policy;
        QVERIFY(writeJsonFile(path(QStringLiteral("policy.json")), policy));

        m_confDir = path(QStringLiteral("pam.d"));
        QVERIFY(QDir().mkpath(m_confDir));
        // sshd asks an echo-off prompt (prompt_services); login waits 10 s at most; su has failmode=offline.
        const QList<std::pair<const char *, QByteArray>> services {{"sudo", "timeout=60"}, {"gdm-password", "timeout=60"},
            {"sshd", "timeout=60 prompt_services=sshd"}, {"login", "timeout=10"}, {"su", "timeout=60 failmode=offline"},
            {"lightdm", "timeout=60 failmode=offline"}};
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

    // The servers gone: unavailable, never a success, whatever the failmode (su is no unlock: no offline grace).
    void unreachableServersAreUnavailable()
    {
        m_stubs->stop();
        Seen seen;
        QCOMPARE(authenticate(QFile::encodeName(m_confDir), "sudo", kUser, &seen), PAM_AUTHINFO_UNAVAIL);
        QVERIFY2(lastResult().contains(QLatin1String("\"result\":\"unavailable\"")), qPrintable(lastResult()));
        QCOMPARE(authenticate(QFile::encodeName(m_confDir), "su", kUser, &seen), PAM_AUTHINFO_UNAVAIL);
        QVERIFY2(lastResult().contains(QLatin1String("\"service\":\"su\"")), qPrintable(lastResult()));
    }

    // failmode=offline at an unlock with the servers gone: the policy's offline grace (one use within an hour of the
    // last second factor) lets the locked session through once, and only once.
    void theOfflineGraceAtAnUnlockWithFailmodeOffline()
    {
        QVERIFY(ask("{\"v\":1,\"command\":\"reauth\",\"session\":\"c1\"}").value(QLatin1String("ok")).toBool());
        QVERIFY(lockRequired());
        Seen seen;
        QCOMPARE(authenticate(QFile::encodeName(m_confDir), "lightdm", kUser, &seen), PAM_SUCCESS);
        QVERIFY2(lastResult().contains(QLatin1String("\"result\":\"offline_granted\"")), qPrintable(lastResult()));
        QTRY_VERIFY_WITH_TIMEOUT(!lockRequired(), 10000);

        QVERIFY(ask("{\"v\":1,\"command\":\"reauth\",\"session\":\"c1\"}").value(QLatin1String("ok")).toBool());
        QCOMPARE(authenticate(QFile::encodeName(m_confDir), "lightdm", kUser, &seen), PAM_AUTHINFO_UNAVAIL);
        QVERIFY(lockRequired());
    }
};

// The module in a process of its own that prints what it shows: "--pam-child CONFDIR".
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
} // namespace

int main(int argc, char **argv)
{
    if (argc == 3 && std::strcmp(argv[1], "--pam-child") == 0) {
        const pam_conv conv {converseToStdout, nullptr};
        pam_handle_t *handle = nullptr;
        if (pam_start_confdir("sudo", kUser, &conv, argv[2], &handle) != PAM_SUCCESS)
            return 100;
        const int code = pam_authenticate(handle, 0);
        pam_end(handle, code);
        return code;
    }
    QCoreApplication app(argc, argv);
    TestHotdeskdPamPush test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_hotdeskd_pampush.moc"

// pam_hotdesk.so against the real hotdeskd, both real: Linux-PAM loads the built module (pam_start_confdir, service
// files written by the test), the module asks the daemon over its socket, the daemon applies the policy's pam section
// to its own enforcement records. A caller that is not root runs as uid 65534 (this test binary again, through
// setpriv). Every attempt is in the daemon's audit log with its service and tty.
#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include "daemonclient.h"
#include "logindmock.h"

#include <security/pam_appl.h>

#include <cstdlib>
#include <cstring>
#include <unistd.h>

using namespace hotdesk::test;

namespace {

// The module's own return code reaches pam_authenticate, except PAM_IGNORE: the module steps aside, the next line
// decides, and Linux-PAM fails a stack in which nobody decided. pam_debug answers PAM_INCOMPLETE there, which nothing
// else in these tests returns, so that code means "the module said PAM_IGNORE".
constexpr char kStack[] = "[success=done ignore=ignore default=die]";
constexpr char kAfter[] = "auth required pam_debug.so auth=incomplete\n";
constexpr int kModuleIgnored = PAM_INCOMPLETE;

int converse(int count, const pam_message **messages, pam_response **answers, void *)
{
    auto *responses = static_cast<pam_response *>(std::calloc(size_t(count), sizeof(pam_response)));
    for (int i = 0; i < count; ++i)
        if (messages[i]->msg_style == PAM_PROMPT_ECHO_OFF || messages[i]->msg_style == PAM_PROMPT_ECHO_ON)
            responses[i].resp = strdup("");
    *answers = responses;
    return PAM_SUCCESS;
}

// pam_authenticate for user through service in confDir; the PAM code.
int authenticate(const QByteArray &confDir, const QByteArray &service, const QByteArray &user)
{
    const pam_conv conv {converse, nullptr};
    pam_handle_t *handle = nullptr;
    if (pam_start_confdir(service.constData(), user.constData(), &conv, confDir.constData(), &handle) != PAM_SUCCESS)
        return -1;
    pam_set_item(handle, PAM_TTY, "/dev/pts/7");
    const int code = pam_authenticate(handle, 0);
    pam_end(handle, code);
    return code;
}

} // namespace

class TestHotdeskdPam : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    LogindMock m_logind;
    QProcess m_daemon;
    std::unique_ptr<NotifySocket> m_notify;
    QString m_socket;
    QString m_confDir;

    QString path(const QString &name) const { return m_dir.filePath(name); }

    bool writeFile(const QString &name, const QByteArray &bytes, QFileDevice::Permissions permissions)
    {
        QFile file(path(name));
        return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size() && file.setPermissions(permissions);
    }

    // The PAM services the tests name, each the module alone against the daemon's socket.
    bool writeServices()
    {
        m_confDir = path(QStringLiteral("pam.d"));
        if (!QDir().mkpath(m_confDir))
            return false;
        for (const char *service : {"sudo", "login", "cron", "hotdesk-offline"}) {
            QFile file(m_confDir + QLatin1Char('/') + QLatin1String(service));
            if (!file.open(QIODevice::WriteOnly))
                return false;
            file.write("auth " + QByteArray(kStack) + " " HOTDESK_PAM_MODULE " socket=" + QFile::encodeName(m_socket)
                + " timeout=10\n" + kAfter);
        }
        return true;
    }

    int pam(const char *service, const char *user) { return authenticate(QFile::encodeName(m_confDir), service, user); }

    // The same, run by uid/gid 65534 (this binary with --pam-child).
    int pamAsNobody(const char *service, const char *user)
    {
        QProcess child;
        child.start(QStringLiteral("setpriv"),
            {QStringLiteral("--reuid=65534"), QStringLiteral("--regid=65534"), QStringLiteral("--clear-groups"),
                QCoreApplication::applicationFilePath(), QStringLiteral("--pam-child"), m_confDir, QLatin1String(service),
                QLatin1String(user)});
        if (!child.waitForFinished(30000) || child.exitStatus() != QProcess::NormalExit)
            return -100;
        return child.exitCode();
    }

    // The audit records of event pam_attempt for user, oldest first.
    QList<QJsonObject> attempts(const QString &user)
    {
        QList<QJsonObject> found;
        QFile file(path(QStringLiteral("logs/audit.jsonl")));
        if (!file.open(QIODevice::ReadOnly))
            return found;
        for (const QByteArray &line : file.readAll().split('\n')) {
            const QJsonObject record = QJsonDocument::fromJson(line).object();
            if (record.value(QLatin1String("event")).toString() == u"pam_attempt"
                && record.value(QLatin1String("user")).toString() == user)
                found << record;
        }
        return found;
    }

    // The last attempt's audit record for user carries result and reason.
    void lastAttemptWas(const QString &user, const QString &result, const QString &reason)
    {
        const QList<QJsonObject> seen = attempts(user);
        QVERIFY2(!seen.isEmpty(), qPrintable(user));
        const QJsonObject record = seen.last();
        const QString text = QString::fromUtf8(QJsonDocument(record).toJson(QJsonDocument::Compact));
        QVERIFY2(text.contains(QStringLiteral("\"result\":\"%1\"").arg(result)), qPrintable(text));
        QVERIFY2(text.contains(reason), qPrintable(text));
        QVERIFY2(text.contains(QLatin1String("/dev/pts/7")), qPrintable(text));
    }

    bool startDaemon(const QString &policy)
    {
        return startHotdeskd(m_daemon, m_notify, QStringLiteral(HOTDESKD_BINARY), path(QStringLiteral("notify")),
            {QStringLiteral("--socket"), m_socket, QStringLiteral("--state-dir"), path(QStringLiteral("state")),
                QStringLiteral("--policy"), policy},
            {QStringLiteral("LOGS_DIRECTORY=") + path(QStringLiteral("logs")),
                QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS=") + m_logind.address()});
    }

    void stopDaemon()
    {
        m_daemon.terminate();
        m_daemon.waitForFinished(10000);
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (geteuid() != 0)
            QSKIP("hotdeskd's state and a caller of uid 65534 need root (CI runs the suite as root)");
        if (QStandardPaths::findExecutable(QStringLiteral("setpriv")).isEmpty())
            QSKIP("needs setpriv (util-linux) for the unprivileged caller; ./dev installs it");
        if (!LogindMock::installed())
            QSKIP("python3-dbusmock is not installed (./dev installs it; Debian package python3-dbusmock)");
        QVERIFY(m_dir.isValid());
        QString why;
        QVERIFY2(m_logind.start(&why), qPrintable(why));
        // root's desktop session, on Wayland: the daemon's lock there is the OS lock.
        QVERIFY(m_logind.addSession(QStringLiteral("c1"), QStringLiteral("wayland"), 0, QStringLiteral("root")));
        // uid 65534 reaches the socket, the module and the service files; root alone writes them.
        const auto open = QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner | QFileDevice::ReadGroup
            | QFileDevice::ExeGroup | QFileDevice::ReadOther | QFileDevice::ExeOther;
        QVERIFY(QFile::setPermissions(m_dir.path(), open));
        m_socket = path(QStringLiteral("hotdeskd.sock"));
        QVERIFY(writeServices());
        QVERIFY(QFile::setPermissions(m_confDir, open));

        // root did the second factor a minute ago; nobody is locked out for an hour.
        const qint64 now = QDateTime::currentSecsSinceEpoch();
        QVERIFY(QDir().mkpath(path(QStringLiteral("state"))));
        QVERIFY(QFile::setPermissions(
            path(QStringLiteral("state")), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner));
        const QByteArray users = "{\"version\":1,\"users\":{\"root\":{\"last_success\":" + QByteArray::number(now - 60)
            + "},\"nobody\":{\"locked_out_until\":" + QByteArray::number(now + 3600) + "}}}";
        QVERIFY(writeFile(QStringLiteral("state/engine-users.json"), users, QFileDevice::ReadOwner | QFileDevice::WriteOwner));

        const QByteArray policy = "{\"version\": 1, \"servers\": {\"das\": [\"https://127.0.0.1:9/\"], "
                                  "\"idp_issuer\": \"https://127.0.0.1:9\", \"client_id\": \"hotdesk-agent\"}, "
                                  "\"failure\": {\"exempt_users\": [\"daemon\"]}, "
                                  "\"pam\": {\"services\": [\"sudo\", \"login\"], \"users\": [\"root\", \"daemon\", \"sync\"], "
                                  "\"groups\": [\"nogroup\"], \"recent_sign_in\": \"PT10M\"}}";
        QVERIFY(writeFile(QStringLiteral("policy.json"), policy,
            QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadGroup | QFileDevice::ReadOther));
        QVERIFY(startDaemon(path(QStringLiteral("policy.json"))));
    }

    void cleanupTestCase() { stopDaemon(); }

    // The unlock right after a sign-in with the phone does not push again.
    void aRecentSecondFactorCounts()
    {
        QCOMPARE(pam("sudo", "root"), PAM_SUCCESS);
        lastAttemptWas(QStringLiteral("root"), QStringLiteral("recent"), QStringLiteral("pam.recent_sign_in"));
    }

    // Once the daemon requires the lock of one of root's sessions, the earlier second factor does not lift it:
    // the OS unlock must push (this PC is not enrolled, so the push is unavailable), or the daemon would lock again.
    void aRequiredLockIsNotSatisfiedByARecentSecondFactor()
    {
        Client client;
        QVERIFY(client.connect(m_socket));
        QVERIFY(client.send("{\"v\":1,\"command\":\"reauth\",\"session\":\"c1\"}\n"));
        QCOMPARE(client.reply().value(QLatin1String("ok")).toBool(), true);
        QCOMPARE(pam("sudo", "root"), PAM_AUTHINFO_UNAVAIL);
        lastAttemptWas(QStringLiteral("root"), QStringLiteral("unavailable"), QStringLiteral("not enrolled"));
    }

    void whatThePolicyLeavesOutIsIgnoredNotPassed()
    {
        QCOMPARE(pam("cron", "root"), kModuleIgnored);
        lastAttemptWas(QStringLiteral("root"), QStringLiteral("not_covered"), QStringLiteral("pam.services"));
        QCOMPARE(pam("hotdesk-offline", "root"), kModuleIgnored);
        lastAttemptWas(QStringLiteral("root"), QStringLiteral("not_covered"), QStringLiteral("own service"));
        QCOMPARE(pam("sudo", "daemon"), kModuleIgnored);
        lastAttemptWas(QStringLiteral("daemon"), QStringLiteral("not_covered"), QStringLiteral("exempt_users"));
        QCOMPARE(pam("sudo", "bin"), kModuleIgnored);
        lastAttemptWas(QStringLiteral("bin"), QStringLiteral("not_covered"), QStringLiteral("pam.users or pam.groups"));
    }

    // nobody is covered through the group nogroup, and locked out.
    void aLockedOutUserGetsMaxTries()
    {
        QCOMPARE(pam("login", "nobody"), PAM_MAXTRIES);
        lastAttemptWas(QStringLiteral("nobody"), QStringLiteral("locked_out"), QStringLiteral("max_attempts"));
    }

    // Covered, nothing recent: the push is asked for, which a PC that is not enrolled cannot send: never a success.
    // (The push itself: tst_hotdeskd_pampush.)
    void aCoveredUserOnAPcNotEnrolledIsUnavailable()
    {
        QCOMPARE(pam("sudo", "sync"), PAM_AUTHINFO_UNAVAIL);
        lastAttemptWas(QStringLiteral("sync"), QStringLiteral("unavailable"), QStringLiteral("not enrolled"));
    }

    void anUnknownUser() { QCOMPARE(pam("sudo", "no-such-user-here"), PAM_USER_UNKNOWN); }

    // A screen locker running PAM as the user may ask for that user only.
    void aCallerThatIsNotRootAsksForItsOwnUserOnly()
    {
        QCOMPARE(pamAsNobody("sudo", "root"), PAM_AUTH_ERR);
        lastAttemptWas(QStringLiteral("root"), QStringLiteral("forbidden"), QStringLiteral("uid 65534"));
        QCOMPARE(pamAsNobody("login", "nobody"), PAM_MAXTRIES);
    }

    void aBadRequestIsRefused()
    {
        Client client;
        QVERIFY(client.connect(m_socket));
        QVERIFY(client.send("{\"v\":1,\"command\":\"pam_authenticate\",\"user\":\"root\\u001b[2J\",\"service\":\"sudo\"}\n"));
        QCOMPARE(client.reply().value(QLatin1String("error")).toString(), QStringLiteral("bad_request"));
        QVERIFY(client.send(
            "{\"v\":1,\"command\":\"pam_authenticate\",\"user\":\"root\",\"service\":\"sudo\",\"failmode\":\"open\"}\n"));
        QCOMPARE(client.reply().value(QLatin1String("error")).toString(), QStringLiteral("bad_request"));
        QVERIFY(client.send("{\"v\":1,\"command\":\"pam_authenticate\",\"user\":\"root\"}\n"));
        QCOMPARE(client.reply().value(QLatin1String("error")).toString(), QStringLiteral("bad_request"));
    }

    // No usable policy is no way in either: the daemon cannot say whom to ask.
    void withoutAPolicyItIsUnavailable()
    {
        stopDaemon();
        QVERIFY(startDaemon(path(QStringLiteral("missing.json"))));
        QCOMPARE(pam("sudo", "root"), PAM_AUTHINFO_UNAVAIL);
        lastAttemptWas(QStringLiteral("root"), QStringLiteral("unavailable"), QStringLiteral("policy"));
    }
};

int main(int argc, char **argv)
{
    // The unprivileged caller: one pam_authenticate, its code as the exit status.
    if (argc == 5 && std::strcmp(argv[1], "--pam-child") == 0)
        return authenticate(argv[2], argv[3], argv[4]);
    QCoreApplication app(argc, argv);
    TestHotdeskdPam test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_hotdeskd_pam.moc"

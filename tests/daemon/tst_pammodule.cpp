// pam_hotdesk.so loaded by real Linux-PAM (pam_start_confdir, service files written by the test): the module's own
// failures fail closed. No daemon at the socket, a daemon that never answers, one that hangs up or talks nonsense,
// and a mistyped option: never PAM_SUCCESS, and the person is told. The flows with hotdeskd are in tst_hotdeskd_pam.
#include <QDir>
#include <QFile>
#include <QLocalServer>
#include <QLocalSocket>
#include <QTemporaryDir>
#include <QTest>

#include <security/pam_appl.h>

#include <cstdlib>
#include <cstring>
#include <thread>

namespace {

// The module's own return code reaches pam_authenticate, except PAM_IGNORE: the module steps aside, the next line
// decides, and Linux-PAM fails a stack in which nobody decided. pam_debug answers PAM_INCOMPLETE there, which nothing
// else in these tests returns, so that code means "the module said PAM_IGNORE".
constexpr char kStack[] = "[success=done ignore=ignore default=die]";
constexpr char kAfter[] = "auth required pam_debug.so auth=incomplete\n";
constexpr int kModuleIgnored = PAM_INCOMPLETE;

struct Seen {
    QStringList infos;
    QStringList errors;
};

int converse(int count, const pam_message **messages, pam_response **answers, void *data)
{
    auto *seen = static_cast<Seen *>(data);
    auto *responses = static_cast<pam_response *>(std::calloc(size_t(count), sizeof(pam_response)));
    for (int i = 0; i < count; ++i) {
        const QString text = QString::fromUtf8(messages[i]->msg);
        if (messages[i]->msg_style == PAM_ERROR_MSG)
            seen->errors << text;
        else if (messages[i]->msg_style == PAM_TEXT_INFO)
            seen->infos << text;
        else
            responses[i].resp = strdup("");
    }
    *answers = responses;
    return PAM_SUCCESS;
}

} // namespace

class TestPamModule : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;

    // Authenticates user through a service whose only auth line is the module with these options.
    int authenticate(const QByteArray &options, Seen *seen, const QByteArray &user = "alice")
    {
        const QString confDir = m_dir.filePath(QStringLiteral("pam.d"));
        QFile service(confDir + QStringLiteral("/hotdesk-test"));
        if (!QDir().mkpath(confDir) || !service.open(QIODevice::WriteOnly))
            return -1;
        service.write("auth " + QByteArray(kStack) + " " HOTDESK_PAM_MODULE " " + options + "\n" + kAfter);
        service.close();
        const pam_conv conv {converse, seen};
        pam_handle_t *handle = nullptr;
        int code = pam_start_confdir("hotdesk-test", user.constData(), &conv, QFile::encodeName(confDir).constData(), &handle);
        if (code != PAM_SUCCESS)
            return -2;
        pam_set_item(handle, PAM_TTY, "/dev/pts/9");
        code = pam_authenticate(handle, 0);
        pam_end(handle, code);
        return code;
    }

    // A peer at the socket path that accepts and then does what `behave` says, on its own thread's event loop.
    int againstPeer(const QByteArray &reply, bool hangUp, Seen *seen)
    {
        const QString path = m_dir.filePath(QStringLiteral("peer.sock"));
        QLocalServer::removeServer(path);
        QLocalServer server;
        if (!server.listen(path))
            return -3;
        int code = -4;
        std::thread module([&] { code = authenticate("socket=" + QFile::encodeName(path) + " timeout=10", seen); });
        const bool connected = server.waitForNewConnection(10000);
        QLocalSocket *peer = connected ? server.nextPendingConnection() : nullptr;
        if (peer) {
            peer->waitForReadyRead(10000);
            peer->readAll();
            if (!reply.isEmpty()) {
                peer->write(reply);
                peer->flush();
            }
            if (hangUp)
                peer->disconnectFromServer();
        }
        module.join();
        return code;
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void noDaemonIsUnavailable()
    {
        Seen seen;
        QCOMPARE(authenticate("socket=" + QFile::encodeName(m_dir.filePath(QStringLiteral("none.sock"))), &seen),
            PAM_AUTHINFO_UNAVAIL);
        QCOMPARE(seen.errors.size(), 1);
        QVERIFY2(seen.errors.first().contains(QLatin1String("cannot be reached")), qPrintable(seen.errors.first()));
        // failmode=offline changes nothing without the daemon: its offline grace is the daemon's to give.
        QCOMPARE(authenticate("failmode=offline socket=" + QFile::encodeName(m_dir.filePath(QStringLiteral("none.sock"))), &seen),
            PAM_AUTHINFO_UNAVAIL);
    }

    void aMistypedOptionIsAServiceError()
    {
        Seen seen;
        QCOMPARE(authenticate("failmode=open", &seen), PAM_SERVICE_ERR);
        QCOMPARE(authenticate("timeout=0", &seen), PAM_SERVICE_ERR);
    }

    // The daemon takes the request and says nothing: 10 s later the module gives up, unavailable.
    void aSilentDaemonIsUnavailable()
    {
        Seen seen;
        QCOMPARE(againstPeer({}, false, &seen), PAM_AUTHINFO_UNAVAIL);
        QCOMPARE(seen.errors.size(), 1);
    }

    void aDaemonThatHangsUpIsUnavailable()
    {
        Seen seen;
        QCOMPARE(againstPeer({}, true, &seen), PAM_AUTHINFO_UNAVAIL);
    }

    void nonsenseIsUnavailable_data()
    {
        QTest::addColumn<QByteArray>("reply");
        QTest::newRow("garbage") << QByteArray("hello\n");
        QTest::newRow("success as text") << QByteArray("PAM_SUCCESS\n");
        QTest::newRow("ok of wrong type") << QByteArray("{\"ok\":1}\n");
        QTest::newRow("too long") << QByteArray(70000, 'x');
        QTest::newRow("ok twice") << QByteArray("{\"ok\":true}\n{\"ok\":true}\n");
    }
    void nonsenseIsUnavailable()
    {
        QFETCH(QByteArray, reply);
        Seen seen;
        QCOMPARE(againstPeer(reply, true, &seen), PAM_AUTHINFO_UNAVAIL);
    }

    // A result the module does not know is a refusal, not a way in.
    void anUnknownResultIsRefused()
    {
        Seen seen;
        QCOMPARE(
            againstPeer("{\"ok\":true,\"v\":1}\n{\"event\":\"pam_result\",\"result\":\"ok\"}\n", false, &seen), PAM_AUTH_ERR);
    }

    // A reply that decides at once: not covered is PAM_IGNORE, not PAM_SUCCESS.
    void aReplyWithAResultEnds()
    {
        Seen seen;
        QCOMPARE(againstPeer("{\"ok\":true,\"v\":1,\"result\":\"not_covered\"}\n", false, &seen), kModuleIgnored);
        QVERIFY(seen.errors.isEmpty());
        QCOMPARE(againstPeer("{\"ok\":true,\"v\":1,\"result\":\"locked_out\",\"message\":\"m\"}\n", false, &seen), PAM_MAXTRIES);
        QCOMPARE(seen.errors, QStringList {QStringLiteral("m")});
    }

    // The daemon's text reaches the person without its escape sequences.
    void theInfoLineIsSanitized()
    {
        Seen seen;
        QCOMPARE(againstPeer("{\"ok\":true,\"v\":1}\n{\"event\":\"pam_info\",\"message\":\"number 42\\u001b[2J\"}\n"
                             "{\"event\":\"pam_result\",\"result\":\"denied\",\"message\":\"refused\"}\n",
                     false, &seen),
            PAM_AUTH_ERR);
        QCOMPARE(seen.infos, QStringList {QStringLiteral("number 42[2J")});
        QCOMPARE(seen.errors, QStringList {QStringLiteral("refused")});
    }
};

QTEST_GUILESS_MAIN(TestPamModule)
#include "tst_pammodule.moc"

// Interoperability of the whole PAM push (docs/interop.md, docs/pam.md): Linux-PAM loads pam_hotdesk.so, the module
// asks the real hotdeskd, the daemon (enrolled with "hotdesk enroll --system") gets a signed CIBA request from
// hotdesk-stubs' DAS (--issuer: the request is for the npm oidc-provider) and runs it against oidc-provider with
// features.ciba in poll mode, which verifies the request object with the DAS's keys and approves or denies at once.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QProcess>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include "daemonclient.h"
#include "logindmock.h"
#include "stubsprocess.h"

#include <security/pam_appl.h>

#include <cstdlib>
#include <cstring>
#include <unistd.h>

using namespace hotdesk::test;

namespace {

const char kUser[] = "nobody"; // a local account, mapped at the DAS to the provider's account kSharedId
const char kSharedId[] = "interop-nobody-3a9e51";

// What the module showed the person.
int collect(int count, const pam_message **messages, pam_response **answers, void *data)
{
    auto *shown = static_cast<QStringList *>(data);
    auto *responses = static_cast<pam_response *>(std::calloc(size_t(count), sizeof(pam_response)));
    for (int i = 0; i < count; ++i)
        *shown << QString::fromUtf8(messages[i]->msg);
    *answers = responses;
    return PAM_SUCCESS;
}

int authenticate(const QByteArray &confDir, QStringList *shown)
{
    const pam_conv conv {collect, shown};
    pam_handle_t *handle = nullptr;
    if (pam_start_confdir("sudo", kUser, &conv, confDir.constData(), &handle) != PAM_SUCCESS)
        return -1;
    const int code = pam_authenticate(handle, 0);
    pam_end(handle, code);
    return code;
}

quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

} // namespace

class TestInteropPam : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    LogindMock m_logind; // a system bus without sessions: the daemon follows none of this machine's
    std::unique_ptr<StubsProcess> m_stubs;
    QProcess m_provider;
    QProcess m_daemon;
    std::unique_ptr<NotifySocket> m_notify;
    quint16 m_port = 0;
    QString m_dasUrl;

    QString path(const QString &name) const { return m_dir.filePath(name); }
    QString issuer() const { return QStringLiteral("https://127.0.0.1:%1").arg(m_port); }

    void startProvider(const QString &decision)
    {
        stopProcess(m_provider);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("NODE_EXTRA_CA_CERTS"), m_stubs->caFile());
        m_provider.setProcessEnvironment(env);
        m_provider.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        m_provider.start(QStringLiteral(HOTDESK_NODE),
            {QStringLiteral(HOTDESK_INTEROP_DIR "/provider.mjs"), QStringLiteral("--cert"),
                QDir(m_stubs->dataDir()).filePath(QStringLiteral("server.pem")), QStringLiteral("--key"),
                QDir(m_stubs->dataDir()).filePath(QStringLiteral("server-key.pem")), QStringLiteral("--client-jwks-uri"),
                m_dasUrl + QStringLiteral("/jwks"), QStringLiteral("--port"), QString::number(m_port),
                QStringLiteral("--ciba-decision"), decision});
        QVERIFY(m_provider.waitForStarted(10000));
        QByteArray out;
        QTRY_VERIFY_WITH_TIMEOUT(
            (out += m_provider.readAllStandardOutput()).contains('\n') || m_provider.state() == QProcess::NotRunning, 30000);
        QCOMPARE(QString::fromUtf8(out.trimmed()), QString(QStringLiteral("issuer ") + issuer()));
    }

    QJsonObject lastAttempt() const
    {
        const QList<QJsonObject> attempts = auditRecords(path(QStringLiteral("logs/audit.jsonl")), QStringLiteral("pam_attempt"));
        return attempts.isEmpty() ? QJsonObject() : attempts.last();
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (const char *missing = LogindMock::missingForEnrolledDaemon())
            QSKIP(missing);
        QVERIFY(m_dir.isValid());
        m_port = freePort();
        QVERIFY(m_port != 0);
        const quint16 ports = freePortBase(38000);
        QVERIFY(ports != 0);
        m_stubs = std::make_unique<StubsProcess>(QStringLiteral(HOTDESK_STUBS_BINARY), path(QStringLiteral("data")), ports);
        m_stubs->setExtraArguments(
            {QStringLiteral("--issuer"), issuer(), QStringLiteral("--client-id"), QStringLiteral("hotdesk-agent")});
        m_stubs->start({}, -1);
        QJsonObject policy = readJsonFile(m_stubs->policyFile());
        m_dasUrl = policy.value(QLatin1String("servers")).toObject().value(QLatin1String("das")).toArray().first().toString();
        QCOMPARE(policy.value(QLatin1String("servers")).toObject().value(QLatin1String("idp_issuer")).toString(), issuer());
        // With --issuer the DAS has no user directory: the user is mapped to the provider's account.
        QVERIFY(
            !m_stubs->admin({QStringLiteral("admin"), QStringLiteral("map-user"), QLatin1String(kUser), QLatin1String(kSharedId)})
                 .isNull());
        const QString enrolled = m_stubs->enrollForDaemon(QStringLiteral(HOTDESK_BINARY), path(QStringLiteral("state")));
        QVERIFY2(enrolled.isEmpty(), qPrintable(enrolled));
        policy.insert(QStringLiteral("pam"), QJsonObject {{QStringLiteral("services"), QJsonArray {QStringLiteral("sudo")}}});
        QVERIFY(writeJsonFile(path(QStringLiteral("policy.json")), policy));

        QVERIFY(QDir().mkpath(path(QStringLiteral("pam.d"))));
        QFile service(path(QStringLiteral("pam.d/sudo")));
        QVERIFY(service.open(QIODevice::WriteOnly));
        service.write("auth required " HOTDESK_PAM_MODULE " timeout=60 socket="
            + QFile::encodeName(path(QStringLiteral("hotdeskd.sock"))) + "\n");
        service.close();

        QString why;
        QVERIFY2(m_logind.start(&why), qPrintable(why));
        QVERIFY(startHotdeskd(m_daemon, m_notify, QStringLiteral(HOTDESKD_BINARY), path(QStringLiteral("notify")),
            {QStringLiteral("--socket"), path(QStringLiteral("hotdeskd.sock")), QStringLiteral("--state-dir"),
                path(QStringLiteral("state")), QStringLiteral("--policy"), path(QStringLiteral("policy.json"))},
            {QStringLiteral("LOGS_DIRECTORY=") + path(QStringLiteral("logs")),
                QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS=") + m_logind.address()}));
    }

    void cleanupTestCase()
    {
        stopProcess(m_daemon);
        stopProcess(m_provider);
        m_stubs.reset();
    }

    // The provider approves: PAM_SUCCESS; the number the person saw is the binding message the provider got, for the
    // shared id; the daemon waited CIBA's default 5 s (the provider names no interval) before its poll.
    void approved()
    {
        startProvider(QStringLiteral("approve"));
        QStringList shown;
        QCOMPARE(authenticate(QFile::encodeName(path(QStringLiteral("pam.d"))), &shown), PAM_SUCCESS);
        const QJsonObject attempt = lastAttempt();
        QCOMPARE(attempt.value(QLatin1String("result")).toString(), QStringLiteral("approved"));
        QVERIFY(attempt.value(QLatin1String("polls")).toInt() >= 1);
        QCOMPARE(attempt.value(QLatin1String("poll_wait_s")).toInt(), 5 * attempt.value(QLatin1String("polls")).toInt());
        static const QRegularExpression number(QStringLiteral("number (\\d+)"));
        const QRegularExpressionMatch match = number.match(shown.join(QLatin1Char('\n')));
        QVERIFY2(match.hasMatch(), qPrintable(shown.join(QLatin1Char('|'))));
        // (oidc-provider's own notices go to stdout too.)
        QByteArray out;
        QTRY_VERIFY_WITH_TIMEOUT((out += m_provider.readAllStandardOutput()).contains("ciba "), 10000);
        QStringList cibaLines;
        for (const QString &line : QString::fromUtf8(out).split(QLatin1Char('\n')))
            if (line.startsWith(QLatin1String("ciba ")))
                cibaLines << line;
        QCOMPARE(cibaLines, QStringList {QStringLiteral("ciba %1 %2").arg(match.captured(1), QLatin1String(kSharedId))});
    }

    void denied()
    {
        startProvider(QStringLiteral("deny"));
        QStringList shown;
        QCOMPARE(authenticate(QFile::encodeName(path(QStringLiteral("pam.d"))), &shown), PAM_AUTH_ERR);
        QCOMPARE(lastAttempt().value(QLatin1String("result")).toString(), QStringLiteral("denied"));
        QCOMPARE(lastAttempt().value(QLatin1String("error")).toString(), QStringLiteral("access_denied"));
    }
};

QTEST_GUILESS_MAIN(TestInteropPam)
#include "tst_interoppam.moc"

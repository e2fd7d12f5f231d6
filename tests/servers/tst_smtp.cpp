// The DAS mails one-time codes over SMTP (--smtp) to a sink on loopback that records the conversation.
#include "app/stubs/common/localca.h"
#include "app/stubs/common/smtpmailer.h"
#include "dasfixture.h"

#include <QDirIterator>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSslKey>
#include <QSslServer>
#include <QSslSocket>
#include <QTemporaryDir>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

using namespace hotdesk;
using namespace hotdesk::test;

namespace {

const QString kUser = QStringLiteral("alice@corp.example");

// Accepts connections as QSslSocket, so that STARTTLS can upgrade them.
class StartTlsServer : public QTcpServer {
public:
    std::function<void(QSslSocket *)> accepted;

protected:
    void incomingConnection(qintptr descriptor) override
    {
        auto *socket = new QSslSocket(this);
        if (!socket->setSocketDescriptor(descriptor)) {
            delete socket;
            return;
        }
        accepted(socket);
    }
};

// A mail server that accepts (or refuses) one message per connection and
// remembers every line the client sent. StartTls offers STARTTLS and upgrades
// with the certificate given to offerTls().
class SmtpSink : public QObject {
public:
    enum class Mode { Accept, RefuseRecipient, Silent, StartTls };

    explicit SmtpSink(Mode mode)
        : m_mode(mode)
    {
        m_server.accepted = [this](QSslSocket *socket) {
            ++connections;
            if (m_mode != Mode::Silent)
                socket->write("220 sink.test ESMTP\r\n");
            connect(socket, &QTcpSocket::readyRead, this, [this, socket] { read(socket); });
        };
        m_server.listen(QHostAddress::LocalHost);
    }

    void offerTls(const QSslCertificate &certificate, const QSslKey &key)
    {
        m_tls = QSslConfiguration::defaultConfiguration();
        m_tls.setLocalCertificate(certificate);
        m_tls.setPrivateKey(key);
    }

    quint16 port() const { return m_server.serverPort(); }
    QUrl url() const { return QUrl(QStringLiteral("smtp://127.0.0.1:%1").arg(port())); }

    QList<QByteArray> commands; // what the client sent outside DATA
    QList<QByteArray> encryptedCommands; // those of them sent over TLS
    QByteArray message; // what it sent inside DATA, up to the final "."
    bool messageDone = false;
    bool quit = false;
    int connections = 0;

private:
    void read(QSslSocket *socket)
    {
        m_buffer += socket->readAll();
        qsizetype end;
        while ((end = m_buffer.indexOf("\r\n")) >= 0) {
            const QByteArray line = m_buffer.left(end);
            m_buffer.remove(0, end + 2);
            if (m_inData) {
                if (line == ".") {
                    m_inData = false;
                    messageDone = true;
                    socket->write("250 queued\r\n");
                } else {
                    message += line + "\r\n";
                }
                continue;
            }
            commands << line;
            if (socket->isEncrypted())
                encryptedCommands << line;
            const QByteArray verb = line.left(4).toUpper();
            if (verb == "EHLO" && m_mode == Mode::StartTls && !socket->isEncrypted())
                socket->write("250-sink.test\r\n250-STARTTLS\r\n250 8BITMIME\r\n");
            else if (verb == "EHLO")
                socket->write("250-sink.test\r\n250-SIZE 1000000\r\n250 8BITMIME\r\n");
            else if (line.toUpper() == "STARTTLS" && m_mode == Mode::StartTls && !socket->isEncrypted()) {
                socket->write("220 go ahead\r\n");
                socket->setSslConfiguration(m_tls);
                // A client that refuses the certificate just goes away; nothing to do here.
                connect(socket, &QSslSocket::sslErrors, socket, [](const QList<QSslError> &) {});
                socket->startServerEncryption();
                m_buffer.clear(); // RFC 3207 §4.2: nothing from before the handshake counts
                return;
            } else if (verb == "MAIL")
                socket->write("250 sender ok\r\n");
            else if (verb == "RCPT")
                socket->write(m_mode == Mode::RefuseRecipient ? "550 no such mailbox\r\n" : "250 recipient ok\r\n");
            else if (verb == "DATA") {
                m_inData = true;
                socket->write("354 go ahead\r\n");
            } else if (verb == "QUIT") {
                quit = true;
                socket->write("221 bye\r\n");
                socket->disconnectFromHost();
            } else
                socket->write("502 not here\r\n");
        }
    }

    Mode m_mode;
    StartTlsServer m_server;
    QSslConfiguration m_tls;
    QByteArray m_buffer;
    bool m_inData = false;
};

} // namespace

class TestSmtp : public QObject {
    Q_OBJECT

    DasFixture m_das;
    EnrolledDevice m_device;

    // The DAS with --smtp pointing at server, a PC enrolled, alice and bob known.
    void startDas(const QUrl &server, std::chrono::milliseconds timeout = std::chrono::milliseconds(10000),
        const QList<QSslCertificate> &caCertificates = {})
    {
        stubs::SmtpSettings settings;
        settings.server = server;
        settings.from = QStringLiteral("das@corp.example");
        settings.timeout = timeout;
        settings.caCertificates = caCertificates;
        m_das.smtp = settings;
        m_das.start();
        if (QTest::currentTestFailed())
            return;
        m_das.enroll(QStringLiteral("pc-mail"), m_device);
        m_das.mapUser(kUser, QStringLiteral("8f0c2a8e61f24a7a9d33d1f2b6c0e5a1"));
        m_das.mapUser(QStringLiteral("bob"), QStringLiteral("0e1f2a3b4c5d6e7f8091a2b3c4d5e6f7"));
    }

    HttpResult askForCode(const QString &user)
    {
        return m_das.postJson(QStringLiteral("/v1/oob-tokens"), {{QStringLiteral("user"), user}}, m_das.deviceAuth(m_device));
    }

    // The code in the one outbox file.
    QString outboxCode()
    {
        QDirIterator it(m_das.dir->filePath(QStringLiteral("outbox")), {QStringLiteral("*.txt")}, QDir::Files);
        if (!it.hasNext())
            return {};
        QFile file(it.next());
        if (!file.open(QIODevice::ReadOnly))
            return {};
        const auto match = QRegularExpression(QStringLiteral("\\nCode: (\\d{8})\\n")).match(QString::fromUtf8(file.readAll()));
        return match.captured(1);
    }

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void cleanup() { m_das.stop(); }

    void parsesSmtpUrls_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<bool>("valid");
        QTest::newRow("plain") << "smtp://127.0.0.1:2525" << true;
        QTest::newRow("implicit tls") << "smtps://mail.corp.example:465" << true;
        QTest::newRow("from") << "smtp://mail.corp.example?from=hotdesk@corp.example" << true;
        QTest::newRow("credentials") << "smtps://das:secret@mail.corp.example" << true;
        QTest::newRow("http") << "http://mail.corp.example" << false;
        QTest::newRow("no host") << "smtp://:25" << false;
        QTest::newRow("a path") << "smtp://mail.corp.example/inbox" << false;
        QTest::newRow("bad from") << "smtp://mail.corp.example?from=a%0D%0ARCPT%20TO:x@y" << false;
        QTest::newRow("unknown parameter") << "smtp://mail.corp.example?tls=off" << false;
        QTest::newRow("ca that is no file") << "smtp://mail.corp.example?ca=/nonexistent/ca.pem" << false;
    }

    void parsesSmtpUrls()
    {
        QFETCH(QString, url);
        QFETCH(bool, valid);
        auto parsed = stubs::parseSmtpUrl(url);
        QCOMPARE(parsed.has_value(), valid);
        if (!valid)
            QVERIFY(!parsed.error().message.contains(QLatin1String("secret")));
    }

    void badSmtpIsUsageError()
    {
        QTemporaryDir dir;
        QProcess stubs;
        stubs.start(QStringLiteral(HOTDESK_STUBS_BINARY),
            {QStringLiteral("das"), QStringLiteral("--data"), dir.path(), QStringLiteral("--smtp"),
                QStringLiteral("mail.corp.example:25")});
        QVERIFY(stubs.waitForFinished(30000));
        QCOMPARE(stubs.exitCode(), 2);
        QVERIFY(stubs.readAllStandardError().contains("--smtp"));
    }

    void mailsTheCode()
    {
        SmtpSink sink(SmtpSink::Mode::Accept);
        startDas(sink.url());
        if (QTest::currentTestFailed())
            return;
        QSignalSpy finished(m_das.das()->mailer(), &stubs::SmtpMailer::finished);
        const HttpResult r = askForCode(kUser);
        QCOMPARE(r.status, 202);
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10000);
        QCOMPARE(finished[0][0].toString(), kUser);
        QVERIFY2(finished[0][1].toBool(), qPrintable(finished[0][2].toString()));

        const QString code = outboxCode();
        QCOMPARE(code.size(), 8);
        QVERIFY(sink.messageDone);
        QVERIFY(sink.quit);
        QVERIFY(sink.commands.value(0).startsWith("EHLO "));
        QVERIFY(sink.commands.contains("MAIL FROM:<das@corp.example>"));
        QVERIFY(sink.commands.contains("RCPT TO:<alice@corp.example>"));
        QVERIFY(sink.message.startsWith("From: das@corp.example\r\nTo: alice@corp.example\r\n"));
        QVERIFY(sink.message.contains("Subject: Your Hotdesk one-time code\r\n"));
        QVERIFY2(sink.message.contains("\r\n\r\n"), "no blank line between header and body");
        QVERIFY2(sink.message.contains(QByteArray("\r\nCode: " + code.toLatin1() + "\r\n")), sink.message.constData());
        // The mailed code is the one the DAS accepts.
        m_das.postJson(QStringLiteral("/v1/2fa-tokens"),
            {{QStringLiteral("user"), kUser}, {QStringLiteral("state"), QStringLiteral("s")},
                {QStringLiteral("nonce"), QStringLiteral("n")},
                {QStringLiteral("code_challenge"), QStringLiteral("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")},
                {QStringLiteral("code_challenge_method"), QStringLiteral("S256")},
                {QStringLiteral("redirect_uri"), QStringLiteral("http://127.0.0.1:49152/callback")},
                {QStringLiteral("fingerprint"), QJsonObject {{QStringLiteral("machine_id"), QStringLiteral("m-mail")}}}},
            m_das.deviceAuth(m_device));
        const HttpResult verified = m_das.postJson(QStringLiteral("/v1/oob-tokens/verify"),
            {{QStringLiteral("user"), kUser}, {QStringLiteral("token"), code},
                {QStringLiteral("machine_id"), QStringLiteral("m-mail")}},
            m_das.deviceAuth(m_device));
        QVERIFY2(verified.status == 200, verified.body.constData());
    }

    // A refusal is logged; the outbox file and the agent's answer are as without --smtp.
    void refusedMailIsLoggedOnly()
    {
        SmtpSink sink(SmtpSink::Mode::RefuseRecipient);
        startDas(sink.url());
        if (QTest::currentTestFailed())
            return;
        QSignalSpy finished(m_das.das()->mailer(), &stubs::SmtpMailer::finished);
        QTest::ignoreMessage(QtWarningMsg,
            QRegularExpression(QStringLiteral("could not mail the one-time code to alice@corp.example .*RCPT TO refused: 550")));
        const HttpResult r = askForCode(kUser);
        QCOMPARE(r.status, 202);
        QCOMPARE(jsonOf(r).value(QLatin1String("digits")).toInt(), 8);
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10000);
        QCOMPARE(finished[0][1].toBool(), false);
        QCOMPARE(outboxCode().size(), 8);
        QVERIFY(!sink.messageDone);
        QTRY_VERIFY(sink.quit);
    }

    void silentServerTimesOut()
    {
        SmtpSink sink(SmtpSink::Mode::Silent);
        startDas(sink.url(), std::chrono::milliseconds(300));
        if (QTest::currentTestFailed())
            return;
        QSignalSpy finished(m_das.das()->mailer(), &stubs::SmtpMailer::finished);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("could not mail .*no answer within 300 ms")));
        QCOMPARE(askForCode(kUser).status, 202);
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10000);
        QCOMPARE(finished[0][1].toBool(), false);
        QCOMPARE(sink.connections, 1);
        QCOMPARE(outboxCode().size(), 8);
    }

    // smtps:// to a server whose certificate the system does not trust (the
    // stubs' own local CA): the handshake fails and no code is sent.
    void untrustedCertificateIsRefused()
    {
        QSslServer tls;
        QVERIFY(tls.listen(QHostAddress::LocalHost));
        QSignalSpy handshakes(&tls, &QSslServer::startedEncryptionHandshake);
        startDas(QUrl(QStringLiteral("smtps://127.0.0.1:%1").arg(tls.serverPort())));
        if (QTest::currentTestFailed())
            return;
        auto ca = stubs::LocalCa::loadOrCreate(m_das.dir->path());
        QVERIFY(ca.has_value());
        QSslConfiguration config = QSslConfiguration::defaultConfiguration();
        config.setLocalCertificate(ca->serverCertificate());
        config.setPrivateKey(ca->serverKey());
        tls.setSslConfiguration(config);
        QSignalSpy finished(m_das.das()->mailer(), &stubs::SmtpMailer::finished);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("could not mail the one-time code to alice@corp.example .*: TLS: ")));
        QCOMPARE(askForCode(kUser).status, 202);
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10000);
        QCOMPARE(finished[0][1].toBool(), false);
        QVERIFY2(finished[0][2].toString().startsWith(QLatin1String("TLS: ")), qPrintable(finished[0][2].toString()));
        QCOMPARE(handshakes.size(), 1);
        QCOMPARE(outboxCode().size(), 8);
    }

    // STARTTLS is used whenever the server offers it, loopback included: the
    // greeting is repeated over TLS, and the address and the code travel only encrypted.
    void startTlsWhenOffered()
    {
        SmtpSink sink(SmtpSink::Mode::StartTls);
        QTemporaryDir caDir;
        auto ca = stubs::LocalCa::loadOrCreate(caDir.path());
        QVERIFY(ca.has_value());
        sink.offerTls(ca->serverCertificate(), ca->serverKey());
        QUrl server = sink.url();
        server.setQuery(QStringLiteral("ca=") + caDir.filePath(QStringLiteral("ca.pem")));
        auto settings = stubs::parseSmtpUrl(server.toString());
        QVERIFY2(settings, settings ? "" : qPrintable(settings.error().message));
        QCOMPARE(settings->caCertificates.size(), 1);
        startDas(settings->server, std::chrono::milliseconds(10000), settings->caCertificates);
        if (QTest::currentTestFailed())
            return;
        QSignalSpy finished(m_das.das()->mailer(), &stubs::SmtpMailer::finished);
        QCOMPARE(askForCode(kUser).status, 202);
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10000);
        QVERIFY2(finished[0][1].toBool(), qPrintable(finished[0][2].toString()));
        QVERIFY(sink.messageDone);
        const qsizetype upgrade = sink.commands.indexOf("STARTTLS");
        QVERIFY2(upgrade == 1, sink.commands.join(" | ").constData());
        QVERIFY(sink.encryptedCommands.value(0).startsWith("EHLO "));
        QVERIFY(sink.encryptedCommands.contains("MAIL FROM:<das@corp.example>"));
        QVERIFY(sink.encryptedCommands.contains("RCPT TO:<alice@corp.example>"));
        QVERIFY(sink.message.contains(QByteArray("Code: " + outboxCode().toLatin1())));
    }

    // Offered but with a certificate no trusted CA signed: the upgrade fails,
    // and nothing goes in plain text instead.
    void startTlsWithAnUntrustedCertificateSendsNothing()
    {
        SmtpSink sink(SmtpSink::Mode::StartTls);
        QTemporaryDir caDir;
        auto ca = stubs::LocalCa::loadOrCreate(caDir.path());
        QVERIFY(ca.has_value());
        sink.offerTls(ca->serverCertificate(), ca->serverKey());
        startDas(sink.url());
        if (QTest::currentTestFailed())
            return;
        QSignalSpy finished(m_das.das()->mailer(), &stubs::SmtpMailer::finished);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("could not mail the one-time code to alice@corp.example .*: TLS: ")));
        QCOMPARE(askForCode(kUser).status, 202);
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10000);
        QCOMPARE(finished[0][1].toBool(), false);
        QVERIFY(!sink.messageDone);
        QVERIFY2(!sink.commands.contains("MAIL FROM:<das@corp.example>"), sink.commands.join(" | ").constData());
        QCOMPARE(outboxCode().size(), 8);
    }

    // A user name that is no mail address has only the outbox.
    void userWithoutAddressIsNotMailed()
    {
        SmtpSink sink(SmtpSink::Mode::Accept);
        startDas(sink.url());
        if (QTest::currentTestFailed())
            return;
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("one-time code for bob not mailed")));
        QCOMPARE(askForCode(QStringLiteral("bob")).status, 202);
        QCOMPARE(outboxCode().size(), 8);
        QTest::qWait(200);
        QCOMPARE(sink.connections, 0);
    }
};

QTEST_GUILESS_MAIN(TestSmtp)
#include "tst_smtp.moc"

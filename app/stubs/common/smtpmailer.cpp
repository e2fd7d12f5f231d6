// A small SMTP client over QSslSocket: EHLO, STARTTLS or implicit TLS, AUTH PLAIN, one message, QUIT.
#include "smtpmailer.h"

#include <QHostAddress>
#include <QRegularExpression>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QSysInfo>
#include <QTimer>
#include <QUrlQuery>

namespace hotdesk::stubs {
namespace {

bool isLoopback(const QString &host)
{
    if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0)
        return true;
    const QHostAddress address(host);
    return !address.isNull() && address.isLoopback();
}

// One conversation with the server; it deletes itself when it ends.
class SmtpSession : public QObject {
public:
    SmtpSession(const SmtpSettings &settings, QString recipient, QByteArray data, SmtpMailer *mailer)
        : QObject(mailer)
        , m_settings(settings)
        , m_recipient(std::move(recipient))
        , m_data(std::move(data))
        , m_mailer(mailer)
    {
        m_implicitTls = settings.server.scheme() == QLatin1String("smtps");
        m_loopback = isLoopback(settings.server.host());
        if (!settings.caCertificates.isEmpty()) {
            // The system's CAs and the ones --smtp's ?ca= names: a company CA adds to them, never replaces them.
            QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
            tls.addCaCertificates(settings.caCertificates);
            m_socket.setSslConfiguration(tls);
        }
        m_timer.setSingleShot(true);
        connect(&m_timer, &QTimer::timeout, this,
            [this] { finish(false, QStringLiteral("no answer within %1 ms").arg(m_settings.timeout.count())); });
        connect(&m_socket, &QSslSocket::readyRead, this, &SmtpSession::readReplies);
        connect(&m_socket, &QSslSocket::encrypted, this, [this] {
            // After STARTTLS the server forgets what it knew: greet it again (RFC 3207 §4.2).
            if (m_step == Step::StartTls)
                ehlo();
        });
        connect(&m_socket, &QAbstractSocket::errorOccurred, this, [this](QAbstractSocket::SocketError) {
            if (m_step != Step::Done)
                finish(false, m_socket.errorString());
        });
        connect(&m_socket, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
            // Never ignored: a code must not go to a server that cannot prove its name.
            QStringList why;
            for (const QSslError &e : errors)
                why << e.errorString();
            finish(false, QStringLiteral("TLS: %1").arg(why.join(QStringLiteral("; "))));
        });
    }

    void start()
    {
        m_timer.start(m_settings.timeout);
        const quint16 port = quint16(m_settings.server.port(m_implicitTls ? 465 : 25));
        if (m_implicitTls)
            m_socket.connectToHostEncrypted(m_settings.server.host(), port);
        else
            m_socket.connectToHost(m_settings.server.host(), port);
    }

private:
    enum class Step { Greeting, Ehlo, StartTls, Auth, MailFrom, RcptTo, Data, Body, Quit, Done };

    void send(const QByteArray &line) { m_socket.write(line + "\r\n"); }

    void ehlo()
    {
        m_step = Step::Ehlo;
        m_extensions.clear();
        QString name = QSysInfo::machineHostName();
        if (name.isEmpty())
            name = QStringLiteral("localhost");
        send("EHLO " + name.toLatin1());
    }

    void readReplies()
    {
        m_buffer += m_socket.readAll();
        qsizetype end;
        while ((end = m_buffer.indexOf('\n')) >= 0) {
            QByteArray line = m_buffer.left(end);
            m_buffer.remove(0, end + 1);
            if (line.endsWith('\r'))
                line.chop(1);
            bool ok = false;
            const int code = line.left(3).toInt(&ok);
            if (!ok || line.size() < 3 || (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
                finish(false, QStringLiteral("not an SMTP reply: %1").arg(QString::fromLatin1(line.left(80))));
                return;
            }
            m_lines << QString::fromLatin1(line.mid(4));
            if (line.size() > 3 && line[3] == '-')
                continue; // more lines of the same reply follow
            const QStringList lines = std::exchange(m_lines, {});
            handle(code, lines);
            if (m_step == Step::Done)
                return;
        }
    }

    void handle(int code, const QStringList &lines)
    {
        const QString reply = QStringLiteral("%1 %2").arg(code).arg(lines.join(QLatin1Char(' ')));
        auto expect = [&](int wanted, const char *what) {
            if (code == wanted)
                return true;
            finish(false, QStringLiteral("%1 refused: %2").arg(QLatin1String(what), reply.left(200)));
            return false;
        };
        switch (m_step) {
        case Step::Greeting:
            if (expect(220, "the greeting"))
                ehlo();
            return;
        case Step::Ehlo: {
            if (!expect(250, "EHLO"))
                return;
            for (const QString &l : lines.mid(1))
                m_extensions << l.section(QLatin1Char(' '), 0, 0).toUpper();
            // Encrypted whenever the server offers it; off this machine the
            // code travels only encrypted. Once offered, a failed upgrade is
            // a failure, never a fall back to plain text.
            if (!m_socket.isEncrypted() && (m_extensions.contains(QLatin1String("STARTTLS")) || !m_loopback)) {
                if (!m_extensions.contains(QLatin1String("STARTTLS"))) {
                    finish(false, QStringLiteral("the server does not offer STARTTLS; use smtps:// or a server that does"));
                    return;
                }
                m_step = Step::StartTls;
                send("STARTTLS");
                return;
            }
            if (!m_settings.server.userName().isEmpty()) {
                m_step = Step::Auth;
                const QByteArray plain
                    = '\0' + m_settings.server.userName().toUtf8() + '\0' + m_settings.server.password().toUtf8();
                send("AUTH PLAIN " + plain.toBase64());
                return;
            }
            mailFrom();
            return;
        }
        case Step::StartTls:
            if (expect(220, "STARTTLS"))
                m_socket.startClientEncryption(); // continues in the encrypted() handler
            return;
        case Step::Auth:
            if (expect(235, "AUTH"))
                mailFrom();
            return;
        case Step::MailFrom:
            if (expect(250, "MAIL FROM")) {
                m_step = Step::RcptTo;
                send("RCPT TO:<" + m_recipient.toUtf8() + '>');
            }
            return;
        case Step::RcptTo:
            if (code != 250 && code != 251) {
                expect(250, "RCPT TO");
                return;
            }
            m_step = Step::Data;
            send("DATA");
            return;
        case Step::Data:
            if (expect(354, "DATA")) {
                m_step = Step::Body;
                m_socket.write(m_data + ".\r\n");
            }
            return;
        case Step::Body:
            if (expect(250, "the message")) {
                m_delivered = true;
                m_step = Step::Quit;
                send("QUIT");
            }
            return;
        case Step::Quit:
            finish(true, reply.left(200));
            return;
        case Step::Done:
            return;
        }
    }

    void mailFrom()
    {
        m_step = Step::MailFrom;
        send("MAIL FROM:<" + m_settings.from.toUtf8() + '>');
    }

    void finish(bool ok, const QString &detail)
    {
        if (m_step == Step::Done)
            return;
        // Accepted is accepted: a QUIT that goes wrong afterwards does not undo the delivery.
        const bool delivered = ok || m_delivered;
        const Step failedAt = m_step;
        m_step = Step::Done;
        m_timer.stop();
        if (!delivered && m_socket.state() == QAbstractSocket::ConnectedState && failedAt != Step::Greeting) {
            send("QUIT");
            m_socket.flush(); // the socket goes with this session, before the event loop would write it
        }
        m_socket.disconnectFromHost();
        Q_EMIT m_mailer->finished(m_recipient, delivered, detail);
        deleteLater();
    }

    SmtpSettings m_settings;
    QString m_recipient;
    QByteArray m_data;
    SmtpMailer *m_mailer;
    QSslSocket m_socket;
    QTimer m_timer;
    QByteArray m_buffer;
    QStringList m_lines;
    QStringList m_extensions;
    Step m_step = Step::Greeting;
    bool m_implicitTls = false;
    bool m_loopback = false;
    bool m_delivered = false;
};

// CR, LF, NUL or angle brackets in an address would let it smuggle SMTP commands.
bool plainAddress(const QString &address)
{
    static const QRegularExpression shape(QStringLiteral("^[^\\s<>@\\x00-\\x1f]+@[^\\s<>@\\x00-\\x1f]+$"));
    return shape.match(address).hasMatch();
}

} // namespace

Result<SmtpSettings> parseSmtpUrl(const QString &text)
{
    const QString usage = QStringLiteral(
        "--smtp takes smtp://HOST:PORT or smtps://HOST:PORT (optionally USER:PASSWORD@, ?from=ADDRESS and &ca=PEM_FILE)");
    const QUrl url(text, QUrl::StrictMode);
    if (!url.isValid() || (url.scheme() != QLatin1String("smtp") && url.scheme() != QLatin1String("smtps"))
        || url.host().isEmpty() || (!url.path().isEmpty() && url.path() != QLatin1String("/")) || url.hasFragment())
        return fail(ErrorCode::Malformed, usage);
    SmtpSettings settings;
    const QUrlQuery query(url);
    for (const auto &[key, value] : query.queryItems(QUrl::FullyDecoded)) {
        if (key == QLatin1String("from") && plainAddress(value)) {
            settings.from = value;
        } else if (key == QLatin1String("ca")) {
            const QList<QSslCertificate> certificates = QSslCertificate::fromPath(value, QSsl::Pem);
            if (certificates.isEmpty())
                return fail(ErrorCode::Malformed,
                    QStringLiteral("--smtp: ca=%1 holds no PEM certificate (or cannot be read)").arg(value.left(200)));
            settings.caCertificates += certificates;
        } else {
            return fail(ErrorCode::Malformed, usage);
        }
    }
    settings.server = url.adjusted(QUrl::RemoveQuery | QUrl::RemovePath);
    return settings;
}

SmtpMailer::SmtpMailer(SmtpSettings settings, QObject *parent)
    : QObject(parent)
    , m_settings(std::move(settings))
{
}

void SmtpMailer::send(const QString &recipient, const QString &message)
{
    if (!plainAddress(recipient)) {
        Q_EMIT finished(recipient, false, QStringLiteral("\"%1\" is not a mail address").arg(recipient.left(80)));
        return;
    }
    QByteArray data = "From: " + m_settings.from.toUtf8() + "\r\n";
    for (QByteArray line : message.toUtf8().split('\n')) {
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.startsWith('.'))
            line.prepend('.'); // RFC 5321 §4.5.2: a lone "." would end the message
        data += line + "\r\n";
    }
    if (data.endsWith("\r\n\r\n"))
        data.chop(2); // the split of the final "\n" leaves one empty line too many
    auto *session = new SmtpSession(m_settings, recipient, data, this);
    session->start();
}

} // namespace hotdesk::stubs

// Mail over SMTP (RFC 5321) for the DAS's one-time codes: --smtp smtp://HOST:PORT or smtps://HOST:PORT.
#pragma once

#include "core/result.h"

#include <QList>
#include <QObject>
#include <QSslCertificate>
#include <QString>
#include <QUrl>

#include <chrono>

namespace hotdesk::stubs {

struct SmtpSettings {
    // smtp://HOST:PORT: plain SMTP, upgraded with STARTTLS whenever the server
    // offers it, and required unless HOST is loopback; smtps://HOST:PORT: TLS from the first byte.
    // USER:PASSWORD@ in the URL: AUTH PLAIN, only ever over TLS or loopback.
    QUrl server;
    QString from = QStringLiteral("hotdesk-das@localhost"); // ?from=ADDRESS
    std::chrono::milliseconds timeout {15000}; // the whole conversation
    // ?ca=PEM_FILE: CAs trusted for the server's certificate besides the system's.
    QList<QSslCertificate> caCertificates {};
};

// Parses --smtp; a Malformed error says what the option takes (and never repeats a password).
Result<SmtpSettings> parseSmtpUrl(const QString &url);

// Sends one message at a time per call, in the background: nothing waits for
// it, and a failure is logged and reported through finished(), never thrown
// back at whoever asked for the mail.
class SmtpMailer : public QObject {
    Q_OBJECT
public:
    explicit SmtpMailer(SmtpSettings settings, QObject *parent = nullptr);

    // message: the header lines, an empty line and the body, with "\n" line
    // ends; From: is added, line ends become CRLF and lines are dot-stuffed.
    void send(const QString &recipient, const QString &message);

    const SmtpSettings &settings() const { return m_settings; }

Q_SIGNALS:
    // ok false: detail says which step failed (the server's reply, a timeout, TLS, …).
    void finished(const QString &recipient, bool ok, const QString &detail);

private:
    SmtpSettings m_settings;
};

} // namespace hotdesk::stubs

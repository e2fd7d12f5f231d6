// The loopback redirect listener of RFC 8252 §7.3: where the system browser (or any HTTP client) delivers the authorization response.
#pragma once

#include "../result.h"

#include <QHostAddress>
#include <QObject>
#include <QPointer>
#include <QTcpServer>
#include <QUrl>

#include <optional>

class QTcpSocket;

namespace hotdesk::oidc {

// Listens on 127.0.0.1 (never on other interfaces) at a port the system picks,
// for GET /callback. The first request to that path is the authorization
// response: it is answered with a short page telling the user to go back to
// Hotdesk, and received() fires once. Anything else (other paths, methods,
// oversized or slow requests) gets an error answer and is ignored, so a
// local page cannot end the flow by poking the port.
class LoopbackReceiver : public QObject {
    Q_OBJECT
public:
    explicit LoopbackReceiver(QObject *parent = nullptr);
    ~LoopbackReceiver() override;

    // Opens the listener; Unreachable when no port can be had.
    Status listen(const QHostAddress &address = QHostAddress::LocalHost);
    void close();
    bool isListening() const { return m_server.isListening(); }
    quint16 port() const { return m_server.serverPort(); }
    // http://127.0.0.1:PORT/callback (IPv6: http://[::1]:PORT/callback).
    QString redirectUri() const;
    // What the browser tab shows once the response is in (plain text, escaped here).
    void setDoneMessage(const QString &title, const QString &text);

Q_SIGNALS:
    void received(const QUrl &redirect);

private:
    void onConnection();
    void onReadable(QTcpSocket *socket);
    void answer(QTcpSocket *socket, int status, const QByteArray &reason, const QByteArray &html);

    QTcpServer m_server;
    bool m_done = false;
    QString m_title;
    QString m_text;
};

} // namespace hotdesk::oidc

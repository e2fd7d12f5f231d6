// An HTTP proxy on loopback that records what it is asked and refuses to go on
// (502), for tests that show which requests a proxy setting sends through it.
#pragma once

#include <QByteArray>
#include <QTcpServer>
#include <QTcpSocket>

namespace hotdesk::test {

class RecordingProxy : public QTcpServer {
public:
    RecordingProxy()
    {
        connect(this, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = nextPendingConnection()) {
                connect(socket, &QTcpSocket::readyRead, socket, [this, socket] {
                    seen += socket->readAll();
                    if (seen.contains("\r\n\r\n")) {
                        socket->write("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                        socket->disconnectFromHost();
                    }
                });
            }
        });
        listen(QHostAddress::LocalHost);
    }

    // "http://127.0.0.1:PORT", as servers.proxy names it.
    QString url() const { return QStringLiteral("http://127.0.0.1:%1").arg(serverPort()); }

    QByteArray seen; // every byte clients sent, in order
};

} // namespace hotdesk::test

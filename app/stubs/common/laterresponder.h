// An HTTP answer written later: after a call to another service, a timer, a phone's approval.
#pragma once

#include <QAbstractSocket>
#include <QHttpServerResponder>
#include <QHttpServerResponse>
#include <QPointer>
#include <QTcpSocket>

#include <memory>

namespace hotdesk::stubs {

// Qt 6.4's QHttpServerResponder keeps a plain pointer to the client's socket, which the server deletes when the
// client hangs up (a lock window that moved on, a cancelled sign-in): writing through it later crashed the servers.
// LaterResponder remembers the socket with a QPointer and drops the answer when the client is gone.
class LaterResponder {
public:
    explicit LaterResponder(QHttpServerResponder &&responder)
        : m_socket(responder.socket())
        , m_responder(std::move(responder))
    {
    }

    // Writes the answer, once; false (nothing written) when the client has hung up.
    bool write(const QHttpServerResponse &response)
    {
        if (m_written || !m_socket || m_socket->state() != QAbstractSocket::ConnectedState)
            return false;
        m_written = true;
        response.write(std::move(m_responder));
        return true;
    }

private:
    QPointer<QTcpSocket> m_socket;
    QHttpServerResponder m_responder;
    bool m_written = false;
};

} // namespace hotdesk::stubs

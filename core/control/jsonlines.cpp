// One JSON-lines connection: a bounded buffer, a deadline per line, replies in order.
#include "jsonlines.h"

#include <QJsonDocument>
#include <QLocalSocket>
#include <QTimer>

namespace hotdesk::control {
namespace {

// Lives as the socket's child, so it goes with it.
class JsonLineConnection : public QObject {
public:
    JsonLineConnection(QLocalSocket *socket, const JsonLineLimits &limits, JsonLineHandlers handlers)
        : QObject(socket)
        , m_socket(socket)
        , m_limits(limits)
        , m_handlers(std::move(handlers))
        , m_deadline(new QTimer(this))
    {
        connect(socket, &QLocalSocket::disconnected, socket, &QObject::deleteLater);
        m_deadline->setSingleShot(true);
        m_deadline->setInterval(m_limits.lineTimeoutMs);
        connect(m_deadline, &QTimer::timeout, this, &JsonLineConnection::timeOut);
        m_deadline->start();
        connect(socket, &QLocalSocket::readyRead, this, &JsonLineConnection::read);
        if (socket->bytesAvailable() > 0)
            read();
    }

private:
    void read()
    {
        if (m_closing)
            return;
        for (;;) {
            // Never hold more than one maximal line and its newline: a client cannot grow our memory.
            const qsizetype room = m_limits.maxLineBytes + 1 - m_buffer.size();
            if (room > 0 && m_socket->bytesAvailable() > 0)
                m_buffer += m_socket->read(room);
            const qsizetype newline = m_buffer.indexOf('\n');
            if (newline < 0) {
                if (m_buffer.size() > m_limits.maxLineBytes)
                    close(m_handlers.tooLarge);
                return;
            }
            const QByteArray line = m_buffer.left(newline);
            m_buffer.remove(0, newline + 1);
            m_deadline->start();
            const JsonLineReply reply = m_handlers.request(line);
            if (reply.close) {
                close(reply.answer);
                return;
            }
            m_socket->write(encodeJsonLine(reply.answer));
            if (reply.holdOpen)
                m_deadline->stop();
            if (m_socket->bytesToWrite() > m_limits.maxUnreadReplyBytes) {
                drop();
                return;
            }
        }
    }

    // Writes the last answer and closes once it is sent; the deadline still
    // runs, so a client that never reads it cannot keep the connection.
    void close(const QJsonObject &answer)
    {
        m_closing = true;
        m_buffer.clear();
        m_socket->write(encodeJsonLine(answer));
        m_socket->disconnectFromServer();
    }

    void timeOut()
    {
        if (!m_closing && !m_handlers.timedOut.isEmpty()) {
            m_socket->write(encodeJsonLine(m_handlers.timedOut));
            m_socket->flush(); // what fits now; the connection goes either way
        }
        drop();
    }

    void drop()
    {
        m_closing = true;
        m_socket->abort();
        m_socket->deleteLater();
    }

    QLocalSocket *m_socket;
    JsonLineLimits m_limits;
    JsonLineHandlers m_handlers;
    QTimer *m_deadline;
    QByteArray m_buffer;
    bool m_closing = false;
};

} // namespace

QByteArray encodeJsonLine(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact) + '\n';
}

void serveJsonLines(QLocalSocket *socket, const JsonLineLimits &limits, JsonLineHandlers handlers)
{
    new JsonLineConnection(socket, limits, std::move(handlers));
}

} // namespace hotdesk::control

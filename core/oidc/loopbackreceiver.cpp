// RFC 8252 loopback redirect listener.
#include "loopbackreceiver.h"

#include <QTcpSocket>
#include <QTimer>

namespace hotdesk::oidc {

namespace {
constexpr qsizetype kMaxRequestBytes = 16 * 1024;
constexpr int kSocketTimeoutMs = 10000;
} // namespace

LoopbackReceiver::LoopbackReceiver(QObject *parent)
    : QObject(parent)
    , m_title(QStringLiteral("Hotdesk"))
    , m_text(QStringLiteral("Sign-in is complete. You can close this tab and return to Hotdesk."))
{
    // One pending connection is enough; more would only be someone probing the port.
    m_server.setMaxPendingConnections(4);
    connect(&m_server, &QTcpServer::newConnection, this, &LoopbackReceiver::onConnection);
}

LoopbackReceiver::~LoopbackReceiver() = default;

Status LoopbackReceiver::listen(const QHostAddress &address)
{
    if (!address.isLoopback())
        return fail(ErrorCode::Unsupported, QStringLiteral("the redirect listener binds only to a loopback address"));
    if (!m_server.listen(address, 0))
        return fail(ErrorCode::Unreachable,
            QStringLiteral("cannot open a loopback port for the sign-in answer: %1").arg(m_server.errorString()));
    return {};
}

void LoopbackReceiver::close()
{
    m_server.close();
}

QString LoopbackReceiver::redirectUri() const
{
    const QHostAddress a = m_server.serverAddress();
    const QString host = a.protocol() == QAbstractSocket::IPv6Protocol ? QStringLiteral("[::1]") : QStringLiteral("127.0.0.1");
    return QStringLiteral("http://%1:%2/callback").arg(host).arg(port());
}

void LoopbackReceiver::setDoneMessage(const QString &title, const QString &text)
{
    m_title = title;
    m_text = text;
}

void LoopbackReceiver::onConnection()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection()) {
        socket->setParent(this);
        auto *timer = new QTimer(socket);
        timer->setSingleShot(true);
        connect(timer, &QTimer::timeout, socket, [socket] { socket->abort(); });
        timer->start(kSocketTimeoutMs);
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadable(socket); });
        if (socket->bytesAvailable() > 0)
            onReadable(socket);
    }
}

void LoopbackReceiver::answer(QTcpSocket *socket, int status, const QByteArray &reason, const QByteArray &html)
{
    QByteArray response = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason + "\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "Cache-Control: no-store\r\n"
        "Referrer-Policy: no-referrer\r\n"
        "Content-Security-Policy: default-src 'none'\r\n"
        "Connection: close\r\n"
        "Content-Length: " + QByteArray::number(html.size()) + "\r\n\r\n" + html;
    socket->write(response);
    socket->disconnectFromHost();
}

void LoopbackReceiver::onReadable(QTcpSocket *socket)
{
    if (socket->property("answered").toBool())
        return;
    QByteArray buffer = socket->property("buffer").toByteArray() + socket->readAll();
    if (buffer.size() > kMaxRequestBytes) {
        socket->setProperty("answered", true);
        answer(socket, 431, "Request Header Fields Too Large", {});
        return;
    }
    socket->setProperty("buffer", buffer);
    // The request line and headers are all that matters; the response comes in the query.
    if (!buffer.contains("\r\n\r\n"))
        return;
    socket->setProperty("answered", true);
    const QByteArray requestLine = buffer.left(buffer.indexOf("\r\n"));
    const QList<QByteArray> parts = requestLine.split(' ');
    if (parts.size() != 3 || !parts[2].startsWith("HTTP/1.")) {
        answer(socket, 400, "Bad Request", {});
        return;
    }
    if (parts[0] != "GET") {
        answer(socket, 405, "Method Not Allowed", {});
        return;
    }
    const QByteArray target = parts[1];
    const QUrl relative = QUrl::fromEncoded(target, QUrl::StrictMode);
    if (!relative.isValid() || relative.path() != QLatin1String("/callback") || !relative.isRelative()) {
        answer(socket, 404, "Not Found", {});
        return;
    }
    if (m_done) {
        answer(socket, 410, "Gone", "<!doctype html><title>Hotdesk</title><p>This sign-in has already finished.</p>");
        return;
    }
    m_done = true;
    QUrl redirect = QUrl(redirectUri()).resolved(relative);
    const QByteArray page = "<!doctype html><meta charset=\"utf-8\"><title>" + m_title.toHtmlEscaped().toUtf8()
        + "</title><p>" + m_text.toHtmlEscaped().toUtf8() + "</p>";
    answer(socket, 200, "OK", page);
    // The listener has done its job: nobody else gets to talk to it.
    m_server.close();
    Q_EMIT received(redirect);
}

} // namespace hotdesk::oidc

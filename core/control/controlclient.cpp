// The control socket's client side: connect, send one line, read one line, with timeouts.
#include "controlclient.h"

#include "../jose/strictjson.h"

#include <QJsonDocument>
#include <QLocalSocket>
#include <QPointer>
#include <QTimer>

#include <memory>

namespace hotdesk::control {

void sendControlCommand(const QString &serverName, const QString &command, QObject *context,
    std::function<void(Result<QJsonObject>)> done, int connectTimeoutMs, int answerTimeoutMs)
{
    auto *socket = new QLocalSocket(context);
    auto *timer = new QTimer(socket);
    timer->setSingleShot(true);
    // finish() runs at most once; the socket goes with it.
    auto callback = std::make_shared<std::function<void(Result<QJsonObject>)>>(std::move(done));
    auto finish = [socket, callback](Result<QJsonObject> result) {
        if (!*callback)
            return;
        auto cb = std::move(*callback);
        *callback = nullptr;
        socket->disconnect();
        socket->abort();
        socket->deleteLater();
        cb(std::move(result));
    };
    const auto notRunning = [serverName] {
        return fail(ErrorCode::Unreachable,
            QStringLiteral("the Hotdesk agent is not running (nothing answers on %1); start it with 'hotdesk' "
                           "or sign in to the desktop again")
                .arg(serverName));
    };

    QObject::connect(timer, &QTimer::timeout, socket, [socket, finish, notRunning, answerTimeoutMs] {
        if (socket->state() != QLocalSocket::ConnectedState)
            finish(notRunning());
        else
            finish(fail(ErrorCode::Timeout,
                QStringLiteral("the Hotdesk agent did not answer within %1 s; it may be busy or hung, try again or restart it")
                    .arg(answerTimeoutMs / 1000)));
    });
    QObject::connect(socket, &QLocalSocket::errorOccurred, socket, [finish, notRunning](QLocalSocket::LocalSocketError error) {
        if (error == QLocalSocket::PeerClosedError)
            return; // handled by readyRead/disconnected: the answer may still be buffered
        finish(notRunning());
    });
    QObject::connect(socket, &QLocalSocket::connected, socket, [socket, timer, command, answerTimeoutMs] {
        timer->start(answerTimeoutMs);
        socket->write(QJsonDocument(QJsonObject {{QStringLiteral("command"), command}}).toJson(QJsonDocument::Compact)
            + '\n');
    });
    const auto tryAnswer = [socket, finish](bool closed) {
        if (!socket->canReadLine()) {
            if (closed)
                finish(fail(ErrorCode::MalformedAnswer,
                    QStringLiteral("the Hotdesk agent closed the connection without an answer; restart it")));
            else if (socket->bytesAvailable() > 64 * 1024)
                finish(fail(ErrorCode::MalformedAnswer, QStringLiteral("the Hotdesk agent's answer is too long")));
            return;
        }
        const QByteArray line = socket->readLine().trimmed();
        auto object = jose::parseStrictJsonObject(line);
        if (!object)
            finish(fail(ErrorCode::MalformedAnswer,
                QStringLiteral("the Hotdesk agent's answer is not a JSON object (%1); is it the same version as this command?")
                    .arg(object.error().message)));
        else
            finish(*object);
    };
    QObject::connect(socket, &QLocalSocket::readyRead, socket, [tryAnswer] { tryAnswer(false); });
    QObject::connect(socket, &QLocalSocket::disconnected, socket, [tryAnswer] { tryAnswer(true); });

    timer->start(connectTimeoutMs);
    // Connecting can fail at once; done must still run from the event loop, never inside this call.
    QTimer::singleShot(0, socket, [socket, serverName] { socket->connectToServer(serverName); });
}

} // namespace hotdesk::control

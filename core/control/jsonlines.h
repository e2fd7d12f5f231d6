// The framing shared by Hotdesk's local sockets: one JSON object per line each way, bounded and timed.
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonObject>

#include <functional>

class QLocalSocket;

namespace hotdesk::control {

struct JsonLineLimits {
    // Longest request line accepted, newline excluded.
    qsizetype maxLineBytes = 4096;
    // A connection must complete a line within this time of connecting or of its
    // previous line, or it is closed: a silent client, and one that trickles a
    // line byte by byte, cannot hold a connection.
    int lineTimeoutMs = 10000;
    // Replies a client leaves unread beyond this: it is dropped rather than
    // letting it grow the server's memory.
    qsizetype maxUnreadReplyBytes = 1024 * 1024;
};

struct JsonLineReply {
    QJsonObject answer;
    bool close = false; // close the connection once the answer is written
    // The server works on for this client and will write to it (or close it) itself: no line
    // deadline until the client's next line.
    bool holdOpen = false;
};

struct JsonLineHandlers {
    // Answers one complete line (newline removed).
    std::function<JsonLineReply(QByteArrayView line)> request;
    // Written before closing a connection whose line went over the limit.
    QJsonObject tooLarge;
    // Written before closing a connection that timed out; none when empty.
    QJsonObject timedOut;
};

// The object as one compact line, newline included.
QByteArray encodeJsonLine(const QJsonObject &object);

// Serves one accepted connection until it closes, then deletes the socket.
// Lines are answered in order; after a reply that closes, nothing more is read.
void serveJsonLines(QLocalSocket *socket, const JsonLineLimits &limits, JsonLineHandlers handlers);

} // namespace hotdesk::control

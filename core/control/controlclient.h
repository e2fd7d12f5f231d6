// Asking the running agent over its control socket (the client half of `hotdesk status` / `hotdesk reauth`).
#pragma once

#include "../result.h"

#include <QJsonObject>
#include <QString>

#include <functional>

class QObject;

namespace hotdesk::control {

// Sends {"command": command} to the agent listening on serverName and calls
// done exactly once, from the event loop, with its answer object: an answer
// with "ok":false is returned as it is, for the caller to explain. Errors:
// Unreachable (no agent listening, or no connection within connectTimeoutMs),
// Timeout (connected, but no answer line in time), MalformedAnswer.
// context: when it is destroyed first, done is never called.
void sendControlCommand(const QString &serverName, const QString &command, QObject *context,
    std::function<void(Result<QJsonObject>)> done, int connectTimeoutMs = 2000, int answerTimeoutMs = 5000);

} // namespace hotdesk::control

// What a person reads for a message of hotdeskd: the agent's own translation where it knows the message.
#pragma once

#include <QJsonObject>
#include <QString>

namespace hotdesk::agent {

// The sentence for a line of hotdeskd (a reply or an event) that carries a message for people
// (docs/hotdeskd-protocol.md, "Messages for people"): for a "message_id" this agent knows, its
// translation with "message_args"; else for an "error" code it knows, its own sentence; else the
// daemon's English "message", as it is.
QString daemonTextForPeople(const QJsonObject &line);

} // namespace hotdesk::agent

// hotdeskd's "health" command: what any client may know of the daemon's enrollment, policy and event queue.
#pragma once

#include <QJsonObject>
#include <QString>

#include <functional>

namespace hotdesk::policy {
class PolicyStore;
}
namespace hotdesk::store {
class EventQueue;
}

namespace hotdesk::daemon {

class DaemonServer;

struct HealthSources {
    QString stateDir; // enrollments.json (store::AgentState)
    QString policyFile;
    std::function<const policy::PolicyStore *()> policy; // null until the policy was first read
    store::EventQueue *queue = nullptr;
};

// The reply to "health" (docs/hotdeskd-protocol.md, "Health"): nothing secret and nothing about any user, so
// every uid may ask. The DAS event queue's length only for root: its growth could tell a user of another user's
// failures.
QJsonObject healthReply(const HealthSources &sources, bool forRoot);
void serveHealth(DaemonServer &server, HealthSources sources);

} // namespace hotdesk::daemon

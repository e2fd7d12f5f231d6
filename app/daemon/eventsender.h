// hotdeskd's events for the administrator: queued on disk (store::EventQueue) and posted to the DAS with the device key.
#pragma once

#include "core/clock.h"
#include "core/policy/serverpolicy.h"
#include "core/random.h"
#include "core/result.h"
#include "core/store/eventqueue.h"

#include <QObject>
#include <QString>

#include <functional>
#include <memory>
#include <optional>

namespace hotdesk::das {
class DasClient;
}
namespace hotdesk::net {
class HttpClient;
}
namespace hotdesk::store {
class AgentState;
class FileSecretStore;
} // namespace hotdesk::store

namespace hotdesk::daemon {

// The queue's delivery: each event goes to POST /v1/events of the policy's DAS
// (das::DasClient::deliverEvent), signed with the device key that "hotdesk
// enroll --system" left in the state directory (enrollments.json, secrets/).
// The policy's servers (CA bundle, proxy, timeouts) and the key are read when
// the first event is sent, and again after any attempt that was not
// acknowledged and whenever the policy names other servers: a PC enrolled or a
// policy changed since counts at the next attempt, without a restart.
//
// What cannot be sent now waits in the queue and is tried again after its
// backoff (store::EventQueue): no usable policy, no enrollment, no key, the
// DAS not reachable, the DAS busy. It is audited once as admin_notify_delayed
// with the reason (no_policy, not_enrolled, network_error, ...); again only
// when the reason changes or after an event got through. Only the DAS refusing
// an event puts it aside (the queue's dead letters, audited by the queue).
class EventSender : public QObject {
    Q_OBJECT
public:
    // The servers of the policy in force; nullopt without a usable policy.
    using ServersSource = std::function<std::optional<policy::ServerSettings>()>;

    EventSender(store::EventQueue &queue, QString stateDir, ServersSource servers, const Clock &clock, store::AuditSink audit,
        QObject *parent = nullptr);
    ~EventSender() override;

    // Gives the queue its delivery: what is due is sent from now on.
    void start();
    // A policy::NotifyAdmin decision of a session, queued on disk before this
    // returns: {"type", "user", "detail"}, where detail also names the session
    // and when it happened (the DAS dates an event when it receives it). A
    // failure is audited (admin_notify_failed, reason not_queued) and returned.
    Status enqueue(const QString &type, const QString &user, const QString &session, const QString &detail);

    // The body the DAS gets for such an event.
    static QJsonObject dasEvent(const QString &type, const QString &user, const QString &session, const QString &detail,
        std::chrono::system_clock::time_point when);

private:
    void deliver(const store::QueuedEvent &event, store::DeliveryDone done);
    // Builds the HTTP and DAS clients for these servers, then sends.
    void connectAndSend(const policy::ServerSettings &servers, const QJsonObject &body, store::DeliveryDone done);
    void send(const QJsonObject &body, store::DeliveryDone done);
    // The event stays queued: audited once per reason; done(RetryLater).
    void wait(const QString &reason, const QString &message, const store::DeliveryDone &done);
    void dropClients();

    store::EventQueue &m_queue;
    QString m_stateDir;
    ServersSource m_servers;
    const Clock &m_clock;
    OpenSslRandom m_random;
    store::AuditSink m_audit;
    std::unique_ptr<store::AgentState> m_state;
    std::unique_ptr<store::FileSecretStore> m_secrets;
    std::unique_ptr<net::HttpClient> m_http;
    std::unique_ptr<das::DasClient> m_das; // uses m_http
    std::optional<policy::ServerSettings> m_connectedTo; // the servers m_das was built for
    QString m_delayedReason; // the reason last audited as admin_notify_delayed; empty after a delivery
};

} // namespace hotdesk::daemon

// hotdeskd's events for the administrator: the event queue's delivery through das::DasClient with the daemon's device key.
#include "eventsender.h"

#include "core/das/dasclient.h"
#include "core/das/enroller.h"
#include "core/net/httpclient.h"
#include "core/net/proxy.h"
#include "core/store/agentstate.h"
#include "core/store/filesecretstore.h"

#include <QDateTime>
#include <QPointer>

namespace hotdesk::daemon {
namespace {

// The parts of the servers the clients are built from.
bool sameServers(const policy::ServerSettings &a, const policy::ServerSettings &b)
{
    return a.dasUrls == b.dasUrls && a.caBundle == b.caBundle && a.proxy == b.proxy && a.connectTimeout == b.connectTimeout
        && a.responseTimeout == b.responseTimeout;
}

// Why an attempt the DAS did not acknowledge is retried, as a stable reason.
QString retryReason(const store::DeliveryResult &result)
{
    if (result.httpStatus == 0)
        return QStringLiteral("network_error");
    return QStringLiteral("das_http_%1").arg(result.httpStatus);
}

} // namespace

EventSender::EventSender(store::EventQueue &queue, QString stateDir, ServersSource servers, const Clock &clock,
    store::AuditSink audit, QObject *parent)
    : QObject(parent)
    , m_queue(queue)
    , m_stateDir(std::move(stateDir))
    , m_servers(std::move(servers))
    , m_clock(clock)
    , m_audit(std::move(audit))
    , m_state(std::make_unique<store::AgentState>(m_stateDir))
    , m_secrets(std::make_unique<store::FileSecretStore>(store::daemonSecretDirectory(m_stateDir)))
{
}

EventSender::~EventSender()
{
    // The queue outlives this object: it must not call into it any more.
    m_queue.setDelivery({});
    m_das.reset();
    m_http.reset();
}

void EventSender::start()
{
    m_queue.setDelivery([this](const store::QueuedEvent &event, store::DeliveryDone done) { deliver(event, std::move(done)); });
}

QJsonObject EventSender::dasEvent(const QString &type, const QString &user, const QString &session, const QString &detail,
    std::chrono::system_clock::time_point when)
{
    const qint64 ms = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
    const QString at = QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODate);
    QString text = session.isEmpty() ? QStringLiteral("at %1").arg(at) : QStringLiteral("session %1 at %2").arg(session, at);
    if (!detail.isEmpty())
        text += QStringLiteral(": ") + detail;
    QJsonObject body {{QStringLiteral("type"), type}, {QStringLiteral("detail"), text}};
    if (!user.isEmpty())
        body.insert(QStringLiteral("user"), user);
    return body;
}

Status EventSender::enqueue(const QString &type, const QString &user, const QString &session, const QString &detail)
{
    const auto queued = m_queue.enqueue(dasEvent(type, user, session, detail, m_clock.now()));
    if (queued)
        return {};
    QJsonObject extra {{QStringLiteral("das_event"), type}, {QStringLiteral("detail"), queued.error().message}};
    if (!session.isEmpty())
        extra.insert(QStringLiteral("session"), session);
    if (m_audit)
        m_audit({QStringLiteral("admin_notify_failed"), user, QStringLiteral("not_queued"), {}, extra});
    return tl::unexpected(queued.error());
}

void EventSender::deliver(const store::QueuedEvent &event, store::DeliveryDone done)
{
    const auto servers = m_servers ? m_servers() : std::nullopt;
    if (!servers) {
        wait(QStringLiteral("no_policy"), QStringLiteral("there is no usable policy that names the DAS"), done);
        return;
    }
    if (m_das && m_connectedTo && sameServers(*m_connectedTo, *servers)) {
        send(event.body, std::move(done));
        return;
    }
    connectAndSend(*servers, event.body, std::move(done));
}

void EventSender::connectAndSend(const policy::ServerSettings &servers, const QJsonObject &body, store::DeliveryDone done)
{
    dropClients();
    net::TlsTrust trust;
    if (!servers.caBundle.isEmpty()) {
        auto bundle = net::TlsTrust::fromBundle(servers.caBundle);
        if (!bundle) {
            wait(QStringLiteral("ca_bundle"), bundle.error().message, done);
            return;
        }
        trust = *bundle;
    }
    auto proxy = net::ProxySetting::parse(servers.proxy);
    if (!proxy) {
        wait(QStringLiteral("proxy"), proxy.error().message, done);
        return;
    }
    m_http = std::make_unique<net::HttpClient>(trust, net::Timeouts {servers.connectTimeout, servers.responseTimeout});
    m_http->setProxy(*proxy);
    // Read for each connection: an enrollment made since the last attempt counts at once.
    QPointer<EventSender> self(this);
    das::loadCredential(*m_secrets, *m_state, servers.dasUrls, [self, servers, body, done](Result<das::LoadedCredential> loaded) {
        if (!self || !self->m_http) {
            done(store::DeliveryResult {store::DeliveryResult::Outcome::RetryLater, 0, QStringLiteral("stopping"), {}});
            return;
        }
        if (!loaded) {
            // not_enrolled until "hotdesk enroll --system" has run: the event waits for it.
            self->wait(loaded.error().codeName(), loaded.error().message, done);
            return;
        }
        self->m_das
            = std::make_unique<das::DasClient>(*self->m_http, servers.dasUrls, loaded->credential, self->m_clock, self->m_random);
        self->m_connectedTo = servers;
        self->send(body, done);
    });
}

void EventSender::send(const QJsonObject &body, store::DeliveryDone done)
{
    QPointer<EventSender> self(this);
    m_das->deliverEvent(body, [self, done](const store::DeliveryResult &result) {
        if (self) {
            if (result.outcome == store::DeliveryResult::Outcome::Acknowledged) {
                self->m_delayedReason.clear();
            } else {
                // Built again for the next attempt: the key, the policy or the enrollment may have changed.
                self->m_connectedTo.reset();
                if (result.outcome == store::DeliveryResult::Outcome::RetryLater)
                    self->wait(retryReason(result), result.message, {});
            }
        }
        done(result);
    });
}

void EventSender::wait(const QString &reason, const QString &message, const store::DeliveryDone &done)
{
    if (reason != m_delayedReason) {
        m_delayedReason = reason;
        if (m_audit)
            m_audit({QStringLiteral("admin_notify_delayed"), {}, reason, {}, {{QStringLiteral("detail"), message}}});
    }
    if (done)
        done(store::DeliveryResult {store::DeliveryResult::Outcome::RetryLater, 0, message, {}});
}

void EventSender::dropClients()
{
    m_connectedTo.reset();
    // Not deleted here: this may run inside one of their callbacks.
    if (m_das)
        m_das.release()->deleteLater();
    if (m_http)
        m_http.release()->deleteLater();
}

} // namespace hotdesk::daemon

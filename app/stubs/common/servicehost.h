// Hosts companion server roles in one process: the store, the local CA, the shared context and endpoints.json.
#pragma once

#include "httpservice.h"
#include "localca.h"
#include "store.h"
#include "stubsconfig.h"
#include "walcheckpointer.h"

#include <QHostAddress>
#include <QStringList>

#include <memory>
#include <optional>
#include <vector>

namespace hotdesk::stubs {

// What every role of one process shares; the command line's names are in brackets.
struct HostOptions {
    QString dataDir;
    quint16 portBase = 0; // 0: any free ports
    const Clock *clock = nullptr; // nullptr: the system clock
    std::optional<std::chrono::milliseconds> autoApprove; // see StubsContext
    std::chrono::seconds cibaInterval {5}; // --ciba-interval; see StubsContext
    QString issuer; // --issuer: see StubsContext; empty: the in-process IdP
    QString clientId; // --client-id; empty: StubsContext's default
    QStringList faults; // --fault; see StubsContext
    QString database; // --db: a postgres:// URL; empty: see openStore
    QString dasPublicUrl; // --public-url; see StubsContext
    std::optional<SmtpSettings> smtp; // --smtp; see StubsContext
    // A split deployment across hosts: where this process listens, the name
    // other hosts reach it by (put into the server certificate and the URLs it
    // publishes), and the URLs of roles that run elsewhere.
    QHostAddress listenAddress {QHostAddress::LocalHost}; // --listen
    QString hostName; // --hostname; empty: the listen address
    Endpoints peers; // --peer ROLE=URL; empty URLs: found in DIR/endpoints.json
};

// The port of a role with --port-base N: das N, idp N+1, push N+2, enterprise N+3.
int portOffset(QStringView role);

// The roles of one process on one data directory. open() opens the store and
// the CA and fills the context; the caller adds each role, created on
// context(), then start() makes them listen, prepare and publish themselves.
class ServiceHost {
public:
    static Result<std::unique_ptr<ServiceHost>> open(const HostOptions &options);
    ~ServiceHost();

    // A role of this process, made on context(); start() runs the roles in the order added.
    template <class Service> Service *add()
    {
        auto service = std::make_unique<Service>(m_context);
        Service *added = service.get();
        m_services.push_back(std::move(service));
        return added;
    }
    // The role of type Service on this host; nullptr when it runs none.
    template <class Service> Service *find() const
    {
        for (const auto &service : m_services) {
            if (auto *found = dynamic_cast<Service *>(service.get()))
                return found;
        }
        return nullptr;
    }
    // Every role listens, then each prepares (tables, keys) knowing the
    // others' addresses, then DIR/endpoints.json names them. The event loop
    // has not run yet, so no request is served before every role is ready.
    Status start();
    bool runs(QStringView role) const;

    const Endpoints &endpoints() const { return m_context.endpoints; }
    QString caFile() const { return m_ca.caFile(); }
    StubsContext &context() { return m_context; }
    const StubsContext &context() const { return m_context; }
    // SQLite's WAL checkpoints, off the serving thread; null on PostgreSQL.
    const WalCheckpointer *checkpointer() const { return m_checkpointer.get(); }

    // "das https://127.0.0.1:PORT" ... "ca DIR/ca.pem", one line per role.
    QStringList summaryLines() const;

private:
    explicit ServiceHost(const HostOptions &options);
    Status openStore();
    void findPeers();
    Status writeEndpoints() const;

    HostOptions m_options;
    SystemClock m_systemClock;
    LocalCa m_ca;
    std::optional<Store> m_store;
    std::unique_ptr<WalCheckpointer> m_checkpointer; // SQLite only
    StubsContext m_context;
    std::vector<std::unique_ptr<HttpService>> m_services;
};

// Opens the store of a data directory: database is a postgres:// URL (--db),
// or empty for $HOTDESK_STUBS_DB, or when that is unset too, DIR/stubs.db.
Result<Store> openStore(const QString &dataDir, const QString &database, const QString &connectionName);

// Writes object to path atomically.
Status saveJson(const QString &path, const QJsonObject &object);

} // namespace hotdesk::stubs

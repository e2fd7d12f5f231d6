// Starts the companion server roles of one data directory in this process.
#pragma once

#include "../common/localca.h"
#include "../common/store.h"
#include "../common/stubsconfig.h"
#include "../common/walcheckpointer.h"
#include "../das/dasservice.h"
#include "../enterprise/enterpriseservice.h"
#include "../idp/idpservice.h"
#include "../push/pushservice.h"

#include <QHostAddress>
#include <QStringList>

#include <memory>
#include <optional>

namespace hotdesk::stubs::cli {

struct StubsOptions {
    QString dataDir;
    QStringList roles{QStringLiteral("das"), QStringLiteral("idp"), QStringLiteral("push"), QStringLiteral("enterprise")};
    quint16 portBase = 0; // 0: any free ports
    const Clock *clock = nullptr; // nullptr: the system clock
    std::optional<std::chrono::milliseconds> autoApprove; // see StubsContext
    QString issuer;   // --issuer: see StubsContext; empty: the in-process IdP
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
    Endpoints peers;  // --peer ROLE=URL; empty URLs: found in DIR/endpoints.json
};

class StubsServer {
public:
    static Result<std::unique_ptr<StubsServer>> start(const StubsOptions &options);
    ~StubsServer();

    const Endpoints &endpoints() const { return m_context.endpoints; }
    QString caFile() const { return m_ca.caFile(); }
    QString agentPolicyFile() const;
    idp::IdpService *idp() const { return m_idp.get(); }
    das::DasService *das() const { return m_das.get(); }
    push::PushService *push() const { return m_push.get(); }
    enterprise::EnterpriseService *enterprise() const { return m_enterprise.get(); }
    StubsContext &context() { return m_context; }
    // SQLite's WAL checkpoints, off the serving thread; null on PostgreSQL.
    const WalCheckpointer *checkpointer() const { return m_checkpointer.get(); }

    // "das https://127.0.0.1:PORT" ... "ca DIR/ca.pem", one line per role.
    QStringList summaryLines() const;
    // DAS_URL=..., IDP_URL=..., ... for scripts.
    QStringList environmentLines() const;

private:
    StubsServer() = default;
    Status writeAgentPolicy();
    Status writeEndpoints() const;

    SystemClock m_systemClock;
    LocalCa m_ca;
    std::optional<Store> m_store;
    std::unique_ptr<WalCheckpointer> m_checkpointer; // SQLite only
    StubsContext m_context;
    std::unique_ptr<das::DasService> m_das;
    std::unique_ptr<idp::IdpService> m_idp;
    std::unique_ptr<push::PushService> m_push;
    std::unique_ptr<enterprise::EnterpriseService> m_enterprise;
};

// Opens the store of a data directory: database is a postgres:// URL (--db),
// or empty for $HOTDESK_STUBS_DB, or when that is unset too, DIR/stubs.db.
Result<Store> openStore(const QString &dataDir, const QString &database, const QString &connectionName);

} // namespace hotdesk::stubs::cli

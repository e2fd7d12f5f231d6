// Starts the companion server roles of one data directory in this process, chosen by name.
#pragma once

#include "../common/servicehost.h"
#include "../das/dasservice.h"
#include "../enterprise/enterpriseservice.h"
#include "../idp/idpservice.h"
#include "../push/pushservice.h"

#include <QStringList>

#include <memory>

namespace hotdesk::stubs::cli {

struct StubsOptions : HostOptions {
    QStringList roles {QStringLiteral("das"), QStringLiteral("idp"), QStringLiteral("push"), QStringLiteral("enterprise")};
};

// The roles named in StubsOptions::roles on a ServiceHost, and the agent's policy for them.
class StubsServer {
public:
    static Result<std::unique_ptr<StubsServer>> start(const StubsOptions &options);
    ~StubsServer();

    const Endpoints &endpoints() const { return m_host->endpoints(); }
    QString caFile() const { return m_host->caFile(); }
    QString agentPolicyFile() const;
    idp::IdpService *idp() const { return m_idp; }
    das::DasService *das() const { return m_das; }
    push::PushService *push() const { return m_push; }
    enterprise::EnterpriseService *enterprise() const { return m_enterprise; }
    StubsContext &context() { return m_host->context(); }
    // SQLite's WAL checkpoints, off the serving thread; null on PostgreSQL.
    const WalCheckpointer *checkpointer() const { return m_host->checkpointer(); }

    // "das https://127.0.0.1:PORT" ... "ca DIR/ca.pem", one line per role.
    QStringList summaryLines() const { return m_host->summaryLines(); }
    // DAS_URL=..., IDP_URL=..., ... for scripts.
    QStringList environmentLines() const;

private:
    explicit StubsServer(std::unique_ptr<ServiceHost> host);
    Status writeAgentPolicy();

    std::unique_ptr<ServiceHost> m_host;
    // The roles of this process, owned by m_host; null for the others.
    das::DasService *m_das = nullptr;
    idp::IdpService *m_idp = nullptr;
    push::PushService *m_push = nullptr;
    enterprise::EnterpriseService *m_enterprise = nullptr;
};

} // namespace hotdesk::stubs::cli

// The roles of one hotdesk-stubs process by name, and the agent's policy for them.
#include "stubsserver.h"

#include <QDir>
#include <QJsonArray>

namespace hotdesk::stubs::cli {

StubsServer::StubsServer(std::unique_ptr<ServiceHost> host)
    : m_host(std::move(host))
{
}

StubsServer::~StubsServer() = default;

Result<std::unique_ptr<StubsServer>> StubsServer::start(const StubsOptions &options)
{
    auto host = ServiceHost::open(options);
    if (!host)
        return tl::unexpected(host.error());
    std::unique_ptr<StubsServer> s(new StubsServer(std::move(*host)));
    const QStringList &roles = options.roles;
    if (roles.contains(QLatin1String("das")))
        s->m_das = s->m_host->add<das::DasService>();
    if (roles.contains(QLatin1String("idp")))
        s->m_idp = s->m_host->add<idp::IdpService>();
    if (roles.contains(QLatin1String("push")))
        s->m_push = s->m_host->add<push::PushService>();
    if (roles.contains(QLatin1String("enterprise")))
        s->m_enterprise = s->m_host->add<enterprise::EnterpriseService>();
    if (auto ok = s->m_host->start(); !ok)
        return tl::unexpected(ok.error());
    if (auto ok = s->writeAgentPolicy(); !ok)
        return tl::unexpected(ok.error());
    return s;
}

QString StubsServer::agentPolicyFile() const
{
    return QDir(m_host->context().dataDir).filePath(QStringLiteral("agent-policy.json"));
}

QStringList StubsServer::environmentLines() const
{
    const Endpoints &e = m_host->endpoints();
    return {QStringLiteral("DAS_URL=%1").arg(e.das.toString()),
        QStringLiteral("IDP_URL=%1").arg(m_idp ? m_idp->issuer() : QString()),
        QStringLiteral("PUSH_URL=%1").arg(e.push.toString()), QStringLiteral("ENTERPRISE_URL=%1").arg(e.enterprise.toString()),
        QStringLiteral("CA_FILE=%1").arg(m_host->caFile()), QStringLiteral("AGENT_POLICY=%1").arg(agentPolicyFile())};
}

Status StubsServer::writeAgentPolicy()
{
    // The agent's policy for this deployment (format: resources/policy.schema.json,
    // docs/policy.md; tst_policyvalidator checks that it validates).
    const StubsContext &context = m_host->context();
    const Endpoints &e = context.endpoints;
    // With --issuer the DAS writes request objects for that provider, so the
    // agent must expect its tokens, not the in-process IdP's.
    // An IdP of this deployment on another process or host is its URL from endpoints.json or --peer.
    QString idpIssuer = !context.issuer.isEmpty() ? context.issuer
        : m_idp                                   ? m_idp->issuer()
                                                  : e.idp.toString(QUrl::FullyEncoded | QUrl::StripTrailingSlash);
    QJsonObject servers {
        {QStringLiteral("das"), QJsonArray {e.das.toString()}},
        {QStringLiteral("idp_issuer"), idpIssuer},
        {QStringLiteral("client_id"), context.clientId},
        {QStringLiteral("ca_bundle"), m_host->caFile()},
        {QStringLiteral("connect_timeout"), QStringLiteral("PT5S")},
        {QStringLiteral("response_timeout"), QStringLiteral("PT15S")},
    };
    // The gateway "hotdesk open" may send access tokens to (flow 5), when this process runs it.
    if (m_enterprise && e.enterprise.isValid())
        servers.insert(QStringLiteral("gateways"), QJsonArray{e.enterprise.adjusted(QUrl::RemovePath).toString()});
    // The activation keys an administrator pins (flow 3), when this process runs the DAS.
    if (m_das) {
        auto keys = m_das->activationKeys().publishedKeys();
        if (!keys)
            return tl::unexpected(keys.error());
        servers.insert(QStringLiteral("das_activation_keys"), keys->toPublicJson());
    }
    // Triggers a demonstration shows quickly; an administrator's own policy chooses.
    const QJsonObject triggers {
        {QStringLiteral("idle"), QStringLiteral("PT15M")},
        {QStringLiteral("on_unlock"), true},
    };
    const QJsonObject policy {
        {QStringLiteral("version"), 1},
        {QStringLiteral("servers"), servers},
        {QStringLiteral("triggers"), triggers},
    };
    return saveJson(agentPolicyFile(), policy);
}

} // namespace hotdesk::stubs::cli

// Wiring of the companion server roles.
#include "stubsserver.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>
#include <QUuid>

namespace hotdesk::stubs {

Result<Store> openStore(const QString &dataDir, const QString &connectionName)
{
    if (!QDir().mkpath(dataDir))
        return fail(ErrorCode::Io, QStringLiteral("cannot create the data directory %1").arg(dataDir));
    return Store::open(QDir(dataDir).filePath(QStringLiteral("stubs.db")), connectionName);
}

Result<std::unique_ptr<StubsServer>> StubsServer::start(const StubsOptions &options)
{
    std::unique_ptr<StubsServer> s(new StubsServer);
    auto store = openStore(options.dataDir, QStringLiteral("stubs-") + QUuid::createUuid().toString(QUuid::WithoutBraces));
    if (!store)
        return tl::unexpected(store.error());
    s->m_store.emplace(std::move(*store));
    auto ca = LocalCa::loadOrCreate(options.dataDir);
    if (!ca)
        return tl::unexpected(ca.error());
    s->m_ca = *ca;
    s->m_context.dataDir = options.dataDir;
    s->m_context.store = &*s->m_store;
    s->m_context.ca = &s->m_ca;
    s->m_context.clock = options.clock ? options.clock : &s->m_systemClock;

    auto port = [&](int offset) { return options.portBase == 0 ? quint16(0) : quint16(options.portBase + offset); };
    auto listen = [&](HttpService &service, int offset, QUrl &url) -> Status {
        auto bound = service.listen(s->m_ca, QHostAddress::LocalHost, port(offset));
        if (!bound)
            return tl::unexpected(bound.error());
        url = service.baseUrl();
        return {};
    };
    // Roles not implemented yet still listen, so the addresses are stable for scripts;
    // they answer every request with a problem document.
    if (options.roles.contains(QLatin1String("das"))) {
        s->m_das = std::make_unique<HttpService>(QStringLiteral("das"));
        if (auto ok = listen(*s->m_das, 0, s->m_context.endpoints.das); !ok)
            return tl::unexpected(ok.error());
    }
    if (options.roles.contains(QLatin1String("idp"))) {
        s->m_idp = std::make_unique<IdpService>(s->m_context);
        if (auto ok = listen(*s->m_idp, 1, s->m_context.endpoints.idp); !ok)
            return tl::unexpected(ok.error());
        // Make the signing key now, not on the first request.
        if (auto key = s->m_idp->keyring().currentKey(); !key)
            return tl::unexpected(key.error());
    }
    if (options.roles.contains(QLatin1String("push"))) {
        s->m_push = std::make_unique<HttpService>(QStringLiteral("push"));
        if (auto ok = listen(*s->m_push, 2, s->m_context.endpoints.push); !ok)
            return tl::unexpected(ok.error());
    }
    if (options.roles.contains(QLatin1String("enterprise"))) {
        s->m_enterprise = std::make_unique<HttpService>(QStringLiteral("enterprise"));
        if (auto ok = listen(*s->m_enterprise, 3, s->m_context.endpoints.enterprise); !ok)
            return tl::unexpected(ok.error());
    }
    if (auto ok = s->writeAgentPolicy(); !ok)
        return tl::unexpected(ok.error());
    return s;
}

StubsServer::~StubsServer() = default;

QString StubsServer::agentPolicyFile() const
{
    return QDir(m_context.dataDir).filePath(QStringLiteral("agent-policy.json"));
}

QStringList StubsServer::summaryLines() const
{
    QStringList lines;
    const Endpoints &e = m_context.endpoints;
    for (const auto &[name, url] : {std::pair{"das", e.das}, std::pair{"idp", e.idp}, std::pair{"push", e.push},
                                    std::pair{"enterprise", e.enterprise}}) {
        if (url.isValid())
            lines << QStringLiteral("%1 %2").arg(QLatin1String(name), url.toString());
    }
    lines << QStringLiteral("ca %1").arg(m_ca.caFile());
    return lines;
}

QStringList StubsServer::environmentLines() const
{
    const Endpoints &e = m_context.endpoints;
    return {QStringLiteral("DAS_URL=%1").arg(e.das.toString()),
            QStringLiteral("IDP_URL=%1").arg(m_idp ? m_idp->issuer() : QString()),
            QStringLiteral("PUSH_URL=%1").arg(e.push.toString()),
            QStringLiteral("ENTERPRISE_URL=%1").arg(e.enterprise.toString()),
            QStringLiteral("CA_FILE=%1").arg(m_ca.caFile()),
            QStringLiteral("AGENT_POLICY=%1").arg(agentPolicyFile())};
}

Status StubsServer::writeAgentPolicy() const
{
    // The agent's policy for this deployment (format: docs/stubs.md until the
    // policy schema of the tray agent replaces it).
    const Endpoints &e = m_context.endpoints;
    QJsonObject servers{
        {QStringLiteral("das"), QJsonArray{e.das.toString()}},
        {QStringLiteral("idp_issuer"), m_idp ? m_idp->issuer() : QString()},
        {QStringLiteral("client_id"), m_context.clientId},
        {QStringLiteral("ca_bundle"), m_ca.caFile()},
        {QStringLiteral("connect_timeout"), QStringLiteral("PT5S")},
        {QStringLiteral("response_timeout"), QStringLiteral("PT15S")},
    };
    const QJsonObject policy{{QStringLiteral("version"), 1}, {QStringLiteral("servers"), servers}};
    QSaveFile file(agentPolicyFile());
    if (!file.open(QIODevice::WriteOnly))
        return fail(ErrorCode::Io, QStringLiteral("cannot write %1: %2").arg(file.fileName(), file.errorString()));
    file.write(QJsonDocument(policy).toJson());
    if (!file.commit())
        return fail(ErrorCode::Io, QStringLiteral("cannot write %1: %2").arg(file.fileName(), file.errorString()));
    return {};
}

} // namespace hotdesk::stubs

// Wiring of the companion server roles.
#include "stubsserver.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>
#include <QUuid>

namespace hotdesk::stubs::cli {

Result<Store> openStore(const QString &dataDir, const QString &database, const QString &connectionName)
{
    if (!QDir().mkpath(dataDir))
        return fail(ErrorCode::Io, QStringLiteral("cannot create the data directory %1").arg(dataDir));
    const QString url = database.isEmpty() ? qEnvironmentVariable("HOTDESK_STUBS_DB") : database;
    if (url.isEmpty())
        return Store::open(QDir(dataDir).filePath(QStringLiteral("stubs.db")), connectionName);
    auto postgres = parsePostgresUrl(url);
    if (!postgres)
        return tl::unexpected(postgres.error());
    return Store::openPostgres(*postgres, connectionName);
}

Result<std::unique_ptr<StubsServer>> StubsServer::start(const StubsOptions &options)
{
    std::unique_ptr<StubsServer> s(new StubsServer);
    auto store = openStore(
        options.dataDir, options.database, QStringLiteral("stubs-") + QUuid::createUuid().toString(QUuid::WithoutBraces));
    if (!store)
        return tl::unexpected(store.error());
    s->m_store.emplace(std::move(*store));
    if (s->m_store->dialect() == Store::Dialect::Sqlite) {
        // The serving thread never checkpoints: a thread of its own does (walcheckpointer.h).
        QSqlDatabase db = s->m_store->database();
        if (auto off = exec(db, QStringLiteral("PRAGMA wal_autocheckpoint=0")); !off)
            return tl::unexpected(off.error());
        // Up to 32 MiB of pages in memory instead of SQLite's 2 MiB: the
        // spent-jti index is read at random places, and every page not held
        // here costs a pread on the serving thread.
        if (auto cache = exec(db, QStringLiteral("PRAGMA cache_size=-32768")); !cache)
            return tl::unexpected(cache.error());
        s->m_checkpointer = std::make_unique<WalCheckpointer>(db.databaseName());
        if (auto started = s->m_checkpointer->start(); !started)
            return tl::unexpected(started.error());
    }
    auto ca = LocalCa::loadOrCreate(options.dataDir, options.hostName);
    if (!ca)
        return tl::unexpected(ca.error());
    s->m_ca = *ca;
    s->m_context.dataDir = options.dataDir;
    s->m_context.store = &*s->m_store;
    s->m_context.ca = &s->m_ca;
    s->m_context.clock = options.clock ? options.clock : &s->m_systemClock;
    s->m_context.autoApprove = options.autoApprove;
    s->m_context.faults = options.faults;
    s->m_context.issuer = options.issuer;
    s->m_context.dasPublicUrl = options.dasPublicUrl;
    s->m_context.smtp = options.smtp;
    if (!options.clientId.isEmpty())
        s->m_context.clientId = options.clientId;

    auto port = [&](int offset) { return options.portBase == 0 ? quint16(0) : quint16(options.portBase + offset); };
    auto listen = [&](HttpService &service, int offset, QUrl &url) -> Status {
        auto bound = service.listen(s->m_ca, options.listenAddress, port(offset), options.hostName);
        if (!bound)
            return tl::unexpected(bound.error());
        url = service.baseUrl();
        return {};
    };
    // Roles run by other processes on the same data directory (a split
    // deployment) are found through endpoints.json.
    if (auto others = readEndpoints(options.dataDir)) {
        s->m_context.endpoints = *others;
    }
    // Roles on other hosts, as the command line names them.
    Endpoints peers = options.peers;
    for (QStringView role : {u"das", u"idp", u"push", u"enterprise"}) {
        if (const QUrl *peer = peers.forRole(role); peer->isValid())
            *s->m_context.endpoints.forRole(role) = *peer;
    }

    // Every role is created, then all listen, then each prepares (tables, keys)
    // knowing the others' addresses. The event loop has not run yet, so no
    // request is served before every role is ready.
    const QStringList &roles = options.roles;
    if (roles.contains(QLatin1String("das")))
        s->m_das = std::make_unique<das::DasService>(s->m_context);
    if (roles.contains(QLatin1String("idp")))
        s->m_idp = std::make_unique<idp::IdpService>(s->m_context);
    if (roles.contains(QLatin1String("push")))
        s->m_push = std::make_unique<push::PushService>(s->m_context);
    if (roles.contains(QLatin1String("enterprise")))
        s->m_enterprise = std::make_unique<enterprise::EnterpriseService>(s->m_context);
    for (auto [service, offset, url] : {std::tuple{static_cast<HttpService *>(s->m_das.get()), 0, &s->m_context.endpoints.das},
                                        std::tuple{static_cast<HttpService *>(s->m_idp.get()), 1, &s->m_context.endpoints.idp},
                                        std::tuple{static_cast<HttpService *>(s->m_push.get()), 2, &s->m_context.endpoints.push},
                                        std::tuple{static_cast<HttpService *>(s->m_enterprise.get()), 3, &s->m_context.endpoints.enterprise}}) {
        if (!service)
            continue;
        if (auto ok = listen(*service, offset, *url); !ok)
            return tl::unexpected(ok.error());
    }
    Status prepared;
    if (prepared && s->m_das)
        prepared = s->m_das->prepare();
    if (prepared && s->m_idp)
        prepared = s->m_idp->prepare();
    if (prepared && s->m_push)
        prepared = s->m_push->prepare();
    if (prepared && s->m_enterprise)
        prepared = s->m_enterprise->prepare();
    if (!prepared)
        return tl::unexpected(prepared.error());
    if (auto ok = s->writeEndpoints(); !ok)
        return tl::unexpected(ok.error());
    if (auto ok = s->writeAgentPolicy(); !ok)
        return tl::unexpected(ok.error());
    return s;
}

StubsServer::~StubsServer() = default;

namespace {

Status saveJson(const QString &path, const QJsonObject &object)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return fail(ErrorCode::Io, QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    file.write(QJsonDocument(object).toJson());
    if (!file.commit())
        return fail(ErrorCode::Io, QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    return {};
}

} // namespace

Status StubsServer::writeEndpoints() const
{
    // Keep the roles other processes run on this directory; replace ours.
    const Endpoints &e = m_context.endpoints;
    QJsonObject object;
    QFile existing(QDir(m_context.dataDir).filePath(QStringLiteral("endpoints.json")));
    if (existing.open(QIODevice::ReadOnly))
        object = QJsonDocument::fromJson(existing.readAll()).object();
    object.insert(QStringLiteral("ca"), m_ca.caFile());
    for (const auto &[name, url, ours] : {std::tuple{"das", e.das, bool(m_das)}, std::tuple{"idp", e.idp, bool(m_idp)},
                                          std::tuple{"push", e.push, bool(m_push)}, std::tuple{"enterprise", e.enterprise, bool(m_enterprise)}}) {
        if (ours)
            object.insert(QLatin1String(name), url.toString());
    }
    return saveJson(QDir(m_context.dataDir).filePath(QStringLiteral("endpoints.json")), object);
}

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

Status StubsServer::writeAgentPolicy()
{
    // The agent's policy for this deployment (format: resources/policy.schema.json,
    // docs/policy.md; tst_policyvalidator checks that it validates).
    const Endpoints &e = m_context.endpoints;
    // With --issuer the DAS writes request objects for that provider, so the
    // agent must expect its tokens, not the in-process IdP's.
    // An IdP of this deployment on another process or host is its URL from endpoints.json or --peer.
    QString idpIssuer = !m_context.issuer.isEmpty() ? m_context.issuer
        : m_idp                                     ? m_idp->issuer()
                                                    : e.idp.toString(QUrl::FullyEncoded | QUrl::StripTrailingSlash);
    QJsonObject servers{
        {QStringLiteral("das"), QJsonArray{e.das.toString()}},
        {QStringLiteral("idp_issuer"), idpIssuer},
        {QStringLiteral("client_id"), m_context.clientId},
        {QStringLiteral("ca_bundle"), m_ca.caFile()},
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

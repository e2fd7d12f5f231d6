// The role-agnostic half of a companion server process: store, CA, context, listening, endpoints.json.
#include "servicehost.h"

#include <QDir>
#include <QJsonDocument>
#include <QSaveFile>
#include <QUuid>

#include <algorithm>

namespace hotdesk::stubs {

namespace {

const QStringView kRoles[] = {u"das", u"idp", u"push", u"enterprise"};

} // namespace

int portOffset(QStringView role)
{
    for (int i = 0; i < int(std::size(kRoles)); ++i) {
        if (kRoles[i] == role)
            return i;
    }
    return 0;
}

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

ServiceHost::ServiceHost(const HostOptions &options)
    : m_options(options)
{
}

ServiceHost::~ServiceHost()
{
    // The last role added goes first, as members declared in that order did.
    while (!m_services.empty())
        m_services.pop_back();
}

Result<std::unique_ptr<ServiceHost>> ServiceHost::open(const HostOptions &options)
{
    std::unique_ptr<ServiceHost> h(new ServiceHost(options));
    if (auto opened = h->openStore(); !opened)
        return tl::unexpected(opened.error());
    auto ca = LocalCa::loadOrCreate(options.dataDir, options.hostName);
    if (!ca)
        return tl::unexpected(ca.error());
    h->m_ca = *ca;
    StubsContext &c = h->m_context;
    c.dataDir = options.dataDir;
    c.store = &*h->m_store;
    c.ca = &h->m_ca;
    c.clock = options.clock ? options.clock : &h->m_systemClock;
    c.autoApprove = options.autoApprove;
    c.cibaInterval = options.cibaInterval;
    c.faults = options.faults;
    c.issuer = options.issuer;
    c.dasPublicUrl = options.dasPublicUrl;
    c.smtp = options.smtp;
    if (!options.clientId.isEmpty())
        c.clientId = options.clientId;
    h->findPeers();
    return h;
}

Status ServiceHost::openStore()
{
    auto store = stubs::openStore(
        m_options.dataDir, m_options.database, QStringLiteral("stubs-") + QUuid::createUuid().toString(QUuid::WithoutBraces));
    if (!store)
        return tl::unexpected(store.error());
    m_store.emplace(std::move(*store));
    if (m_store->dialect() != Store::Dialect::Sqlite)
        return {};
    // The serving thread never checkpoints: a thread of its own does (walcheckpointer.h).
    QSqlDatabase db = m_store->database();
    if (auto off = exec(db, QStringLiteral("PRAGMA wal_autocheckpoint=0")); !off)
        return tl::unexpected(off.error());
    // Up to 32 MiB of pages in memory instead of SQLite's 2 MiB: the
    // spent-jti index is read at random places, and every page not held
    // here costs a pread on the serving thread.
    if (auto cache = exec(db, QStringLiteral("PRAGMA cache_size=-32768")); !cache)
        return tl::unexpected(cache.error());
    m_checkpointer = std::make_unique<WalCheckpointer>(db.databaseName());
    return m_checkpointer->start();
}

void ServiceHost::findPeers()
{
    // Roles run by other processes on the same data directory (a split
    // deployment) are found through endpoints.json.
    if (auto others = readEndpoints(m_options.dataDir))
        m_context.endpoints = *others;
    // Roles on other hosts, as the command line names them.
    Endpoints peers = m_options.peers;
    for (QStringView role : kRoles) {
        if (const QUrl *peer = peers.forRole(role); peer->isValid())
            *m_context.endpoints.forRole(role) = *peer;
    }
}

Status ServiceHost::start()
{
    for (const auto &service : m_services) {
        const quint16 port = m_options.portBase == 0 ? quint16(0) : quint16(m_options.portBase + portOffset(service->role()));
        auto bound = service->listen(m_ca, m_options.listenAddress, port, m_options.hostName);
        if (!bound)
            return tl::unexpected(bound.error());
        *m_context.endpoints.forRole(service->role()) = service->baseUrl();
    }
    for (const auto &service : m_services) {
        if (auto prepared = service->prepare(); !prepared)
            return prepared;
    }
    return writeEndpoints();
}

bool ServiceHost::runs(QStringView role) const
{
    return std::ranges::any_of(m_services, [role](const auto &service) { return service->role() == role; });
}

Status ServiceHost::writeEndpoints() const
{
    // Keep the roles other processes run on this directory; replace ours.
    const QString path = QDir(m_context.dataDir).filePath(QStringLiteral("endpoints.json"));
    Endpoints e = m_context.endpoints;
    QJsonObject object;
    QFile existing(path);
    if (existing.open(QIODevice::ReadOnly))
        object = QJsonDocument::fromJson(existing.readAll()).object();
    object.insert(QStringLiteral("ca"), m_ca.caFile());
    for (QStringView role : kRoles) {
        if (runs(role))
            object.insert(role.toString(), e.forRole(role)->toString());
    }
    return saveJson(path, object);
}

QStringList ServiceHost::summaryLines() const
{
    QStringList lines;
    Endpoints e = m_context.endpoints;
    for (QStringView role : kRoles) {
        if (const QUrl *url = e.forRole(role); url->isValid())
            lines << QStringLiteral("%1 %2").arg(role, url->toString());
    }
    lines << QStringLiteral("ca %1").arg(m_ca.caFile());
    return lines;
}

} // namespace hotdesk::stubs

// Setting up the agent's servers, state and credential for a command.
#include "agentcontext.h"

#include "cli.h"

#include "core/das/dasclient.h"
#include "core/das/enroller.h"
#include "core/net/proxy.h"
#include "core/store/agentstate.h"
#include "core/store/auditlog.h"
#include "core/store/secretstore.h"
#include "core/trustoverrides.h"

#include <QCoreApplication>
#include <QEventLoop>

namespace hotdesk::cli {

QString CommonOptions::policyFile(const QCommandLineParser &parser) const
{
    return overrideOption(parser, policy).value_or(policy::defaultPolicyFile());
}

AgentEnvironment AgentEnvironment::fromProcess()
{
    AgentEnvironment environment;
    // These two change what the agent trusts: honoured in test builds and for root only.
    environment.stateDirOverride = trustedOverrideVariable("HOTDESK_STATE_DIR");
    environment.auditLogOverride = trustedOverrideVariable("HOTDESK_AUDIT_LOG");
    // These two do not: the screenshot is of a page the user sees anyway, and
    // the token is a credential the caller has (as --admin-token).
    environment.screenshotFile = qEnvironmentVariable("HOTDESK_SCREENSHOT");
    environment.adminToken = qEnvironmentVariable("HOTDESK_ADMIN_TOKEN");
    return environment;
}

QString AgentEnvironment::stateDir() const
{
    return stateDirOverride.isEmpty() ? store::AgentState::defaultDirectory() : stateDirOverride;
}

QString AgentEnvironment::auditLog() const
{
    return auditLogOverride.isEmpty() ? store::AuditLog::defaultPath() : auditLogOverride;
}

QString CommonOptions::stateDirectory(const QCommandLineParser &parser, const AgentEnvironment &environment) const
{
    return overrideOption(parser, stateDir).value_or(environment.stateDir());
}

Result<std::unique_ptr<AgentContext>> AgentContext::create(
    const QString &policyFile, const QString &stateDir, const AgentEnvironment &environment)
{
    auto policy = policy::loadAgentPolicy(policyFile);
    if (!policy)
        return tl::unexpected(policy.error());
    net::TlsTrust trust;
    if (!policy->servers.caBundle.isEmpty()) {
        auto bundle = net::TlsTrust::fromBundle(policy->servers.caBundle);
        if (!bundle)
            return tl::unexpected(bundle.error());
        trust = *bundle;
    }
    auto proxy = net::ProxySetting::parse(policy->servers.proxy);
    if (!proxy)
        return tl::unexpected(proxy.error());
    std::unique_ptr<AgentContext> context(new AgentContext);
    context->m_policy = *policy;
    context->m_environment = environment;
    context->m_http = std::make_unique<net::HttpClient>(
        trust, net::Timeouts{policy->servers.connectTimeout, policy->servers.responseTimeout});
    context->m_http->setProxy(*proxy);
    net::applyToApplication(*proxy);
    context->m_state = std::make_unique<store::AgentState>(stateDir);
    context->m_secrets = std::make_unique<store::KeychainSecretStore>();
    context->m_provider = new flow::ProviderSession(*context->m_http, policy->servers.idpIssuer, context->m_clock, context.get());
    return context;
}

AgentContext::~AgentContext() = default;

void AgentContext::setSecretStore(std::unique_ptr<store::SecretStore> secrets)
{
    m_secrets = std::move(secrets);
}

void AgentContext::loadCredential(std::function<void(Status)> done)
{
    das::loadCredential(*m_secrets, *m_state, m_policy.servers.dasUrls,
        [this, done = std::move(done)](Result<das::LoadedCredential> loaded) {
            if (!loaded) {
                done(tl::unexpected(loaded.error()));
                return;
            }
            m_das = std::make_unique<das::DasClient>(
                *m_http, m_policy.servers.dasUrls, loaded->credential, m_clock, m_random);
            done({});
        });
}

int runUntilDone(const std::function<void(std::function<void(int)>)> &work)
{
    QEventLoop loop;
    int exitCode = -1;
    bool finished = false;
    work([&](int code) {
        if (finished)
            return;
        finished = true;
        exitCode = code;
        loop.quit();
    });
    if (!finished)
        loop.exec();
    return exitCode;
}

} // namespace hotdesk::cli

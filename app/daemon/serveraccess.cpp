// The shared part of the daemon's sign-ins and pushes.
#include "serveraccess.h"

#include "core/device/localfingerprint.h"
#include "core/store/agentstate.h"
#include "core/store/filesecretstore.h"

namespace hotdesk::daemon {

ServerAccess::ServerAccess(
    const SignInSettings &settings, flow::FingerprintSource fingerprint, const Clock &clock, QObject *owner)
    : m_fingerprint(std::move(fingerprint))
    , m_state(std::make_unique<store::AgentState>(settings.stateDirectory))
    , m_secrets(std::make_unique<store::FileSecretStore>(store::daemonSecretDirectory(settings.stateDirectory)))
    , m_http(std::make_unique<net::HttpClient>(settings.trust, settings.timeouts()))
{
    settings.configure(*m_http);
    m_provider = new flow::ProviderSession(*m_http, settings.servers.idpIssuer, clock, owner);
    if (!m_fingerprint)
        m_fingerprint = [] { return device::baseFingerprint(QStringLiteral(HOTDESK_VERSION)); };
}

ServerAccess::~ServerAccess() = default;

} // namespace hotdesk::daemon

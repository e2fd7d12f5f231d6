// What the daemon's sign-ins (signinservice.h) and pushes (pushservice.h) share under one policy.
#pragma once

#include "core/clock.h"
#include "core/flow/reauthflow.h"
#include "core/net/httpclient.h"
#include "core/net/proxy.h"
#include "core/policy/serverpolicy.h"

#include <QObject>

#include <memory>

namespace hotdesk::store {
class AgentState;
class FileSecretStore;
} // namespace hotdesk::store

namespace hotdesk::daemon {

// What the daemon's sign-ins and pushes need from the policy and its state directory.
struct SignInSettings {
    policy::ServerSettings servers;
    net::TlsTrust trust; // the policy's CA bundle on top of the system store
    net::ProxySetting proxy;
    // The daemon's state directory (docs/hotdeskd.md): enrollments.json and
    // users.json (store::AgentState) and secrets/ (store::FileSecretStore, the
    // device keys). It must exist; the daemon checks it at start.
    QString stateDirectory;

    net::Timeouts timeouts() const { return {servers.connectTimeout, servers.responseTimeout}; }
    // An HTTP client (one per sign-in or push: ending it cancels its calls and no other's) set up as the policy says.
    void configure(net::HttpClient &http) const { http.setProxy(proxy); }
};

// The state directory's users and enrollments, the device keys (root-only files), this PC's fingerprint,
// and the IdP's discovery document and keys, read with an HTTP client of their own.
class ServerAccess {
public:
    // fingerprint: empty for device::baseFingerprint. The provider session becomes a child of owner,
    // which must delete its children before this object goes.
    ServerAccess(const SignInSettings &settings, flow::FingerprintSource fingerprint, const Clock &clock, QObject *owner);
    ~ServerAccess();

    store::AgentState &state() const { return *m_state; }
    store::FileSecretStore &secrets() const { return *m_secrets; }
    flow::ProviderSession &provider() const { return *m_provider; }
    const flow::FingerprintSource &fingerprint() const { return m_fingerprint; }

private:
    flow::FingerprintSource m_fingerprint;
    std::unique_ptr<store::AgentState> m_state;
    std::unique_ptr<store::FileSecretStore> m_secrets;
    std::unique_ptr<net::HttpClient> m_http;
    flow::ProviderSession *m_provider = nullptr; // owner's child
};

} // namespace hotdesk::daemon

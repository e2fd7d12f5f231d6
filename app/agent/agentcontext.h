// What every command that talks to the servers needs: the policy, TLS trust, HTTP, local state, the keychain and the device credential.
#pragma once

#include "core/clock.h"
#include "core/flow/reauthflow.h"
#include "core/net/httpclient.h"
#include "core/policy/serverpolicy.h"
#include "core/random.h"
#include "core/result.h"

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QObject>

#include <functional>
#include <memory>

namespace hotdesk::das {
class DasClient;
}
namespace hotdesk::store {
class AgentState;
class SecretStore;
} // namespace hotdesk::store

namespace hotdesk::cli {

// The agent's environment, read once when it starts (main) and passed down:
// where its files go, and what the HOTDESK_* variables override (tests, the
// demo; the state and audit overrides only where core/trustoverrides.h allows).
struct AgentEnvironment {
    static AgentEnvironment fromProcess();

    QString stateDirOverride; // $HOTDESK_STATE_DIR
    QString auditLogOverride; // $HOTDESK_AUDIT_LOG
    QString screenshotFile; // $HOTDESK_SCREENSHOT: where the embedded browser saves the page it waits on
    QString adminToken; // $HOTDESK_ADMIN_TOKEN: hotdesk enroll's token when none is given

    // The override, else the platform's place.
    QString stateDir() const; // AgentState::defaultDirectory()
    QString auditLog() const; // AuditLog::defaultPath()
};

// --policy FILE and --state-dir DIR, which every such command takes.
struct CommonOptions {
    QCommandLineOption policy {QStringLiteral("policy"),
        QStringLiteral("The policy file (default: the platform location, /etc/hotdesk/policy.json on Linux). Honoured "
                       "for root and in test builds only."),
        QStringLiteral("FILE")};
    QCommandLineOption stateDir {QStringLiteral("state-dir"),
        QStringLiteral("Where this PC's enrollments and known users are kept (default: the agent's data directory; "
                       "$HOTDESK_STATE_DIR). Honoured for root and in test builds only."),
        QStringLiteral("DIR")};
    void addTo(QCommandLineParser &parser) const { parser.addOptions({policy, stateDir}); }
    QString policyFile(const QCommandLineParser &parser) const;
    QString stateDirectory(const QCommandLineParser &parser, const AgentEnvironment &environment) const;
};

class AgentContext : public QObject {
    Q_OBJECT
public:
    // Loads the policy and the CA bundle and opens the local state. Nothing is sent yet.
    static Result<std::unique_ptr<AgentContext>> create(
        const QString &policyFile, const QString &stateDir, const AgentEnvironment &environment);
    ~AgentContext() override;

    // Reads the device key of the enrollment for one of the policy's DAS URLs
    // from the keychain and makes the DAS client.
    void loadCredential(std::function<void(Status)> done);

    const policy::AgentPolicy &policy() const { return m_policy; }
    const policy::ServerSettings &servers() const { return m_policy.servers; }
    net::HttpClient &http() { return *m_http; }
    store::AgentState &state() { return *m_state; }
    store::SecretStore &secrets() { return *m_secrets; }
    // Where secrets go instead of the OS keychain ('hotdesk enroll --system': hotdeskd's secret files).
    void setSecretStore(std::unique_ptr<store::SecretStore> secrets);
    das::DasClient *das() const { return m_das.get(); }
    flow::ProviderSession &provider() { return *m_provider; }
    const Clock &clock() const { return m_clock; }
    RandomSource &random() { return m_random; }
    const AgentEnvironment &environment() const { return m_environment; }

private:
    AgentContext() = default;

    policy::AgentPolicy m_policy;
    AgentEnvironment m_environment;
    SystemClock m_clock;
    OpenSslRandom m_random;
    std::unique_ptr<net::HttpClient> m_http;
    std::unique_ptr<store::AgentState> m_state;
    std::unique_ptr<store::SecretStore> m_secrets;
    std::unique_ptr<das::DasClient> m_das;
    flow::ProviderSession *m_provider = nullptr;
};

// Runs the event loop until done() is called; returns its exit code.
int runUntilDone(const std::function<void(std::function<void(int)>)> &work);

} // namespace hotdesk::cli

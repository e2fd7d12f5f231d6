// What "hotdesk login" and "hotdesk open" share: the sign-in frontend chosen with --browser and one run of flow 1.
#pragma once

#include "core/flow/frontend.h"
#include "core/flow/reauthflow.h"
#include "core/net/httpclient.h"
#include "core/result.h"

#include <QStringList>

#include <functional>
#include <memory>

namespace hotdesk::das {
class DasClient;
}

namespace hotdesk::cli {

class AgentContext;

enum class BrowserMode { Embedded, System, Print };

// --browser's value: embedded, system or print.
Result<BrowserMode> browserMode(const QString &name);
// Whether the arguments of a command with --browser (embedded by default) ask for the embedded browser.
bool browserNeedsGui(const QStringList &args);

// The frontend for a mode: print writes "open: URL" on stdout, system starts
// the user's browser, embedded opens a window of Hotdesk (Unsupported in a
// build without WebEngine or without a display).
Result<std::unique_ptr<flow::AuthorizationFrontend>> makeFrontend(BrowserMode mode, AgentContext &context);
// The same without an agent context: the embedded browser goes to issuer only and trusts trust's certificates.
Result<std::unique_ptr<flow::AuthorizationFrontend>> makeFrontend(
    BrowserMode mode, const net::TlsTrust &trust, const QString &issuer, const QString &screenshotFile);

// One run of flow 1 (2 for a user new to this PC, 4 when the DAS does not
// recognize it) with progress on stderr. Loads the device credential first
// unless the context holds it already. done runs exactly once; the frontend
// must outlive the run.
void runSignIn(AgentContext &context, flow::AuthorizationFrontend &frontend, const flow::FlowOptions &options,
    std::function<void(Result<flow::FlowResult>)> done);

// An administrator's sign-in for enrolling this PC (flow 3 without a token):
// the same steps with das, a client that sends no device token.
void runAdminSignIn(AgentContext &context, das::DasClient &das, flow::AuthorizationFrontend &frontend,
    const QString &admin, std::function<void(Result<flow::FlowResult>)> done);

} // namespace hotdesk::cli

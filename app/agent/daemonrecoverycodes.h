// "hotdesk recovery-codes" through hotdeskd: the daemon signs the session's user in and makes the codes.
#pragma once

#include "flowrunner.h"

#include <QString>

namespace hotdesk::cli {

// Whether recovery codes are made by hotdeskd: always in a release build (the
// session keychain is the user's to edit), in a test build only when the
// daemon's socket (defaultDaemonSocket(), $HOTDESK_DAEMON_SOCKET) exists.
bool recoveryCodesThroughDaemon();

struct DaemonCodesRequest {
    QString session; // logind session id (--session, else $XDG_SESSION_ID)
    BrowserMode mode = BrowserMode::Embedded;
    QString policyFile; // for the embedded browser's issuer and CA certificates
    QString screenshotFile;
};

// Asks hotdeskd for a sign-in with the purpose "recovery_codes", shows the
// identity provider's page with the chosen frontend, relays the redirect
// (sign_in_response) and prints the codes the daemon made once the sign-in is
// validated. The exit code of the command.
int runDaemonRecoveryCodes(const DaemonCodesRequest &request);

} // namespace hotdesk::cli

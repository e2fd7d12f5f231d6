// Whether this process may honour the options and variables that change what the agent trusts (test builds, root).
#pragma once

#include <QString>

#include <sys/types.h>

namespace hotdesk {

// True when built with the CMake option HOTDESK_TEST_HOOKS=ON (the default,
// which ./dev and CI use); a package for real PCs is built with it OFF.
bool isTestBuild();

// The one rule for the overrides of what the agent trusts (--policy,
// --state-dir, HOTDESK_STATE_DIR, HOTDESK_AUDIT_LOG, HOTDESK_CONTROL_SOCKET, HOTDESK_DAEMON_SOCKET,
// HOTDESK_WEBENGINE_MODULE): honoured in a test build, or when the real uid is
// root, who may change the installed files anyway. For anyone else they are
// ignored, so the person at the keyboard cannot point the agent at a policy,
// a state, a socket or a module of their own. The real uid, not the
// effective one: a set-uid start must not count as root.
bool overridesAllowed(bool testBuild, uid_t realUid);
// The rule for this process: isTestBuild() and getuid().
bool overridesAllowed();

// Whether `hotdesk enroll` hands the enrollment to hotdeskd (root only, the
// device key in a root-only file) rather than the session keychain: always in
// a release build, where the keychain's key could be copied by the person at
// the keyboard; in a test build only when --system asks for it.
bool enrollsForDaemon(bool systemOption, bool testBuild);

// The line for standard error when an override is not honoured, naming it
// ("--policy", "HOTDESK_STATE_DIR") and saying why.
QString overrideIgnoredMessage(const QString &name);

// The value of an environment variable that overrides what is trusted: the
// value when overridesAllowed(), else empty. A variable that is set but not
// honoured is reported on standard error, once per variable and process.
QString trustedOverrideVariable(const char *name);

} // namespace hotdesk

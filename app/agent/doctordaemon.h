// hotdesk doctor's checks of a PC where hotdeskd enforces: the daemon, its enrollment and policy, the PAM profile.
#pragma once

#include <QString>

#include <functional>

namespace hotdesk::cli {

// Where the doctor's lines go: ok and note on standard error, a problem on standard output (counted).
struct DoctorLines {
    std::function<void(const QString &what)> ok;
    std::function<void(const QString &what)> note;
    std::function<void(const QString &what, const QString &message)> problem;
};

// hotdeskd's socket (hello, status, health): its version, this user's sessions, its enrollment and policy.
// Waits at most a few seconds for each answer.
void checkDaemon(const DoctorLines &lines, const QString &socketPath, const QString &sessionId);
// The policy file as hotdeskd judges it: root's and writable by nobody else (docs/policy.md, "Who may change it").
void checkPolicyTrust(const DoctorLines &lines, const QString &file);
// Whether pam_hotdesk is in the PAM stacks (pam-auth-update --enable hotdesk) and, if so, that the module is there.
void checkPamProfile(const DoctorLines &lines, const QString &commonAuth, const QString &module);

} // namespace hotdesk::cli

// pam_hotdesk.so's side of hotdeskd's protocol (docs/pam.md): its options, the request, the daemon's lines, and
// what each outcome means to PAM. No Qt: the module is loaded into gdm, sshd, sudo, polkit and screen lockers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hotdesk::pam {

inline constexpr char kDefaultSocket[] = "/run/hotdesk/hotdeskd.sock";

enum class FailMode {
    Secure, // the daemon, the DAS or the IdP unreachable: PAM_AUTHINFO_UNAVAIL
    Offline, // the daemon may grant the policy's offline grace (the stack checked the password before this module)
};

struct Options {
    std::string socket = kDefaultSocket;
    int timeoutSeconds = 120; // the whole wait for the phone; 10 … 600
    FailMode failMode = FailMode::Secure;
    std::vector<std::string> promptServices; // where an echo-off "Press Enter" prompt replaces the info line
    bool debug = false;
};

struct ParsedOptions {
    Options options;
    std::string error; // empty when every argument was understood
};

// The module's arguments from the PAM service file. Anything not understood is
// an error: a mistyped failmode must not quietly become another one.
ParsedOptions parseOptions(int argc, const char **argv);

// Text from the daemon (which passes on the IdP's and DAS's words) made safe for
// a terminal: valid UTF-8 only, no control characters or escape sequences
// (C0, DEL, C1), at most maxBytes bytes, cut at a character boundary.
std::string sanitize(std::string_view text, std::size_t maxBytes = 400);

struct Request {
    std::string user;
    std::string service;
    std::string tty;
    std::string rhost;
    FailMode failMode = FailMode::Secure;
};

// The one line the module sends: {"v":1,"command":"pam_authenticate",...}\n.
std::string requestLine(const Request &request);

// One line from the daemon.
struct DaemonLine {
    enum class Kind {
        Malformed, // not a JSON object, or a member of the wrong type
        Reply, // {"ok":...}: the answer to the request
        Info, // {"event":"pam_info"}: what to tell the person
        Result, // {"event":"pam_result"}: the end
        Other, // an event this module does not know: ignored
    };
    Kind kind = Kind::Malformed;
    bool ok = false; // Reply
    std::string error; // Reply when !ok: the error's name
    // Result, or a Reply that decides at once (ok and a result: not_covered, recent, locked_out, ...):
    // approved, recent, offline_granted, denied, expired, locked_out, unavailable, not_covered.
    std::string result;
    std::string message; // Reply, Info, Result: for people, already sanitized
};

DaemonLine parseLine(std::string_view line);

// The PAM return code for a result, and for an error reply. Nothing but
// "approved", "recent" and "offline_granted" is PAM_SUCCESS; a name this
// module does not know is PAM_AUTH_ERR.
int pamCodeForResult(std::string_view result);
int pamCodeForError(std::string_view error);

// Whether service is one of the options' prompt services.
bool wantsPrompt(const Options &options, std::string_view service);

} // namespace hotdesk::pam

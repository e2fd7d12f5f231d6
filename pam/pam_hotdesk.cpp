// pam_hotdesk.so: the second factor in the OS's own sign-in (docs/pam.md). The module only talks to hotdeskd over its
// socket; the daemon decides whom the policy covers, asks the phone (OpenID CIBA) and validates the ID token. Nothing
// here turns a missing daemon, an unreadable answer or a silent wait into PAM_SUCCESS.
#include "daemonsocket.h"
#include "pamprotocol.h"

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include <syslog.h>

#include <cstdarg>
#include <cstdlib>
#include <cstring>

namespace {

using namespace hotdesk::pam;
using Clock = std::chrono::steady_clock;

// The daemon answers the request at once; only the phone may take long.
constexpr std::chrono::seconds kReplyTimeout {10};

std::string item(pam_handle_t *pamh, int type)
{
    const void *value = nullptr;
    if (pam_get_item(pamh, type, &value) != PAM_SUCCESS || !value)
        return {};
    return static_cast<const char *>(value);
}

class Attempt {
public:
    Attempt(pam_handle_t *pamh, int flags, Options options)
        : m_pamh(pamh)
        , m_quiet(flags & PAM_SILENT)
        , m_options(std::move(options))
    {
    }

    int run();

private:
    int unavailable(const std::string &why);
    int finish(int code, const std::string &why, const std::string &message);
    // The daemon's word for the person: an info line, or where infos wait for the next prompt, an echo-off prompt.
    int show(const std::string &message);
    int handle(const DaemonLine &line, bool *done);
    // With the option debug, one step to the system log at LOG_DEBUG; never the daemon's text for the person.
    void debug(const char *format, ...) __attribute__((format(printf, 2, 3)));

    pam_handle_t *m_pamh;
    bool m_quiet;
    Options m_options;
    Request m_request;
    DaemonSocket m_socket;
    bool m_replied = false;
    Clock::time_point m_start;
};

void Attempt::debug(const char *format, ...)
{
    if (!m_options.debug)
        return;
    va_list arguments;
    va_start(arguments, format);
    pam_vsyslog(m_pamh, LOG_DEBUG, format, arguments);
    va_end(arguments);
}

int Attempt::unavailable(const std::string &why)
{
    return finish(PAM_AUTHINFO_UNAVAIL, why, "The Hotdesk sign-in service cannot be reached. Ask your administrator.");
}

int Attempt::finish(int code, const std::string &why, const std::string &message)
{
    m_socket.close();
    debug("the wait ended after %lld ms: %s; connection closed",
        static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - m_start).count()),
        why.c_str());
    pam_syslog(m_pamh, code == PAM_SUCCESS ? LOG_INFO : LOG_NOTICE, "user %s service %s tty %s rhost %s: %s (%s)",
        m_request.user.c_str(), m_request.service.c_str(), m_request.tty.c_str(), m_request.rhost.c_str(),
        pam_strerror(m_pamh, code), why.c_str());
    if (code != PAM_SUCCESS && code != PAM_IGNORE && !m_quiet && !message.empty())
        pam_error(m_pamh, "%s", message.c_str());
    return code;
}

int Attempt::show(const std::string &message)
{
    if (message.empty())
        return PAM_SUCCESS;
    const bool prompt = wantsPrompt(m_options, m_request.service);
    debug("the daemon's text (%zu bytes) shown as %s", message.size(), prompt ? "an echo-off prompt" : "an info line");
    if (!prompt)
        return pam_info(m_pamh, "%s", message.c_str());
    char *answer = nullptr;
    const int code = pam_prompt(m_pamh, PAM_PROMPT_ECHO_OFF, &answer, "%s\nPress Enter after you approved it: ", message.c_str());
    if (answer) {
        explicit_bzero(answer, std::strlen(answer));
        std::free(answer);
    }
    return code;
}

int Attempt::handle(const DaemonLine &line, bool *done)
{
    *done = true;
    switch (line.kind) {
    case DaemonLine::Kind::Malformed:
        return unavailable("the daemon's answer is not understood");
    case DaemonLine::Kind::Reply:
        if (m_replied)
            return unavailable("the daemon answered twice");
        m_replied = true;
        debug("reply: ok %s, result %s, error %s", line.ok ? "true" : "false",
            !line.result.empty() ? line.result.c_str()
                : line.ok        ? "(none: the push is under way)"
                                 : "(none)",
            line.error.empty() ? "(none)" : line.error.c_str());
        if (!line.ok)
            return finish(pamCodeForError(line.error), "refused: " + line.error, line.message);
        if (!line.result.empty())
            return finish(pamCodeForResult(line.result), line.result, line.message);
        break;
    case DaemonLine::Kind::Info:
        if (const int code = show(line.message); code != PAM_SUCCESS)
            return finish(PAM_CONV_ERR, "the conversation failed", {});
        break;
    case DaemonLine::Kind::Result:
        debug("pam_result %s", line.result.c_str());
        return finish(pamCodeForResult(line.result), line.result, line.message);
    case DaemonLine::Kind::Other:
        debug("an event the module does not know, ignored");
        break;
    }
    *done = false;
    return PAM_SUCCESS;
}

int Attempt::run()
{
    const char *user = nullptr;
    if (const int code = pam_get_user(m_pamh, &user, nullptr); code != PAM_SUCCESS)
        return code;
    if (!user || !*user)
        return PAM_USER_UNKNOWN;
    m_request = {user, item(m_pamh, PAM_SERVICE), item(m_pamh, PAM_TTY), item(m_pamh, PAM_RHOST), m_options.failMode};

    m_start = Clock::now();
    const Deadline replyBy = m_start + kReplyTimeout;
    const Deadline approvalBy = m_start + std::chrono::seconds(m_options.timeoutSeconds);
    debug("user %s service %s tty %s rhost %s failmode %s timeout %d s: connecting to %s", m_request.user.c_str(),
        m_request.service.c_str(), m_request.tty.c_str(), m_request.rhost.c_str(),
        m_options.failMode == FailMode::Offline ? "offline" : "secure", m_options.timeoutSeconds, m_options.socket.c_str());
    if (const std::string problem = m_socket.connectTo(m_options.socket); !problem.empty())
        return unavailable("hotdeskd is not reachable: " + problem);
    if (const std::string problem = m_socket.send(requestLine(m_request), replyBy); !problem.empty())
        return unavailable(problem);
    debug("connected; request pam_authenticate sent");
    for (;;) {
        std::string text;
        switch (m_socket.readLine(text, m_replied ? approvalBy : std::min(replyBy, approvalBy))) {
        case DaemonSocket::Read::Line:
            break;
        case DaemonSocket::Read::Timeout:
            if (!m_replied)
                return unavailable("hotdeskd did not answer within 10 s");
            return finish(PAM_AUTH_ERR, "timeout", "The sign-in was not approved in time.");
        case DaemonSocket::Read::Closed:
            return unavailable("hotdeskd closed the connection");
        case DaemonSocket::Read::TooLong:
            return unavailable("hotdeskd's answer is too long");
        case DaemonSocket::Read::Failed:
            return unavailable("reading from hotdeskd failed");
        }
        bool done = false;
        const int code = handle(parseLine(text), &done);
        if (done)
            return code;
    }
}

} // namespace

extern "C" {

PAM_EXTERN __attribute__((visibility("default"))) int pam_sm_authenticate(
    pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    try {
        ParsedOptions parsed = parseOptions(argc, argv);
        if (!parsed.error.empty()) {
            pam_syslog(pamh, LOG_ERR, "bad option %s", parsed.error.c_str());
            return PAM_SERVICE_ERR;
        }
        return Attempt(pamh, flags, std::move(parsed.options)).run();
    } catch (...) {
        // Out of memory and the like: never SUCCESS, never an exception into the caller.
        return PAM_SERVICE_ERR;
    }
}

// The second factor sets no credentials.
PAM_EXTERN __attribute__((visibility("default"))) int pam_sm_setcred(pam_handle_t *, int, int, const char **)
{
    return PAM_SUCCESS;
}

} // extern "C"

// poll() with the time left before each read and write; EINTR retried; no SIGPIPE (MSG_NOSIGNAL).
#include "daemonsocket.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace hotdesk::pam {
namespace {

// Milliseconds until the deadline for poll(), 0 once it has passed.
int msLeft(Deadline deadline)
{
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return left.count() <= 0 ? 0 : int(std::min<long long>(left.count(), 60000));
}

// Whether fd became ready for events before the deadline; errno-style problem text otherwise.
bool waitFor(int fd, short events, Deadline deadline, bool *timedOut)
{
    *timedOut = false;
    for (;;) {
        pollfd entry {fd, events, 0};
        const int left = msLeft(deadline);
        const int ready = ::poll(&entry, 1, left);
        if (ready > 0)
            return true;
        if (ready == 0 && left == 0) {
            *timedOut = true;
            return false;
        }
        if (ready < 0 && errno != EINTR)
            return false;
    }
}

} // namespace

DaemonSocket::~DaemonSocket()
{
    close();
}

void DaemonSocket::close()
{
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
}

std::string DaemonSocket::connectTo(const std::string &path)
{
    sockaddr_un address {};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof(address.sun_path))
        return "socket path too long";
    std::memcpy(address.sun_path, path.data(), path.size());
    m_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (m_fd < 0)
        return std::string("socket: ") + std::strerror(errno);
    int result;
    do
        result = ::connect(m_fd, reinterpret_cast<const sockaddr *>(&address), sizeof(address));
    while (result < 0 && errno == EINTR);
    if (result < 0) {
        const int error = errno;
        close();
        return path + ": " + std::strerror(error);
    }
    return {};
}

std::string DaemonSocket::send(const std::string &bytes, Deadline deadline)
{
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        bool timedOut = false;
        if (!waitFor(m_fd, POLLOUT, deadline, &timedOut))
            return timedOut ? "the daemon did not take the request in time" : std::string("poll: ") + std::strerror(errno);
        const ssize_t n = ::send(m_fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return std::string("send: ") + std::strerror(errno);
        sent += std::size_t(n);
    }
    return {};
}

DaemonSocket::Read DaemonSocket::readLine(std::string &line, Deadline deadline)
{
    for (;;) {
        if (const std::size_t newline = m_buffer.find('\n'); newline != std::string::npos) {
            if (newline > kMaxLine)
                return Read::TooLong;
            line.assign(m_buffer, 0, newline);
            m_buffer.erase(0, newline + 1);
            return Read::Line;
        }
        if (m_buffer.size() > kMaxLine)
            return Read::TooLong;
        bool timedOut = false;
        if (!waitFor(m_fd, POLLIN, deadline, &timedOut))
            return timedOut ? Read::Timeout : Read::Failed;
        char chunk[4096];
        const ssize_t n = ::recv(m_fd, chunk, sizeof(chunk), MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return Read::Failed;
        if (n == 0)
            return Read::Closed;
        m_buffer.append(chunk, std::size_t(n));
    }
}

} // namespace hotdesk::pam

// The module's connection to hotdeskd: a Unix stream socket read line by line, every wait bounded by a deadline.
#pragma once

#include <chrono>
#include <string>

namespace hotdesk::pam {

using Deadline = std::chrono::steady_clock::time_point;

class DaemonSocket {
public:
    DaemonSocket() = default;
    ~DaemonSocket();
    DaemonSocket(const DaemonSocket &) = delete;
    DaemonSocket &operator=(const DaemonSocket &) = delete;

    // Empty on success, else why not (for the system log).
    std::string connectTo(const std::string &path);
    std::string send(const std::string &bytes, Deadline deadline);

    enum class Read { Line, Timeout, Closed, TooLong, Failed };
    // The next line without its newline. A line longer than kMaxLine is TooLong.
    Read readLine(std::string &line, Deadline deadline);
    static constexpr std::size_t kMaxLine = 65536;

    // Closing is how the module says it has gone: the daemon stops polling for it.
    void close();

private:
    int m_fd = -1;
    std::string m_buffer;
};

} // namespace hotdesk::pam

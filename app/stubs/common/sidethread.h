// One job at a time on a thread of its own, while the caller does something else and then waits for it.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace hotdesk::stubs {

// The DAS signs a commit group's request objects here while its own thread
// waits for the group's COMMIT to reach the disk (DasService::issuePending).
// The thread starts with the first job and ends with the object.
class SideThread {
public:
    SideThread() = default;
    ~SideThread(); // lets a running job finish, then ends the thread
    SideThread(const SideThread &) = delete;
    SideThread &operator=(const SideThread &) = delete;

    // Runs job on the side thread. The job started before must have been waited for.
    void start(std::function<void()> job);
    // Returns once the job started last has finished; at once when there is none.
    void wait();

private:
    void run();

    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::function<void()> m_job; // set while a job is waiting or running
    bool m_stopping = false;
    std::thread m_thread;
};

} // namespace hotdesk::stubs

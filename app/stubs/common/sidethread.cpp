// One job at a time on a thread of its own.
#include "sidethread.h"

#include <utility>

namespace hotdesk::stubs {

SideThread::~SideThread()
{
    if (!m_thread.joinable())
        return;
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_changed.notify_all();
    m_thread.join();
}

void SideThread::start(std::function<void()> job)
{
    {
        std::lock_guard lock(m_mutex);
        m_job = std::move(job);
    }
    if (!m_thread.joinable())
        m_thread = std::thread([this] { run(); });
    m_changed.notify_all();
}

void SideThread::wait()
{
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [this] { return !m_job; });
}

void SideThread::run()
{
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_changed.wait(lock, [this] { return m_job || m_stopping; });
        if (!m_job)
            return; // stopping, with nothing left to do
        std::function<void()> job = m_job;
        lock.unlock();
        job();
        lock.lock();
        m_job = nullptr;
        m_changed.notify_all();
    }
}

} // namespace hotdesk::stubs

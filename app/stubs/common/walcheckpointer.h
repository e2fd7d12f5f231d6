// SQLite WAL checkpoints on a thread of their own, so that the servers' event loop never waits for one.
#pragma once

#include "core/result.h"

#include <QString>

#include <atomic>
#include <chrono>
#include <memory>

class QThread;

namespace hotdesk::stubs {

// A checkpoint copies the WAL's pages into the database file and fsyncs it:
// several milliseconds that, left to SQLite's automatic checkpoint, the commit
// that crosses 1000 pages pays on the serving thread, and with it every
// request waiting behind that commit. The serving connection turns its
// automatic checkpoints off (takeOver) and this runs PASSIVE checkpoints from
// its own connection on its own thread: they never block a writer, and
// durability is unchanged (a commit is on disk when its WAL frames are).
class WalCheckpointer {
public:
    explicit WalCheckpointer(QString databasePath, std::chrono::milliseconds interval = std::chrono::milliseconds(250));
    ~WalCheckpointer(); // stops the thread after a last checkpoint

    Status start();
    // How many passes so far found frames in the WAL and copied all of them
    // into the database (for tests and logs).
    qint64 completedCheckpoints() const { return m_completed->load(); }

private:
    QString m_path;
    std::chrono::milliseconds m_interval;
    std::shared_ptr<std::atomic<qint64>> m_completed = std::make_shared<std::atomic<qint64>>(0);
    QThread *m_thread = nullptr;
};

} // namespace hotdesk::stubs

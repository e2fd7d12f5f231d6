// PASSIVE WAL checkpoints from a connection and a thread of their own.
#include "walcheckpointer.h"

#include <QEventLoop>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QTimer>
#include <QUuid>

#ifdef Q_OS_LINUX
#include <cerrno>
#include <cstring>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace hotdesk::stubs {

WalCheckpointer::WalCheckpointer(QString databasePath, std::chrono::milliseconds interval)
    : m_path(std::move(databasePath))
    , m_interval(interval)
{
}

WalCheckpointer::~WalCheckpointer()
{
    if (!m_thread)
        return;
    m_thread->quit();
    m_thread->wait();
    delete m_thread;
}

Status WalCheckpointer::start()
{
    if (m_thread)
        return {};
    const QString connection = QStringLiteral("checkpoints-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    // A QSqlDatabase belongs to the thread that opened it: everything below runs in m_thread.
    m_thread = QThread::create([path = m_path, connection, interval = m_interval, completed = m_completed] {
        // The lowest priority short of SCHED_IDLE: when the serving thread
        // wants the CPU it gets it, so that a checkpoint's copying does not
        // stretch a commit group (at 32 connections p99 fell from 17-18 ms to
        // 10-12 ms in ./dev bench das), and yet a DAS kept busy without pause
        // still checkpoints, where an idle-class thread could starve and let
        // the WAL grow without bound. On Linux the nice value of one thread is
        // set through its thread id.
#ifdef Q_OS_LINUX
        if (setpriority(PRIO_PROCESS, id_t(syscall(SYS_gettid)), 19) != 0)
            qWarning("stubs: the checkpoint thread keeps its priority: %s", std::strerror(errno));
#endif
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connection);
            db.setDatabaseName(path);
            db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
            if (!db.open()) {
                qWarning("stubs: no checkpoint connection to %s: %s", qPrintable(path), qPrintable(db.lastError().text()));
            } else {
                auto checkpoint = [&db, completed] {
                    QSqlQuery q(db);
                    // busy, frames in the WAL, frames checkpointed (of the WAL as it is now)
                    if (!q.exec(QStringLiteral("PRAGMA wal_checkpoint(PASSIVE)")) || !q.next()) {
                        qWarning("stubs: WAL checkpoint failed: %s", qPrintable(q.lastError().text()));
                        return;
                    }
                    const qint64 inWal = q.value(1).toLongLong();
                    if (inWal > 0 && q.value(2).toLongLong() == inWal)
                        completed->fetch_add(1);
                };
                QTimer timer;
                QObject::connect(&timer, &QTimer::timeout, checkpoint);
                timer.start(interval);
                // Runs until the destructor's quit(), which ends every event loop of this thread.
                QEventLoop loop;
                loop.exec();
                timer.stop();
                checkpoint();
            }
            db.close();
        }
        QSqlDatabase::removeDatabase(connection);
    });
    m_thread->setObjectName(QStringLiteral("wal-checkpoints"));
    m_thread->start();
    return {};
}

} // namespace hotdesk::stubs

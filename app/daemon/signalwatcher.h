// SIGTERM and SIGINT as a Qt signal: the handler only writes to a pipe the event loop reads.
#pragma once

#include "core/result.h"

#include <QObject>

class QSocketNotifier;

namespace hotdesk::daemon {

class SignalWatcher : public QObject {
    Q_OBJECT
public:
    explicit SignalWatcher(QObject *parent = nullptr);
    ~SignalWatcher() override;

    // Installs the handlers; one watcher per process.
    Status watchTermination();

Q_SIGNALS:
    void terminationRequested(int signal);

private:
    void readPipe();

    QSocketNotifier *m_notifier = nullptr;
};

} // namespace hotdesk::daemon

// ProcessWatcher on Linux: exec events from the kernel's proc connector when permitted, else a modest /proc scan.
#pragma once

#include "../platform.h"
#include "programidentity.h"

#include <QHash>
#include <QSet>

#include <chrono>

class QSocketNotifier;
class QTimer;

namespace hotdesk::platform {

// Auto tries the proc connector (one wake-up per exec anywhere on the system;
// only in the initial user and PID namespaces, and before Linux 6.6 only with
// CAP_NET_ADMIN, so an agent running as the user on Debian 12 falls back) and
// otherwise scans procRoot every
// scanInterval, comparing the set of process ids (one readdir of /proc per
// scan; only processes not seen before, or seen in the last recheckScans
// scans, have their name read: a wrapper script that exec()s the real program
// keeps its process id).
//
// A name matches a process whose comm (the kernel's name, at most 15 bytes)
// equals it, or, for longer names, whose comm is its first 15 bytes and whose
// program file (/proc/PID/exe), argv[0] or argv[1] (a script run through its
// #! line) has that file name. Comparison is case-sensitive.
class LinuxProcessWatcher final : public ProcessWatcher {
    Q_OBJECT
public:
    enum class Mode { Auto, ProcConnector, Scan };

    struct Options {
        QString procRoot = QStringLiteral("/proc");
        std::chrono::milliseconds scanInterval {2000};
        Mode mode = Mode::Auto;
        bool ownProcessesOnly = true; // only processes of this user (the person at the keyboard)
        int recheckScans = 3;
    };

    explicit LinuxProcessWatcher(QObject *parent = nullptr);
    explicit LinuxProcessWatcher(Options options, QObject *parent = nullptr);
    ~LinuxProcessWatcher() override;

    void setNames(const QStringList &names) override;
    // Programs also known by content (programidentity.h): a process whose
    // program file has one's size and SHA-256 matches that entry, whatever its
    // name (a renamed copy). Empty: names only.
    void setIdentities(QList<ProgramIdentity> programs) { m_programs = std::move(programs); }
    QStringList names() const override { return m_names; }
    QString backend() const override { return m_backend; }

    // In scan mode: one scan now instead of at the next interval (tests, diagnostics).
    void scanNow();

private:
    void stop();
    bool startConnector(QString *why);
    void readConnector();
    void startScan();
    void scan(bool baseline);
    // False when the process cannot be judged yet (still inside exec()).
    bool check(qint64 pid);
    QString matchingName(qint64 pid, bool *decided) const;

    Options m_options;
    QByteArray m_procRoot;
    QStringList m_names;
    QList<ProgramIdentity> m_programs;
    QString m_backend;
    qint64 m_uid = -1;
    // Process id -> number of scans since first seen (capped): the scan's memory,
    // and with the connector the baseline for catching up after lost events.
    QHash<qint64, int> m_seen;
    // Process id -> the name it was reported under, so one start is reported once.
    QHash<qint64, QString> m_reported;
    QTimer *m_timer = nullptr;
    int m_socket = -1;
    QSocketNotifier *m_notifier = nullptr;
};

} // namespace hotdesk::platform

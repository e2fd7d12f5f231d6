// hotdeskd's records: the audit log (file and journal) and the DAS event queue, opened at start, fail closed.
#pragma once

#include "auditfile.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/result.h"
#include "core/store/auditlog.h"
#include "core/store/eventqueue.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <functional>
#include <memory>

namespace hotdesk::daemon {

struct DaemonOptions;

// Every record goes to the audit file (the record that counts: append()'s
// result is the file's) and to the journal with structured fields
// (auditjournal.h). The records are store::AuditLog's (same fields, same event
// names, JWTs redacted), one JSON object per line.
class DaemonAudit {
public:
    // Where the journal fields go: sendToJournal, or what a test reads them with.
    using JournalSink = std::function<Status(const QList<QByteArray> &fields)>;
    // This PC's device id with the DAS, asked at each record; empty when not enrolled.
    using DeviceIdSource = std::function<QString()>;

    static Result<std::unique_ptr<DaemonAudit>> open(const QString &path, const Clock &clock, JournalSink journal = {});

    // A journal that cannot be reached is said once on stderr; a file that
    // cannot be written is said on stderr each time, and returned.
    // A record whose device_id is empty gets the source's (setDeviceIdSource).
    Status record(const store::AuditEntry &entry);
    void setDeviceIdSource(DeviceIdSource source) { m_deviceId = std::move(source); }
    const QString &path() const { return m_file->path(); }

private:
    DaemonAudit(std::unique_ptr<AuditFile> file, const Clock &clock, JournalSink journal);

    std::unique_ptr<AuditFile> m_file;
    const Clock &m_clock;
    JournalSink m_journal;
    DeviceIdSource m_deviceId;
    bool m_journalFailed = false;
};

// What main() opens before the daemon says it is ready: the audit log at
// logsDir/audit.jsonl and the event queue at stateDir/events.sqlite. Either
// failing is a failure to start (docs/hotdeskd.md).
class DaemonRecords {
public:
    static Result<std::unique_ptr<DaemonRecords>> open(const DaemonOptions &options);

    DaemonAudit &audit() { return *m_audit; }
    store::EventQueue &queue() { return *m_queue; }

    // daemon_started (with "version" and "socket"); its failure is a failure to start.
    Status started(const QString &socketPath);
    // daemon_stopped, reason "signal_N".
    void stopped(int signal);

private:
    DaemonRecords() = default;

    SystemClock m_clock;
    OpenSslRandom m_random;
    std::unique_ptr<DaemonAudit> m_audit;
    std::unique_ptr<store::EventQueue> m_queue;
};

} // namespace hotdesk::daemon

// hotdeskd's audit log (file and journal) and the opening of its records at start.
#include "daemonaudit.h"

#include "auditjournal.h"
#include "daemonoptions.h"

#include <QCoreApplication>
#include <QJsonDocument>

#include <cstdio>

namespace hotdesk::daemon {

DaemonAudit::DaemonAudit(std::unique_ptr<AuditFile> file, const Clock &clock, JournalSink journal)
    : m_file(std::move(file))
    , m_clock(clock)
    , m_journal(journal ? std::move(journal) : JournalSink(sendToJournal))
{
}

Result<std::unique_ptr<DaemonAudit>> DaemonAudit::open(const QString &path, const Clock &clock, JournalSink journal)
{
    auto file = AuditFile::open(path);
    if (!file)
        return tl::unexpected(file.error());
    return std::unique_ptr<DaemonAudit>(new DaemonAudit(std::move(*file), clock, std::move(journal)));
}

Status DaemonAudit::record(const store::AuditEntry &entry)
{
    store::AuditEntry filled = entry;
    if (filled.deviceId.isEmpty() && m_deviceId)
        filled.deviceId = m_deviceId();
    const QJsonObject record = store::AuditLog::recordOf(filled, m_clock.secondsSinceEpoch());
    const Status written = m_file->append(QJsonDocument(record).toJson(QJsonDocument::Compact) + '\n');
    if (!written)
        std::fprintf(stderr, "hotdeskd: %s\n", written.error().message.toLocal8Bit().constData());
    const Status journaled = m_journal(journalFields(record));
    if (!journaled && !m_journalFailed)
        std::fprintf(stderr, "hotdeskd: %s; the audit log %s still has every record\n",
            journaled.error().message.toLocal8Bit().constData(), m_file->path().toLocal8Bit().constData());
    m_journalFailed = !journaled;
    return written;
}

Result<std::unique_ptr<DaemonRecords>> DaemonRecords::open(const DaemonOptions &options)
{
    std::unique_ptr<DaemonRecords> records(new DaemonRecords);
    auto audit = DaemonAudit::open(options.logsDir + QStringLiteral("/audit.jsonl"), records->m_clock);
    if (!audit)
        return tl::unexpected(audit.error());
    records->m_audit = std::move(*audit);
    DaemonAudit *sink = records->m_audit.get();
    auto queue = store::EventQueue::open(options.stateDir + QStringLiteral("/events.sqlite"), records->m_clock, records->m_random,
        [sink](const store::AuditEntry &entry) { (void)sink->record(entry); });
    if (!queue)
        return tl::unexpected(queue.error());
    records->m_queue = std::move(*queue);
    return records;
}

Status DaemonRecords::started(const QString &socketPath)
{
    store::AuditEntry entry;
    entry.event = store::auditEventName(store::AuditEvent::DaemonStarted);
    entry.extra = {{QStringLiteral("version"), QStringLiteral(HOTDESK_VERSION)}, {QStringLiteral("socket"), socketPath},
        {QStringLiteral("pid"), qint64(QCoreApplication::applicationPid())}};
    return m_audit->record(entry);
}

void DaemonRecords::stopped(int signal)
{
    store::AuditEntry entry;
    entry.event = store::auditEventName(store::AuditEvent::DaemonStopped);
    entry.reason = QStringLiteral("signal_%1").arg(signal);
    entry.extra = {{QStringLiteral("pid"), qint64(QCoreApplication::applicationPid())}};
    (void)m_audit->record(entry);
}

} // namespace hotdesk::daemon

// hotdeskd's audit records in the systemd journal: structured fields (HOTDESK_EVENT=, HOTDESK_USER=, …) and a sentence.
#pragma once

#include "core/result.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QString>

namespace hotdesk::daemon {

// The journal entry of one audit record (store::AuditLog::recordOf, already
// redacted): MESSAGE= (auditSentence), PRIORITY= (auditPriority),
// SYSLOG_IDENTIFIER=hotdeskd, SYSLOG_FACILITY=10 (authpriv), and for every
// member of the record that is not empty HOTDESK_<NAME>= with the name in
// upper case ("device_id" gives HOTDESK_DEVICE_ID); strings as they are,
// numbers and booleans as text, arrays and objects as compact JSON. Each item
// is "NAME=value"; a value may hold any byte, a newline included.
QList<QByteArray> journalFields(const QJsonObject &record);

// A sentence for people about the record, e.g. "hotdeskd 0.1.0 started".
QString auditSentence(const QJsonObject &record);
// LOG_WARNING for records of something that failed or was refused, LOG_NOTICE for the others.
int auditPriority(const QJsonObject &record);

// Sends the fields with sd_journal_sendv(3); an error when journald cannot be reached.
Status sendToJournal(const QList<QByteArray> &fields);

} // namespace hotdesk::daemon

// Builds the journal fields of an audit record and sends them to journald.
#include "auditjournal.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonValue>

#include <cmath>
#include <cstring>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

namespace hotdesk::daemon {
namespace {

// journald takes field names of upper-case letters, digits and '_', at most 64 characters.
QByteArray fieldName(const QString &member)
{
    QByteArray name = "HOTDESK_";
    for (const QChar c : member) {
        const char ascii = c.toLatin1();
        if (ascii >= 'a' && ascii <= 'z')
            name += char(ascii - 'a' + 'A');
        else if ((ascii >= 'A' && ascii <= 'Z') || (ascii >= '0' && ascii <= '9'))
            name += ascii;
        else
            name += '_';
    }
    return name.left(64);
}

QByteArray valueText(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::String:
        return value.toString().toUtf8();
    case QJsonValue::Bool:
        return value.toBool() ? "true" : "false";
    case QJsonValue::Double: {
        const double d = value.toDouble();
        if (std::floor(d) == d && std::fabs(d) < 9007199254740992.0)
            return QByteArray::number(qint64(d));
        return QByteArray::number(d, 'g', 17);
    }
    case QJsonValue::Array:
        return QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact);
    case QJsonValue::Object:
        return QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact);
    default:
        return {};
    }
}

QString text(const QJsonObject &record, const char *member)
{
    return record.value(QLatin1String(member)).toVariant().toString();
}

// "about alice" or "", for sentences.
QString aboutUser(const QJsonObject &record)
{
    const QString user = text(record, "user");
    return user.isEmpty() ? QString() : QStringLiteral(" about %1").arg(user);
}

QString queueSentence(const QJsonObject &record)
{
    const QString reason = text(record, "reason");
    const QString event = text(record, "das_event");
    if (text(record, "event") == u"admin_notified")
        return QStringLiteral("The DAS acknowledged the event %1%2").arg(event, aboutUser(record));
    if (reason == u"das_refused")
        return QStringLiteral("The DAS refused the event %1%2 (HTTP %3: %4); it is kept as a dead letter in the event queue")
            .arg(event, aboutUser(record), text(record, "http_status"), text(record, "detail"));
    if (reason == u"expired")
        return QStringLiteral("The event %1%2 did not reach the DAS within %3 days and was dropped from the event queue")
            .arg(event, aboutUser(record), text(record, "max_age_days"));
    if (reason == u"queue_full")
        return QStringLiteral("The DAS event queue is full (%1 events): its oldest event, %2%3, was dropped")
            .arg(text(record, "queue_limit"), event, aboutUser(record));
    return {};
}

} // namespace

QString auditSentence(const QJsonObject &record)
{
    const QString event = text(record, "event");
    if (event == u"daemon_started")
        return QStringLiteral("hotdeskd %1 started").arg(text(record, "version"));
    if (event == u"daemon_stopped")
        return QStringLiteral("hotdeskd stopped (%1)").arg(text(record, "reason"));
    if (event == u"state_not_saved" && text(record, "reason") == u"event_queue")
        return QStringLiteral("The DAS event queue %1 could not be written: %2")
            .arg(text(record, "path"), text(record, "detail"));
    if (!text(record, "das_event").isEmpty()) {
        if (const QString sentence = queueSentence(record); !sentence.isEmpty())
            return sentence;
    }
    QString sentence = QStringLiteral("Hotdesk audit event %1").arg(event);
    if (const QString user = text(record, "user"); !user.isEmpty())
        sentence += QStringLiteral(" for %1").arg(user);
    if (const QString session = text(record, "session"); !session.isEmpty())
        sentence += QStringLiteral(" in session %1").arg(session);
    if (const QString reason = text(record, "reason"); !reason.isEmpty())
        sentence += QStringLiteral(": %1").arg(reason);
    return sentence;
}

int auditPriority(const QJsonObject &record)
{
    const QString event = text(record, "event");
    const bool bad = event.endsWith(u"_failed") || event.endsWith(u"_refused") || event.endsWith(u"_damaged")
        || event.endsWith(u"_rejected") || event == u"state_not_saved" || event == u"user_locked_out"
        || event == u"policy_missing";
    return bad ? LOG_WARNING : LOG_NOTICE;
}

QList<QByteArray> journalFields(const QJsonObject &record)
{
    QList<QByteArray> fields {
        "MESSAGE=" + auditSentence(record).toUtf8(),
        "PRIORITY=" + QByteArray::number(auditPriority(record)),
        "SYSLOG_IDENTIFIER=hotdeskd",
        "SYSLOG_FACILITY=" + QByteArray::number(LOG_AUTHPRIV >> 3),
    };
    for (auto it = record.begin(); it != record.end(); ++it) {
        const QByteArray value = valueText(it.value());
        if (!value.isEmpty())
            fields << fieldName(it.key()) + '=' + value;
    }
    return fields;
}

Status sendToJournal(const QList<QByteArray> &fields)
{
    QList<struct iovec> vector;
    vector.reserve(fields.size());
    for (const QByteArray &field : fields)
        vector.append(iovec {const_cast<char *>(field.constData()), size_t(field.size())});
    const int result = ::sd_journal_sendv(vector.constData(), int(vector.size()));
    if (result < 0)
        return fail(ErrorCode::Io,
            QStringLiteral("cannot write to the systemd journal: %1").arg(QString::fromLocal8Bit(std::strerror(-result))));
    return {};
}

} // namespace hotdesk::daemon

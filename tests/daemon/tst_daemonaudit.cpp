// hotdeskd's audit log: the file's modes, group and checks, its JSON lines, rotation, the journal fields, and a real journald.
#include "app/daemon/auditfile.h"
#include "app/daemon/auditjournal.h"
#include "app/daemon/daemonaudit.h"
#include "fakeclock.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>

#include <grp.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

using namespace hotdesk;
using namespace hotdesk::daemon;

namespace {

struct stat statOf(const QString &path)
{
    struct stat info { };
    if (::lstat(QFile::encodeName(path).constData(), &info) != 0)
        info.st_mode = 0;
    return info;
}

gid_t admGroup()
{
    const struct group *adm = ::getgrnam("adm");
    return adm ? adm->gr_gid : 0;
}

QList<QJsonObject> linesOf(const QString &path)
{
    QFile file(path);
    QList<QJsonObject> out;
    if (!file.open(QIODevice::ReadOnly))
        return out;
    for (const QByteArray &line : file.readAll().split('\n')) {
        if (!line.isEmpty())
            out << QJsonDocument::fromJson(line).object();
    }
    return out;
}

store::AuditEntry entry(const QString &event, const QString &user = {}, const QString &reason = {})
{
    store::AuditEntry e;
    e.event = event;
    e.user = user;
    e.reason = reason;
    return e;
}

// The fields as NAME -> value.
QHash<QByteArray, QByteArray> fieldMap(const QList<QByteArray> &fields)
{
    QHash<QByteArray, QByteArray> out;
    for (const QByteArray &field : fields) {
        const qsizetype eq = field.indexOf('=');
        if (eq <= 0 || out.contains(field.left(eq)))
            qFatal("bad or repeated journal field: %s", field.constData());
        out.insert(field.left(eq), field.mid(eq + 1));
    }
    return out;
}

const char kJwt[] = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz";

} // namespace

class TestDaemonAudit : public QObject {
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;
    test::FakeClock m_clock;
    QList<QList<QByteArray>> m_journal;

    QString logs() const { return m_dir->filePath(QStringLiteral("logs")); }
    QString file() const { return logs() + QStringLiteral("/audit.jsonl"); }

    std::unique_ptr<DaemonAudit> openAudit()
    {
        auto audit = DaemonAudit::open(file(), m_clock, [this](const QList<QByteArray> &fields) -> Status {
            m_journal << fields;
            return {};
        });
        if (!audit)
            qFatal("cannot open the audit log: %s", qPrintable(audit.error().message));
        return std::move(*audit);
    }

    void requireRoot()
    {
        if (::geteuid() != 0)
            QSKIP("the audit log's owner and group adm need root (CI runs the suite as root)");
    }

    // Opening file() fails, with a message naming it and containing what.
    void refused(const char *what)
    {
        auto opened = AuditFile::open(file());
        QVERIFY(!opened);
        QVERIFY2(opened.error().message.contains(QLatin1String(what)), qPrintable(opened.error().message));
    }

private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        m_journal.clear();
    }

    void theFileIsCreatedRootGroupAdm0640()
    {
        requireRoot();
        auto audit = openAudit();
        QCOMPARE(statOf(logs()).st_mode & 07777, mode_t(0750));
        const struct stat info = statOf(file());
        QVERIFY(S_ISREG(info.st_mode));
        QCOMPARE(info.st_mode & 07777, mode_t(0640));
        QCOMPARE(info.st_uid, uid_t(0));
        QCOMPARE(info.st_gid, admGroup());
        QCOMPARE(AuditFile::auditGroup(), admGroup());
        QCOMPARE(QFileInfo(file()).size(), qint64(0));
    }

    void recordsAreTheAgentsJsonLines()
    {
        auto audit = openAudit();
        store::AuditEntry first = entry(QStringLiteral("daemon_started"));
        first.extra.insert(QStringLiteral("version"), QStringLiteral("1.2.3"));
        QVERIFY(audit->record(first).has_value());
        store::AuditEntry second
            = entry(QStringLiteral("reauth_failed"), QStringLiteral("alice"), QStringLiteral("access_denied"));
        second.deviceId = QStringLiteral("pc-7");
        second.extra.insert(QStringLiteral("session"), QStringLiteral("c2"));
        second.extra.insert(QStringLiteral("token"), QLatin1String(kJwt));
        QVERIFY(audit->record(second).has_value());
        const QList<QJsonObject> lines = linesOf(file());
        QCOMPARE(lines.size(), 2);
        QCOMPARE(lines[0].value(QLatin1String("event")).toString(), QStringLiteral("daemon_started"));
        QCOMPARE(lines[0].value(QLatin1String("version")).toString(), QStringLiteral("1.2.3"));
        QCOMPARE(lines[0].value(QLatin1String("time")).toString(), QStringLiteral("2026-01-01T00:00:00Z"));
        const QJsonObject expected {{QStringLiteral("time"), QStringLiteral("2026-01-01T00:00:00Z")},
            {QStringLiteral("event"), QStringLiteral("reauth_failed")}, {QStringLiteral("user"), QStringLiteral("alice")},
            {QStringLiteral("reason"), QStringLiteral("access_denied")}, {QStringLiteral("device_id"), QStringLiteral("pc-7")},
            {QStringLiteral("session"), QStringLiteral("c2")}, {QStringLiteral("token"), QStringLiteral("[redacted]")}};
        QCOMPARE(lines[1], expected);
        QCOMPARE(m_journal.size(), 2); // and each went to the journal
        QFile written(file());
        QVERIFY(written.open(QIODevice::ReadOnly));
        QVERIFY(!written.readAll().contains(kJwt));
    }

    void anExistingFileGetsItsModeAndGroupBack()
    {
        requireRoot();
        QVERIFY(QDir().mkpath(logs()));
        QFile existing(file());
        QVERIFY(existing.open(QIODevice::WriteOnly));
        existing.write("{\"event\":\"older\"}\n");
        existing.close();
        QVERIFY(::chmod(QFile::encodeName(file()).constData(), 0666) == 0);
        QVERIFY(::chown(QFile::encodeName(file()).constData(), 0, 65534) == 0);
        auto audit = openAudit();
        QCOMPARE(statOf(file()).st_mode & 07777, mode_t(0640));
        QCOMPARE(statOf(file()).st_gid, admGroup());
        QVERIFY(audit->record(entry(QStringLiteral("daemon_started"))).has_value());
        QCOMPARE(linesOf(file()).size(), 2); // appended, never truncated
    }

    void unsafeFilesAndDirectoriesAreRefused()
    {
        requireRoot();
        QVERIFY(QDir().mkpath(logs()));
        QVERIFY(QFile::link(m_dir->filePath(QStringLiteral("elsewhere")), file()));
        refused("symbolic link");
        QVERIFY(!QFileInfo::exists(m_dir->filePath(QStringLiteral("elsewhere"))));
        QVERIFY(QFile::remove(file()));

        QFile other(file());
        QVERIFY(other.open(QIODevice::WriteOnly));
        other.close();
        QVERIFY(::chown(QFile::encodeName(file()).constData(), 65534, 65534) == 0);
        refused("belongs to uid 65534");
        QVERIFY(::chown(QFile::encodeName(file()).constData(), 0, 0) == 0);

        QVERIFY(
            ::link(QFile::encodeName(file()).constData(), QFile::encodeName(m_dir->filePath(QStringLiteral("hard"))).constData())
            == 0);
        refused("hard links");
        QVERIFY(QFile::remove(m_dir->filePath(QStringLiteral("hard"))));
        QVERIFY(AuditFile::open(file()).has_value());

        QVERIFY(::chmod(QFile::encodeName(logs()).constData(), 0770) == 0);
        refused("chmod 750");
        QVERIFY(::chmod(QFile::encodeName(logs()).constData(), 0750) == 0);
        QVERIFY(::chown(QFile::encodeName(logs()).constData(), 65534, 0) == 0);
        refused("belongs to uid 65534");
    }

    void aMovedFileIsOpenedAgain()
    {
        requireRoot();
        auto audit = openAudit();
        QVERIFY(audit->record(entry(QStringLiteral("first"))).has_value());
        QVERIFY(QFile::rename(file(), file() + QStringLiteral(".1"))); // as logrotate does
        QVERIFY(audit->record(entry(QStringLiteral("second"))).has_value());
        QCOMPARE(linesOf(file() + QStringLiteral(".1")).size(), 1);
        QCOMPARE(linesOf(file()).size(), 1);
        QCOMPARE(linesOf(file()).constFirst().value(QLatin1String("event")).toString(), QStringLiteral("second"));
        QCOMPARE(statOf(file()).st_mode & 07777, mode_t(0640));
        QCOMPARE(statOf(file()).st_gid, admGroup());
        QVERIFY(QFile::remove(file()));
        QVERIFY(QFile::link(m_dir->filePath(QStringLiteral("elsewhere")), file())); // and replaced by a link: refused
        QVERIFY(!audit->record(entry(QStringLiteral("third"))));
        QVERIFY(!QFileInfo::exists(m_dir->filePath(QStringLiteral("elsewhere"))));
    }

    void journalFieldsCarryTheRecord()
    {
        store::AuditEntry e = entry(QStringLiteral("reauth_failed"), QStringLiteral("alice"), QStringLiteral("access_denied"));
        e.deviceId = QStringLiteral("pc-7");
        e.extra = {{QStringLiteral("session"), QStringLiteral("c2")}, {QStringLiteral("attempts"), 3},
            {QStringLiteral("detail"), QStringLiteral("two\nlines")}, {QStringLiteral("ids"), QJsonArray {1, 2}},
            {QStringLiteral("token"), QLatin1String(kJwt)}, {QStringLiteral("empty"), QString()}};
        const auto fields = fieldMap(journalFields(store::AuditLog::recordOf(e, 1'767'225'600)));
        QCOMPARE(fields.value("HOTDESK_EVENT"), QByteArray("reauth_failed"));
        QCOMPARE(fields.value("HOTDESK_USER"), QByteArray("alice"));
        QCOMPARE(fields.value("HOTDESK_SESSION"), QByteArray("c2"));
        QCOMPARE(fields.value("HOTDESK_REASON"), QByteArray("access_denied"));
        QCOMPARE(fields.value("HOTDESK_DEVICE_ID"), QByteArray("pc-7"));
        QCOMPARE(fields.value("HOTDESK_TIME"), QByteArray("2026-01-01T00:00:00Z"));
        QCOMPARE(fields.value("HOTDESK_ATTEMPTS"), QByteArray("3"));
        QCOMPARE(fields.value("HOTDESK_DETAIL"), QByteArray("two\nlines"));
        QCOMPARE(fields.value("HOTDESK_IDS"), QByteArray("[1,2]"));
        QCOMPARE(fields.value("HOTDESK_TOKEN"), QByteArray("[redacted]"));
        QVERIFY(!fields.contains("HOTDESK_EMPTY"));
        QCOMPARE(fields.value("PRIORITY"), QByteArray::number(LOG_WARNING));
        QCOMPARE(fields.value("SYSLOG_IDENTIFIER"), QByteArray("hotdeskd"));
        QCOMPARE(fields.value("SYSLOG_FACILITY"), QByteArray("10"));
        QCOMPARE(fields.value("MESSAGE"), QByteArray("Hotdesk audit event reauth_failed for alice in session c2: access_denied"));
        QCOMPARE(fields.size(), 14);
    }

    void sentencesAndPriorities_data()
    {
        QTest::addColumn<QByteArray>("record");
        QTest::addColumn<QString>("sentence");
        QTest::addColumn<int>("priority");
        QTest::newRow("started") << QByteArray(R"({"event":"daemon_started","version":"1.2.3"})")
                                 << QStringLiteral("hotdeskd 1.2.3 started") << LOG_NOTICE;
        QTest::newRow("stopped") << QByteArray(R"({"event":"daemon_stopped","reason":"signal_15"})")
                                 << QStringLiteral("hotdeskd stopped (signal_15)") << LOG_NOTICE;
        QTest::newRow("acknowledged") << QByteArray(
            R"({"event":"admin_notified","reason":"lockout","das_event":"lockout","user":"bob"})")
                                      << QStringLiteral("The DAS acknowledged the event lockout about bob") << LOG_NOTICE;
        QTest::newRow("dead letter")
            << QByteArray(
                   R"({"event":"admin_notify_failed","reason":"das_refused","das_event":"x","http_status":400,"detail":"bad"})")
            << QStringLiteral("The DAS refused the event x (HTTP 400: bad); it is kept as a dead letter in the event queue")
            << LOG_WARNING;
        QTest::newRow("expired")
            << QByteArray(R"({"event":"admin_notify_failed","reason":"expired","das_event":"x","max_age_days":30,"user":"a"})")
            << QStringLiteral("The event x about a did not reach the DAS within 30 days and was dropped from the event queue")
            << LOG_WARNING;
        QTest::newRow("full") << QByteArray(
            R"({"event":"admin_notify_failed","reason":"queue_full","das_event":"x","queue_limit":10000})")
                              << QStringLiteral("The DAS event queue is full (10000 events): its oldest event, x, was dropped")
                              << LOG_WARNING;
        QTest::newRow("generic") << QByteArray(R"({"event":"locked","user":"a"})")
                                 << QStringLiteral("Hotdesk audit event locked for a") << LOG_NOTICE;
    }
    void sentencesAndPriorities()
    {
        QFETCH(QByteArray, record);
        QFETCH(QString, sentence);
        QFETCH(int, priority);
        const QJsonObject object = QJsonDocument::fromJson(record).object();
        QVERIFY(!object.isEmpty());
        QCOMPARE(auditSentence(object), sentence);
        QCOMPARE(auditPriority(object), priority);
    }

    // The real daemon against a real journald, both in a mount namespace of
    // their own in which /run is a fresh tmpfs (journald's socket) with this
    // test's directory as /run/log/journal; journalctl reads the entries back.
    void theDaemonWritesItsRecordsToTheJournal()
    {
        requireRoot();
        const QString journald = QStringLiteral("/lib/systemd/systemd-journald");
        if (!QFileInfo(journald).isExecutable())
            QSKIP("needs /lib/systemd/systemd-journald (Debian: systemd, which ./dev installs)");
        const QString journalDir = m_dir->filePath(QStringLiteral("journal"));
        QVERIFY(QDir().mkpath(journalDir));
        QProcess journal;
        journal.setProcessChannelMode(QProcess::MergedChannels);
        const QString script = QStringLiteral("set -e; mount -t tmpfs -o mode=0755 tmpfs /run; "
                                              "mkdir -p /run/systemd/journal /run/log/journal; "
                                              "mount --bind \"$1\" /run/log/journal; exec %1")
                                   .arg(journald);
        journal.start(QStringLiteral("unshare"),
            {QStringLiteral("--mount"), QStringLiteral("--propagation"), QStringLiteral("private"), QStringLiteral("sh"),
                QStringLiteral("-c"), script, QStringLiteral("sh"), journalDir});
        QVERIFY(journal.waitForStarted(10000));
        const auto stopJournal = qScopeGuard([&] {
            journal.kill();
            journal.waitForFinished(5000);
        });
        const QString pid = QString::number(journal.processId());
        const QString socket = QStringLiteral("/proc/%1/root/run/systemd/journal/socket").arg(pid);
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(socket) || journal.state() == QProcess::NotRunning, 10000);
        QVERIFY2(journal.state() == QProcess::Running, journal.readAll().constData());

        QProcess daemon;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("LOGS_DIRECTORY"), logs());
        env.remove(QStringLiteral("NOTIFY_SOCKET"));
        daemon.setProcessEnvironment(env);
        daemon.setProcessChannelMode(QProcess::ForwardedChannels);
        daemon.start(QStringLiteral("nsenter"),
            {QStringLiteral("-t"), pid, QStringLiteral("-m"), QStringLiteral("--"), QStringLiteral(HOTDESKD_BINARY),
                QStringLiteral("--socket"), m_dir->filePath(QStringLiteral("hotdeskd.sock")), QStringLiteral("--state-dir"),
                m_dir->filePath(QStringLiteral("state"))});
        QVERIFY(daemon.waitForStarted(10000));
        // Started, then what the enforcer records at start here (no policy, no logind on this bus).
        const auto eventsOf = [&] {
            QStringList events;
            for (const QJsonObject &line : linesOf(file()))
                events << line.value(QLatin1String("event")).toString();
            return events;
        };
        QTRY_VERIFY_WITH_TIMEOUT(eventsOf().contains(QStringLiteral("logind_unavailable")), 10000);
        daemon.terminate();
        QVERIFY(daemon.waitForFinished(10000));
        QCOMPARE(daemon.exitCode(), 0);
        const QStringList events = eventsOf();
        const QList<QJsonObject> lines = linesOf(file());
        QCOMPARE(events.constFirst(), QStringLiteral("daemon_started"));
        QCOMPARE(events.constLast(), QStringLiteral("daemon_stopped"));
        QCOMPARE(events.count(QStringLiteral("daemon_started")), 1);
        // Not enrolled: every record still has device_id, empty.
        for (const QJsonObject &line : lines)
            QVERIFY(
                line.value(QLatin1String("device_id")).isString() && line.value(QLatin1String("device_id")).toString().isEmpty());

        const auto entries = [&](const QString &match) {
            QProcess reader;
            reader.start(QStringLiteral("journalctl"),
                {QStringLiteral("--directory=") + journalDir, QStringLiteral("--output=json"), QStringLiteral("--no-pager"),
                    match});
            reader.waitForFinished(10000);
            QList<QJsonObject> out;
            for (const QByteArray &line : reader.readAllStandardOutput().split('\n')) {
                if (!line.isEmpty())
                    out << QJsonDocument::fromJson(line).object();
            }
            return out;
        };
        // Every record in the file is in the journal too.
        QTRY_COMPARE_WITH_TIMEOUT(entries(QStringLiteral("SYSLOG_IDENTIFIER=hotdeskd")).size(), events.size(), 10000);
        const QList<QJsonObject> started = entries(QStringLiteral("HOTDESK_EVENT=daemon_started"));
        QCOMPARE(started.size(), 1);
        const QJsonObject &s = started.constFirst();
        QCOMPARE(s.value(QLatin1String("_PID")).toString(), lines[0].value(QLatin1String("pid")).toVariant().toString());
        QCOMPARE(s.value(QLatin1String("HOTDESK_PID")).toString(), s.value(QLatin1String("_PID")).toString());
        QCOMPARE(s.value(QLatin1String("MESSAGE")).toString(),
            QStringLiteral("hotdeskd %1 started").arg(QStringLiteral(HOTDESK_VERSION)));
        QCOMPARE(s.value(QLatin1String("PRIORITY")).toString(), QStringLiteral("5"));
        QCOMPARE(s.value(QLatin1String("HOTDESK_VERSION")).toString(), QStringLiteral(HOTDESK_VERSION));
        QCOMPARE(s.value(QLatin1String("HOTDESK_TIME")).toString(), lines[0].value(QLatin1String("time")).toString());
        const QList<QJsonObject> stopped = entries(QStringLiteral("HOTDESK_EVENT=daemon_stopped"));
        QCOMPARE(stopped.size(), 1);
        QCOMPARE(stopped.constFirst().value(QLatin1String("HOTDESK_REASON")).toString(), QStringLiteral("signal_15"));
        QCOMPARE(stopped.constFirst().value(QLatin1String("MESSAGE")).toString(), QStringLiteral("hotdeskd stopped (signal_15)"));
    }

    // Fail closed: no enforcement without its records. Exit 1, the reason on stderr, the socket gone.
    void theDaemonDoesNotStartWithoutItsRecords_data()
    {
        QTest::addColumn<QString>("damage");
        QTest::addColumn<QString>("expected");
        QTest::newRow("damaged queue") << QStringLiteral("queue") << QStringLiteral("move the file aside");
        QTest::newRow("log directory writable by others") << QStringLiteral("logs") << QStringLiteral("chmod 750");
        QTest::newRow("audit log a link") << QStringLiteral("link") << QStringLiteral("symbolic link");
    }
    void theDaemonDoesNotStartWithoutItsRecords()
    {
        QFETCH(QString, damage);
        QFETCH(QString, expected);
        const QString state = m_dir->filePath(QStringLiteral("state"));
        QVERIFY(QDir().mkpath(state) && QDir().mkpath(logs()));
        QVERIFY(::chmod(QFile::encodeName(state).constData(), 0700) == 0);
        QVERIFY(::chmod(QFile::encodeName(logs()).constData(), 0750) == 0);
        if (damage == u"queue") {
            QFile queue(state + QStringLiteral("/events.sqlite"));
            QVERIFY(queue.open(QIODevice::WriteOnly));
            queue.write(QByteArray("not a database\n").repeated(64));
        } else if (damage == u"logs") {
            QVERIFY(::chmod(QFile::encodeName(logs()).constData(), 0777) == 0);
        } else {
            QVERIFY(QFile::link(m_dir->filePath(QStringLiteral("elsewhere")), file()));
        }
        QProcess daemon;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("LOGS_DIRECTORY"), logs());
        env.remove(QStringLiteral("NOTIFY_SOCKET"));
        daemon.setProcessEnvironment(env);
        const QString socket = m_dir->filePath(QStringLiteral("hotdeskd.sock"));
        daemon.start(QStringLiteral(HOTDESKD_BINARY), {QStringLiteral("--socket"), socket, QStringLiteral("--state-dir"), state});
        QVERIFY(daemon.waitForFinished(10000));
        const QString errors = QString::fromLocal8Bit(daemon.readAllStandardError());
        QCOMPARE(daemon.exitCode(), 1);
        QVERIFY2(errors.contains(expected), qPrintable(errors));
        QVERIFY(!QFileInfo::exists(socket));
        QVERIFY(!QFileInfo::exists(m_dir->filePath(QStringLiteral("elsewhere"))));
    }

    void aMissingJournalLeavesTheFileAuthoritative()
    {
        auto audit = DaemonAudit::open(file(), m_clock,
            [](const QList<QByteArray> &) -> Status { return fail(ErrorCode::Io, QStringLiteral("no journald")); });
        QVERIFY(audit.has_value());
        QVERIFY((*audit)->record(entry(QStringLiteral("daemon_started"))).has_value());
        QCOMPARE(linesOf(file()).size(), 1);
    }
};

QTEST_GUILESS_MAIN(TestDaemonAudit)
#include "tst_daemonaudit.moc"

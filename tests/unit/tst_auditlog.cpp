// The audit log: JSON lines with the required fields, size rotation keeping N files, mode 0600, no JWTs.
#include "core/store/auditlog.h"
#include "fakeclock.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace hotdesk;
using namespace hotdesk::store;

namespace {

QList<QJsonObject> readLines(const QString &path)
{
    QList<QJsonObject> out;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return out;
    const QList<QByteArray> lines = file.readAll().split('\n');
    for (const QByteArray &line : lines) {
        if (line.isEmpty())
            continue;
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(line, &error);
        if (error.error != QJsonParseError::NoError || !doc.isObject())
            qFatal("not a JSON object line: %s", line.constData());
        out << doc.object();
    }
    return out;
}

AuditEntry entry(const QString &event, const QString &reason = QStringLiteral("idle"))
{
    AuditEntry e;
    e.event = event;
    e.user = QStringLiteral("alice");
    e.reason = reason;
    e.deviceId = QStringLiteral("dev-42");
    return e;
}

const char kJwt[] = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz";

} // namespace

class TestAuditLog : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void linesAreJsonWithTheFields()
    {
        QTemporaryDir dir;
        test::FakeClock clock; // 2026-01-01T00:00:00Z
        AuditLog log(dir.filePath(QStringLiteral("sub/audit.log")), clock);
        AuditEntry first = entry(QStringLiteral("reauth_required"));
        first.extra.insert(QStringLiteral("trigger"), QStringLiteral("idle"));
        first.extra.insert(QStringLiteral("attempts_left"), 4);
        QVERIFY(log.append(first));
        clock.advance(std::chrono::seconds(61));
        QVERIFY(log.append(entry(QStringLiteral("reauth_succeeded"), QString())));

        const auto lines = readLines(log.path());
        QCOMPARE(lines.size(), 2);
        QCOMPARE(lines[0].value(QLatin1String("time")).toString(), QStringLiteral("2026-01-01T00:00:00Z"));
        QCOMPARE(lines[0].value(QLatin1String("event")).toString(), QStringLiteral("reauth_required"));
        QCOMPARE(lines[0].value(QLatin1String("user")).toString(), QStringLiteral("alice"));
        QCOMPARE(lines[0].value(QLatin1String("reason")).toString(), QStringLiteral("idle"));
        QCOMPARE(lines[0].value(QLatin1String("device_id")).toString(), QStringLiteral("dev-42"));
        QCOMPARE(lines[0].value(QLatin1String("trigger")).toString(), QStringLiteral("idle"));
        QCOMPARE(lines[0].value(QLatin1String("attempts_left")).toInt(), 4);
        QCOMPARE(lines[1].value(QLatin1String("time")).toString(), QStringLiteral("2026-01-01T00:01:01Z"));
        QVERIFY(lines[1].contains(QLatin1String("reason")));
    }

    void extraCannotOverrideTheFields()
    {
        QTemporaryDir dir;
        test::FakeClock clock;
        AuditLog log(dir.filePath(QStringLiteral("audit.log")), clock);
        AuditEntry e = entry(QStringLiteral("enrolled"));
        e.extra.insert(QStringLiteral("time"), QStringLiteral("1999-01-01T00:00:00Z"));
        e.extra.insert(QStringLiteral("user"), QStringLiteral("mallory"));
        QVERIFY(log.append(e));
        const auto lines = readLines(log.path());
        QCOMPARE(lines.size(), 1);
        QCOMPARE(lines[0].value(QLatin1String("time")).toString(), QStringLiteral("2026-01-01T00:00:00Z"));
        QCOMPARE(lines[0].value(QLatin1String("user")).toString(), QStringLiteral("alice"));
    }

    void fileIsPrivate()
    {
        QTemporaryDir dir;
        test::FakeClock clock;
        const QString path = dir.filePath(QStringLiteral("new/audit.log"));
        AuditLog log(path, clock);
        QVERIFY(log.append(entry(QStringLiteral("started"))));
        QCOMPARE(QFileInfo(path).permissions() & 0x0077, QFileDevice::Permissions());
        QCOMPARE(int(QFileInfo(path).permissions() & (QFileDevice::ReadOwner | QFileDevice::WriteOwner)),
            int(QFileDevice::ReadOwner | QFileDevice::WriteOwner));
        QCOMPARE(QFileInfo(dir.filePath(QStringLiteral("new"))).permissions() & 0x0077, QFileDevice::Permissions());

        // A file left readable by others is tightened on the next entry.
        QVERIFY(QFile::setPermissions(path, QFileDevice::Permissions(0x6644)));
        QVERIFY(log.append(entry(QStringLiteral("again"))));
        QCOMPARE(QFileInfo(path).permissions() & 0x0077, QFileDevice::Permissions());
    }

    void rotatesBySizeKeepingNFiles()
    {
        QTemporaryDir dir;
        test::FakeClock clock;
        const QString path = dir.filePath(QStringLiteral("audit.log"));
        AuditLog log(path, clock, AuditLogOptions {400, 3});
        for (int i = 0; i < 40; ++i) {
            AuditEntry e = entry(QStringLiteral("tick"));
            e.extra.insert(QStringLiteral("n"), i);
            QVERIFY(log.append(e));
            QVERIFY2(QFileInfo(path).size() <= 400, qPrintable(QString::number(QFileInfo(path).size())));
        }
        QVERIFY(QFile::exists(path + QStringLiteral(".1")));
        QVERIFY(QFile::exists(path + QStringLiteral(".2")));
        QVERIFY(QFile::exists(path + QStringLiteral(".3")));
        QVERIFY(!QFile::exists(path + QStringLiteral(".4")));
        // Newest in audit.log, older ones in increasing suffixes, nothing lost in between.
        const auto current = readLines(path);
        const auto one = readLines(path + QStringLiteral(".1"));
        const auto two = readLines(path + QStringLiteral(".2"));
        QVERIFY(!current.isEmpty() && !one.isEmpty() && !two.isEmpty());
        QCOMPARE(current.last().value(QLatin1String("n")).toInt(), 39);
        QCOMPARE(one.last().value(QLatin1String("n")).toInt() + 1, current.first().value(QLatin1String("n")).toInt());
        QCOMPARE(two.last().value(QLatin1String("n")).toInt() + 1, one.first().value(QLatin1String("n")).toInt());
        QCOMPARE(QFileInfo(path + QStringLiteral(".1")).permissions() & 0x0077, QFileDevice::Permissions());
    }

    void jwtLookingValuesAreRedacted_data()
    {
        QTest::addColumn<QString>("value");
        QTest::addColumn<bool>("jwt");
        QTest::newRow("jwt") << QString::fromLatin1(kJwt) << true;
        QTest::newRow("jwt inside text") << QStringLiteral("token=%1 end").arg(QLatin1String(kJwt)) << true;
        QTest::newRow("unsigned jwt") << QStringLiteral("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.") << true;
        QTest::newRow("plain reason") << QStringLiteral("expired") << false;
        QTest::newRow("dotted name") << QStringLiteral("alice.smith.example") << false;
        QTest::newRow("eyJ without dots") << QStringLiteral("eyJhbGciOiJFUzI1NiJ9") << false;
    }
    void jwtLookingValuesAreRedacted()
    {
        QFETCH(QString, value);
        QFETCH(bool, jwt);
        QCOMPARE(AuditLog::looksLikeJwt(value), jwt);

        QTemporaryDir dir;
        test::FakeClock clock;
        AuditLog log(dir.filePath(QStringLiteral("audit.log")), clock);
        AuditEntry e = entry(QStringLiteral("reauth_failed"), value);
        e.extra.insert(QStringLiteral("detail"), value);
        e.extra.insert(QStringLiteral("nested"), QJsonObject {{QStringLiteral("list"), QJsonArray {value}}});
        QVERIFY(log.append(e));
        const auto lines = readLines(log.path());
        QCOMPARE(lines.size(), 1);
        const QString expected = jwt ? QStringLiteral("[redacted]") : value;
        QCOMPARE(lines[0].value(QLatin1String("reason")).toString(), expected);
        QCOMPARE(lines[0].value(QLatin1String("detail")).toString(), expected);
        QCOMPARE(lines[0].value(QLatin1String("nested")).toObject().value(QLatin1String("list")).toArray().at(0).toString(),
            expected);
        QFile file(log.path());
        QVERIFY(file.open(QIODevice::ReadOnly));
        if (jwt)
            QVERIFY(!file.readAll().contains("eyJhbGci"));
    }

    void unwritableLocationIsAnError()
    {
        QTemporaryDir dir;
        test::FakeClock clock;
        QFile blocker(dir.filePath(QStringLiteral("file")));
        QVERIFY(blocker.open(QIODevice::WriteOnly));
        blocker.close();
        AuditLog log(dir.filePath(QStringLiteral("file/audit.log")), clock);
        const Status s = log.append(entry(QStringLiteral("x")));
        QVERIFY(!s);
        QCOMPARE(s.error().code, ErrorCode::Io);
        QVERIFY(s.error().message.contains(QLatin1String("audit log")));
    }
};

QTEST_GUILESS_MAIN(TestAuditLog)
#include "tst_auditlog.moc"

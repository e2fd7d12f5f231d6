// Device recognition at the DAS (flow 4): fingerprint drift, administrator approval, one-time codes, the events feed, the admin
// API.
#include "app/stubs/das/dasrecognition.h"
#include "core/das/fingerprint.h"
#include "dasfixture.h"

#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QStandardPaths>
#include <QTimer>
#include <QtEndian>

#include <algorithm>

using namespace hotdesk;
using namespace hotdesk::test;

namespace {

const QString kUser = QStringLiteral("alice@corp.example");
const QString kMachine = QStringLiteral("4c4c4544-0031-3910-8052-b6c04f4d3832");

// A PC with two monitors, as the agent would describe it.
QJsonObject fingerprint(const QString &machineId = kMachine)
{
    return {{QStringLiteral("machine_id"), machineId},
        {QStringLiteral("screens"), QJsonArray {QStringLiteral("1920x1080@1"), QStringLiteral("2560x1440@1.25")}},
        {QStringLiteral("os"),
            QJsonObject {
                {QStringLiteral("name"), QStringLiteral("Debian GNU/Linux")}, {QStringLiteral("version"), QStringLiteral("12")}}},
        {QStringLiteral("browser"),
            QJsonObject {
                {QStringLiteral("engine"), QStringLiteral("QtWebEngine")}, {QStringLiteral("version"), QStringLiteral("6.4.2")}}},
        {QStringLiteral("agent_version"), QStringLiteral("0.1.0")}};
}

// The fingerprint after the named changes: screen-added, resolution, scale,
// reordered, os, browser, browser-gone, agent, machine.
QJsonObject changed(QJsonObject fp, const QStringList &changes)
{
    for (const QString &change : changes) {
        if (change == QLatin1String("screen-added"))
            fp.insert(QStringLiteral("screens"),
                QJsonArray {QStringLiteral("1920x1080@1"), QStringLiteral("2560x1440@1.25"), QStringLiteral("1280x1024@1")});
        else if (change == QLatin1String("resolution"))
            fp.insert(QStringLiteral("screens"), QJsonArray {QStringLiteral("1920x1200@1"), QStringLiteral("2560x1440@1.25")});
        else if (change == QLatin1String("scale"))
            fp.insert(QStringLiteral("screens"), QJsonArray {QStringLiteral("1920x1080@1"), QStringLiteral("2560x1440@1.5")});
        else if (change == QLatin1String("reordered"))
            fp.insert(QStringLiteral("screens"), QJsonArray {QStringLiteral("2560x1440@1.25"), QStringLiteral("1920x1080@1.00")});
        else if (change == QLatin1String("os"))
            fp.insert(QStringLiteral("os"),
                QJsonObject {{QStringLiteral("name"), QStringLiteral("Debian GNU/Linux")},
                    {QStringLiteral("version"), QStringLiteral("13")}});
        else if (change == QLatin1String("browser"))
            fp.insert(QStringLiteral("browser"),
                QJsonObject {{QStringLiteral("engine"), QStringLiteral("QtWebEngine")},
                    {QStringLiteral("version"), QStringLiteral("6.5.0")}});
        else if (change == QLatin1String("browser-gone"))
            fp.remove(QStringLiteral("browser"));
        else if (change == QLatin1String("agent"))
            fp.insert(QStringLiteral("agent_version"), QStringLiteral("0.2.0"));
        else if (change == QLatin1String("machine"))
            fp.insert(QStringLiteral("machine_id"), QStringLiteral("9f2e1d0c-5b4a-4f3e-8d2c-1b0a99887766"));
        else
            qFatal("unknown change %s", qPrintable(change));
    }
    return fp;
}

das::Fingerprint parsed(const QJsonObject &json)
{
    auto fp = das::Fingerprint::fromJson(json);
    if (!fp)
        qFatal("fingerprint: %s", qPrintable(fp.error().message));
    return *fp;
}

QString canonical(const QJsonObject &json)
{
    return QString::fromUtf8(QJsonDocument(parsed(json).toJson()).toJson(QJsonDocument::Compact));
}

QJsonObject twoFactorBody(const QJsonObject &fp, const QString &user = kUser)
{
    return {{QStringLiteral("user"), user}, {QStringLiteral("state"), QStringLiteral("st-41c9")},
        {QStringLiteral("nonce"), QStringLiteral("n-7e02")},
        {QStringLiteral("code_challenge"), QStringLiteral("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")},
        {QStringLiteral("code_challenge_method"), QStringLiteral("S256")},
        {QStringLiteral("redirect_uri"), QStringLiteral("http://127.0.0.1:49152/callback")}, {QStringLiteral("fingerprint"), fp}};
}

QStringList names(std::initializer_list<const char *> list)
{
    QStringList out;
    for (const char *name : list)
        out << QLatin1String(name);
    return out;
}

// Every digit moved by one: surely not the code.
QString wrongCode(const QString &code)
{
    QString out;
    for (QChar c : code)
        out += QChar(u'0' + (c.digitValue() + 1) % 10);
    return out;
}

// Random bytes handed out in a fixed order, to check how codes are drawn.
class ScriptedRandom final : public RandomSource {
public:
    explicit ScriptedRandom(QList<quint32> values)
        : m_values(std::move(values))
    {
    }
    Result<QByteArray> bytes(qsizetype count) override
    {
        if (count != 4 || m_values.isEmpty())
            return fail(ErrorCode::CryptoFailure, QStringLiteral("script exhausted"));
        const quint32 v = m_values.takeFirst();
        QByteArray out(4, Qt::Uninitialized);
        qToBigEndian(v, out.data());
        return out;
    }
    qsizetype left() const { return m_values.size(); }

private:
    QList<quint32> m_values;
};

struct Run {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

// Runs "hotdesk-stubs admin ..." while this process keeps serving: the
// in-process DAS needs the event loop, so no blocking waitForFinished.
Run runAdmin(const QStringList &args, const QByteArray &stdinData = {})
{
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("HOTDESK_ADMIN_TOKEN"));
    process.setProcessEnvironment(env);
    QEventLoop loop;
    QObject::connect(&process, &QProcess::finished, &loop, &QEventLoop::quit);
    QObject::connect(&process, &QProcess::errorOccurred, &loop, &QEventLoop::quit);
    QTimer::singleShot(60000, &loop, &QEventLoop::quit);
    process.start(QStringLiteral(HOTDESK_STUBS_BINARY), QStringList {QStringLiteral("admin")} + args);
    if (!stdinData.isNull()) {
        process.write(stdinData);
        process.closeWriteChannel();
    }
    loop.exec();
    Run run;
    if (process.state() != QProcess::NotRunning) {
        process.kill();
        process.waitForFinished(5000);
        return run;
    }
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.out = process.readAllStandardOutput();
    run.err = process.readAllStandardError();
    return run;
}

} // namespace

class TestDasRecognition : public QObject {
    Q_OBJECT

    DasFixture f;
    EnrolledDevice m_device;
    // badInput's rows share one server and device: enrolling runs scrypt, and
    // every row must leave the store as it found it anyway.
    bool m_sharing = false;

    // A device enrolled, alice mapped, and fp registered as its first fingerprint.
    void registeredDevice(const QJsonObject &fp = fingerprint())
    {
        f.enroll(QStringLiteral("pc-desk-12"), m_device);
        if (QTest::currentTestFailed())
            return;
        f.mapUser(kUser, QStringLiteral("shared-alice-0001"));
        const HttpResult r = twoFactor(fp);
        QCOMPARE(r.status, 201);
    }

    HttpResult twoFactor(const QJsonObject &fp, const EnrolledDevice *device = nullptr)
    {
        return f.postJson(QStringLiteral("/v1/2fa-tokens"), twoFactorBody(fp), f.deviceAuth(device ? *device : m_device));
    }

    QString storedFingerprint(const QString &column = QStringLiteral("fingerprint"))
    {
        return f.scalar(QStringLiteral("SELECT %1 FROM das_devices WHERE device_id = ?").arg(column), {m_device.id}).toString();
    }

    qint64 events(const QString &type)
    {
        return f.count(QStringLiteral("SELECT COUNT(*) FROM das_events WHERE type = ?"), {type});
    }

    QString approvalRequest(const QJsonObject &fp, const QString &user = kUser)
    {
        const HttpResult r = f.postJson(QStringLiteral("/v1/devices/%1/approval-requests").arg(m_device.id),
            {{QStringLiteral("user"), user}, {QStringLiteral("fingerprint"), fp}}, f.deviceAuth(m_device));
        if (r.status != 201)
            qWarning("approval request answered %d: %s", r.status, r.body.constData());
        return jsonOf(r).value(QLatin1String("id")).toString();
    }

    HttpResult approvalStatus(const QString &id)
    {
        return f.get(QStringLiteral("/v1/devices/%1/approval-requests/%2").arg(m_device.id, id), f.deviceAuth(m_device));
    }

    HttpResult decide(const QString &id, const QString &token, const QString &decision = QStringLiteral("approve"))
    {
        return f.postJson(QStringLiteral("/v1/admin/approval-requests/%1").arg(id), {{QStringLiteral("decision"), decision}},
            DasFixture::bearer(token));
    }

    HttpResult requestCode(const EnrolledDevice *device = nullptr)
    {
        return f.postJson(
            QStringLiteral("/v1/oob-tokens"), {{QStringLiteral("user"), kUser}}, f.deviceAuth(device ? *device : m_device));
    }

    HttpResult verifyCode(const QString &code, const QString &machineId = kMachine, const EnrolledDevice *device = nullptr)
    {
        return f.postJson(QStringLiteral("/v1/oob-tokens/verify"),
            {{QStringLiteral("user"), kUser}, {QStringLiteral("token"), code}, {QStringLiteral("machine_id"), machineId}},
            f.deviceAuth(device ? *device : m_device));
    }

    QStringList outbox() const { return QDir(f.dir->filePath(QStringLiteral("outbox"))).entryList(QDir::Files, QDir::Name); }

    // The code in the newest message of the outbox.
    QString lastCode()
    {
        const QStringList files = outbox();
        if (files.isEmpty())
            return {};
        // Names sort by time; a second message in the same second gets "-2".
        QStringList sorted = files;
        std::sort(sorted.begin(), sorted.end(),
            [](const QString &a, const QString &b) { return a.size() != b.size() ? a.size() < b.size() : a < b; });
        QFile file(QDir(f.dir->filePath(QStringLiteral("outbox"))).filePath(sorted.constLast()));
        if (!file.open(QIODevice::ReadOnly))
            return {};
        static const QRegularExpression line(QStringLiteral("^Code: ([0-9]+)$"), QRegularExpression::MultilineOption);
        return line.match(QString::fromUtf8(file.readAll())).captured(1);
    }

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void init()
    {
        f.clock.setSeconds(1'767'225'600);
        if (m_sharing && f.server)
            return;
        m_sharing = QLatin1String(QTest::currentTestFunction()) == QLatin1String("badInput");
        f.start();
    }

    void cleanup()
    {
        if (m_sharing && !QTest::currentTestFailed())
            return;
        m_sharing = false;
        f.stop();
    }

    void cleanupTestCase() { f.stop(); }

    void fingerprintDrift_data()
    {
        QTest::addColumn<QStringList>("changes");
        QTest::addColumn<int>("threshold");
        QTest::addColumn<int>("drift");
        QTest::addColumn<QString>("verdict");
        QTest::addColumn<QStringList>("components");
        const QStringList none;
        QTest::newRow("identical") << none << 1 << 0 << "identical" << none;
        QTest::newRow("screens listed in another order") << names({"reordered"}) << 1 << 0 << "identical" << none;
        QTest::newRow("a monitor added") << names({"screen-added"}) << 1 << 1 << "drifted" << names({"screens"});
        QTest::newRow("a resolution changed") << names({"resolution"}) << 1 << 1 << "drifted" << names({"screens"});
        QTest::newRow("a scale changed") << names({"scale"}) << 1 << 1 << "drifted" << names({"screens"});
        QTest::newRow("OS updated") << names({"os"}) << 1 << 1 << "drifted" << names({"os"});
        QTest::newRow("browser updated") << names({"browser"}) << 1 << 1 << "drifted" << names({"browser"});
        QTest::newRow("browser no longer reported") << names({"browser-gone"}) << 1 << 1 << "drifted" << names({"browser"});
        QTest::newRow("agent updated") << names({"agent"}) << 1 << 1 << "drifted" << names({"agent_version"});
        QTest::newRow("two monitor changes are one component")
            << names({"screen-added", "scale"}) << 1 << 1 << "drifted" << names({"screens"});
        QTest::newRow("OS and browser") << names({"os", "browser"}) << 1 << 2 << "unrecognized" << names({"os", "browser"});
        QTest::newRow("OS and browser, threshold 2")
            << names({"os", "browser"}) << 2 << 2 << "drifted" << names({"os", "browser"});
        QTest::newRow("one change, threshold 0") << names({"agent"}) << 0 << 1 << "unrecognized" << names({"agent_version"});
        QTest::newRow("machine id alone") << names({"machine"}) << 1 << 1 << "unrecognized" << names({"machine_id"});
        QTest::newRow("machine id, threshold 4") << names({"machine"}) << 4 << 1 << "unrecognized" << names({"machine_id"});
        QTest::newRow("all but the machine id, threshold 4") << names({"screen-added", "os", "browser", "agent"}) << 4 << 4
                                                             << "drifted" << names({"screens", "os", "browser", "agent_version"});
        QTest::newRow("everything") << names({"machine", "screen-added", "os", "browser", "agent"}) << 4 << 5 << "unrecognized"
                                    << names({"machine_id", "screens", "os", "browser", "agent_version"});
    }

    void fingerprintDrift()
    {
        QFETCH(QStringList, changes);
        QFETCH(int, threshold);
        QFETCH(int, drift);
        QFETCH(QString, verdict);
        QFETCH(QStringList, components);
        const das::Fingerprint registered = parsed(fingerprint());
        const das::Fingerprint presented = parsed(changed(fingerprint(), changes));
        QCOMPARE(das::drift(registered, presented), drift);
        QStringList names;
        for (das::FingerprintComponent c : das::changedComponents(registered, presented))
            names << das::fingerprintComponentName(c);
        QCOMPARE(names, components);
        const das::FingerprintVerdict expected = verdict == QLatin1String("identical") ? das::FingerprintVerdict::Identical
            : verdict == QLatin1String("drifted")                                      ? das::FingerprintVerdict::Drifted
                                                                                       : das::FingerprintVerdict::Unrecognized;
        QCOMPARE(das::recognize(registered, presented, threshold), expected);
        // Drift is symmetric: it counts differences, not a direction.
        QCOMPARE(das::drift(presented, registered), drift);
    }

    // docs/faults.md: the transport faults on /v1/2fa-tokens, as the agent will meet them.
    void transportFaults_data()
    {
        QTest::addColumn<QString>("fault");
        QTest::addColumn<int>("status");
        QTest::addColumn<bool>("json");
        QTest::newRow("500") << QStringLiteral("500") << 500 << true;
        QTest::newRow("garbage") << QStringLiteral("garbage") << 200 << false;
        QTest::newRow("slow (late but correct)") << QStringLiteral("slow=0.2") << 201 << true;
    }
    void transportFaults()
    {
        QFETCH(QString, fault);
        QFETCH(int, status);
        QFETCH(bool, json);
        f.faults = {fault};
        f.start();
        f.faults.clear();
        f.enroll(QStringLiteral("pc-desk-12"), m_device);
        if (QTest::currentTestFailed())
            return;
        f.mapUser(kUser, QStringLiteral("shared-alice-0001"));
        const HttpResult r = twoFactor(fingerprint());
        QCOMPARE(r.status, status);
        QJsonParseError error{};
        const QJsonObject body = QJsonDocument::fromJson(r.body, &error).object();
        QCOMPARE(error.error == QJsonParseError::NoError, json);
        if (status == 201)
            QVERIFY(!body.value(QLatin1String("request")).toString().isEmpty());
    }

    void fingerprintJson()
    {
        // Canonical: screens sorted, scales without trailing zeros, unknown members and missing components left out.
        QJsonObject json = changed(fingerprint(), {QStringLiteral("reordered"), QStringLiteral("browser-gone")});
        json.insert(QStringLiteral("battery"), QStringLiteral("87%"));
        const das::Fingerprint fp = parsed(json);
        const QJsonObject out = fp.toJson();
        QCOMPARE(out.value(QLatin1String("screens")).toArray(),
            (QJsonArray {QStringLiteral("1920x1080@1"), QStringLiteral("2560x1440@1.25")}));
        QVERIFY(!out.contains(QLatin1String("battery")));
        QVERIFY(!out.contains(QLatin1String("browser")));
        QCOMPARE(parsed(out), fp);
        QCOMPARE(das::ScreenMode::fromString(u"3840x2160@1.5")->toString(), QStringLiteral("3840x2160@1.5"));
        QCOMPARE(das::ScreenMode::fromString(u"800x600@2.00")->toString(), QStringLiteral("800x600@2"));
        QCOMPARE(das::ScreenMode::fromString(u"800x600@0.75")->scalePercent, 75);
        // Only the machine id is required.
        QCOMPARE(parsed({{QStringLiteral("machine_id"), QStringLiteral("m-1")}}).toJson(),
            (QJsonObject {{QStringLiteral("machine_id"), QStringLiteral("m-1")}}));
    }

    void fingerprintRefused_data()
    {
        QTest::addColumn<QJsonObject>("json");
        auto with = [](const char *member, const QJsonValue &value) {
            QJsonObject fp = fingerprint();
            if (value.isUndefined())
                fp.remove(QLatin1String(member));
            else
                fp.insert(QLatin1String(member), value);
            return fp;
        };
        auto screen = [&](const QString &s) { return with("screens", QJsonArray {s}); };
        QJsonArray many;
        for (int i = 0; i < 17; ++i)
            many.append(QStringLiteral("1024x768@1"));
        QTest::newRow("no machine id") << with("machine_id", QJsonValue::Undefined);
        QTest::newRow("empty machine id") << with("machine_id", QString());
        QTest::newRow("machine id number") << with("machine_id", 42);
        QTest::newRow("machine id with a space") << with("machine_id", QStringLiteral("my pc"));
        QTest::newRow("machine id too long") << with("machine_id", QString(257, QLatin1Char('a')));
        QTest::newRow("screens a string") << with("screens", QStringLiteral("1920x1080@1"));
        QTest::newRow("screen an object") << with("screens", QJsonArray {QJsonObject {{QStringLiteral("width"), 1920}}});
        QTest::newRow("screen without scale") << screen(QStringLiteral("1920x1080"));
        QTest::newRow("screen of width 0") << screen(QStringLiteral("0x1080@1"));
        QTest::newRow("screen too wide") << screen(QStringLiteral("70000x1080@1"));
        QTest::newRow("scale 0") << screen(QStringLiteral("1920x1080@0"));
        QTest::newRow("scale 17") << screen(QStringLiteral("1920x1080@17"));
        QTest::newRow("scale with three decimals") << screen(QStringLiteral("1920x1080@1.255"));
        QTest::newRow("negative scale") << screen(QStringLiteral("1920x1080@-1"));
        QTest::newRow("17 screens") << with("screens", many);
        QTest::newRow("os a string") << with("os", QStringLiteral("Debian 12"));
        QTest::newRow("os without a name") << with("os", QJsonObject {{QStringLiteral("version"), QStringLiteral("12")}});
        QTest::newRow("os name a number") << with("os", QJsonObject {{QStringLiteral("name"), 12}});
        QTest::newRow("browser version a number") << with(
            "browser", QJsonObject {{QStringLiteral("engine"), QStringLiteral("QtWebEngine")}, {QStringLiteral("version"), 6}});
        QTest::newRow("agent version with a newline") << with("agent_version", QStringLiteral("0.1\n0"));
        QTest::newRow("agent version too long") << with("agent_version", QString(300, QLatin1Char('1')));
    }

    void fingerprintRefused()
    {
        QFETCH(QJsonObject, json);
        auto fp = das::Fingerprint::fromJson(json);
        QVERIFY(!fp.has_value());
        QCOMPARE(fp.error().code, ErrorCode::Malformed);
        QVERIFY(fp.error().message.startsWith(QLatin1String("fingerprint: ")));
    }

    void codesAreDrawnUniformly()
    {
        // 8 digits: 32-bit draws from 42 * 10^8 up would make low codes likelier, so they are thrown away.
        ScriptedRandom script({0xFFFFFFFFu, 4'200'000'000u, 4'199'999'999u});
        auto code = stubs::das::randomDigits(script, 8);
        QVERIFY(code.has_value());
        QCOMPARE(*code, QStringLiteral("99999999"));
        QCOMPARE(script.left(), 0);
        ScriptedRandom small({7u});
        QCOMPARE(*stubs::das::randomDigits(small, 8), QStringLiteral("00000007"));
        ScriptedRandom six({4'294'000'000u, 4'293'999'999u});
        QCOMPARE(*stubs::das::randomDigits(six, 6), QStringLiteral("999999"));
        // A source stuck out of range is an error, not an endless loop.
        ScriptedRandom stuck(QList<quint32>(64, 0xFFFFFFFFu));
        QVERIFY(!stubs::das::randomDigits(stuck, 8).has_value());
        OpenSslRandom real;
        QSet<QString> seen;
        for (int i = 0; i < 200; ++i) {
            auto drawn = stubs::das::randomDigits(real, 8);
            QVERIFY(drawn.has_value());
            QCOMPARE(drawn->size(), 8);
            seen.insert(*drawn);
        }
        QVERIFY(seen.size() > 190);
    }

    void firstFingerprintIsRegistered()
    {
        registeredDevice();
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(storedFingerprint(), canonical(fingerprint()));
        QCOMPARE(events(QStringLiteral("fingerprint_registered")), 1);
        // The same fingerprint again changes nothing and records nothing.
        const qint64 before = f.count(QStringLiteral("SELECT COUNT(*) FROM das_events"));
        QCOMPARE(twoFactor(changed(fingerprint(), {QStringLiteral("reordered")})).status, 201);
        QCOMPARE(f.count(QStringLiteral("SELECT COUNT(*) FROM das_events")), before);
    }

    void oneChangeIsAcceptedAndStored()
    {
        registeredDevice();
        if (QTest::currentTestFailed())
            return;
        const QJsonObject monitor = changed(fingerprint(), {QStringLiteral("screen-added")});
        QCOMPARE(twoFactor(monitor).status, 201);
        QCOMPARE(storedFingerprint(), canonical(monitor));
        QCOMPARE(events(QStringLiteral("fingerprint_drift_accepted")), 1);
        QVERIFY(f.scalar(QStringLiteral("SELECT detail FROM das_events WHERE type = 'fingerprint_drift_accepted'"))
                    .toString()
                    .contains(QLatin1String("screens")));
        // Drift counts from the fingerprint stored last: one more change is again one.
        const QJsonObject upgraded = changed(monitor, {QStringLiteral("os")});
        QCOMPARE(twoFactor(upgraded).status, 201);
        QCOMPARE(storedFingerprint(), canonical(upgraded));
    }

    void twoChangesAreUnrecognized()
    {
        registeredDevice();
        if (QTest::currentTestFailed())
            return;
        const QJsonObject moved = changed(fingerprint(), {QStringLiteral("os"), QStringLiteral("browser")});
        const HttpResult r = twoFactor(moved);
        QCOMPARE(r.status, 403);
        QCOMPARE(r.contentType, QByteArray("application/problem+json"));
        QCOMPARE(problemSlug(r), QStringLiteral("device-unrecognized"));
        QVERIFY(!jsonOf(r).contains(QLatin1String("approval_request")));
        // The device is told nothing about what differed; the administrator's feed is.
        QVERIFY(!r.body.contains("browser"));
        QCOMPARE(storedFingerprint(), canonical(fingerprint()));
        QCOMPARE(storedFingerprint(QStringLiteral("candidate_fingerprint")), canonical(moved));
        QCOMPARE(f.scalar(QStringLiteral("SELECT detail FROM das_events WHERE type = 'device_unrecognized'")).toString(),
            QStringLiteral("changed: os, browser (drift threshold 1)"));
        // The registered fingerprint still works.
        QCOMPARE(twoFactor(fingerprint()).status, 201);
    }

    void machineIdChangeIsUnrecognized()
    {
        registeredDevice();
        if (QTest::currentTestFailed())
            return;
        const HttpResult r = twoFactor(changed(fingerprint(), {QStringLiteral("machine")}));
        QCOMPARE(r.status, 403);
        QCOMPARE(problemSlug(r), QStringLiteral("device-unrecognized"));
        QCOMPARE(storedFingerprint(), canonical(fingerprint()));
    }

    void driftThresholdFromTheCommandLine()
    {
        registeredDevice();
        if (QTest::currentTestFailed())
            return;
        const QString data = f.dir->path();
        Run run = runAdmin({QStringLiteral("drift-threshold"), QStringLiteral("--data"), data});
        QCOMPARE(run.exitCode, 0);
        QVERIFY(run.out.contains("drift threshold: 1 "));
        run = runAdmin({QStringLiteral("drift-threshold"), QStringLiteral("2"), QStringLiteral("--data"), data});
        QCOMPARE(run.exitCode, 0);
        QVERIFY(run.out.contains("drift threshold: 2 "));
        // Read per request: the running DAS applies it at once.
        const QJsonObject two = changed(fingerprint(), {QStringLiteral("os"), QStringLiteral("browser")});
        QCOMPARE(twoFactor(two).status, 201);
        QCOMPARE(twoFactor(changed(two, {QStringLiteral("machine")})).status, 403);
        run = runAdmin({QStringLiteral("drift-threshold"), QStringLiteral("5"), QStringLiteral("--data"), data});
        QCOMPARE(run.exitCode, 2);
        run = runAdmin({QStringLiteral("drift-threshold"), QStringLiteral("one"), QStringLiteral("--data"), data});
        QCOMPARE(run.exitCode, 2);
        QSqlDatabase db = f.store().database();
        QCOMPARE(*stubs::das::driftThreshold(db), 2);
    }

    void approvalThroughTheAdminApi()
    {
        registeredDevice();
        if (QTest::currentTestFailed())
            return;
        const QJsonObject moved = changed(fingerprint(), {QStringLiteral("os"), QStringLiteral("browser")});
        QCOMPARE(twoFactor(moved).status, 403);

        HttpResult r = f.postJson(QStringLiteral("/v1/devices/%1/approval-requests").arg(m_device.id),
            {{QStringLiteral("user"), QStringLiteral("Alice@Corp.Example")}, {QStringLiteral("fingerprint"), moved}},
            f.deviceAuth(m_device));
        QCOMPARE(r.status, 201);
        const QString id = jsonOf(r).value(QLatin1String("id")).toString();
        QVERIFY(id.size() >= 16);
        QCOMPARE(jsonOf(r).value(QLatin1String("status")).toString(), QStringLiteral("pending"));
        QCOMPARE(jsonOf(r).value(QLatin1String("expires_in")).toInteger(), 900);
        QCOMPARE(jsonOf(r).value(QLatin1String("user")).toString(), kUser);
        // Asking again (an agent restarted) finds the same request.
        r = f.postJson(QStringLiteral("/v1/devices/%1/approval-requests").arg(m_device.id),
            {{QStringLiteral("user"), kUser}, {QStringLiteral("fingerprint"), moved}}, f.deviceAuth(m_device));
        QCOMPARE(r.status, 200);
        QCOMPARE(jsonOf(r).value(QLatin1String("id")).toString(), id);

        // Until someone decides, 2fa-tokens names the request to poll.
        r = twoFactor(moved);
        QCOMPARE(r.status, 403);
        QCOMPARE(jsonOf(r).value(QLatin1String("approval_request")).toString(), id);
        QCOMPARE(jsonOf(approvalStatus(id)).value(QLatin1String("status")).toString(), QStringLiteral("pending"));

        const QString approver = f.adminToken(stubs::das::AdminRole::Approver, QStringLiteral("bob"));
        r = f.get(QStringLiteral("/v1/admin/approval-requests"), DasFixture::bearer(approver));
        QCOMPARE(r.status, 200);
        const QJsonArray pending = jsonOf(r).value(QLatin1String("approval_requests")).toArray();
        QCOMPARE(pending.size(), 1);
        QCOMPARE(pending[0][QLatin1String("id")].toString(), id);
        QCOMPARE(pending[0][QLatin1String("device_id")].toString(), m_device.id);
        QCOMPARE(pending[0][QLatin1String("changed")].toArray(), (QJsonArray {QStringLiteral("os"), QStringLiteral("browser")}));

        r = decide(id, approver);
        QCOMPARE(r.status, 200);
        QCOMPARE(jsonOf(r).value(QLatin1String("status")).toString(), QStringLiteral("approved"));
        QCOMPARE(jsonOf(r).value(QLatin1String("decided_by")).toString(), QStringLiteral("bob (approver)"));
        QCOMPARE(jsonOf(approvalStatus(id)).value(QLatin1String("status")).toString(), QStringLiteral("approved"));
        QCOMPARE(storedFingerprint(), canonical(moved));
        QVERIFY(f.scalar(QStringLiteral("SELECT candidate_fingerprint FROM das_devices")).isNull());
        QCOMPARE(twoFactor(moved).status, 201);
        // The old one is now two changes away.
        QCOMPARE(twoFactor(fingerprint()).status, 403);

        r = decide(id, approver, QStringLiteral("deny"));
        QCOMPARE(r.status, 409);
        QCOMPARE(problemSlug(r), QStringLiteral("approval-already-decided"));
        QCOMPARE(events(QStringLiteral("approval_requested")), 1);
        QCOMPARE(events(QStringLiteral("approval_granted")), 1);
        r = f.get(QStringLiteral("/v1/admin/approval-requests"), DasFixture::bearer(approver));
        QCOMPARE(jsonOf(r).value(QLatin1String("approval_requests")).toArray().size(), 0);
    }

    void approvalFromTheCommandLine()
    {
        registeredDevice();
        if (QTest::currentTestFailed())
            return;
        const QString data = f.dir->path();
        const QJsonObject moved = changed(fingerprint(), {QStringLiteral("machine")});
        QCOMPARE(twoFactor(moved).status, 403);
        const QString id = approvalRequest(moved);
        QVERIFY(!id.isEmpty());

        // The requester's own token, whatever its role, decides nothing.
        const QString own = f.adminToken(stubs::das::AdminRole::Admin, QStringLiteral("alice"));
        Run run = runAdmin({QStringLiteral("approve"), id, QStringLiteral("--token"), own, QStringLiteral("--data"), data});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains("self-approval"), run.err.constData());

        const QString approver = f.adminToken(stubs::das::AdminRole::Approver, QStringLiteral("carol"));
        run = runAdmin({QStringLiteral("approve"), id, QStringLiteral("--token"), approver, QStringLiteral("--data"), data});
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.out.contains("approved"), run.out.constData());
        QCOMPARE(twoFactor(moved).status, 201);

        // A denial, with the token on stdin.
        const QJsonObject again = changed(moved, {QStringLiteral("os"), QStringLiteral("agent")});
        QCOMPARE(twoFactor(again).status, 403);
        const QString second = approvalRequest(again);
        run = runAdmin({QStringLiteral("approve"), second, QStringLiteral("--deny"), QStringLiteral("--token"),
                           QStringLiteral("-"), QStringLiteral("--data"), data},
            approver.toLatin1() + '\n');
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.out.contains("denied"), run.out.constData());
        QCOMPARE(jsonOf(approvalStatus(second)).value(QLatin1String("status")).toString(), QStringLiteral("denied"));
        QCOMPARE(twoFactor(again).status, 403);

        run = runAdmin({QStringLiteral("approve"), second, QStringLiteral("--token"), approver, QStringLiteral("--data"), data});
        QCOMPARE(run.exitCode, 1);
        QVERIFY(run.err.contains("approval-already-decided"));
        run = runAdmin({QStringLiteral("approve"), QStringLiteral("no-such-request-0000"), QStringLiteral("--token"), approver,
            QStringLiteral("--data"), data});
        QCOMPARE(run.exitCode, 1);
        QVERIFY(run.err.contains("approval-request-unknown"));
        run = runAdmin({QStringLiteral("approve"), id, QStringLiteral("--token"), QStringLiteral("hdat_not-issued-here"),
            QStringLiteral("--data"), data});
        QCOMPARE(run.exitCode, 1);
        QVERIFY(run.err.contains("invalid-admin-token"));
        run = runAdmin({QStringLiteral("approve"), id, QStringLiteral("--data"), data});
        QCOMPARE(run.exitCode, 2);
    }

    void selfApprovalRefused_data()
    {
        QTest::addColumn<QString>("subject");
        QTest::addColumn<int>("role");
        QTest::newRow("same name") << QStringLiteral("alice@corp.example") << int(stubs::das::AdminRole::Approver);
        QTest::newRow("other case") << QStringLiteral("Alice@Corp.Example") << int(stubs::das::AdminRole::Admin);
        QTest::newRow("without the domain") << QStringLiteral("alice") << int(stubs::das::AdminRole::Approver);
    }

    void selfApprovalRefused()
    {
        QFETCH(QString, subject);
        QFETCH(int, role);
        registeredDevice();
        if (QTest::currentTestFailed())
            return;
        const QJsonObject moved = changed(fingerprint(), {QStringLiteral("machine")});
        const QString id = approvalRequest(moved);
        QVERIFY(!id.isEmpty());
        HttpResult r = decide(id, f.adminToken(stubs::das::AdminRole(role), subject));
        QCOMPARE(r.status, 403);
        QCOMPARE(problemSlug(r), QStringLiteral("self-approval"));
        QCOMPARE(jsonOf(approvalStatus(id)).value(QLatin1String("status")).toString(), QStringLiteral("pending"));
        QCOMPARE(storedFingerprint(), canonical(fingerprint()));
        QCOMPARE(events(QStringLiteral("self_approval_refused")), 1);
        // Someone else may; alice@other.example is someone else.
        r = decide(id, f.adminToken(stubs::das::AdminRole::Approver, QStringLiteral("alice@other.example")));
        QCOMPARE(r.status, 200);
    }

    void adminApiRefusals_data()
    {
        QTest::addColumn<QString>("authorization");
        QTest::addColumn<QString>("request");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("type");
        QTest::newRow("no token") << QString() << "pending" << 401 << "admin-token-required";
        QTest::newRow("a device token") << "device"
                                        << "pending" << 401 << "admin-token-required";
        QTest::newRow("unknown token") << "Bearer hdat_never-issued"
                                       << "pending" << 401 << "invalid-admin-token";
        QTest::newRow("missing request") << "approver"
                                         << "missing" << 404 << "approval-request-unknown";
        QTest::newRow("missing request, admin") << "admin"
                                                << "missing" << 404 << "approval-request-unknown";
    }

    void adminApiRefusals()
    {
        QFETCH(QString, authorization);
        QFETCH(QString, request);
        QFETCH(int, status);
        QFETCH(QString, type);
        registeredDevice();
        if (QTest::currentTestFailed())
            return;
        const QString id = request == QLatin1String("missing")
            ? QStringLiteral("AAAAAAAAAAAAAAAAAAAAAA")
            : approvalRequest(changed(fingerprint(), {QStringLiteral("machine")}));
        Headers headers;
        if (authorization == QLatin1String("device"))
            headers = f.deviceAuth(m_device);
        else if (authorization == QLatin1String("approver"))
            headers = DasFixture::bearer(f.adminToken(stubs::das::AdminRole::Approver, QStringLiteral("bob")));
        else if (authorization == QLatin1String("admin"))
            headers = DasFixture::bearer(f.adminToken(stubs::das::AdminRole::Admin, QStringLiteral("root")));
        else if (!authorization.isEmpty())
            headers = {{"Authorization", authorization.toLatin1()}};
        HttpResult r = f.postJson(QStringLiteral("/v1/admin/approval-requests/%1").arg(id),
            {{QStringLiteral("decision"), QStringLiteral("approve")}}, headers);
        QCOMPARE(r.status, status);
        QCOMPARE(problemSlug(r), type);
        if (status == 401) {
            QVERIFY(r.header("WWW-Authenticate").startsWith("Bearer"));
            r = f.get(QStringLiteral("/v1/admin/events"), headers);
            QCOMPARE(r.status, 401);
            QCOMPARE(problemSlug(r), type);
        }
        QCOMPARE(f.count(QStringLiteral("SELECT COUNT(*) FROM das_approval_requests WHERE status != 'pending'")), 0);
    }

    void approvalRequestsAreTheDevicesOwn()
    {
        registeredDevice();
        if (QTest::currentTestFailed())
            return;
        const QString id = approvalRequest(changed(fingerprint(), {QStringLiteral("machine")}));
        EnrolledDevice other;
        f.enroll(QStringLiteral("pc-desk-13"), other);
        if (QTest::currentTestFailed())
            return;
        // Another PC neither asks for this one nor reads its requests.
        HttpResult r = f.postJson(QStringLiteral("/v1/devices/%1/approval-requests").arg(m_device.id),
            {{QStringLiteral("user"), kUser}, {QStringLiteral("fingerprint"), fingerprint()}}, f.deviceAuth(other));
        QCOMPARE(r.status, 403);
        QCOMPARE(problemSlug(r), QStringLiteral("device-mismatch"));
        r = f.get(QStringLiteral("/v1/devices/%1/approval-requests/%2").arg(m_device.id, id), f.deviceAuth(other));
        QCOMPARE(r.status, 403);
        r = f.get(QStringLiteral("/v1/devices/%1/approval-requests/%2").arg(other.id, id), f.deviceAuth(other));
        QCOMPARE(r.status, 404);
        QCOMPARE(problemSlug(r), QStringLiteral("approval-request-unknown"));
        r = f.get(QStringLiteral("/v1/devices/%1/approval-requests/%2").arg(m_device.id, id));
        QCOMPARE(r.status, 401);
        QCOMPARE(problemSlug(r), QStringLiteral("device-token-required"));
    }

    void approvalRequestsExpire()
    {
        registeredDevice();
        if (QTest::currentTestFailed())
            return;
        const QJsonObject moved = changed(fingerprint(), {QStringLiteral("machine")});
        const QString id = approvalRequest(moved);
        QVERIFY(!id.isEmpty());
        f.clock.advance(std::chrono::seconds(899));
        QCOMPARE(jsonOf(approvalStatus(id)).value(QLatin1String("status")).toString(), QStringLiteral("pending"));
        f.clock.advance(std::chrono::seconds(1));
        HttpResult r = approvalStatus(id);
        QCOMPARE(r.status, 200);
        QCOMPARE(jsonOf(r).value(QLatin1String("status")).toString(), QStringLiteral("expired"));
        r = decide(id, f.adminToken(stubs::das::AdminRole::Approver, QStringLiteral("bob")));
        QCOMPARE(r.status, 410);
        QCOMPARE(problemSlug(r), QStringLiteral("approval-expired"));
        r = twoFactor(moved);
        QCOMPARE(r.status, 403);
        QVERIFY(!jsonOf(r).contains(QLatin1String("approval_request")));
        // A new request may be made.
        const QString fresh = approvalRequest(moved);
        QVERIFY(!fresh.isEmpty() && fresh != id);
    }

    void reenrollmentDropsWhatWasPending()
    {
        registeredDevice();
        if (QTest::currentTestFailed())
            return;
        const QString id = approvalRequest(changed(fingerprint(), {QStringLiteral("machine")}));
        QCOMPARE(twoFactor(changed(fingerprint(), {QStringLiteral("machine")})).status, 403);
        f.enroll(m_device.id, m_device);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(jsonOf(approvalStatus(id)).value(QLatin1String("status")).toString(), QStringLiteral("expired"));
        QVERIFY(f.scalar(QStringLiteral("SELECT candidate_fingerprint FROM das_devices")).isNull());
        // Enrolled afresh: the next fingerprint is the first one again.
        const QJsonObject moved = changed(fingerprint(), {QStringLiteral("machine")});
        QCOMPARE(twoFactor(moved).status, 201);
        QCOMPARE(storedFingerprint(), canonical(moved));
    }

    void oneTimeCode()
    {
        registeredDevice();
        if (QTest::currentTestFailed())
            return;
        const QString newMachine = QStringLiteral("9f2e1d0c-5b4a-4f3e-8d2c-1b0a99887766");
        const QJsonObject moved = changed(fingerprint(), {QStringLiteral("machine")});
        QCOMPARE(twoFactor(moved).status, 403);

        HttpResult r = requestCode();
        QCOMPARE(r.status, 202);
        QCOMPARE(jsonOf(r).value(QLatin1String("digits")).toInt(), 8);
        QCOMPARE(jsonOf(r).value(QLatin1String("expires_in")).toInteger(), 600);
        QCOMPARE(outbox(), QStringList {QStringLiteral("alice@corp.example-20260101T000000Z.txt")});
        const QString message = QDir(f.dir->filePath(QStringLiteral("outbox"))).filePath(outbox().constFirst());
        QCOMPARE(QFile::permissions(message) & (QFileDevice::ReadGroup | QFileDevice::ReadOther), QFileDevice::Permissions());
        const QString code = lastCode();
        QVERIFY2(QRegularExpression(QStringLiteral("^[0-9]{8}$")).match(code).hasMatch(), qPrintable(code));
        // Only a salted hash is kept: the code appears nowhere in the database files.
        for (const QString &name : {QStringLiteral("stubs.db"), QStringLiteral("stubs.db-wal")}) {
            QFile file(f.dir->filePath(name));
            if (file.open(QIODevice::ReadOnly))
                QVERIFY2(!file.readAll().contains(code.toLatin1()), qPrintable(name));
        }

        r = verifyCode(wrongCode(code), newMachine);
        QCOMPARE(r.status, 403);
        QCOMPARE(problemSlug(r), QStringLiteral("oob-token-invalid"));
        QCOMPARE(jsonOf(r).value(QLatin1String("attempts_left")).toInt(), 4);
        // Right code, but a machine this PC never presented: refused, and the code stays valid.
        r = verifyCode(code, QStringLiteral("some-other-machine"));
        QCOMPARE(r.status, 409);
        QCOMPARE(problemSlug(r), QStringLiteral("machine-unknown"));
        // Typed with a space, as people do.
        r = verifyCode(code.left(4) + QLatin1Char(' ') + code.mid(4), newMachine);
        QCOMPARE(r.status, 200);
        QCOMPARE(jsonOf(r).value(QLatin1String("registered")).toBool(), true);
        QCOMPARE(storedFingerprint(), canonical(moved));
        QCOMPARE(twoFactor(moved).status, 201);
        r = verifyCode(code, newMachine);
        QCOMPARE(r.status, 410);
        QCOMPARE(problemSlug(r), QStringLiteral("oob-token-used"));
        QCOMPARE(events(QStringLiteral("oob_token_issued")), 1);
        QCOMPARE(events(QStringLiteral("oob_token_failed")), 1);
        QCOMPARE(events(QStringLiteral("device_registered")), 1);
    }

    void oneTimeCodeBurnsAfterFiveWrongTries()
    {
        registeredDevice();
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(twoFactor(changed(fingerprint(), {QStringLiteral("machine")})).status, 403);
        QCOMPARE(requestCode().status, 202);
        const QString code = lastCode();
        for (int attempt = 1; attempt <= stubs::das::kOobMaxFailures; ++attempt) {
            const HttpResult r = verifyCode(wrongCode(code));
            QCOMPARE(r.status, 403);
            QCOMPARE(jsonOf(r).value(QLatin1String("attempts_left")).toInt(), stubs::das::kOobMaxFailures - attempt);
        }
        const HttpResult r = verifyCode(code, QStringLiteral("9f2e1d0c-5b4a-4f3e-8d2c-1b0a99887766"));
        QCOMPARE(r.status, 410);
        QCOMPARE(problemSlug(r), QStringLiteral("oob-token-burnt"));
        QCOMPARE(events(QStringLiteral("oob_token_burnt")), 1);
        QCOMPARE(storedFingerprint(), canonical(fingerprint()));
    }

    void oneTimeCodesAreRateLimited()
    {
        registeredDevice();
        if (QTest::currentTestFailed())
            return;
        for (int i = 0; i < stubs::das::kOobTokensPerWindow; ++i) {
            QCOMPARE(requestCode().status, 202);
            f.clock.advance(std::chrono::seconds(10));
        }
        const QString newest = lastCode();
        HttpResult r = requestCode();
        QCOMPARE(r.status, 429);
        QCOMPARE(problemSlug(r), QStringLiteral("rate-limited"));
        QCOMPARE(r.header("Retry-After"), QByteArray("570"));
        QCOMPARE(outbox().size(), stubs::das::kOobTokensPerWindow);
        QCOMPARE(events(QStringLiteral("oob_token_rate_limited")), 1);
        f.clock.advance(std::chrono::seconds(570));
        QCOMPARE(requestCode().status, 202);
        // Each new code replaces the ones before it.
        QVERIFY(lastCode() != newest);
        QCOMPARE(f.count(QStringLiteral("SELECT COUNT(*) FROM das_oob_tokens WHERE status = 'live'")), 1);
        r = verifyCode(newest, kMachine);
        QCOMPARE(r.status, 403);
        QCOMPARE(problemSlug(r), QStringLiteral("oob-token-invalid"));
        QCOMPARE(verifyCode(lastCode(), kMachine).status, 200);

        // A code sent for another PC makes this PC's code worthless.
        EnrolledDevice other;
        f.enroll(QStringLiteral("pc-desk-13"), other);
        if (QTest::currentTestFailed())
            return;
        f.clock.advance(std::chrono::seconds(600));
        QCOMPARE(requestCode().status, 202);
        const QString mine = lastCode();
        f.clock.advance(std::chrono::seconds(1));
        QCOMPARE(requestCode(&other).status, 202);
        r = verifyCode(mine, kMachine);
        QCOMPARE(r.status, 410);
        QCOMPARE(problemSlug(r), QStringLiteral("oob-token-superseded"));
    }

    void oneTimeCodesExpire()
    {
        registeredDevice();
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(twoFactor(changed(fingerprint(), {QStringLiteral("machine")})).status, 403);
        QCOMPARE(requestCode().status, 202);
        const QString code = lastCode();
        f.clock.advance(std::chrono::seconds(600));
        const HttpResult r = verifyCode(code, QStringLiteral("9f2e1d0c-5b4a-4f3e-8d2c-1b0a99887766"));
        QCOMPARE(r.status, 410);
        QCOMPARE(problemSlug(r), QStringLiteral("oob-token-expired"));
        // Without a code sent at all.
        EnrolledDevice other;
        f.enroll(QStringLiteral("pc-desk-13"), other);
        if (QTest::currentTestFailed())
            return;
        const HttpResult none = verifyCode(code, kMachine, &other);
        QCOMPARE(none.status, 403);
        QCOMPARE(problemSlug(none), QStringLiteral("oob-token-invalid"));
    }

    void eventsFeed()
    {
        registeredDevice();
        if (QTest::currentTestFailed())
            return;
        HttpResult r = f.postJson(QStringLiteral("/v1/events"),
            {{QStringLiteral("type"), QStringLiteral("auth_failed")},
                {QStringLiteral("user"), QStringLiteral("Alice@Corp.Example")},
                {QStringLiteral("detail"), QStringLiteral("push denied on the phone")}},
            f.deviceAuth(m_device));
        QCOMPARE(r.status, 201);
        const qint64 first = jsonOf(r).value(QLatin1String("id")).toInteger();
        r = f.postJson(QStringLiteral("/v1/events"),
            {{QStringLiteral("type"), QStringLiteral("lockout")}, {QStringLiteral("user"), QStringLiteral("mallory")}},
            f.deviceAuth(m_device));
        QCOMPARE(r.status, 201);
        QVERIFY(jsonOf(r).value(QLatin1String("id")).toInteger() > first);
        QCOMPARE(twoFactor(changed(fingerprint(), {QStringLiteral("machine")})).status, 403);

        const Headers approver = DasFixture::bearer(f.adminToken(stubs::das::AdminRole::Approver, QStringLiteral("bob")));
        r = f.get(QStringLiteral("/v1/admin/events"), approver);
        QCOMPARE(r.status, 200);
        QJsonArray list = jsonOf(r).value(QLatin1String("events")).toArray();
        QStringList types;
        for (const QJsonValue &e : list)
            types << e[QLatin1String("source")].toString() + QLatin1Char(':') + e[QLatin1String("type")].toString();
        QCOMPARE(types,
            (QStringList {QStringLiteral("das:fingerprint_registered"), QStringLiteral("device:auth_failed"),
                QStringLiteral("device:lockout"), QStringLiteral("das:device_unrecognized")}));
        const QJsonObject failed = list[1].toObject();
        QCOMPARE(failed.value(QLatin1String("user")).toString(), kUser);
        QCOMPARE(failed.value(QLatin1String("device_id")).toString(), m_device.id);
        QCOMPARE(failed.value(QLatin1String("detail")).toString(), QStringLiteral("push denied on the phone"));
        QCOMPARE(failed.value(QLatin1String("at")).toInteger(), f.clock.secondsSinceEpoch());
        QCOMPARE(jsonOf(r).value(QLatin1String("last_id")).toInteger(), list.last()[QLatin1String("id")].toInteger());

        // Polling: since the last id seen, and in pages.
        r = f.get(QStringLiteral("/v1/admin/events?since=%1").arg(first), approver);
        QCOMPARE(jsonOf(r).value(QLatin1String("events")).toArray().size(), 2);
        r = f.get(QStringLiteral("/v1/admin/events?since=%1&limit=1").arg(first), approver);
        list = jsonOf(r).value(QLatin1String("events")).toArray();
        QCOMPARE(list.size(), 1);
        QCOMPARE(list[0][QLatin1String("type")].toString(), QStringLiteral("lockout"));
        r = f.get(
            QStringLiteral("/v1/admin/events?since=%1").arg(jsonOf(r).value(QLatin1String("last_id")).toInteger() + 1), approver);
        QCOMPARE(jsonOf(r).value(QLatin1String("events")).toArray().size(), 0);
        QVERIFY(!jsonOf(r).contains(QLatin1String("last_id")));

        // A device reporting in a loop is slowed down.
        for (int i = 2; i < stubs::das::kDeviceEventsPerWindow; ++i) {
            r = f.postJson(
                QStringLiteral("/v1/events"), {{QStringLiteral("type"), QStringLiteral("idle_lock")}}, f.deviceAuth(m_device));
            QCOMPARE(r.status, 201);
        }
        r = f.postJson(
            QStringLiteral("/v1/events"), {{QStringLiteral("type"), QStringLiteral("idle_lock")}}, f.deviceAuth(m_device));
        QCOMPARE(r.status, 429);
        QCOMPARE(problemSlug(r), QStringLiteral("rate-limited"));
        QCOMPARE(r.header("Retry-After"), QByteArray("600"));
    }

    void badInput_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("type");
        const QByteArray json = "application/json";
        const QByteArray big = "{\"pad\":\"" + QByteArray(70 * 1024, 'a') + "\"}";
        const QString approval = QStringLiteral("/v1/devices/{device}/approval-requests");
        auto body = [](const QJsonObject &o) { return compactJson(o); };
        const QJsonObject fp = fingerprint();
        auto approvalBody = [&](const QJsonValue &user, const QJsonValue &print) {
            QJsonObject o;
            if (!user.isUndefined())
                o.insert(QStringLiteral("user"), user);
            if (!print.isUndefined())
                o.insert(QStringLiteral("fingerprint"), print);
            return body(o);
        };
        QJsonObject noMachine = fp;
        noMachine.remove(QStringLiteral("machine_id"));
        QJsonObject badScreen = fp;
        badScreen.insert(QStringLiteral("screens"), QJsonArray {QStringLiteral("wide")});

        QTest::newRow("approval: not JSON") << QByteArray("POST") << approval << QByteArray("{") << json << 400
                                            << "malformed-request";
        QTest::newRow("approval: no user") << QByteArray("POST") << approval << approvalBody(QJsonValue::Undefined, fp) << json
                                           << 400 << "malformed-request";
        QTest::newRow("approval: user a number")
            << QByteArray("POST") << approval << approvalBody(7, fp) << json << 400 << "malformed-request";
        QTest::newRow("approval: no fingerprint")
            << QByteArray("POST") << approval << approvalBody(kUser, QJsonValue::Undefined) << json << 400 << "malformed-request";
        QTest::newRow("approval: fingerprint without machine id")
            << QByteArray("POST") << approval << approvalBody(kUser, noMachine) << json << 400 << "invalid-fingerprint";
        QTest::newRow("approval: bad screen")
            << QByteArray("POST") << approval << approvalBody(kUser, badScreen) << json << 400 << "invalid-fingerprint";
        QTest::newRow("approval: unknown user")
            << QByteArray("POST") << approval << approvalBody(QStringLiteral("zoe@corp.example"), fp) << json << 404
            << "user-unknown";
        QTest::newRow("approval: another device")
            << QByteArray("POST") << QStringLiteral("/v1/devices/pc-elsewhere/approval-requests") << approvalBody(kUser, fp)
            << json << 403 << "device-mismatch";
        QTest::newRow("approval: too large") << QByteArray("POST") << approval << big << json << 413 << "body-too-large";
        QTest::newRow("approval: unknown request") << QByteArray("GET") << approval + QStringLiteral("/AAAAAAAAAAAAAAAAAAAAAA")
                                                   << QByteArray() << QByteArray() << 404 << "approval-request-unknown";

        const QString oob = QStringLiteral("/v1/oob-tokens");
        QTest::newRow("oob: no user") << QByteArray("POST") << oob << QByteArray("{}") << json << 400 << "malformed-request";
        QTest::newRow("oob: user an array") << QByteArray("POST") << oob << QByteArray("{\"user\":[\"alice\"]}") << json << 400
                                            << "malformed-request";
        QTest::newRow("oob: unknown user") << QByteArray("POST") << oob << QByteArray("{\"user\":\"zoe\"}") << json << 404
                                           << "user-unknown";
        QTest::newRow("oob: text/plain") << QByteArray("POST") << oob << QByteArray("{\"user\":\"alice@corp.example\"}")
                                         << QByteArray("text/plain") << 415 << "unsupported-media-type";

        const QString verify = QStringLiteral("/v1/oob-tokens/verify");
        auto verifyBody = [&](const QJsonValue &token, const QJsonValue &machine, const QString &user = kUser) {
            QJsonObject o {{QStringLiteral("user"), user}};
            if (!token.isUndefined())
                o.insert(QStringLiteral("token"), token);
            if (!machine.isUndefined())
                o.insert(QStringLiteral("machine_id"), machine);
            return body(o);
        };
        QTest::newRow("verify: letters") << QByteArray("POST") << verify << verifyBody(QStringLiteral("12ab5678"), kMachine)
                                         << json << 400 << "malformed-request";
        QTest::newRow("verify: five digits") << QByteArray("POST") << verify << verifyBody(QStringLiteral("12345"), kMachine)
                                             << json << 400 << "malformed-request";
        QTest::newRow("verify: token a number")
            << QByteArray("POST") << verify << verifyBody(12345678, kMachine) << json << 400 << "malformed-request";
        QTest::newRow("verify: no machine id")
            << QByteArray("POST") << verify << verifyBody(QStringLiteral("12345678"), QJsonValue::Undefined) << json << 400
            << "malformed-request";
        QTest::newRow("verify: machine id with a space")
            << QByteArray("POST") << verify << verifyBody(QStringLiteral("12345678"), QStringLiteral("my pc")) << json << 400
            << "malformed-request";
        QTest::newRow("verify: unknown user")
            << QByteArray("POST") << verify << verifyBody(QStringLiteral("12345678"), kMachine, QStringLiteral("zoe")) << json
            << 404 << "user-unknown";

        const QString events = QStringLiteral("/v1/events");
        QTest::newRow("events: no type") << QByteArray("POST") << events << QByteArray("{\"user\":\"alice\"}") << json << 400
                                         << "malformed-request";
        QTest::newRow("events: type with spaces")
            << QByteArray("POST") << events << QByteArray("{\"type\":\"Auth Failed\"}") << json << 400 << "malformed-request";
        QTest::newRow("events: detail a number")
            << QByteArray("POST") << events << QByteArray("{\"type\":\"lockout\",\"detail\":5}") << json << 400
            << "malformed-request";
        QTest::newRow("events: user with a quote")
            << QByteArray("POST") << events << QByteArray("{\"type\":\"lockout\",\"user\":\"a\\\"b\"}") << json << 400
            << "malformed-request";
        QTest::newRow("events: duplicate member")
            << QByteArray("POST") << events << QByteArray("{\"type\":\"lockout\",\"type\":\"auth_failed\"}") << json << 400
            << "malformed-request";
        QTest::newRow("events: too large") << QByteArray("POST") << events << big << json << 413 << "body-too-large";

        const QString decision = QStringLiteral("/v1/admin/approval-requests/AAAAAAAAAAAAAAAAAAAAAA");
        QTest::newRow("decision: not JSON") << QByteArray("POST") << decision << QByteArray("approve") << json << 400
                                            << "malformed-request";
        QTest::newRow("decision: maybe") << QByteArray("POST") << decision << QByteArray("{\"decision\":\"maybe\"}") << json
                                         << 400 << "malformed-request";
        QTest::newRow("decision: missing") << QByteArray("POST") << decision << QByteArray("{}") << json << 400
                                           << "malformed-request";
        QTest::newRow("admin events: since not a number") << QByteArray("GET") << QStringLiteral("/v1/admin/events?since=abc")
                                                          << QByteArray() << QByteArray() << 400 << "malformed-request";
        QTest::newRow("admin events: limit too high") << QByteArray("GET") << QStringLiteral("/v1/admin/events?limit=5000")
                                                      << QByteArray() << QByteArray() << 400 << "malformed-request";
        QTest::newRow("admin events: negative since") << QByteArray("GET") << QStringLiteral("/v1/admin/events?since=-1")
                                                      << QByteArray() << QByteArray() << 400 << "malformed-request";

        QJsonObject twoFactor = twoFactorBody(fp);
        twoFactor.insert(QStringLiteral("fingerprint"), noMachine);
        QTest::newRow("2fa: fingerprint without machine id")
            << QByteArray("POST") << QStringLiteral("/v1/2fa-tokens") << body(twoFactor) << json << 400 << "invalid-fingerprint";
    }

    void badInput()
    {
        QFETCH(QByteArray, method);
        QFETCH(QString, path);
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, contentType);
        QFETCH(int, status);
        QFETCH(QString, type);
        if (m_device.id.isEmpty() || f.count(QStringLiteral("SELECT COUNT(*) FROM das_devices")) == 0) {
            registeredDevice();
            if (QTest::currentTestFailed())
                return;
        }
        path.replace(QLatin1String("{device}"), m_device.id);
        const Headers headers = path.startsWith(QLatin1String("/v1/admin/"))
            ? DasFixture::bearer(f.adminToken(stubs::das::AdminRole::Approver, QStringLiteral("bob")))
            : f.deviceAuth(m_device);
        const qint64 eventsBefore = f.count(QStringLiteral("SELECT COUNT(*) FROM das_events"));
        const QString fingerprintBefore = storedFingerprint();
        const HttpResult r = f.client->send(f.at(path), method, body, contentType, headers);
        QCOMPARE(r.status, status);
        QCOMPARE(r.contentType, QByteArray("application/problem+json"));
        QCOMPARE(problemSlug(r), type);
        QVERIFY(!jsonOf(r).value(QLatin1String("title")).toString().isEmpty());
        // Refused means nothing written: no request, code, event or fingerprint.
        QCOMPARE(f.count(QStringLiteral("SELECT COUNT(*) FROM das_events")), eventsBefore);
        QCOMPARE(f.count(QStringLiteral("SELECT COUNT(*) FROM das_approval_requests")), 0);
        QCOMPARE(f.count(QStringLiteral("SELECT COUNT(*) FROM das_oob_tokens")), 0);
        QCOMPARE(storedFingerprint(), fingerprintBefore);
        QVERIFY(f.scalar(QStringLiteral("SELECT candidate_fingerprint FROM das_devices")).isNull());
        QVERIFY(outbox().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestDasRecognition)
#include "tst_dasrecognition.moc"

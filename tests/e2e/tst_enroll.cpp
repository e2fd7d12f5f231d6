// Flow 3 end to end: 'hotdesk enroll' against the real DAS, the device key in the real OS keychain, the state files.
#include "app/stubs/cli/stubsserver.h"
#include "core/das/dasclient.h"
#include "core/das/enroller.h"
#include "core/jose/base64url.h"
#include "core/jose/jws.h"
#include "core/store/agentstate.h"
#include "core/store/filesecretstore.h"
#include "core/store/secretstore.h"
#include "httpsclient.h"

#include <QDirIterator>
#include <QEventLoop>
#include <QFileInfo>
#include <QJsonDocument>
#include <QProcess>
#include <QSet>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <optional>
#include <sys/stat.h>
#include <unistd.h>

using namespace hotdesk;
using namespace hotdesk::test;

namespace {

template <typename R, typename Start> R await(Start start)
{
    std::optional<R> out;
    QEventLoop loop;
    QTimer::singleShot(60000, &loop, &QEventLoop::quit);
    start([&](R r) {
        out = std::move(r);
        loop.quit();
    });
    if (!out)
        loop.exec();
    if (!out)
        qFatal("the callback did not run within 60 s");
    return std::move(*out);
}

mode_t modeOf(const QString &path)
{
    struct stat info { };
    return ::lstat(QFile::encodeName(path).constData(), &info) == 0 ? info.st_mode & 07777 : 0;
}

template <typename R> QByteArray why(const R &r)
{
    return r ? QByteArray() : (r.error().codeName() + QStringLiteral(": ") + r.error().message).toUtf8();
}

struct Run {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

// One DAS deployment (DAS and IdP) on the system clock: the hotdesk process
// checks the activation's times against the real time.
struct Deployment {
    std::unique_ptr<QTemporaryDir> dir;
    std::unique_ptr<stubs::cli::StubsServer> server;

    QString dasUrl() const { return server->das()->url(); }
    QString policyFile() const { return server->agentPolicyFile(); }
};

} // namespace

class TestEnroll : public QObject {
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_state;
    std::vector<std::unique_ptr<Deployment>> m_deployments;
    store::KeychainSecretStore m_keychain;
    QSet<QString> m_keyNames; // keychain entries to delete after each test

    Deployment &deploy()
    {
        auto d = std::make_unique<Deployment>();
        d->dir = std::make_unique<QTemporaryDir>();
        stubs::cli::StubsOptions options;
        options.dataDir = d->dir->path();
        options.roles = {QStringLiteral("das"), QStringLiteral("idp")};
        auto started = stubs::cli::StubsServer::start(options);
        if (!started)
            qFatal("stubs: %s", qPrintable(started.error().message));
        d->server = std::move(*started);
        m_keyNames.insert(store::deviceKeyName(d->server->das()->url()));
        m_deployments.push_back(std::move(d));
        return *m_deployments.back();
    }

    // Runs a program to its end while this process's event loop serves the DAS.
    static Run run(const QString &program, const QStringList &args, const QByteArray &input = {},
        const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment())
    {
        QProcess process;
        process.setProcessEnvironment(env);
        QEventLoop loop;
        QObject::connect(&process, &QProcess::finished, &loop, &QEventLoop::quit);
        QObject::connect(&process, &QProcess::errorOccurred, &loop, &QEventLoop::quit);
        QTimer::singleShot(120000, &loop, &QEventLoop::quit);
        process.start(program, args);
        process.write(input);
        process.closeWriteChannel();
        loop.exec();
        if (process.state() != QProcess::NotRunning) {
            process.kill();
            process.waitForFinished(5000);
            qWarning("%s did not finish", qPrintable(program));
        }
        Run r;
        r.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
        r.out = process.readAllStandardOutput();
        r.err = process.readAllStandardError();
        return r;
    }

    static QString adminToken(const Deployment &d)
    {
        const Run r = run(QStringLiteral(HOTDESK_STUBS_BINARY),
            {QStringLiteral("admin"), QStringLiteral("create-token"), QStringLiteral("--role"), QStringLiteral("admin"),
                QStringLiteral("--data"), d.dir->path()});
        if (r.exitCode != 0)
            qFatal("create-token: %s", r.err.constData());
        return QString::fromLatin1(r.out.trimmed().split('\n').constLast());
    }

    Run enroll(const Deployment &d, const QStringList &extra = {})
    {
        // The token on standard input keeps it out of the process list.
        return run(QStringLiteral(HOTDESK_BINARY),
            QStringList {QStringLiteral("enroll"), QStringLiteral("--policy"), d.policyFile(), QStringLiteral("--admin-token"),
                QStringLiteral("-"), QStringLiteral("--state-dir"), m_state->path()}
                + extra,
            adminToken(d).toLatin1() + '\n');
    }

    QByteArray activation(const Deployment &d)
    {
        HttpsClient client(d.server->caFile());
        const HttpResult r = client.send(QUrl(d.dasUrl() + QStringLiteral("/v1/activation")), "POST", {}, {},
            {{"Authorization", "Bearer " + adminToken(d).toLatin1()}});
        if (r.status != 201)
            qFatal("activation: %d %s", r.status, r.body.constData());
        return QJsonDocument::fromJson(r.body).object().value(QLatin1String("activation")).toString().toLatin1();
    }

    policy::AgentPolicy policyOf(const Deployment &d)
    {
        auto p = policy::loadAgentPolicy(d.policyFile());
        if (!p)
            qFatal("policy: %s", qPrintable(p.error().message));
        return *p;
    }

    Result<jose::Jwk> keyInKeychain(const QString &keyName)
    {
        auto secret = await<Result<QByteArray>>([&](auto done) { m_keychain.readSecret(keyName, done); });
        if (!secret)
            return tl::unexpected(secret.error());
        jose::JwkOptions options;
        options.allowPrivate = true;
        return jose::Jwk::fromJson(*secret, options);
    }

    // Every file under dir that contains needle.
    static QStringList filesContaining(const QString &dir, const QByteArray &needle)
    {
        QStringList hits;
        QDirIterator it(dir, QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            QFile file(it.next());
            if (file.open(QIODevice::ReadOnly) && file.readAll().contains(needle))
                hits << file.fileName();
        }
        return hits;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        // ./dev test runs every test in a D-Bus session with an unlocked
        // gnome-keyring. Without it this test cannot show anything: fail, loudly.
        store::KeychainSecretStore probe(QStringLiteral("Hotdesk test probe"));
        auto written = await<Status>([&](auto done) { probe.writeSecret(QStringLiteral("probe"), "probe", done); });
        QVERIFY2(written,
            qPrintable(QStringLiteral("no usable Secret Service (%1); run the tests with ./dev test, which starts a D-Bus "
                                      "session (dbus-run-session) with an unlocked gnome-keyring-daemon")
                           .arg(written ? QString() : written.error().message)));
        auto read = await<Result<QByteArray>>([&](auto done) { probe.readSecret(QStringLiteral("probe"), done); });
        QVERIFY2(read && *read == "probe", why(read));
        QVERIFY(await<Status>([&](auto done) { probe.deleteSecret(QStringLiteral("probe"), done); }));
        auto gone = await<Result<QByteArray>>([&](auto done) { probe.readSecret(QStringLiteral("probe"), done); });
        QVERIFY(!gone);
        QCOMPARE(gone.error().code, ErrorCode::NotEnrolled);
    }

    void init()
    {
        m_state = std::make_unique<QTemporaryDir>();
        QVERIFY(m_state->isValid());
    }

    void cleanup()
    {
        for (const QString &key : std::as_const(m_keyNames))
            await<Status>([&](auto done) { m_keychain.deleteSecret(key, done); });
        m_keyNames.clear();
        m_deployments.clear();
        m_state.reset();
    }

    void enrollsWithTheCommand()
    {
        Deployment &d = deploy();
        const Run r = enroll(d);
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QByteArray line = r.out.trimmed();
        QVERIFY2(line.startsWith("enrolled ") && line.endsWith(QByteArray(" with " + d.dasUrl().toLatin1())), line.constData());
        QCOMPARE(r.out.count('\n'), 1);
        QVERIFY2(r.err.contains("SPAKE2"), r.err.constData());

        store::AgentState state(m_state->path());
        auto records = state.enrollments();
        QVERIFY2(records, why(records));
        QCOMPARE(records->size(), 1);
        const store::EnrollmentRecord record = records->constFirst();
        QCOMPARE(record.dasUrl, d.dasUrl());
        QCOMPARE(line, QStringLiteral("enrolled %1 with %2").arg(record.deviceId, record.dasUrl).toLatin1());
        QVERIFY(das::isValidDeviceId(record.deviceId));
        QCOMPARE(record.keyName, QStringLiteral("device-key:") + d.dasUrl());
        QCOMPARE(QFileInfo(m_state->filePath(QStringLiteral("enrollments.json"))).permissions()
                & (QFileDevice::ReadGroup | QFileDevice::ReadOther | QFileDevice::WriteGroup | QFileDevice::WriteOther),
            QFileDevice::Permissions());

        // The private key is in the keychain, and only there.
        auto key = keyInKeychain(record.keyName);
        QVERIFY2(key, why(key));
        QVERIFY(key->isPrivate());
        QCOMPARE(QString::fromLatin1(key->thumbprint()), record.kid);
        const QByteArray d_ = key->toPrivateJson().value(QLatin1String("d")).toString().toLatin1();
        QCOMPARE(d_.size(), 43);
        for (const QString &dir : {m_state->path(), d.dir->path()})
            QVERIFY2(filesContaining(dir, d_).isEmpty(), qPrintable(filesContaining(dir, d_).join(u' ')));
        QVERIFY(!r.out.contains(d_) && !r.err.contains(d_));

        // What the agent does next: load the credential and talk to the DAS with it.
        const policy::AgentPolicy policy = policyOf(d);
        auto loaded = await<Result<das::LoadedCredential>>(
            [&](auto done) { das::loadCredential(m_keychain, state, policy.servers.dasUrls, done); });
        QVERIFY2(loaded, why(loaded));
        QCOMPARE(loaded->credential.deviceId, record.deviceId);
        auto trust = net::TlsTrust::fromBundle(policy.servers.caBundle);
        QVERIFY(trust);
        net::HttpClient http(*trust);
        SystemClock clock;
        OpenSslRandom random;
        das::DasClient client(http, policy.servers.dasUrls, loaded->credential, clock, random);
        auto user = await<Result<das::RegisteredUser>>([&](auto done) {
            client.registerUser({QStringLiteral("alice"), QStringLiteral("corp.example"), {}}, done);
        });
        QVERIFY2(user, why(user));
        QCOMPARE(user->username, QStringLiteral("alice@corp.example"));
    }

    void tamperedActivationRefused_data()
    {
        QTest::addColumn<QString>("tamper");
        QTest::addColumn<QString>("code");
        QTest::newRow("payload byte flipped") << "flip"
                                              << "bad_signature";
        QTest::newRow("signed with another key") << "resign"
                                                 << "key_not_found";
    }
    void tamperedActivationRefused()
    {
        QFETCH(QString, tamper);
        QFETCH(QString, code);
        Deployment &d = deploy();
        QByteArray jwt = activation(d);
        QList<QByteArray> parts = jwt.split('.');
        QCOMPARE(parts.size(), 3);
        if (tamper == u"flip") {
            auto payload = jose::base64UrlDecode(parts[1]);
            QVERIFY(payload);
            const qsizetype found = payload->indexOf("\"service_uid\":\"");
            QVERIFY(found >= 0);
            const qsizetype at = found + 15;
            (*payload)[at] = (*payload)[at] == 'A' ? 'B' : 'A';
            parts[1] = jose::base64UrlEncode(*payload);
            jwt = parts.join('.');
        } else {
            auto other = jose::Jwk::generate(jose::Algorithm::ES256, QStringLiteral("forged"));
            QVERIFY(other);
            auto header = jose::base64UrlDecode(parts[0]);
            auto payload = jose::base64UrlDecode(parts[1]);
            QVERIFY(header && payload);
            auto forged = jose::signCompact(
                *payload, *other, jose::Algorithm::ES256, {{QStringLiteral("typ"), QStringLiteral("hotdesk-activation+jwt")}});
            QVERIFY(forged);
            jwt = *forged;
        }
        // An administrator pastes the activation (standard input).
        const Run r = run(QStringLiteral(HOTDESK_BINARY),
            {QStringLiteral("enroll"), QStringLiteral("--policy"), d.policyFile(), QStringLiteral("--activation"),
                QStringLiteral("-"), QStringLiteral("--state-dir"), m_state->path()},
            jwt + '\n');
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.startsWith(QByteArray("rejected: " + code.toLatin1() + '\n')), r.err.constData());
        QVERIFY(r.out.isEmpty());
        QVERIFY(!QFile::exists(m_state->filePath(QStringLiteral("enrollments.json"))));
        auto key = keyInKeychain(store::deviceKeyName(d.dasUrl()));
        QVERIFY(!key);
        QCOMPARE(key.error().code, ErrorCode::NotEnrolled);
    }

    void untamperedPastedActivationEnrolls()
    {
        Deployment &d = deploy();
        const Run r = run(QStringLiteral(HOTDESK_BINARY),
            {QStringLiteral("enroll"), QStringLiteral("--policy"), d.policyFile(), QStringLiteral("--activation"),
                QStringLiteral("-"), QStringLiteral("--state-dir"), m_state->path(), QStringLiteral("--device-id"),
                QStringLiteral("desk-7")},
            activation(d) + '\n');
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QCOMPARE(r.out, QByteArray("enrolled desk-7 with " + d.dasUrl().toLatin1() + '\n'));
    }

    // Enrolling for hotdeskd as root, without the daemon itself: the files it reads, with their modes, and no keychain entry.
    void systemEnrollmentGoesToTheDaemonsStateDirectory()
    {
        if (::geteuid() != 0)
            QSKIP("hotdesk enroll --system needs root; CI runs as root");
        Deployment &d = deploy();
        // Not there yet: created 0700, as systemd's StateDirectory= would.
        const QString daemonState = m_state->filePath(QStringLiteral("hotdeskd"));
        const QString agentState = m_state->filePath(QStringLiteral("agent"));
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("HOTDESK_STATE_DIR"), agentState);
        const Run r = run(QStringLiteral(HOTDESK_BINARY),
            {QStringLiteral("enroll"), QStringLiteral("--system"), QStringLiteral("--policy"), d.policyFile(),
                QStringLiteral("--admin-token"), QStringLiteral("-"), QStringLiteral("--state-dir"), daemonState,
                QStringLiteral("--device-id"), QStringLiteral("desk-9")},
            adminToken(d).toLatin1() + '\n', env);
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QCOMPARE(r.out, QByteArray("enrolled desk-9 with " + d.dasUrl().toLatin1() + '\n'));
        const QString secretDir = store::daemonSecretDirectory(daemonState);
        QVERIFY2(r.err.contains(secretDir.toUtf8()), r.err.constData());
        QCOMPARE(modeOf(daemonState), mode_t(0700));
        QCOMPARE(modeOf(secretDir), mode_t(0700));
        QCOMPARE(modeOf(daemonState + QStringLiteral("/enrollments.json")), mode_t(0600));
        const QStringList secretFiles = QDir(secretDir).entryList(QDir::Files | QDir::Hidden);
        QCOMPARE(secretFiles.size(), 1);
        const QString secretFile = secretDir + u'/' + secretFiles.first();
        QCOMPARE(modeOf(secretFile), mode_t(0600));

        // What hotdeskd does with it: the credential loads from its files.
        store::AgentState state(daemonState);
        store::FileSecretStore secrets(secretDir);
        auto loaded = await<Result<das::LoadedCredential>>(
            [&](auto done) { das::loadCredential(secrets, state, policyOf(d).servers.dasUrls, done); });
        QVERIFY2(loaded, why(loaded));
        QCOMPARE(loaded->record.deviceId, QStringLiteral("desk-9"));
        QCOMPARE(QString::fromLatin1(loaded->credential.privateKey.thumbprint()), loaded->record.kid);

        // The private key is in that one root-only file, not in the keychain, the agent's state or the output.
        auto inKeychain = keyInKeychain(store::deviceKeyName(d.dasUrl()));
        QVERIFY(!inKeychain);
        QCOMPARE(inKeychain.error().code, ErrorCode::NotEnrolled);
        QVERIFY(!QFileInfo::exists(agentState));
        const QByteArray d_ = loaded->credential.privateKey.toPrivateJson().value(QLatin1String("d")).toString().toLatin1();
        QCOMPARE(d_.size(), 43);
        QCOMPARE(filesContaining(m_state->path(), d_), QStringList {secretFile});
        QVERIFY(filesContaining(d.dir->path(), d_).isEmpty());
        QVERIFY(!r.out.contains(d_) && !r.err.contains(d_));
    }

    void systemEnrollmentNeedsRoot()
    {
        if (::geteuid() != 0)
            QSKIP("runs hotdesk as uid 65534 through setpriv, which needs root; CI runs as root");
        Deployment &d = deploy();
        const QString daemonState = m_state->filePath(QStringLiteral("hotdeskd"));
        const Run r = run(QStringLiteral("setpriv"),
            {QStringLiteral("--reuid=65534"), QStringLiteral("--regid=65534"), QStringLiteral("--clear-groups"),
                QStringLiteral(HOTDESK_BINARY), QStringLiteral("enroll"), QStringLiteral("--system"), QStringLiteral("--policy"),
                d.policyFile(), QStringLiteral("--admin-token"), QStringLiteral("-"), QStringLiteral("--state-dir"), daemonState},
            adminToken(d).toLatin1() + '\n');
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("rejected: access_denied"), r.err.constData());
        QVERIFY2(r.err.contains("enrolling this PC needs root: run sudo hotdesk enroll --system"), r.err.constData());
        QVERIFY(!QFileInfo::exists(daemonState));
    }

    void systemEnrollmentRefusesAnUnsafeStateDirectory()
    {
        if (::geteuid() != 0)
            QSKIP("hotdesk enroll --system needs root; CI runs as root");
        Deployment &d = deploy();
        const QString daemonState = m_state->filePath(QStringLiteral("hotdeskd"));
        QVERIFY(QDir().mkdir(daemonState));
        QVERIFY(::chmod(QFile::encodeName(daemonState).constData(), 0755) == 0);
        const Run r = run(QStringLiteral(HOTDESK_BINARY),
            {QStringLiteral("enroll"), QStringLiteral("--system"), QStringLiteral("--policy"), d.policyFile(),
                QStringLiteral("--admin-token"), QStringLiteral("-"), QStringLiteral("--state-dir"), daemonState},
            adminToken(d).toLatin1() + '\n');
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains(
                     QStringLiteral("the state directory %1 has mode 0755, not 0700; run chmod 700").arg(daemonState).toUtf8()),
            r.err.constData());
        QCOMPARE(QDir(daemonState).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot), QStringList());
    }

    void wrongActivationPasswordFailsConfirmation()
    {
        Deployment &d = deploy();
        const policy::AgentPolicy policy = policyOf(d);
        SystemClock clock;
        auto activation = das::verifyActivation(
            this->activation(d), policy.servers.activationKeys, {d.dasUrl(), std::chrono::seconds(60)}, clock);
        QVERIFY2(activation, why(activation));
        // Still 43 base64url characters, but not the password the DAS derived w from.
        activation->password[0] = activation->password[0] == 'A' ? 'B' : 'A';

        auto trust = net::TlsTrust::fromBundle(policy.servers.caBundle);
        QVERIFY(trust);
        net::HttpClient http(*trust);
        OpenSslRandom random;
        store::AgentState state(m_state->path());
        das::Enroller enroller(http, m_keychain, state, clock, random);
        auto result = await<Result<store::EnrollmentRecord>>(
            [&](auto done) { enroller.enrollVerified(*activation, QStringLiteral("pc-wrong-password"), done); });
        QVERIFY(!result);
        QCOMPARE(result.error().codeName(), QStringLiteral("confirmation_failed"));
        QVERIFY2(result.error().message.contains(QLatin1String("confirmation-failed")), qPrintable(result.error().message));
        QVERIFY(!QFile::exists(m_state->filePath(QStringLiteral("enrollments.json"))));
        auto key = keyInKeychain(store::deviceKeyName(d.dasUrl()));
        QVERIFY(!key);
        QCOMPARE(key.error().code, ErrorCode::NotEnrolled);
    }

    void keychainFailureKeepsNoRecord()
    {
        Deployment &d = deploy();
        const policy::AgentPolicy policy = policyOf(d);
        auto target = das::enrollTargetFor(policy);
        QVERIFY2(target, why(target));
        QCOMPARE(target->expectedDasUrl, std::optional<QString>(d.dasUrl()));
        auto trust = net::TlsTrust::fromBundle(policy.servers.caBundle);
        QVERIFY(trust);
        net::HttpClient http(*trust);
        SystemClock clock;
        OpenSslRandom random;
        store::MemorySecretStore secrets;
        secrets.setFailure(Error {ErrorCode::Keychain, QStringLiteral("the keychain is locked")});
        store::AgentState state(m_state->path());
        das::Enroller enroller(http, secrets, state, clock, random);
        auto result = await<Result<store::EnrollmentRecord>>(
            [&](auto done) { enroller.enroll(*target, adminToken(d).toLatin1(), done); });
        QVERIFY(!result);
        QCOMPARE(result.error().code, ErrorCode::Keychain);
        QVERIFY2(result.error().message.contains(QLatin1String("enroll again")), qPrintable(result.error().message));
        QVERIFY(!QFile::exists(m_state->filePath(QStringLiteral("enrollments.json"))));

        // A bad administrator token gets nowhere.
        secrets.setFailure(std::nullopt);
        result = await<Result<store::EnrollmentRecord>>([&](auto done) { enroller.enroll(*target, "hdat_wrong", done); });
        QVERIFY(!result);
        QCOMPARE(result.error().code, ErrorCode::AccessDenied);
        QVERIFY(secrets.keys().isEmpty());
    }

    void enrollingAgainReplaces()
    {
        Deployment &d = deploy();
        Run r = enroll(d);
        QVERIFY2(r.exitCode == 0, r.err.constData());
        store::AgentState state(m_state->path());
        auto first = state.enrollment(d.dasUrl());
        QVERIFY(first && *first);
        auto firstKey = keyInKeychain((*first)->keyName);
        QVERIFY(firstKey);

        r = enroll(d);
        QVERIFY2(r.exitCode == 0, r.err.constData());
        auto records = state.enrollments();
        QVERIFY(records);
        QCOMPARE(records->size(), 1);
        const store::EnrollmentRecord second = records->constFirst();
        // The PC keeps its name at that DAS; the key is new.
        QCOMPARE(second.deviceId, (*first)->deviceId);
        QVERIFY(second.kid != (*first)->kid);
        auto secondKey = keyInKeychain(second.keyName);
        QVERIFY2(secondKey, why(secondKey));
        QCOMPARE(QString::fromLatin1(secondKey->thumbprint()), second.kid);

        // The DAS forgot the first key.
        const policy::AgentPolicy policy = policyOf(d);
        auto trust = net::TlsTrust::fromBundle(policy.servers.caBundle);
        net::HttpClient http(*trust);
        SystemClock clock;
        OpenSslRandom random;
        das::DasClient old(http, policy.servers.dasUrls, {second.deviceId, *firstKey}, clock, random);
        auto refused = await<Result<das::RegisteredUser>>([&](auto done) {
            old.registerUser({QStringLiteral("bob"), {}, {}}, done);
        });
        QVERIFY(!refused);
        QCOMPARE(refused.error().code, ErrorCode::DeviceUnknown);
    }

    void twoEnrollmentsCoexist()
    {
        Deployment &one = deploy();
        Deployment &two = deploy();
        QVERIFY(one.dasUrl() != two.dasUrl());
        Run r = enroll(one, {QStringLiteral("--device-id"), QStringLiteral("desk-1")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        r = enroll(two, {QStringLiteral("--device-id"), QStringLiteral("desk-2")});
        QVERIFY2(r.exitCode == 0, r.err.constData());

        store::AgentState state(m_state->path());
        auto records = state.enrollments();
        QVERIFY(records);
        QCOMPARE(records->size(), 2);
        for (Deployment *d : {&one, &two}) {
            auto loaded = await<Result<das::LoadedCredential>>(
                [&](auto done) { das::loadCredential(m_keychain, state, policyOf(*d).servers.dasUrls, done); });
            QVERIFY2(loaded, why(loaded));
            QCOMPARE(loaded->record.dasUrl, d->dasUrl());
            QCOMPARE(loaded->credential.deviceId, d == &one ? QStringLiteral("desk-1") : QStringLiteral("desk-2"));
        }
    }

    void damagedStateRefusedBeforeAnything()
    {
        Deployment &d = deploy();
        QFile damaged(m_state->filePath(QStringLiteral("enrollments.json")));
        QVERIFY(damaged.open(QIODevice::WriteOnly));
        const QByteArray content("{\"version\": 1, \"enrollments\": [");
        damaged.write(content);
        damaged.close();
        const Run r = enroll(d);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.startsWith("rejected: malformed\n"), r.err.constData());
        QVERIFY2(r.err.contains(damaged.fileName().toUtf8()), r.err.constData());
        // No activation was asked for, so none was spent on a PC that could not keep it.
        QVERIFY2(!r.err.contains("asking"), r.err.constData());
        QVERIFY(damaged.open(QIODevice::ReadOnly));
        QCOMPARE(damaged.readAll(), content);
    }

    void notEnrolled()
    {
        Deployment &d = deploy();
        store::AgentState state(m_state->path());
        auto loaded = await<Result<das::LoadedCredential>>(
            [&](auto done) { das::loadCredential(m_keychain, state, policyOf(d).servers.dasUrls, done); });
        QVERIFY(!loaded);
        QCOMPARE(loaded.error().code, ErrorCode::NotEnrolled);
        QVERIFY2(loaded.error().message.contains(QLatin1String("hotdesk enroll")), qPrintable(loaded.error().message));
    }

    void usage_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("exitCode");
        // Without a token the administrator signs in, and someone must be named.
        QTest::newRow("no token, no administrator") << QStringList {QStringLiteral("enroll"), QStringLiteral("--policy"),
            QStringLiteral("/nonexistent"), QStringLiteral("--admin-user"), QString()}
                                                    << 2;
        QTest::newRow("unknown option") << QStringList {QStringLiteral("enroll"), QStringLiteral("--frobnicate")} << 2;
        QTest::newRow("token and activation") << QStringList {QStringLiteral("enroll"), QStringLiteral("--admin-token"),
            QStringLiteral("x"), QStringLiteral("--activation"), QStringLiteral("y")}
                                              << 2;
        QTest::newRow("unreadable policy") << QStringList {QStringLiteral("enroll"), QStringLiteral("--admin-token"),
            QStringLiteral("x"), QStringLiteral("--policy"), QStringLiteral("/nonexistent")}
                                           << 1;
    }
    void usage()
    {
        QFETCH(QStringList, args);
        QFETCH(int, exitCode);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(QStringLiteral("HOTDESK_ADMIN_TOKEN"));
        const Run r
            = run(QStringLiteral(HOTDESK_BINARY), args + QStringList {QStringLiteral("--state-dir"), m_state->path()}, {}, env);
        QCOMPARE(r.exitCode, exitCode);
        QVERIFY(r.out.isEmpty());
        QVERIFY(!r.err.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestEnroll)
#include "tst_enroll.moc"

// The agent's DAS client against the real DAS in-process: failover, device tokens per URL, users, 2FA request objects, flow 4.
#include "core/das/dasclient.h"
#include "core/jose/base64url.h"
#include "dasfixture.h"

#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTimer>

#include <optional>

using namespace hotdesk;
using namespace hotdesk::test;

namespace {

const QString kUser = QStringLiteral("alice@corp.example");
const QString kMachine = QStringLiteral("4c4c4544-0031-3910-8052-b6c04f4d3832");

QJsonObject fingerprint(const QString &machineId = kMachine)
{
    return {{QStringLiteral("machine_id"), machineId}, {QStringLiteral("screens"), QJsonArray {QStringLiteral("1920x1080@1")}},
        {QStringLiteral("os"),
            QJsonObject {
                {QStringLiteral("name"), QStringLiteral("Debian GNU/Linux")}, {QStringLiteral("version"), QStringLiteral("12")}}},
        {QStringLiteral("agent_version"), QStringLiteral("0.1.0")}};
}

das::TwoFactorParams twoFactor(const QJsonObject &fp, const QString &user = kUser)
{
    das::TwoFactorParams p;
    p.user = user;
    p.state = QStringLiteral("st-41c9");
    p.nonce = QStringLiteral("n-7e02");
    p.codeChallenge = QStringLiteral("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    p.redirectUri = QStringLiteral("http://127.0.0.1:49152/callback");
    p.fingerprint = fp;
    return p;
}

// A loopback port nobody listens on (bound, then released).
QUrl deadUrl()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        qFatal("cannot bind a loopback port");
    const quint16 port = server.serverPort();
    server.close();
    return QUrl(QStringLiteral("https://127.0.0.1:%1").arg(port));
}

// Runs an asynchronous call to its callback (or fails the test after 30 s).
template <typename R, typename Start> R await(Start start)
{
    std::optional<R> out;
    QEventLoop loop;
    QTimer::singleShot(30000, &loop, &QEventLoop::quit);
    start([&](R r) {
        out = std::move(r);
        loop.quit();
    });
    if (!out)
        loop.exec();
    if (!out)
        qFatal("the callback did not run within 30 s");
    return std::move(*out);
}

template <typename R> QByteArray why(const R &r)
{
    return r ? QByteArray() : (r.error().codeName() + QStringLiteral(": ") + r.error().message).toUtf8();
}

QJsonObject payloadOf(const QByteArray &jws)
{
    const QList<QByteArray> parts = jws.split('.');
    auto payload = jose::base64UrlDecode(parts.value(1));
    return payload ? QJsonDocument::fromJson(*payload).object() : QJsonObject();
}

} // namespace

class TestDasClient : public QObject {
    Q_OBJECT

    DasFixture f;
    EnrolledDevice m_device;
    std::unique_ptr<net::HttpClient> m_http;

    net::HttpClient &http()
    {
        if (!m_http) {
            auto trust = net::TlsTrust::fromBundle(f.server->caFile());
            if (!trust)
                qFatal("CA bundle: %s", qPrintable(trust.error().message));
            // Short: a dead loopback port refuses at once, but keep a failed test quick too.
            m_http = std::make_unique<net::HttpClient>(
                *trust, net::Timeouts {std::chrono::milliseconds(3000), std::chrono::milliseconds(10000)});
        }
        return *m_http;
    }

    std::unique_ptr<das::DasClient> client(const QList<QUrl> &urls, const Clock *clock = nullptr)
    {
        return std::make_unique<das::DasClient>(
            http(), urls, das::DeviceCredential {m_device.id, m_device.key}, clock ? *clock : f.clock, f.random);
    }
    std::unique_ptr<das::DasClient> client() { return client({QUrl(f.dasUrl())}); }

    Result<das::RegisteredUser> registerAlice(das::DasClient &c)
    {
        return await<Result<das::RegisteredUser>>([&](auto done) {
            c.registerUser({QStringLiteral("Alice"), QStringLiteral("corp.example"), QStringLiteral("S-1-5-21-1004")}, done);
        });
    }
    Result<das::TwoFactorRequest> ask2fa(das::DasClient &c, const QJsonObject &fp)
    {
        return await<Result<das::TwoFactorRequest>>([&](auto done) { c.requestTwoFactor(twoFactor(fp), done); });
    }

    QString lastCode()
    {
        QDir outbox(f.dir->filePath(QStringLiteral("outbox")));
        QStringList files = outbox.entryList(QDir::Files, QDir::Name);
        std::sort(files.begin(), files.end(),
            [](const QString &a, const QString &b) { return a.size() != b.size() ? a.size() < b.size() : a < b; });
        QFile file(outbox.filePath(files.value(files.size() - 1)));
        if (files.isEmpty() || !file.open(QIODevice::ReadOnly))
            return {};
        static const QRegularExpression line(QStringLiteral("^Code: ([0-9]+)$"), QRegularExpression::MultilineOption);
        return line.match(QString::fromUtf8(file.readAll())).captured(1);
    }

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void init()
    {
        f.clock.setSeconds(1'767'225'600);
        f.faults.clear();
        m_http.reset();
        f.start();
        f.enroll(QStringLiteral("pc-desk-12"), m_device);
    }

    void cleanup()
    {
        m_http.reset();
        f.stop();
    }

    void audienceIsTheUrlWithoutTrailingSlash_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<QString>("audience");
        QTest::newRow("plain") << "https://das.corp.example"
                               << "https://das.corp.example";
        QTest::newRow("slash") << "https://das.corp.example/"
                               << "https://das.corp.example";
        QTest::newRow("port and path") << "https://127.0.0.1:8443/das/"
                                       << "https://127.0.0.1:8443/das";
    }
    void audienceIsTheUrlWithoutTrailingSlash()
    {
        QFETCH(QString, url);
        QFETCH(QString, audience);
        QCOMPARE(das::DasClient::audienceOf(QUrl(url)), audience);
    }

    void registersUsers()
    {
        auto c = client();
        auto first = registerAlice(*c);
        QVERIFY2(first, why(first));
        QCOMPARE(first->username, kUser);
        QVERIFY(first->created);
        QVERIFY(first->sharedId.size() >= 16);
        auto again = registerAlice(*c);
        QVERIFY2(again, why(again));
        QVERIFY(!again->created);
        QCOMPARE(again->sharedId, first->sharedId);
    }

    void failsOverFromADeadUrl()
    {
        const QUrl dead = deadUrl();
        auto c = client({dead, QUrl(f.dasUrl() + QLatin1Char('/'))});
        auto user = registerAlice(*c);
        QVERIFY2(user, why(user));
        // The URL that answered is tried first from now on.
        QCOMPARE(das::DasClient::audienceOf(c->preferredUrl()), f.dasUrl());
        auto request = ask2fa(*c, fingerprint());
        QVERIFY2(request, why(request));
        QCOMPARE(request->answeredBy.toString(), f.dasUrl() + QLatin1Char('/'));
    }

    void allUrlsDeadNamesEach()
    {
        const QUrl first = deadUrl();
        const QUrl second = QUrl(QStringLiteral("https://127.0.0.1:%1").arg(first.port() == 9 ? 10 : 9));
        auto c = client({first, second});
        auto user = registerAlice(*c);
        QVERIFY(!user);
        QCOMPARE(user.error().code, ErrorCode::Unreachable);
        QVERIFY2(user.error().message.contains(first.toString()), qPrintable(user.error().message));
        QVERIFY2(user.error().message.contains(second.toString()), qPrintable(user.error().message));
    }

    // A split deployment: a second DAS on the same database whose URL differs.
    // It checks "aud" against its own URL, and its 500 moves the client on.
    void failsOverOnA5xxWithTheRightAudiencePerUrl()
    {
        stubs::HostOptions options;
        options.dataDir = f.dir->path();
        options.clock = &f.clock;
        options.faults = {QStringLiteral("500")};
        auto second = startRoles<stubs::das::DasService>(options);
        QVERIFY2(second, why(second));
        const QString secondUrl = (*second)->find<stubs::das::DasService>()->url();
        QVERIFY(secondUrl != f.dasUrl());

        auto c = client({QUrl(secondUrl), QUrl(f.dasUrl())});
        // The second DAS answers this one itself (no fault on /v1/users): its aud check passed.
        auto user = registerAlice(*c);
        QVERIFY2(user, why(user));
        QCOMPARE(das::DasClient::audienceOf(c->preferredUrl()), secondUrl);
        auto request = ask2fa(*c, fingerprint());
        QVERIFY2(request, why(request));
        QCOMPARE(das::DasClient::audienceOf(request->answeredBy), f.dasUrl());
        QCOMPARE(das::DasClient::audienceOf(c->preferredUrl()), f.dasUrl());
    }

    void failsOverOnTls()
    {
        // A DAS whose certificate this client does not trust is skipped, never accepted.
        DasFixture untrusted;
        untrusted.start();
        auto c = client({QUrl(untrusted.dasUrl()), QUrl(f.dasUrl())});
        auto user = registerAlice(*c);
        QVERIFY2(user, why(user));
        QCOMPARE(das::DasClient::audienceOf(c->preferredUrl()), f.dasUrl());
        auto alone = client({QUrl(untrusted.dasUrl())});
        auto refused = registerAlice(*alone);
        QVERIFY(!refused);
        QCOMPARE(refused.error().code, ErrorCode::Tls);
        untrusted.stop();
    }

    void a4xxIsAuthoritative()
    {
        // Another deployment that never enrolled this PC, listed first: its 401 ends the call.
        DasFixture other;
        other.start();
        // Trust both local CAs, so that the first DAS is reached (a TLS failure would fail over).
        QTemporaryDir bundleDir;
        QFile bundle(bundleDir.filePath(QStringLiteral("cas.pem")));
        QVERIFY(bundle.open(QIODevice::WriteOnly));
        for (const QString &ca : {f.server->caFile(), other.server->caFile()}) {
            QFile pem(ca);
            QVERIFY(pem.open(QIODevice::ReadOnly));
            bundle.write(pem.readAll());
        }
        bundle.close();
        auto trust = net::TlsTrust::fromBundle(bundle.fileName());
        QVERIFY2(trust, why(trust));
        m_http = std::make_unique<net::HttpClient>(*trust);
        auto c = client({QUrl(other.dasUrl()), QUrl(f.dasUrl())});
        auto user = registerAlice(*c);
        QVERIFY(!user);
        QCOMPARE(user.error().code, ErrorCode::DeviceUnknown);
        QVERIFY2(user.error().message.contains(QLatin1String("enroll")), qPrintable(user.error().message));
        other.stop();
    }

    void requestObject()
    {
        auto c = client();
        auto user = registerAlice(*c);
        QVERIFY2(user, why(user));
        auto request = ask2fa(*c, fingerprint());
        QVERIFY2(request, why(request));
        QCOMPARE(request->clientId, QStringLiteral("hotdesk-agent"));
        QCOMPARE(request->authorizationEndpoint.toString(), f.idp()->issuer() + QStringLiteral("/authorize"));
        QVERIFY(request->expiresIn > 0 && request->expiresIn <= 120);
        const QJsonObject claims = payloadOf(request->requestObject);
        QCOMPARE(claims.value(QLatin1String("state")).toString(), QStringLiteral("st-41c9"));
        QCOMPARE(claims.value(QLatin1String("nonce")).toString(), QStringLiteral("n-7e02"));
        QCOMPARE(claims.value(QLatin1String("claims"))
                     .toObject()
                     .value(QLatin1String("id_token"))
                     .toObject()
                     .value(QLatin1String("sub"))
                     .toObject()
                     .value(QLatin1String("value"))
                     .toString(),
            user->sharedId);
    }

    void unknownUser()
    {
        auto c = client();
        auto request = ask2fa(*c, fingerprint());
        QVERIFY(!request);
        QCOMPARE(request.error().code, ErrorCode::UserUnknown);
    }

    void replacedKeyIsDeviceUnknown()
    {
        auto c = client();
        EnrolledDevice replaced;
        f.enroll(m_device.id, replaced); // the same id enrolled again: the old key is void
        auto user = registerAlice(*c);
        QVERIFY(!user);
        QCOMPARE(user.error().code, ErrorCode::DeviceUnknown);
    }

    void clockSkewIsNamed_data()
    {
        QTest::addColumn<int>("offset");
        QTest::addColumn<ErrorCode>("code");
        QTest::newRow("PC an hour behind") << -3600 << ErrorCode::Expired;
        QTest::newRow("PC an hour ahead") << 3600 << ErrorCode::NotYetValid;
    }
    void clockSkewIsNamed()
    {
        QFETCH(int, offset);
        QFETCH(ErrorCode, code);
        FakeClock pcClock(f.clock.secondsSinceEpoch() + offset);
        auto c = client({QUrl(f.dasUrl())}, &pcClock);
        auto user = registerAlice(*c);
        QVERIFY(!user);
        QCOMPARE(user.error().code, code);
        QVERIFY2(user.error().message.contains(QLatin1String("clock")), qPrintable(user.error().message));
    }

    void unrecognizedDeviceThenApproval()
    {
        auto c = client();
        QVERIFY(registerAlice(*c));
        auto first = ask2fa(*c, fingerprint());
        QVERIFY2(first, why(first));
        const QJsonObject other = fingerprint(QStringLiteral("9f2e1d0c-5b4a-4f3e-8d2c-1b0a99887766"));
        auto refused = ask2fa(*c, other);
        QVERIFY(!refused);
        QCOMPARE(refused.error().code, ErrorCode::DeviceUnrecognized);
        QVERIFY(!c->pendingApprovalFromLastError());

        auto asked = await<Result<das::ApprovalStatus>>([&](auto done) { c->requestApproval(kUser, other, done); });
        QVERIFY2(asked, why(asked));
        QCOMPARE(asked->state, das::ApprovalStatus::State::Pending);
        QCOMPARE(asked->status, QStringLiteral("pending"));
        QVERIFY(asked->expiresAt > f.clock.secondsSinceEpoch());

        // Asking again names the pending request.
        refused = ask2fa(*c, other);
        QVERIFY(!refused);
        QCOMPARE(refused.error().code, ErrorCode::DeviceUnrecognized);
        QCOMPARE(c->pendingApprovalFromLastError(), std::optional<QString>(asked->id));

        const HttpResult decided = f.postJson(QStringLiteral("/v1/admin/approval-requests/%1").arg(asked->id),
            {{QStringLiteral("decision"), QStringLiteral("approve")}},
            DasFixture::bearer(f.adminToken(stubs::das::AdminRole::Approver, QStringLiteral("bob"))));
        QCOMPARE(decided.status, 200);
        auto status = await<Result<das::ApprovalStatus>>([&](auto done) { c->approvalStatus(asked->id, done); });
        QVERIFY2(status, why(status));
        QCOMPARE(status->state, das::ApprovalStatus::State::Approved);
        QCOMPARE(status->id, asked->id);

        auto accepted = ask2fa(*c, other);
        QVERIFY2(accepted, why(accepted));
        QVERIFY(!c->pendingApprovalFromLastError());
    }

    void oneTimeCode()
    {
        auto c = client();
        QVERIFY(registerAlice(*c));
        QVERIFY(ask2fa(*c, fingerprint()));
        const QString machine = QStringLiteral("9f2e1d0c-5b4a-4f3e-8d2c-1b0a99887766");
        auto refused = ask2fa(*c, fingerprint(machine));
        QCOMPARE(refused.error().code, ErrorCode::DeviceUnrecognized);

        auto sent = await<Result<das::OobToken>>([&](auto done) { c->requestOobToken(kUser, done); });
        QVERIFY2(sent, why(sent));
        QCOMPARE(sent->digits, 8);
        QVERIFY(sent->expiresAt > f.clock.secondsSinceEpoch());
        const QString code = lastCode();
        QCOMPARE(code.size(), 8);

        QString wrong;
        for (QChar ch : code)
            wrong += QChar(u'0' + (ch.digitValue() + 1) % 10);
        auto bad = await<Status>([&](auto done) { c->verifyOobToken(kUser, wrong, machine, done); });
        QVERIFY(!bad);
        QCOMPARE(bad.error().code, ErrorCode::AccessDenied);
        QVERIFY2(bad.error().message.contains(QLatin1String("4 more")), qPrintable(bad.error().message));

        auto good = await<Status>([&](auto done) { c->verifyOobToken(kUser, code, machine, done); });
        QVERIFY2(good, why(good));
        auto accepted = ask2fa(*c, fingerprint(machine));
        QVERIFY2(accepted, why(accepted));

        auto again = await<Status>([&](auto done) { c->verifyOobToken(kUser, code, machine, done); });
        QVERIFY(!again);
        QCOMPARE(again.error().code, ErrorCode::AccessDenied);
    }

    void events()
    {
        auto c = client();
        auto posted = await<Status>([&](auto done) {
            c->postEvent({{QStringLiteral("type"), QStringLiteral("auth_failed")}, {QStringLiteral("user"), kUser},
                             {QStringLiteral("detail"), QStringLiteral("wrong number tapped")}},
                done);
        });
        QVERIFY2(posted, why(posted));
        QCOMPARE(f.count(QStringLiteral("SELECT COUNT(*) FROM das_events WHERE type = 'auth_failed' AND source = 'device'")), 1);
        auto bad = await<Status>([&](auto done) {
            c->postEvent({{QStringLiteral("type"), QStringLiteral("Not A Slug")}}, done);
        });
        QVERIFY(!bad);
        QCOMPARE(bad.error().code, ErrorCode::ServerError);
        QVERIFY2(bad.error().message.contains(QLatin1String("400")), qPrintable(bad.error().message));
    }

    void malformedAnswer()
    {
        f.stop();
        f.faults = {QStringLiteral("garbage")};
        f.start();
        f.enroll(QStringLiteral("pc-desk-12"), m_device);
        m_http.reset();
        auto c = client();
        QVERIFY(registerAlice(*c));
        auto request = ask2fa(*c, fingerprint());
        QVERIFY(!request);
        QCOMPARE(request.error().code, ErrorCode::MalformedAnswer);
    }

    void serverErrorEverywhere()
    {
        f.stop();
        f.faults = {QStringLiteral("500")};
        f.start();
        f.enroll(QStringLiteral("pc-desk-12"), m_device);
        m_http.reset();
        auto c = client({deadUrl(), QUrl(f.dasUrl())});
        QVERIFY(registerAlice(*c));
        auto request = ask2fa(*c, fingerprint());
        QVERIFY(!request);
        QCOMPARE(request.error().code, ErrorCode::ServerError);
        QVERIFY2(request.error().message.contains(QLatin1String("500")), qPrintable(request.error().message));
    }

    void cancel()
    {
        auto c = client();
        std::optional<Result<das::RegisteredUser>> out;
        c->registerUser({QStringLiteral("alice"), {}, {}}, [&](Result<das::RegisteredUser> r) { out = std::move(r); });
        c->cancelAll();
        QTRY_VERIFY(out.has_value());
        QVERIFY(!*out);
        QCOMPARE(out->error().code, ErrorCode::Cancelled);
    }
};

QTEST_GUILESS_MAIN(TestDasClient)
#include "tst_dasclient.moc"

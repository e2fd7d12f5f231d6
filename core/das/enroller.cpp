// Flow 3 on the agent: activation, SPAKE2, device key, and keeping the result in the keychain and the state directory.
#include "enroller.h"

#include "../jose/base64url.h"

#include <QCoreApplication>
#include <QHostInfo>
#include <QJsonDocument>
#include <QSysInfo>

namespace hotdesk::das {

struct Enroller::Run {
    Activation activation;
    QString deviceId;
    std::optional<DeviceEnrollment> enrollment;
    std::optional<jose::Jwk> key;
    QString exchangeUrl; // {das}/v1/devices/{service_uid}/spake2
    Callback done;
};

namespace {

// An answer of the DAS during enrollment as a typed error.
Error enrollmentError(const net::HttpResponse &response)
{
    const auto problem = net::problemOf(response);
    const QString slug = problem ? problem->slug : QString();
    const QString described = net::describeAnswer(response);
    if (slug == u"admin-token-required" || slug == u"invalid-admin-token" || slug == u"admin-role-required")
        return {ErrorCode::AccessDenied,
            QStringLiteral("%1; check the administrator token (it needs the admin role)").arg(described)};
    if (slug == u"not-an-administrator" || slug == u"sign-in-used" || slug == u"sign-in-unknown"
        || slug == u"sign-in-expired" || slug == u"invalid-id-token")
        return {ErrorCode::AccessDenied, QStringLiteral("%1; only an administrator's own sign-in enrolls a PC").arg(described)};
    if (slug == u"confirmation-failed" || slug == u"key-confirmation-failed")
        return {ErrorCode::ConfirmationFailed,
            QStringLiteral("%1: the key exchange did not confirm, so this activation is not the one the DAS issued "
                           "(altered, or for another PC); ask the administrator for a new activation")
                .arg(described)};
    if (slug == u"activation-expired" || slug == u"spake2-expired")
        return {ErrorCode::Expired, QStringLiteral("%1; ask the administrator for a new activation").arg(described)};
    if (slug == u"activation-unknown" || slug == u"activation-used" || slug == u"activation-locked")
        return {ErrorCode::AccessDenied, QStringLiteral("%1; ask the administrator for a new activation").arg(described)};
    if (response.status >= 500)
        return {ErrorCode::ServerError, QStringLiteral("%1; try again later").arg(described)};
    return {ErrorCode::ServerError, described};
}

QString b64(const QByteArray &bytes)
{
    return QString::fromLatin1(jose::base64UrlEncode(bytes));
}

Result<QByteArray> decodedMember(const QJsonObject &o, const char *name, const QString &from)
{
    const QJsonValue v = o.value(QLatin1String(name));
    auto bytes = v.isString() ? jose::base64UrlDecode(v.toString().toLatin1()) : Result<QByteArray>(QByteArray());
    if (!v.isString() || !bytes || bytes->isEmpty())
        return fail(ErrorCode::MalformedAnswer,
            QStringLiteral("the answer of %1 has no base64url \"%2\"; the DAS does not follow docs/das-protocol.md")
                .arg(from, QLatin1String(name)));
    return *bytes;
}

} // namespace

Result<EnrollTarget> enrollTargetFor(const policy::AgentPolicy &policy, const std::optional<QUrl> &dasUrl)
{
    const policy::ServerSettings &s = policy.servers;
    if (s.activationKeys.isEmpty())
        return fail(ErrorCode::PolicyInvalid,
            QStringLiteral("%1 pins no DAS activation key (servers.das_activation_keys); add the JWK set the DAS "
                           "publishes at /v1/activation-key, then enroll")
                .arg(policy.sourceFile));
    if (!dasUrl && s.dasUrls.isEmpty())
        return fail(ErrorCode::PolicyInvalid, QStringLiteral("%1 names no DAS (servers.das)").arg(policy.sourceFile));
    EnrollTarget target;
    target.dasUrl = dasUrl ? *dasUrl : s.dasUrls.constFirst();
    target.activationKeys = s.activationKeys;
    const QString wanted = DasClient::audienceOf(target.dasUrl);
    for (const QUrl &url : s.dasUrls) {
        if (DasClient::audienceOf(url) == wanted)
            target.expectedDasUrl = wanted;
    }
    return target;
}

Result<QString> defaultDeviceId(RandomSource &random)
{
    QString host = QSysInfo::machineHostName();
    if (host.isEmpty())
        host = QHostInfo::localHostName();
    QString id;
    for (QChar c : std::as_const(host)) {
        const bool allowed = (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9') || c == u'.'
            || c == u'_' || c == u'-';
        id += allowed ? c : QChar(u'-');
    }
    while (!id.isEmpty() && !id.front().isLetterOrNumber())
        id.remove(0, 1);
    id.truncate(100);
    if (id.isEmpty())
        id = QStringLiteral("pc");
    auto suffix = random.bytes(3);
    if (!suffix)
        return tl::unexpected(suffix.error());
    id += QLatin1Char('-');
    id += QString::fromLatin1(suffix->toHex());
    if (!isValidDeviceId(id))
        return fail(ErrorCode::Malformed,
            QStringLiteral("cannot make a device id from the host name \"%1\"; pass --device-id").arg(host));
    return id;
}

Enroller::Enroller(net::HttpClient &http, store::SecretStore &secrets, store::AgentState &state, const Clock &clock,
    RandomSource &random, QObject *parent)
    : QObject(parent)
    , m_http(http)
    , m_secrets(secrets)
    , m_state(state)
    , m_clock(clock)
    , m_random(random)
{
}

Enroller::~Enroller() = default;

void Enroller::post(
    const QString &url, const QJsonObject &body, const QByteArray &authorization, std::function<void(Result<QJsonObject>)> done)
{
    net::HttpRequest request = net::HttpRequest::postJson(QUrl(url), body);
    if (!authorization.isEmpty())
        request.withHeader("Authorization", authorization);
    QPointer<Enroller> self(this);
    m_http.send(request, [self, done](Result<net::HttpResponse> r) {
        if (!self)
            return;
        if (!r)
            return done(tl::unexpected(r.error()));
        if (!r->isSuccess())
            return done(tl::unexpected(enrollmentError(*r)));
        done(net::jsonObjectOf(*r, QStringLiteral("the answer")));
    });
}

void Enroller::enroll(const EnrollTarget &target, const QByteArray &adminToken, Callback done)
{
    requestActivation(target, {}, "Bearer " + adminToken, std::move(done));
}

void Enroller::enrollWithSignIn(const EnrollTarget &target, const QString &signIn, const QByteArray &idToken, Callback done)
{
    requestActivation(target,
        {{QStringLiteral("sign_in"), signIn}, {QStringLiteral("id_token"), QString::fromLatin1(idToken)}}, {},
        std::move(done));
}

void Enroller::requestActivation(
    const EnrollTarget &target, const QJsonObject &body, const QByteArray &authorization, Callback done)
{
    // A state directory that cannot take the record is found out before an activation is spent on it.
    if (auto records = m_state.enrollments(); !records) {
        QMetaObject::invokeMethod(
            this, [done, e = records.error()] { done(tl::unexpected(e)); }, Qt::QueuedConnection);
        return;
    }
    const QString das = DasClient::audienceOf(target.dasUrl);
    Q_EMIT progress(QStringLiteral("asking %1 for an activation").arg(das));
    post(das + QStringLiteral("/v1/activation"), body, authorization,
        [this, target, das, done](Result<QJsonObject> answer) {
            if (!answer)
                return done(tl::unexpected(answer.error()));
            const QJsonValue jwt = answer->value(QLatin1String("activation"));
            if (!jwt.isString())
                return done(fail(ErrorCode::MalformedAnswer,
                    QStringLiteral("the activation answer of %1 has no \"activation\" string").arg(das)));
            enrollWithActivation(target, jwt.toString().toLatin1(), done);
        });
}

void Enroller::enrollWithActivation(const EnrollTarget &target, const QByteArray &activationJwt, Callback done)
{
    ActivationRequirements requirements;
    requirements.dasUrl = target.expectedDasUrl;
    auto activation = verifyActivation(activationJwt, target.activationKeys, requirements, m_clock);
    if (!activation) {
        Error e = activation.error();
        e.message = QStringLiteral("the activation was refused: %1; it must be signed by an activation key the policy "
                                   "pins and be fresh; ask the administrator for a new one")
                        .arg(e.message);
        // Later, like every other outcome.
        QMetaObject::invokeMethod(
            this, [done, e] { done(tl::unexpected(e)); }, Qt::QueuedConnection);
        return;
    }
    Q_EMIT progress(QStringLiteral("activation for %1 verified against the policy's pinned keys").arg(activation->dasUrl));
    auto deviceId = chooseDeviceId(activation->dasUrl, target.deviceId);
    if (!deviceId) {
        QMetaObject::invokeMethod(
            this, [done, e = deviceId.error()] { done(tl::unexpected(e)); }, Qt::QueuedConnection);
        return;
    }
    enrollVerified(*activation, *deviceId, done);
}

Result<QString> Enroller::chooseDeviceId(const QString &dasUrl, const QString &given)
{
    if (!given.isEmpty()) {
        if (!isValidDeviceId(given))
            return fail(ErrorCode::Malformed,
                QStringLiteral("\"%1\" is not a device id: 1 to 128 of A-Z a-z 0-9 . _ : - starting with a letter or digit")
                    .arg(given.left(200)));
        return given;
    }
    // Enrolling again keeps the PC's name at that DAS: the DAS replaces its key.
    auto existing = m_state.enrollment(dasUrl);
    if (!existing)
        return tl::unexpected(existing.error());
    if (*existing)
        return (*existing)->deviceId;
    return defaultDeviceId(m_random);
}

void Enroller::enrollVerified(const Activation &activation, const QString &deviceId, Callback done)
{
    auto run = std::make_shared<Run>();
    run->activation = activation;
    run->deviceId = deviceId;
    run->done = std::move(done);
    run->exchangeUrl = activation.dasUrl
        + QStringLiteral("/v1/devices/%1/spake2").arg(QString::fromLatin1(QUrl::toPercentEncoding(activation.serviceUid)));
    // scrypt takes a moment; after this call returns, so the caller sees no callback inside it.
    QMetaObject::invokeMethod(
        this, [this, run] { exchange(run); }, Qt::QueuedConnection);
}

void Enroller::exchange(std::shared_ptr<Run> run)
{
    Q_EMIT progress(QStringLiteral("key exchange (SPAKE2) with %1 as device %2").arg(run->activation.dasUrl, run->deviceId));
    auto enrollment = DeviceEnrollment::create(run->activation, run->deviceId);
    if (!enrollment)
        return run->done(tl::unexpected(enrollment.error()));
    run->enrollment.emplace(std::move(*enrollment));
    auto pA = run->enrollment->start(m_random);
    if (!pA)
        return run->done(tl::unexpected(pA.error()));
    post(run->exchangeUrl, {{QStringLiteral("device_id"), run->deviceId}, {QStringLiteral("pA"), b64(*pA)}}, {},
        [this, run](Result<QJsonObject> answer) {
            if (!answer)
                return run->done(tl::unexpected(answer.error()));
            confirm(run, *answer);
        });
}

void Enroller::confirm(std::shared_ptr<Run> run, const QJsonObject &answer)
{
    auto pB = decodedMember(answer, "pB", run->exchangeUrl);
    if (!pB)
        return run->done(tl::unexpected(pB.error()));
    auto macA = run->enrollment->finish(*pB);
    if (!macA)
        return run->done(tl::unexpected(macA.error()));
    auto key = jose::Jwk::generate(jose::Algorithm::ES256);
    if (!key)
        return run->done(tl::unexpected(key.error()));
    run->key = *key;
    auto keyMac = run->enrollment->keyMac(*key);
    if (!keyMac)
        return run->done(tl::unexpected(keyMac.error()));
    Q_EMIT progress(QStringLiteral("registering a new ES256 device key"));
    post(run->exchangeUrl + QStringLiteral("/confirm"),
        {{QStringLiteral("mac_a"), b64(*macA)}, {QStringLiteral("device_key"), key->toPublicJson()},
            {QStringLiteral("key_mac"), b64(*keyMac)}},
        {}, [this, run](Result<QJsonObject> confirmed) {
            if (!confirmed)
                return run->done(tl::unexpected(confirmed.error()));
            keep(run, *confirmed);
        });
}

void Enroller::keep(std::shared_ptr<Run> run, const QJsonObject &answer)
{
    auto macB = decodedMember(answer, "mac_b", run->exchangeUrl);
    if (!macB)
        return run->done(tl::unexpected(macB.error()));
    if (auto ok = run->enrollment->verifyServerConfirmation(*macB); !ok)
        return run->done(fail(ErrorCode::ConfirmationFailed,
            QStringLiteral("%1 did not prove that it knows the activation password (%2); this is not the DAS that issued "
                           "the activation: nothing was stored; tell the administrator")
                .arg(run->activation.dasUrl, ok.error().message)));
    const QJsonValue answeredId = answer.value(QLatin1String("device_id"));
    if (!answeredId.isUndefined() && answeredId != QJsonValue(run->deviceId))
        return run->done(fail(ErrorCode::MalformedAnswer,
            QStringLiteral("%1 confirmed another device id than %2").arg(run->activation.dasUrl, run->deviceId)));

    store::EnrollmentRecord record;
    record.dasUrl = run->activation.dasUrl;
    record.deviceId = run->deviceId;
    record.keyName = store::deviceKeyName(record.dasUrl);
    record.kid = QString::fromLatin1(run->key->thumbprint());
    record.enrolledAt = m_clock.secondsSinceEpoch();
    Q_EMIT progress(QStringLiteral("storing the device key as \"%1\"").arg(record.keyName));
    const QByteArray secret = QJsonDocument(run->key->toPrivateJson()).toJson(QJsonDocument::Compact);
    QPointer<Enroller> self(this);
    m_secrets.writeSecret(record.keyName, secret, [self, run, record](Status stored) {
        if (!self)
            return;
        if (!stored) {
            Error e = stored.error();
            e.message += QStringLiteral(" (the DAS registered the key already; enroll again once the keychain works)");
            return run->done(tl::unexpected(e));
        }
        if (auto saved = self->m_state.saveEnrollment(record); !saved)
            return run->done(tl::unexpected(saved.error()));
        run->done(record);
    });
}

std::optional<store::EnrollmentRecord> enrollmentFor(const QList<store::EnrollmentRecord> &records, const QList<QUrl> &dasUrls)
{
    for (const QUrl &url : dasUrls) {
        const QString wanted = DasClient::audienceOf(url);
        for (const store::EnrollmentRecord &r : records) {
            if (r.dasUrl == wanted)
                return r;
        }
    }
    return std::nullopt;
}

void loadCredential(store::SecretStore &secrets, const store::AgentState &state, const QList<QUrl> &dasUrls,
    std::function<void(Result<LoadedCredential>)> done)
{
    auto later = [done](Error e) {
        QMetaObject::invokeMethod(
            QCoreApplication::instance(), [done, e] { done(tl::unexpected(e)); }, Qt::QueuedConnection);
    };
    auto records = state.enrollments();
    if (!records)
        return later(records.error());
    const std::optional<store::EnrollmentRecord> found = enrollmentFor(*records, dasUrls);
    if (!found) {
        QStringList urls;
        for (const QUrl &url : dasUrls)
            urls << DasClient::audienceOf(url);
        return later(Error {ErrorCode::NotEnrolled,
            QStringLiteral("this PC is not enrolled with the DAS of the policy (%1); an administrator runs 'hotdesk enroll'")
                .arg(urls.join(QStringLiteral(", ")))});
    }
    const store::EnrollmentRecord record = *found;
    secrets.readSecret(record.keyName, [record, done, where = secrets.where()](Result<QByteArray> secret) {
        if (!secret) {
            Error e = secret.error();
            if (e.code == ErrorCode::NotEnrolled)
                e.message = QStringLiteral("the device key of the enrollment with %1 is gone from %2 (\"%3\"); "
                                           "an administrator runs 'hotdesk enroll' again")
                                .arg(record.dasUrl, where, record.keyName);
            return done(tl::unexpected(e));
        }
        jose::JwkOptions options;
        options.allowPrivate = true;
        auto key = jose::Jwk::fromJson(*secret, options);
        if (!key || !key->isPrivate() || !key->fits(jose::Algorithm::ES256))
            return done(fail(ErrorCode::NotEnrolled,
                QStringLiteral("the entry \"%1\" in %2 does not hold an ES256 private key; an administrator runs "
                               "'hotdesk enroll' again")
                    .arg(record.keyName, where)));
        if (QString::fromLatin1(key->thumbprint()) != record.kid)
            return done(fail(ErrorCode::DeviceUnknown,
                QStringLiteral("the entry \"%1\" in %2 holds another key than the one enrolled with %3; an "
                               "administrator runs 'hotdesk enroll' again")
                    .arg(record.keyName, where, record.dasUrl)));
        done(LoadedCredential {record, DeviceCredential {record.deviceId, *key}});
    });
}

} // namespace hotdesk::das

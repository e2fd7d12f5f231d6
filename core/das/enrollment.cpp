// Activation checks and the SPAKE2 enrollment exchange of both sides.
#include "enrollment.h"

#include "../jose/base64url.h"
#include "../jose/jws.h"
#include "../jose/strictjson.h"
#include "claimreader.h"

#include <QRegularExpression>
#include <QUrl>

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace hotdesk::das {
namespace {

constexpr int kMaxScalarDraws = 16;

void wipe(QByteArray &bytes)
{
    if (!bytes.isEmpty())
        OPENSSL_cleanse(bytes.data(), size_t(bytes.size()));
    bytes.clear();
}

bool isBase64UrlText(QStringView text)
{
    for (QChar c : text) {
        const char16_t u = c.unicode();
        const bool ok = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' || u == '_';
        if (!ok)
            return false;
    }
    return true;
}

bool isActivationType(QString typ)
{
    if (typ.startsWith(QLatin1String("application/"), Qt::CaseInsensitive))
        typ = typ.mid(12);
    return typ.compare(QLatin1String(kActivationType), Qt::CaseInsensitive) == 0;
}

// A secret scalar drawn by rejection sampling, as RFC 9382 asks, and this side's message.
Result<std::pair<QByteArray, QByteArray>> drawMessage(pake::Role role, QByteArrayView w, RandomSource &random)
{
    Error lastError {ErrorCode::CryptoFailure, QStringLiteral("no SPAKE2 scalar was drawn")};
    for (int draw = 0; draw < kMaxScalarDraws; ++draw) {
        auto candidate = random.bytes(pake::kScalarSize);
        if (!candidate)
            return tl::unexpected(candidate.error());
        auto message = pake::computeMessage(role, w, *candidate);
        if (message)
            return std::pair {std::move(*candidate), std::move(*message)};
        // Out of range (about 2^-32 for P-256) or the identity: draw again.
        wipe(*candidate);
        lastError = message.error();
        if (lastError.code != ErrorCode::Malformed)
            break;
    }
    return tl::unexpected(lastError);
}

// K, the transcript and the key schedule for either side; pA and pB in protocol order.
Result<pake::KeySchedule> deriveKeys(pake::Role role, QByteArrayView w, QByteArrayView scalar, const QString &deviceId,
    const QString &dasUrl, QByteArrayView pA, QByteArrayView pB)
{
    auto k = pake::computeSharedElement(role, w, scalar, role == pake::Role::A ? pB : pA);
    if (!k)
        return tl::unexpected(k.error());
    QByteArray transcript = pake::encodeTranscript(deviceId.toUtf8(), dasUrl.toUtf8(), pA, pB, *k, w);
    wipe(*k);
    auto keys = pake::deriveKeySchedule(transcript, QByteArrayView(kSpake2Aad));
    wipe(transcript);
    if (!keys)
        return tl::unexpected(keys.error());
    wipe(keys->ka);
    wipe(keys->kcA);
    wipe(keys->kcB);
    return keys;
}

} // namespace

bool isValidDeviceId(QStringView deviceId)
{
    static const QRegularExpression shape(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"));
    return shape.match(deviceId).hasMatch();
}

bool isValidServiceUid(QStringView uid)
{
    return uid.size() >= 16 && uid.size() <= 64 && isBase64UrlText(uid);
}

Result<Activation> verifyActivation(
    QByteArrayView token, const jose::JwkSet &activationKeys, const ActivationRequirements &requirements, const Clock &clock)
{
    jose::JwsVerifyOptions options;
    options.allowed = {jose::Algorithm::ES256};
    auto jws = jose::verifyCompact(token, activationKeys, options);
    if (!jws)
        return tl::unexpected(jws.error());
    if (!isActivationType(jws->header.typ))
        return fail(ErrorCode::InvalidClaim,
            QStringLiteral("this is not an activation (typ \"%1\"); ask the administrator for a new one").arg(jws->header.typ));
    auto parsed = jose::parseStrictJsonObject(jws->payload, {16, jose::kMaxJwsSize});
    if (!parsed)
        return fail(ErrorCode::Malformed, QStringLiteral("claims: %1").arg(parsed.error().message));
    const QJsonObject &claims = *parsed;

    Activation out;
    auto iss = detail::stringClaim(claims, "iss");
    if (!iss)
        return tl::unexpected(iss.error());
    const QUrl issUrl(*iss, QUrl::StrictMode);
    if (iss->isEmpty() || !issUrl.isValid() || issUrl.scheme() != QLatin1String("https") || issUrl.host().isEmpty())
        return fail(ErrorCode::IssuerMismatch, QStringLiteral("the activation does not name the https URL of its DAS"));
    if (requirements.dasUrl && *iss != *requirements.dasUrl)
        return fail(ErrorCode::IssuerMismatch,
            QStringLiteral("the activation is for the DAS at \"%1\", not \"%2\"").arg(*iss, *requirements.dasUrl));
    out.dasUrl = *iss;

    if (auto aud = detail::requireAudience(claims, QLatin1String(kActivationAudience)); !aud)
        return tl::unexpected(aud.error());

    auto iat = detail::numericDate(claims, "iat", true);
    auto exp = detail::numericDate(claims, "exp", true);
    if (!iat)
        return tl::unexpected(iat.error());
    if (!exp)
        return tl::unexpected(exp.error());
    out.issuedAt = **iat;
    out.expiresAt = **exp;
    const qint64 now = clock.secondsSinceEpoch();
    const qint64 leeway = requirements.leeway.count();
    if (out.expiresAt <= out.issuedAt || out.expiresAt - out.issuedAt > kMaxActivationLifetime.count())
        return fail(ErrorCode::InvalidClaim,
            QStringLiteral("the activation claims to be valid for %1 s; at most %2 s are allowed")
                .arg(out.expiresAt - out.issuedAt)
                .arg(kMaxActivationLifetime.count()));
    if (out.issuedAt > now + leeway)
        return fail(ErrorCode::IssuedInFuture,
            QStringLiteral("the activation was issued %1 s in the future; check this PC's clock").arg(out.issuedAt - now));
    if (now >= out.expiresAt + leeway)
        return fail(ErrorCode::Expired,
            QStringLiteral("the activation expired %1 s ago; ask the administrator for a new one").arg(now - out.expiresAt));

    auto jti = detail::stringClaim(claims, "jti");
    auto password = detail::stringClaim(claims, "activation_password");
    auto uid = detail::stringClaim(claims, "service_uid");
    for (const auto *claim : {&jti, &password, &uid}) {
        if (!*claim)
            return tl::unexpected(claim->error());
    }
    if (jti->isEmpty())
        return fail(ErrorCode::InvalidClaim, QStringLiteral("the activation has no \"jti\""));
    // 32 random bytes in base64url: exactly 43 characters that decode.
    if (password->size() != 43 || !jose::base64UrlDecode(password->toLatin1()))
        return fail(ErrorCode::InvalidClaim, QStringLiteral("the activation password is not 32 bytes in base64url"));
    if (!isValidServiceUid(*uid))
        return fail(
            ErrorCode::InvalidClaim, QStringLiteral("the activation's \"service_uid\" is not 16 to 64 base64url characters"));
    out.jti = *jti;
    out.password = password->toLatin1();
    out.serviceUid = *uid;
    return out;
}

Result<QByteArray> activationPasswordScalar(QByteArrayView password, QStringView serviceUid)
{
    return pake::passwordScalar(password, serviceUid.toLatin1());
}

Result<QByteArray> deviceKeyMac(QByteArrayView ke, const jose::Jwk &deviceKey)
{
    if (ke.isEmpty())
        return fail(
            ErrorCode::Unsupported, QStringLiteral("no confirmed SPAKE2 session key to authenticate the device key with"));
    const QByteArray thumbprint = deviceKey.thumbprint();
    QByteArray mac(EVP_MAX_MD_SIZE, Qt::Uninitialized);
    size_t length = 0;
    if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, ke.data(), size_t(ke.size()),
            reinterpret_cast<const unsigned char *>(thumbprint.constData()), size_t(thumbprint.size()),
            reinterpret_cast<unsigned char *>(mac.data()), size_t(mac.size()), &length))
        return fail(ErrorCode::CryptoFailure, QStringLiteral("HMAC-SHA256 of the device key failed"));
    mac.resize(qsizetype(length));
    return mac;
}

Status compareMac(QByteArrayView expected, QByteArrayView presented)
{
    if (expected.isEmpty() || expected.size() != presented.size()
        || CRYPTO_memcmp(expected.data(), presented.data(), size_t(expected.size())) != 0)
        return fail(ErrorCode::ConfirmationFailed, QStringLiteral("the confirmation does not match"));
    return {};
}

DeviceEnrollment::DeviceEnrollment(QByteArray w, Activation activation, QString deviceId)
    : m_w(std::move(w))
    , m_activation(std::move(activation))
    , m_deviceId(std::move(deviceId))
{
}

DeviceEnrollment::~DeviceEnrollment()
{
    for (QByteArray *secret : {&m_w, &m_x, &m_ke, &m_macB})
        wipe(*secret);
}

Result<DeviceEnrollment> DeviceEnrollment::create(const Activation &activation, const QString &deviceId)
{
    if (!isValidDeviceId(deviceId))
        return fail(
            ErrorCode::Malformed, QStringLiteral("the device id \"%1\" is not 1 to 128 of A-Z a-z 0-9 . _ : -").arg(deviceId));
    auto w = activationPasswordScalar(activation.password, activation.serviceUid);
    if (!w)
        return tl::unexpected(w.error());
    return DeviceEnrollment(std::move(*w), activation, deviceId);
}

Status DeviceEnrollment::expect(State state, const char *step) const
{
    if (m_state != state)
        return fail(ErrorCode::Unsupported,
            QStringLiteral("enrollment: %1 out of order; start a new enrollment").arg(QLatin1String(step)));
    return {};
}

Result<QByteArray> DeviceEnrollment::start(RandomSource &random)
{
    if (auto ok = expect(State::Created, "start()"); !ok)
        return tl::unexpected(ok.error());
    auto drawn = drawMessage(pake::Role::A, m_w, random);
    if (!drawn) {
        m_state = State::Failed;
        return tl::unexpected(drawn.error());
    }
    m_x = std::move(drawn->first);
    m_pA = std::move(drawn->second);
    m_state = State::Started;
    return m_pA;
}

Result<QByteArray> DeviceEnrollment::finish(QByteArrayView pB)
{
    if (auto ok = expect(State::Started, "finish()"); !ok)
        return tl::unexpected(ok.error());
    auto keys = deriveKeys(pake::Role::A, m_w, m_x, m_deviceId, m_activation.dasUrl, m_pA, pB);
    wipe(m_x);
    wipe(m_w);
    if (!keys) {
        m_state = State::Failed;
        return tl::unexpected(keys.error());
    }
    m_ke = keys->ke;
    m_macB = keys->macB;
    m_state = State::Finished;
    return keys->macA;
}

Result<QByteArray> DeviceEnrollment::keyMac(const jose::Jwk &deviceKey) const
{
    if (m_state != State::Finished && m_state != State::Confirmed)
        return fail(
            ErrorCode::Unsupported, QStringLiteral("enrollment: keyMac() before finish(); finish the key exchange first"));
    return deviceKeyMac(m_ke, deviceKey);
}

Status DeviceEnrollment::verifyServerConfirmation(QByteArrayView macB)
{
    if (auto ok = expect(State::Finished, "verifyServerConfirmation()"); !ok)
        return ok;
    if (!compareMac(m_macB, macB)) {
        m_state = State::Failed;
        wipe(m_ke);
        return fail(ErrorCode::ConfirmationFailed,
            QStringLiteral("the DAS's confirmation does not match: it does not know this activation, "
                           "or the messages were altered; do not use this enrollment"));
    }
    m_state = State::Confirmed;
    return {};
}

Result<ServerExchange> answerEnrollment(
    QByteArrayView w, const QString &deviceId, const QString &dasUrl, QByteArrayView pA, RandomSource &random)
{
    // The class Spake2 keeps the expected mac_a and Ke to itself; the DAS must
    // store them between two HTTP requests (and possibly two server
    // processes), so it runs the RFC's steps with the same building blocks.
    auto drawn = drawMessage(pake::Role::B, w, random);
    if (!drawn)
        return tl::unexpected(drawn.error());
    auto keys = deriveKeys(pake::Role::B, w, drawn->first, deviceId, dasUrl, pA, drawn->second);
    wipe(drawn->first);
    if (!keys)
        return tl::unexpected(keys.error());
    ServerExchange out {drawn->second, keys->macA, keys->macB, keys->ke};
    return out;
}

} // namespace hotdesk::das

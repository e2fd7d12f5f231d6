// Recovery codes: generation from the injected random source, Argon2id hashing and checking with libsodium.
#include "recoverycodes.h"

#include <QJsonArray>
#include <QRegularExpression>

#include <sodium.h>

namespace hotdesk::policy {
namespace {

// Crockford's base32: no I, L, O or U, so nothing reads as something else.
constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr int kSymbols = 8; // 40 bits: 5 random bytes per code
constexpr int kFormatVersion = 1;
constexpr int kMaxCount = 100;
// The most work a stored hash may ask for (MODERATE), and the least it may offer.
constexpr qint64 kMaxMemoryKiB = crypto_pwhash_argon2id_MEMLIMIT_MODERATE / 1024;
constexpr qint64 kMaxPasses = 10;

bool sodiumReady()
{
    // Thread-safe and idempotent: 0 the first time, 1 after, -1 on failure.
    return sodium_init() >= 0;
}

tl::unexpected<Error> sodiumFailed()
{
    return fail(ErrorCode::CryptoFailure,
        QStringLiteral("libsodium could not be initialized, so recovery codes cannot be checked; "
                       "restart the agent, and reinstall libsodium if it persists"));
}

tl::unexpected<Error> damaged(const QString &problem)
{
    return fail(ErrorCode::Malformed,
        QStringLiteral("the stored recovery codes are damaged (%1); generate new recovery codes").arg(problem));
}

QString display(const QByteArray &canonical)
{
    return QString(QLatin1String(canonical.left(4)) + u'-' + QLatin1String(canonical.mid(4)));
}

} // namespace

PasswordHashCost PasswordHashCost::interactive()
{
    return {crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE, crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE};
}

PasswordHashCost PasswordHashCost::minimum()
{
    return {crypto_pwhash_argon2id_OPSLIMIT_MIN, crypto_pwhash_argon2id_MEMLIMIT_MIN};
}

std::optional<QByteArray> RecoveryCodes::normalize(QStringView typed)
{
    QByteArray out;
    for (QChar c : typed) {
        if (c == u'-' || c == u' ')
            continue;
        char a = char(c.toUpper().unicode() < 128 ? c.toUpper().unicode() : 0);
        if (a == 'O')
            a = '0';
        else if (a == 'I' || a == 'L')
            a = '1';
        if (a == 0 || !std::char_traits<char>::find(kAlphabet, 32, a))
            return std::nullopt;
        out.append(a);
        if (out.size() > kSymbols)
            return std::nullopt;
    }
    if (out.size() != kSymbols)
        return std::nullopt;
    return out;
}

Result<RecoveryCodes::Generated> RecoveryCodes::generate(RandomSource &random, int count, PasswordHashCost cost)
{
    if (count < 1 || count > kMaxCount)
        return fail(ErrorCode::Malformed,
            QStringLiteral("%1 recovery codes asked for; the policy's recovery_codes.count must be 1..%2")
                .arg(count)
                .arg(kMaxCount));
    if (!sodiumReady())
        return sodiumFailed();
    Generated out;
    QList<QByteArray> canonical;
    while (canonical.size() < count) {
        auto bytes = random.bytes(kSymbols * 5 / 8);
        if (!bytes)
            return tl::unexpected(bytes.error());
        quint64 bits = 0;
        for (char b : *bytes)
            bits = (bits << 8) | quint8(b);
        QByteArray code(kSymbols, Qt::Uninitialized);
        for (int i = kSymbols - 1; i >= 0; --i, bits >>= 5)
            code[i] = kAlphabet[bits & 31];
        if (!canonical.contains(code)) // one code twice would be one code
            canonical.append(code);
    }
    for (const QByteArray &code : std::as_const(canonical)) {
        char hash[crypto_pwhash_STRBYTES];
        if (crypto_pwhash_str_alg(
                hash, code.constData(), quint64(code.size()), cost.opsLimit, cost.memLimit, crypto_pwhash_ALG_ARGON2ID13)
            != 0)
            return fail(ErrorCode::CryptoFailure,
                QStringLiteral("hashing a recovery code failed (out of memory?); close other programs and try again"));
        out.codes.m_hashes.append(QByteArray(hash));
        out.plain.append(display(code));
    }
    out.codes.m_issued = count;
    for (QByteArray &code : canonical)
        sodium_memzero(code.data(), size_t(code.size()));
    return out;
}

Result<bool> RecoveryCodes::consume(QStringView typed)
{
    if (!sodiumReady())
        return sodiumFailed();
    auto code = normalize(typed);
    if (!code)
        return false;
    for (qsizetype i = 0; i < m_hashes.size(); ++i) {
        // crypto_pwhash_str_verify compares in constant time and reads salt
        // and work factors from the stored string.
        if (crypto_pwhash_str_verify(m_hashes.at(i).constData(), code->constData(), quint64(code->size())) == 0) {
            m_hashes.removeAt(i);
            sodium_memzero(code->data(), size_t(code->size()));
            return true;
        }
    }
    sodium_memzero(code->data(), size_t(code->size()));
    return false;
}

QJsonObject RecoveryCodes::toJson() const
{
    QJsonArray hashes;
    for (const QByteArray &h : m_hashes)
        hashes.append(QString::fromLatin1(h));
    return {{QStringLiteral("version"), kFormatVersion}, {QStringLiteral("algorithm"), QStringLiteral("argon2id")},
        {QStringLiteral("issued"), m_issued}, {QStringLiteral("hashes"), hashes}};
}

Result<RecoveryCodes> RecoveryCodes::fromJson(const QJsonObject &object)
{
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (it.key() != u"version" && it.key() != u"algorithm" && it.key() != u"issued" && it.key() != u"hashes")
            return damaged(QStringLiteral("unknown member \"%1\"").arg(it.key()));
    }
    const QJsonValue version = object.value(QLatin1String("version"));
    if (!version.isDouble() || version.toInt(-1) != kFormatVersion)
        return damaged(QStringLiteral("\"version\" is not %1").arg(kFormatVersion));
    if (object.value(QLatin1String("algorithm")).toString() != u"argon2id")
        return damaged(QStringLiteral("\"algorithm\" is not \"argon2id\""));
    const QJsonValue issued = object.value(QLatin1String("issued"));
    const int n = issued.toInt(-1);
    if (!issued.isDouble() || n < 1 || n > kMaxCount || issued.toDouble() != n)
        return damaged(QStringLiteral("\"issued\" is not a count 1..%1").arg(kMaxCount));
    const QJsonValue hashes = object.value(QLatin1String("hashes"));
    if (!hashes.isArray() || hashes.toArray().size() > n)
        return damaged(QStringLiteral("\"hashes\" is not an array of at most \"issued\" hashes"));
    // What crypto_pwhash_str_alg writes for Argon2id: version 19, one lane,
    // base64 (no padding) salt and hash.
    static const QRegularExpression format(
        QStringLiteral("^\\$argon2id\\$v=19\\$m=([0-9]{1,9}),t=([0-9]{1,9}),p=1\\$[A-Za-z0-9+/]{11,64}\\$[A-Za-z0-9+/]{22,64}$"));
    RecoveryCodes codes;
    codes.m_issued = n;
    for (const QJsonValue &v : hashes.toArray()) {
        const QString text = v.toString();
        const auto match = format.match(text);
        if (!v.isString() || text.size() >= crypto_pwhash_STRBYTES || !match.hasMatch())
            return damaged(QStringLiteral("an entry is not an Argon2id hash string"));
        const qint64 memoryKiB = match.capturedView(1).toLongLong();
        const qint64 passes = match.capturedView(2).toLongLong();
        if (memoryKiB < qint64(crypto_pwhash_argon2id_MEMLIMIT_MIN / 1024) || memoryKiB > kMaxMemoryKiB
            || passes < qint64(crypto_pwhash_argon2id_OPSLIMIT_MIN) || passes > kMaxPasses)
            return damaged(
                QStringLiteral("a hash asks for %1 KiB and %2 passes, outside what Hotdesk writes").arg(memoryKiB).arg(passes));
        codes.m_hashes.append(text.toLatin1());
    }
    return codes;
}

} // namespace hotdesk::policy

// OpenSSL-backed random source.
#include "random.h"

#include "jose/base64url.h"

#include <openssl/rand.h>

#include <climits>

namespace hotdesk {

Result<QByteArray> OpenSslRandom::bytes(qsizetype count)
{
    if (count < 0 || count > INT_MAX)
        return fail(ErrorCode::Malformed, QStringLiteral("invalid random length"));
    QByteArray out(count, Qt::Uninitialized);
    if (count > 0 && RAND_bytes(reinterpret_cast<unsigned char *>(out.data()), int(count)) != 1)
        return fail(ErrorCode::CryptoFailure, QStringLiteral("the system random generator failed"));
    return out;
}

Result<QByteArray> randomUrlSafeString(RandomSource &random, qsizetype count)
{
    auto raw = random.bytes(count);
    if (!raw)
        return tl::unexpected(raw.error());
    return jose::base64UrlEncode(*raw);
}

Result<int> randomTwoDigitNumber(RandomSource &random)
{
    for (;;) {
        auto byte = random.bytes(1);
        if (!byte)
            return tl::unexpected(byte.error());
        const auto b = static_cast<unsigned char>(byte->at(0));
        if (b < 180)
            return 10 + b % 90;
    }
}

} // namespace hotdesk

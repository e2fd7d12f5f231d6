// Strict base64url codec.
#include "base64url.h"

#include <array>

namespace hotdesk::jose {
namespace {

constexpr std::array<qint8, 256> makeDecodeTable()
{
    std::array<qint8, 256> table{};
    for (auto &entry : table)
        entry = -1;
    const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int i = 0; i < 64; ++i)
        table[static_cast<unsigned char>(alphabet[i])] = static_cast<qint8>(i);
    return table;
}

constexpr auto kDecode = makeDecodeTable();

} // namespace

QByteArray base64UrlEncode(QByteArrayView data)
{
    return QByteArray::fromRawData(data.data(), data.size())
        .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

Result<QByteArray> base64UrlDecode(QByteArrayView text)
{
    const qsizetype n = text.size();
    if (n % 4 == 1)
        return fail(ErrorCode::Malformed, QStringLiteral("base64url text has an impossible length"));
    QByteArray out;
    out.reserve(n / 4 * 3 + 2);
    quint32 acc = 0;
    int bits = 0;
    for (qsizetype i = 0; i < n; ++i) {
        const qint8 v = kDecode[static_cast<unsigned char>(text[i])];
        if (v < 0)
            return fail(ErrorCode::Malformed,
                        QStringLiteral("base64url text contains a character outside the alphabet at offset %1").arg(i));
        acc = (acc << 6) | quint32(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.append(char((acc >> bits) & 0xff));
        }
    }
    // Leftover bits (2 or 4) must be zero, otherwise the encoding is not canonical.
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return fail(ErrorCode::Malformed, QStringLiteral("base64url text has non-zero padding bits"));
    return out;
}

} // namespace hotdesk::jose

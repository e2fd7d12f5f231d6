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

// For whole groups: the 6 bits of a character already shifted to where its
// position puts them in the 24-bit group, or kBad (above 24 bits) when the
// character is not in the alphabet, so that one OR of four lookups decodes a
// group and one comparison checks it.
constexpr quint32 kBad = 0x01000000;

constexpr std::array<quint32, 256> makeShiftedTable(int shift)
{
    std::array<quint32, 256> table{};
    for (std::size_t c = 0; c < 256; ++c)
        table[c] = kDecode[c] < 0 ? kBad : quint32(kDecode[c]) << shift;
    return table;
}

constexpr auto kDecode0 = makeShiftedTable(18);
constexpr auto kDecode1 = makeShiftedTable(12);
constexpr auto kDecode2 = makeShiftedTable(6);
constexpr auto kDecode3 = makeShiftedTable(0);

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
    const auto *const begin = reinterpret_cast<const unsigned char *>(text.data());
    // Called once a group is known to hold a bad character: names the first one.
    const auto badCharacter = [begin](qsizetype offset) {
        while (kDecode[begin[offset]] >= 0)
            ++offset;
        return fail(ErrorCode::Malformed,
                    QStringLiteral("base64url text contains a character outside the alphabet at offset %1").arg(offset));
    };

    // Whole groups of four characters make three bytes; a tail of 2 or 3
    // characters makes 1 or 2 bytes and leaves 4 or 2 bits unused.
    const qsizetype groups = n / 4;
    const int tail = int(n % 4);
    QByteArray out(groups * 3 + (tail ? tail - 1 : 0), Qt::Uninitialized);
    auto *o = reinterpret_cast<unsigned char *>(out.data());
    const unsigned char *in = begin;
    for (qsizetype g = 0; g < groups; ++g, in += 4, o += 3) {
        const quint32 v = kDecode0[in[0]] | kDecode1[in[1]] | kDecode2[in[2]] | kDecode3[in[3]];
        if (v >= kBad)
            return badCharacter(in - begin);
        o[0] = static_cast<unsigned char>(v >> 16);
        o[1] = static_cast<unsigned char>(v >> 8);
        o[2] = static_cast<unsigned char>(v);
    }
    if (tail) {
        quint32 acc = 0;
        for (int i = 0; i < tail; ++i) {
            const int v = kDecode[in[i]];
            if (v < 0)
                return badCharacter(in - begin);
            acc = acc << 6 | quint32(v);
        }
        // The unused bits must be zero, otherwise the encoding is not canonical.
        const int unused = tail == 2 ? 4 : 2;
        if ((acc & ((1u << unused) - 1)) != 0)
            return fail(ErrorCode::Malformed, QStringLiteral("base64url text has non-zero padding bits"));
        acc >>= unused;
        if (tail == 3)
            *o++ = static_cast<unsigned char>(acc >> 8);
        *o = static_cast<unsigned char>(acc);
    }
    return out;
}

} // namespace hotdesk::jose

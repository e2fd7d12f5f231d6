// Injected source of random bytes; the product uses OpenSSL's CSPRNG.
#pragma once

#include "result.h"

#include <QByteArray>

namespace hotdesk {

class RandomSource {
public:
    virtual ~RandomSource() = default;
    virtual Result<QByteArray> bytes(qsizetype count) = 0;
};

// RAND_bytes from OpenSSL 3 (DRBG seeded by the operating system).
class OpenSslRandom final : public RandomSource {
public:
    Result<QByteArray> bytes(qsizetype count) override;
};

// count random bytes, base64url-encoded without padding (for state, nonce, jti).
Result<QByteArray> randomUrlSafeString(RandomSource &random, qsizetype count = 32);

// A number to match, uniform over 10..99: bytes of 180 and above are drawn
// again so that no number is likelier than another.
Result<int> randomTwoDigitNumber(RandomSource &random);

} // namespace hotdesk

// Fuzz target: the strict base64url decoder, whose canonical-only rule means
// decoding and encoding are exact inverses.
#include "fuzztarget.h"

#include "core/jose/base64url.h"

using namespace hotdesk;

HOTDESK_FUZZ_TARGET(fuzz_base64url)
{
    const QByteArrayView input = fuzz::bytesOf(data, size);
    const auto decoded = jose::base64UrlDecode(input);
    fuzz::noteOutcome(decoded);
    // Otherwise two different texts would decode to the same bytes.
    if (decoded && jose::base64UrlEncode(*decoded) != input)
        fuzz::invariantBroken("fuzz_base64url", QStringLiteral("an accepted text is not the canonical encoding of what it decodes to"));

    // The other direction: the decoder accepts everything the encoder writes.
    const QByteArray encoded = jose::base64UrlEncode(input);
    const auto back = jose::base64UrlDecode(encoded);
    if (!back)
        fuzz::invariantBroken("fuzz_base64url", QStringLiteral("the encoder's output is refused: %1").arg(back.error().message));
    if (*back != input)
        fuzz::invariantBroken("fuzz_base64url", QStringLiteral("encode then decode does not give the input back"));
    return 0;
}

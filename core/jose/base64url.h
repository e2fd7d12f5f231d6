// Strict base64url (RFC 4648 §5, no padding) as JOSE requires it.
#pragma once

#include "../result.h"

#include <QByteArray>
#include <QByteArrayView>

namespace hotdesk::jose {

QByteArray base64UrlEncode(QByteArrayView data);

// Accepts only the canonical unpadded encoding: the alphabet A-Z a-z 0-9 - _,
// no '=', no whitespace, no length of 1 mod 4, and zero unused trailing bits.
// Anything else is an error rather than a silent repair, so two different
// strings never decode to the same bytes.
Result<QByteArray> base64UrlDecode(QByteArrayView text);

} // namespace hotdesk::jose

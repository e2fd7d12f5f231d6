// A strict RFC 8259 JSON reader for security-relevant documents (JOSE headers,
// claims, JWK sets): it refuses what lenient parsers quietly accept.
#pragma once

#include "../result.h"

#include <QByteArrayView>
#include <QJsonObject>
#include <QJsonValue>

namespace hotdesk::jose {

struct StrictJsonLimits {
    int maxDepth = 32;
    qsizetype maxSize = 1024 * 1024;
};

// Refuses: duplicate member names in any object (two parsers must never see
// two different documents), invalid UTF-8, unpaired surrogate escapes, control
// characters in strings, a byte-order mark, trailing content, numbers outside
// the double range, and nesting deeper than the limit.
Result<QJsonValue> parseStrictJson(QByteArrayView text, const StrictJsonLimits &limits = {});

// As parseStrictJson, and the top-level value must be an object.
Result<QJsonObject> parseStrictJsonObject(QByteArrayView text, const StrictJsonLimits &limits = {});

} // namespace hotdesk::jose

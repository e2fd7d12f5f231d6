// Fuzz target: the strict JSON reader; what it accepts must read the same on
// every internal path and survive a round trip through Qt's JSON writer.
#include "fuzztarget.h"

#include "core/jose/strictjson.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>

using namespace hotdesk;

HOTDESK_FUZZ_TARGET(fuzz_strictjson)
{
    const QByteArrayView text = fuzz::bytesOf(data, size);
    const auto value = jose::parseStrictJson(text);
    fuzz::noteOutcome(value);

    const auto object = jose::parseStrictJsonObject(text);
    if (object.has_value() != (value && value->isObject()))
        fuzz::invariantBroken("fuzz_strictjson", QStringLiteral("parseStrictJsonObject and parseStrictJson disagree"));
    if (!value)
        return 0;

    // parseStrictJson may hand a document to Qt's parser when it can prove the
    // two agree. An exponent never qualifies, so inside "[...,1e0]" the same
    // text always goes through the strict reader: both must read one value.
    const QByteArray forced = "[" + text.toByteArray() + ",1e0]";
    jose::StrictJsonLimits forcedLimits;
    forcedLimits.maxDepth += 1;
    forcedLimits.maxSize = std::max(forcedLimits.maxSize, forced.size());
    const auto strictOnly = jose::parseStrictJson(forced, forcedLimits);
    if (!strictOnly)
        fuzz::invariantBroken("fuzz_strictjson", QStringLiteral("accepted alone but refused by the strict reader: %1")
                                                     .arg(strictOnly.error().message));
    if (strictOnly->toArray().first() != *value)
        fuzz::invariantBroken("fuzz_strictjson", QStringLiteral("the strict reader reads another value than parseStrictJson"));

    // QJsonDocument holds only an object or an array, so a scalar travels in a
    // one-element array; that adds a level of nesting only to depth 0.
    const QJsonValue expected = (value->isObject() || value->isArray()) ? *value : QJsonValue(QJsonArray{*value});
    const QJsonDocument document = expected.isObject() ? QJsonDocument(expected.toObject()) : QJsonDocument(expected.toArray());
    const QByteArray written = document.toJson(QJsonDocument::Compact);
    // Qt may spell a number longer than the input did ("1e9"), so only the size limit follows the output.
    jose::StrictJsonLimits limits;
    limits.maxSize = std::max(limits.maxSize, written.size());
    const auto reread = jose::parseStrictJson(written, limits);
    if (!reread)
        fuzz::invariantBroken("fuzz_strictjson", QStringLiteral("Qt's rendering of an accepted document is refused (%1): %2")
                                                     .arg(reread.error().message, QString::fromUtf8(written)));
    if (*reread != expected)
        fuzz::invariantBroken("fuzz_strictjson", QStringLiteral("the document changed on a round trip through Qt: %1")
                                                     .arg(QString::fromUtf8(written)));
    return 0;
}

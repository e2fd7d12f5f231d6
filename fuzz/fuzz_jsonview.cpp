// Fuzz target: StrictJsonObjectView, which token validation reads claims and
// headers through, must accept exactly what the strict reader accepts, refuse
// the rest with the same error, and read every member as the reader does.
#include "fuzztarget.h"

#include "core/jose/strictjson.h"

#include <QJsonArray>

#include <algorithm>

using namespace hotdesk;

namespace {

[[noreturn]] void broken(const QString &what)
{
    fuzz::invariantBroken("fuzz_jsonview", what);
}

} // namespace

HOTDESK_FUZZ_TARGET(fuzz_jsonview)
{
    const QByteArrayView text = fuzz::bytesOf(data, size);
    const auto view = jose::StrictJsonObjectView::parse(text);
    fuzz::noteOutcome(view);
    const auto object = jose::parseStrictJsonObject(text);

    // parseStrictJsonObject may take Qt's parser on the view's own scan; inside
    // "[...,1e0]" only the recursive-descent reader decides, so the view is also
    // held against it directly.
    const QByteArray forced = "[" + text.toByteArray() + ",1e0]";
    jose::StrictJsonLimits forcedLimits;
    forcedLimits.maxDepth += 1;
    forcedLimits.maxSize = std::max(forcedLimits.maxSize, forced.size());
    const auto reader = jose::parseStrictJson(forced, forcedLimits);
    // Two elements: "{},0" makes three, and that text alone is no document.
    const bool readerAccepts = reader && reader->toArray().size() == 2 && reader->toArray().first().isObject()
        && text.size() <= jose::StrictJsonLimits {}.maxSize;

    if (view.has_value() != object.has_value())
        broken(QStringLiteral("the view and parseStrictJsonObject disagree: %1")
                   .arg(view ? object.error().message : view.error().message));
    if (view.has_value() != readerAccepts)
        broken(QStringLiteral("the view and the strict reader disagree"));
    if (!view) {
        if (view.error().code != object.error().code || view.error().message != object.error().message)
            broken(QStringLiteral("the view words its refusal differently: \"%1\" / \"%2\"")
                       .arg(view.error().message, object.error().message));
        return 0;
    }

    const QJsonObject &expected = *object;
    if (reader->toArray().first().toObject() != expected)
        broken(QStringLiteral("Qt's parser and the strict reader read different objects"));
    if (view->members().size() != expected.size())
        broken(QStringLiteral("the view has %1 members, the object %2").arg(view->members().size()).arg(expected.size()));
    for (const jose::StrictJsonObjectView::Member &m : view->members()) {
        const QString name = QString::fromUtf8(m.name());
        if (!expected.contains(name))
            broken(QStringLiteral("the view has a member \"%1\" the object lacks").arg(name));
        const QJsonValue want = expected.value(name);
        const jose::StrictJsonObjectView::Value got = view->value(m.name());
        if (got.type() != m.type || got.text() != m.value)
            broken(QStringLiteral("looking \"%1\" up finds another member").arg(name));
        if (got.type() != want.type())
            broken(QStringLiteral("\"%1\" has another type in the view").arg(name));
        if (got.toJsonValue() != want)
            broken(QStringLiteral("\"%1\" reads another value in the view").arg(name));
        if (got.isString() && got.toString() != want.toString())
            broken(QStringLiteral("\"%1\" reads another string in the view").arg(name));
        if (got.isDouble() && got.toDouble() != want.toDouble())
            broken(QStringLiteral("\"%1\" reads another number in the view").arg(name));
        if (got.isTrue() != (want == QJsonValue(true)))
            broken(QStringLiteral("\"%1\" reads another boolean in the view").arg(name));
    }
    if (view->toObject() != expected)
        broken(QStringLiteral("the view's object is not parseStrictJsonObject's"));
    if (view->contains("\xff"))
        broken(QStringLiteral("the view finds a member name that is not UTF-8"));
    return 0;
}

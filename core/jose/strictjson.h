// A strict RFC 8259 JSON reader for security-relevant documents (JOSE headers,
// claims, JWK sets): it refuses what lenient parsers quietly accept.
#pragma once

#include "../result.h"

#include <QByteArrayView>
#include <QJsonObject>
#include <QJsonValue>
#include <QVarLengthArray>

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

// A strict JSON object read without building it: the top-level members, each
// kept as its JSON text and decoded only when asked for. Token validation needs
// a handful of claims, and building a QJsonObject of all of them cost more than
// everything else but the signature. It accepts exactly the documents
// parseStrictJsonObject accepts (the same scan; fuzz_jsonview compares them)
// and refuses the others with the same error. It points into the text, which
// must outlive it.
class StrictJsonObjectView {
public:
    class Value {
    public:
        Value() = default;
        Value(QJsonValue::Type type, QByteArrayView text, int maxDepth)
            : m_type(type)
            , m_text(text)
            , m_maxDepth(maxDepth)
        {
        }

        // Undefined when the object has no such member.
        QJsonValue::Type type() const { return m_type; }
        bool isUndefined() const { return m_type == QJsonValue::Undefined; }
        bool isString() const { return m_type == QJsonValue::String; }
        bool isDouble() const { return m_type == QJsonValue::Double; }
        bool isArray() const { return m_type == QJsonValue::Array; }
        bool isTrue() const { return m_type == QJsonValue::Bool && m_text.front() == 't'; }
        // The value's JSON text, as it stands in the document.
        QByteArrayView text() const { return m_text; }
        // A null QString when not a string; 0 when not a number.
        QString toString() const;
        double toDouble() const;
        // The value as parseStrictJson reads it.
        QJsonValue toJsonValue() const;

    private:
        QJsonValue::Type m_type = QJsonValue::Undefined;
        QByteArrayView m_text;
        int m_maxDepth = 0;
    };

    // One top-level member as the scan found it.
    struct Member {
        QByteArrayView rawName; // between the quotes, escapes as written
        QByteArray decodedName; // null unless rawName holds an escape
        QJsonValue::Type type;
        QByteArrayView value; // the value's JSON text
        // UTF-8, escapes decoded.
        QByteArrayView name() const { return decodedName.isNull() ? rawName : QByteArrayView(decodedName); }
    };
    using Members = QVarLengthArray<Member, 24>;

    static Result<StrictJsonObjectView> parse(QByteArrayView text, const StrictJsonLimits &limits = {});

    // name in UTF-8; member names are unique, so there is at most one.
    Value value(QByteArrayView name) const;
    bool contains(QByteArrayView name) const { return !value(name).isUndefined(); }
    const Members &members() const { return m_members; }
    // The whole object, built: what parseStrictJsonObject returns for the text.
    QJsonObject toObject() const;

private:
    StrictJsonObjectView() = default;

    QByteArrayView m_text;
    StrictJsonLimits m_limits;
    Members m_members;
};

} // namespace hotdesk::jose

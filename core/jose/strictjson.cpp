// Recursive-descent strict JSON reader, with a fast path through Qt's parser for plain documents.
#include "strictjson.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QVarLengthArray>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

namespace hotdesk::jose {
namespace {

// Bytes that stand for themselves inside a string: printable ASCII but '"' and '\\'.
constexpr std::array<bool, 256> makePlainAscii()
{
    std::array<bool, 256> table{};
    for (int c = 0x20; c < 0x80; ++c)
        table[std::size_t(c)] = c != '"' && c != '\\';
    return table;
}

constexpr auto kPlainAscii = makePlainAscii();

// Building a QJsonObject member by member costs several allocations per
// member, which made reading the claims of an ID token cost half as much as
// checking its RSA signature. Qt's own parser builds the same objects in one go
// but is lenient, so this scanner first proves, without building anything,
// that a document is one Reader accepts and on which Qt's parser and Reader
// agree value for value:
//  - the top level is an object or an array (Qt's parser takes nothing else);
//  - member names have no escapes, so equal names are equal bytes, and no
//    object has two equal names (Qt would keep the last one silently);
//  - numbers have no exponent and at most 15 digits, so they are finite and
//    exact in a double, where Qt's integer reading and Reader's double reading
//    give the same QJsonValue.
// Everything else it checks as Reader does. A document it turns down goes to
// Reader, which then decides and words the error exactly as before.
class PlainScanner {
public:
    PlainScanner(QByteArrayView text, const StrictJsonLimits &limits)
        : m_p(reinterpret_cast<const unsigned char *>(text.data()))
        , m_end(m_p + text.size())
        , m_maxDepth(limits.maxDepth)
    {
    }

    bool isPlain()
    {
        skipSpace();
        if (m_p == m_end || (*m_p != '{' && *m_p != '['))
            return false;
        if (!value(0))
            return false;
        skipSpace();
        return m_p == m_end;
    }

private:
    struct Name {
        const unsigned char *data;
        qsizetype size;
        bool operator==(const Name &o) const
        {
            return size == o.size && (size == 0 || (data[0] == o.data[0] && std::memcmp(data, o.data, size_t(size)) == 0));
        }
        bool operator<(const Name &o) const
        {
            if (size != o.size)
                return size < o.size;
            return std::memcmp(data, o.data, size_t(size)) < 0;
        }
    };

    void skipSpace()
    {
        while (m_p != m_end && (*m_p == ' ' || *m_p == '\t' || *m_p == '\n' || *m_p == '\r'))
            ++m_p;
    }

    static bool isDigit(unsigned char c) { return c >= '0' && c <= '9'; }

    bool literal(const char *word)
    {
        for (; *word; ++word, ++m_p) {
            if (m_p == m_end || *m_p != static_cast<unsigned char>(*word))
                return false;
        }
        return true;
    }

    bool value(int depth)
    {
        if (m_p == m_end)
            return false;
        switch (*m_p) {
        case '{': return object(depth + 1);
        case '[': return array(depth + 1);
        case '"': return string(nullptr);
        case 't': return literal("true");
        case 'f': return literal("false");
        case 'n': return literal("null");
        default: return number();
        }
    }

    bool object(int depth)
    {
        if (depth > m_maxDepth)
            return false;
        ++m_p; // '{'
        const qsizetype first = m_names.size();
        skipSpace();
        if (m_p != m_end && *m_p == '}') {
            ++m_p;
            return true;
        }
        for (;;) {
            skipSpace();
            if (m_p == m_end || *m_p != '"')
                return false;
            const unsigned char *nameStart = m_p + 1;
            bool escaped = false;
            if (!string(&escaped) || escaped)
                return false;
            m_names.append(Name{nameStart, m_p - 1 - nameStart});
            skipSpace();
            if (m_p == m_end || *m_p != ':')
                return false;
            ++m_p;
            skipSpace();
            if (!value(depth))
                return false;
            skipSpace();
            if (m_p == m_end)
                return false;
            if (*m_p == ',') {
                ++m_p;
                continue;
            }
            if (*m_p != '}')
                return false;
            ++m_p;
            const bool unique = namesUnique(first);
            m_names.resize(first);
            return unique;
        }
    }

    // The names of the object being closed are m_names[first...].
    bool namesUnique(qsizetype first)
    {
        Name *begin = m_names.data() + first;
        Name *end = m_names.data() + m_names.size();
        if (end - begin <= 32) {
            for (Name *a = begin; a != end; ++a) {
                for (Name *b = a + 1; b != end; ++b) {
                    if (*a == *b)
                        return false;
                }
            }
            return true;
        }
        std::sort(begin, end);
        return std::adjacent_find(begin, end) == end;
    }

    bool array(int depth)
    {
        if (depth > m_maxDepth)
            return false;
        ++m_p; // '['
        skipSpace();
        if (m_p != m_end && *m_p == ']') {
            ++m_p;
            return true;
        }
        for (;;) {
            skipSpace();
            if (!value(depth))
                return false;
            skipSpace();
            if (m_p == m_end)
                return false;
            if (*m_p == ',') {
                ++m_p;
                continue;
            }
            if (*m_p != ']')
                return false;
            ++m_p;
            return true;
        }
    }

    bool number()
    {
        int digits = 0;
        if (*m_p == '-')
            ++m_p;
        if (m_p == m_end)
            return false;
        if (*m_p == '0') {
            ++m_p;
            ++digits;
        } else if (*m_p >= '1' && *m_p <= '9') {
            while (m_p != m_end && isDigit(*m_p)) {
                ++m_p;
                ++digits;
            }
        } else {
            return false;
        }
        if (m_p != m_end && *m_p == '.') {
            ++m_p;
            if (m_p == m_end || !isDigit(*m_p))
                return false;
            while (m_p != m_end && isDigit(*m_p)) {
                ++m_p;
                ++digits;
            }
        }
        if (m_p != m_end && (*m_p == 'e' || *m_p == 'E'))
            return false;
        return digits <= 15;
    }

    bool hex4(char32_t &out)
    {
        if (m_end - m_p < 4)
            return false;
        out = 0;
        for (int i = 0; i < 4; ++i) {
            const unsigned char c = *m_p++;
            out <<= 4;
            if (isDigit(c))
                out |= char32_t(c - '0');
            else if (c >= 'a' && c <= 'f')
                out |= char32_t(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                out |= char32_t(c - 'A' + 10);
            else
                return false;
        }
        return true;
    }

    // The same UTF-8 rules as Reader::readUtf8.
    bool utf8()
    {
        const unsigned char lead = *m_p;
        int extra = 0;
        char32_t cp = 0;
        char32_t min = 0;
        if ((lead & 0xe0) == 0xc0) {
            extra = 1;
            cp = lead & 0x1f;
            min = 0x80;
        } else if ((lead & 0xf0) == 0xe0) {
            extra = 2;
            cp = lead & 0x0f;
            min = 0x800;
        } else if ((lead & 0xf8) == 0xf0) {
            extra = 3;
            cp = lead & 0x07;
            min = 0x10000;
        } else {
            return false;
        }
        if (m_end - m_p < extra + 1)
            return false;
        for (int i = 1; i <= extra; ++i) {
            const unsigned char c = m_p[i];
            if ((c & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (c & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        m_p += extra + 1;
        return true;
    }

    // From the opening quote past the closing one; *escaped tells whether the
    // string held an escape.
    bool string(bool *escaped)
    {
        ++m_p; // opening quote
        for (;;) {
            while (m_p != m_end && kPlainAscii[*m_p])
                ++m_p;
            if (m_p == m_end)
                return false;
            const unsigned char c = *m_p;
            if (c == '"') {
                ++m_p;
                return true;
            }
            if (c < 0x20)
                return false;
            if (c >= 0x80) {
                if (!utf8())
                    return false;
                continue;
            }
            // A backslash.
            if (escaped)
                *escaped = true;
            if (++m_p == m_end)
                return false;
            switch (*m_p++) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                break;
            case 'u': {
                char32_t cp = 0;
                if (!hex4(cp) || cp == 0 || (cp >= 0xdc00 && cp <= 0xdfff))
                    return false;
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    char32_t low = 0;
                    if (m_end - m_p < 2 || m_p[0] != '\\' || m_p[1] != 'u')
                        return false;
                    m_p += 2;
                    if (!hex4(low) || low < 0xdc00 || low > 0xdfff)
                        return false;
                }
                break;
            }
            default:
                return false;
            }
        }
    }

    const unsigned char *m_p;
    const unsigned char *m_end;
    const int m_maxDepth;
    QVarLengthArray<Name, 64> m_names; // names of the objects open at the moment
};

class Reader {
public:
    Reader(QByteArrayView text, const StrictJsonLimits &limits)
        : m_p(reinterpret_cast<const unsigned char *>(text.data()))
        , m_begin(m_p)
        , m_end(m_p + text.size())
        , m_limits(limits)
    {
    }

    Result<QJsonValue> document()
    {
        skipSpace();
        auto value = parseValue(0);
        if (!value)
            return value;
        skipSpace();
        if (m_p != m_end)
            return error(QStringLiteral("unexpected content after the JSON value"));
        return value;
    }

private:
    tl::unexpected<Error> error(const QString &what) const
    {
        return fail(ErrorCode::Malformed, QStringLiteral("invalid JSON at offset %1: %2").arg(m_p - m_begin).arg(what));
    }

    void skipSpace()
    {
        while (m_p != m_end && (*m_p == ' ' || *m_p == '\t' || *m_p == '\n' || *m_p == '\r'))
            ++m_p;
    }

    bool consumeLiteral(const char *word)
    {
        const unsigned char *q = m_p;
        for (; *word; ++word, ++q) {
            if (q == m_end || *q != static_cast<unsigned char>(*word))
                return false;
        }
        m_p = q;
        return true;
    }

    Result<QJsonValue> parseValue(int depth)
    {
        if (m_p == m_end)
            return error(QStringLiteral("unexpected end of input"));
        switch (*m_p) {
        case '{':
            return parseObject(depth + 1);
        case '[':
            return parseArray(depth + 1);
        case '"': {
            auto s = parseString();
            if (!s)
                return tl::unexpected(s.error());
            return QJsonValue(*s);
        }
        case 't':
            if (consumeLiteral("true"))
                return QJsonValue(true);
            break;
        case 'f':
            if (consumeLiteral("false"))
                return QJsonValue(false);
            break;
        case 'n':
            if (consumeLiteral("null"))
                return QJsonValue(QJsonValue::Null);
            break;
        default:
            if (*m_p == '-' || (*m_p >= '0' && *m_p <= '9'))
                return parseNumber();
        }
        return error(QStringLiteral("unexpected character"));
    }

    Result<QJsonValue> parseObject(int depth)
    {
        if (depth > m_limits.maxDepth)
            return error(QStringLiteral("nesting too deep"));
        ++m_p; // '{'
        QJsonObject object;
        skipSpace();
        if (m_p != m_end && *m_p == '}') {
            ++m_p;
            return QJsonValue(object);
        }
        for (;;) {
            skipSpace();
            if (m_p == m_end || *m_p != '"')
                return error(QStringLiteral("expected a member name"));
            auto name = parseString();
            if (!name)
                return tl::unexpected(name.error());
            if (object.contains(*name))
                return fail(ErrorCode::Malformed, QStringLiteral("duplicate member name \"%1\"").arg(*name));
            skipSpace();
            if (m_p == m_end || *m_p != ':')
                return error(QStringLiteral("expected ':'"));
            ++m_p;
            skipSpace();
            auto value = parseValue(depth);
            if (!value)
                return value;
            object.insert(*name, *value);
            skipSpace();
            if (m_p == m_end)
                return error(QStringLiteral("unterminated object"));
            if (*m_p == ',') {
                ++m_p;
                continue;
            }
            if (*m_p == '}') {
                ++m_p;
                return QJsonValue(object);
            }
            return error(QStringLiteral("expected ',' or '}'"));
        }
    }

    Result<QJsonValue> parseArray(int depth)
    {
        if (depth > m_limits.maxDepth)
            return error(QStringLiteral("nesting too deep"));
        ++m_p; // '['
        QJsonArray array;
        skipSpace();
        if (m_p != m_end && *m_p == ']') {
            ++m_p;
            return QJsonValue(array);
        }
        for (;;) {
            skipSpace();
            auto value = parseValue(depth);
            if (!value)
                return value;
            array.append(*value);
            skipSpace();
            if (m_p == m_end)
                return error(QStringLiteral("unterminated array"));
            if (*m_p == ',') {
                ++m_p;
                continue;
            }
            if (*m_p == ']') {
                ++m_p;
                return QJsonValue(array);
            }
            return error(QStringLiteral("expected ',' or ']'"));
        }
    }

    Result<QJsonValue> parseNumber()
    {
        const unsigned char *start = m_p;
        if (*m_p == '-')
            ++m_p;
        if (m_p == m_end)
            return error(QStringLiteral("truncated number"));
        if (*m_p == '0') {
            ++m_p;
        } else if (*m_p >= '1' && *m_p <= '9') {
            while (m_p != m_end && *m_p >= '0' && *m_p <= '9')
                ++m_p;
        } else {
            return error(QStringLiteral("invalid number"));
        }
        if (m_p != m_end && *m_p == '.') {
            ++m_p;
            if (m_p == m_end || *m_p < '0' || *m_p > '9')
                return error(QStringLiteral("invalid fraction"));
            while (m_p != m_end && *m_p >= '0' && *m_p <= '9')
                ++m_p;
        }
        if (m_p != m_end && (*m_p == 'e' || *m_p == 'E')) {
            ++m_p;
            if (m_p != m_end && (*m_p == '+' || *m_p == '-'))
                ++m_p;
            if (m_p == m_end || *m_p < '0' || *m_p > '9')
                return error(QStringLiteral("invalid exponent"));
            while (m_p != m_end && *m_p >= '0' && *m_p <= '9')
                ++m_p;
        }
        bool ok = false;
        // QByteArray::toDouble is locale-independent, unlike strtod.
        const double value = QByteArray(reinterpret_cast<const char *>(start), m_p - start).toDouble(&ok);
        if (!ok || !std::isfinite(value))
            return error(QStringLiteral("number out of range"));
        return QJsonValue(value);
    }

    bool readHex4(char32_t &out)
    {
        if (m_end - m_p < 4)
            return false;
        out = 0;
        for (int i = 0; i < 4; ++i) {
            const unsigned char c = *m_p++;
            out <<= 4;
            if (c >= '0' && c <= '9')
                out |= char32_t(c - '0');
            else if (c >= 'a' && c <= 'f')
                out |= char32_t(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                out |= char32_t(c - 'A' + 10);
            else
                return false;
        }
        return true;
    }

    // Decodes one UTF-8 sequence starting at m_p; rejects overlong forms,
    // surrogates and code points above U+10FFFF.
    bool readUtf8(char32_t &out)
    {
        const unsigned char lead = *m_p;
        int extra = 0;
        char32_t min = 0;
        if (lead < 0x80) {
            out = lead;
            ++m_p;
            return true;
        } else if ((lead & 0xe0) == 0xc0) {
            extra = 1;
            out = lead & 0x1f;
            min = 0x80;
        } else if ((lead & 0xf0) == 0xe0) {
            extra = 2;
            out = lead & 0x0f;
            min = 0x800;
        } else if ((lead & 0xf8) == 0xf0) {
            extra = 3;
            out = lead & 0x07;
            min = 0x10000;
        } else {
            return false;
        }
        if (m_end - m_p < extra + 1)
            return false;
        for (int i = 1; i <= extra; ++i) {
            const unsigned char c = m_p[i];
            if ((c & 0xc0) != 0x80)
                return false;
            out = (out << 6) | (c & 0x3f);
        }
        if (out < min || out > 0x10ffff || (out >= 0xd800 && out <= 0xdfff))
            return false;
        m_p += extra + 1;
        return true;
    }

    Result<QString> parseString()
    {
        ++m_p; // opening quote
        QString out;
        const unsigned char *runStart = m_p;
        bool plainAscii = true;
        for (;;) {
            if (m_p == m_end)
                return error(QStringLiteral("unterminated string"));
            const unsigned char c = *m_p;
            if (c == '"') {
                if (plainAscii)
                    out = QString::fromLatin1(reinterpret_cast<const char *>(runStart), m_p - runStart);
                ++m_p;
                return out;
            }
            if (c < 0x20)
                return error(QStringLiteral("control character in string"));
            if (plainAscii && (c == '\\' || c >= 0x80)) {
                out = QString::fromLatin1(reinterpret_cast<const char *>(runStart), m_p - runStart);
                plainAscii = false;
            }
            if (plainAscii) {
                ++m_p;
                continue;
            }
            char32_t cp = 0;
            if (c == '\\') {
                ++m_p;
                if (m_p == m_end)
                    return error(QStringLiteral("unterminated escape"));
                const unsigned char e = *m_p++;
                switch (e) {
                case '"': cp = '"'; break;
                case '\\': cp = '\\'; break;
                case '/': cp = '/'; break;
                case 'b': cp = '\b'; break;
                case 'f': cp = '\f'; break;
                case 'n': cp = '\n'; break;
                case 'r': cp = '\r'; break;
                case 't': cp = '\t'; break;
                case 'u': {
                    if (!readHex4(cp))
                        return error(QStringLiteral("invalid \\u escape"));
                    if (cp >= 0xdc00 && cp <= 0xdfff)
                        return error(QStringLiteral("unpaired low surrogate"));
                    if (cp >= 0xd800 && cp <= 0xdbff) {
                        char32_t low = 0;
                        if (m_end - m_p < 2 || m_p[0] != '\\' || m_p[1] != 'u')
                            return error(QStringLiteral("unpaired high surrogate"));
                        m_p += 2;
                        if (!readHex4(low) || low < 0xdc00 || low > 0xdfff)
                            return error(QStringLiteral("unpaired high surrogate"));
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                    }
                    break;
                }
                default:
                    return error(QStringLiteral("unknown escape"));
                }
            } else if (!readUtf8(cp)) {
                return error(QStringLiteral("invalid UTF-8"));
            }
            if (cp == 0)
                return error(QStringLiteral("NUL character in string"));
            out.append(QString::fromUcs4(&cp, 1));
        }
    }

    const unsigned char *m_p;
    const unsigned char *m_begin;
    const unsigned char *m_end;
    const StrictJsonLimits &m_limits;
};

} // namespace

Result<QJsonValue> parseStrictJson(QByteArrayView text, const StrictJsonLimits &limits)
{
    if (text.size() > limits.maxSize)
        return fail(ErrorCode::TooLarge, QStringLiteral("JSON document larger than %1 bytes").arg(limits.maxSize));
    if (PlainScanner(text, limits).isPlain()) {
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromRawData(text.data(), text.size()), &error);
        if (error.error == QJsonParseError::NoError) {
            if (doc.isObject())
                return QJsonValue(doc.object());
            if (doc.isArray())
                return QJsonValue(doc.array());
        }
    }
    return Reader(text, limits).document();
}

Result<QJsonObject> parseStrictJsonObject(QByteArrayView text, const StrictJsonLimits &limits)
{
    auto value = parseStrictJson(text, limits);
    if (!value)
        return tl::unexpected(value.error());
    if (!value->isObject())
        return fail(ErrorCode::Malformed, QStringLiteral("expected a JSON object"));
    return value->toObject();
}

} // namespace hotdesk::jose

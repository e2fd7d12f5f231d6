// Strict JSON: a scanner that only decides, a recursive-descent reader that builds and explains.
#include "strictjson.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QVarLengthArray>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <deque>

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

bool isDigit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

// Decodes the UTF-8 sequence at p (p < end) into cp and returns its length in
// bytes, or 0 where RFC 3629 forbids it: a stray continuation byte, a short
// sequence, an overlong form, a surrogate or a code point above U+10FFFF.
int decodeUtf8(const unsigned char *p, const unsigned char *end, char32_t &cp)
{
    const unsigned char lead = *p;
    int extra = 0;
    char32_t min = 0;
    if (lead < 0x80) {
        cp = lead;
        return 1;
    } else if ((lead & 0xe0) == 0xc0) {
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
        return 0;
    }
    if (end - p < extra + 1)
        return 0;
    for (int i = 1; i <= extra; ++i) {
        const unsigned char c = p[i];
        if ((c & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return extra + 1;
}

// Appends code point cp (a valid scalar value) as UTF-8.
void appendUtf8(QByteArray &out, char32_t cp)
{
    if (cp < 0x80) {
        out.append(char(cp));
    } else if (cp < 0x800) {
        out.append(char(0xc0 | (cp >> 6)));
        out.append(char(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        out.append(char(0xe0 | (cp >> 12)));
        out.append(char(0x80 | ((cp >> 6) & 0x3f)));
        out.append(char(0x80 | (cp & 0x3f)));
    } else {
        out.append(char(0xf0 | (cp >> 18)));
        out.append(char(0x80 | ((cp >> 12) & 0x3f)));
        out.append(char(0x80 | ((cp >> 6) & 0x3f)));
        out.append(char(0x80 | (cp & 0x3f)));
    }
}

char32_t hexValue(const unsigned char *p)
{
    char32_t out = 0;
    for (int i = 0; i < 4; ++i) {
        const unsigned char c = p[i];
        out <<= 4;
        if (isDigit(c))
            out |= char32_t(c - '0');
        else if (c >= 'a' && c <= 'f')
            out |= char32_t(c - 'a' + 10);
        else
            out |= char32_t(c - 'A' + 10);
    }
    return out;
}

// The UTF-8 text of the body of a string the scanner has accepted (between,
// not including, the quotes): escapes replaced, everything else copied.
QByteArray decodeString(QByteArrayView body)
{
    QByteArray out;
    out.reserve(body.size());
    const auto *p = reinterpret_cast<const unsigned char *>(body.data());
    const auto *end = p + body.size();
    while (p != end) {
        if (*p != '\\') {
            out.append(char(*p++));
            continue;
        }
        ++p;
        switch (*p++) {
        case 'b':
            out.append('\b');
            break;
        case 'f':
            out.append('\f');
            break;
        case 'n':
            out.append('\n');
            break;
        case 'r':
            out.append('\r');
            break;
        case 't':
            out.append('\t');
            break;
        case 'u': {
            char32_t cp = hexValue(p);
            p += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (hexValue(p + 2) - 0xdc00);
                p += 6;
            }
            appendUtf8(out, cp);
            break;
        }
        default: // '"', '\\' and '/' stand for themselves
            out.append(char(p[-1]));
            break;
        }
    }
    return out;
}

// Decides, without building anything, whether Reader accepts a document:
// reading a token's claims into a QJsonObject cost as much as half an RSA
// verification, and most callers need only a few of its members.
//
// It can also record the top-level members of an object as spans of the text
// (StrictJsonObjectView), and it tells whether Qt's parser, which builds a
// whole document in one go but is lenient, would read this one exactly as
// Reader does, so that parseStrictJson may hand it over. That holds when:
//  - the top level is an object or an array (Qt's parser takes nothing else);
//  - member names have no escapes, so equal names are equal bytes (Qt would
//    otherwise keep the last of two equal names silently);
//  - numbers have no exponent and at most 15 digits, so they are finite and
//    exact in a double, where Qt's integer reading and Reader's double reading
//    give the same QJsonValue.
// Its verdict must be Reader's for every input: fuzz_jsonview and
// fuzz_strictjson compare the two.
class Scanner {
public:
    using Member = StrictJsonObjectView::Member;
    using Members = StrictJsonObjectView::Members;

    Scanner(QByteArrayView text, const StrictJsonLimits &limits, Members *topLevel = nullptr)
        : m_p(reinterpret_cast<const unsigned char *>(text.data()))
        , m_end(m_p + text.size())
        , m_maxDepth(limits.maxDepth)
        , m_topLevel(topLevel)
    {
    }

    bool accepts()
    {
        skipSpace();
        if (m_p == m_end)
            return false;
        m_container = *m_p == '{' || *m_p == '[';
        m_object = *m_p == '{';
        if (!value(0))
            return false;
        skipSpace();
        return m_p == m_end;
    }

    // After accepts(): whether QJsonDocument::fromJson reads the same value.
    bool qtReadsTheSame() const { return m_container && !m_escapedName && !m_longNumber; }
    bool isObject() const { return m_object; }

private:
    struct Name {
        const char *data;
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

    bool literal(const char *word)
    {
        for (; *word; ++word, ++m_p) {
            if (m_p == m_end || *m_p != static_cast<unsigned char>(*word))
                return false;
        }
        return true;
    }

    static QJsonValue::Type typeAt(unsigned char c)
    {
        switch (c) {
        case '{':
            return QJsonValue::Object;
        case '[':
            return QJsonValue::Array;
        case '"':
            return QJsonValue::String;
        case 't':
        case 'f':
            return QJsonValue::Bool;
        case 'n':
            return QJsonValue::Null;
        default:
            return QJsonValue::Double;
        }
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
            if (!string(&escaped))
                return false;
            const QByteArrayView rawName(nameStart, m_p - 1 - nameStart);
            QByteArray decoded;
            if (escaped) {
                // Reader compares decoded names: "\u0061lg" is "alg".
                m_escapedName = true;
                decoded = decodeString(rawName);
                m_decodedNames.push_back(decoded);
                m_names.append(Name {m_decodedNames.back().constData(), decoded.size()});
            } else {
                m_names.append(Name {rawName.data(), rawName.size()});
            }
            skipSpace();
            if (m_p == m_end || *m_p != ':')
                return false;
            ++m_p;
            skipSpace();
            const unsigned char *valueStart = m_p;
            if (!value(depth))
                return false;
            if (depth == 1 && m_topLevel)
                m_topLevel->append(Member {rawName, decoded, typeAt(*valueStart), QByteArrayView(valueStart, m_p - valueStart)});
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
        const unsigned char *start = m_p;
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
        bool exponent = false;
        if (m_p != m_end && (*m_p == 'e' || *m_p == 'E')) {
            exponent = true;
            ++m_p;
            if (m_p != m_end && (*m_p == '+' || *m_p == '-'))
                ++m_p;
            if (m_p == m_end || !isDigit(*m_p))
                return false;
            while (m_p != m_end && isDigit(*m_p))
                ++m_p;
        }
        if (!exponent && digits <= 15)
            return true; // below 10^15 in magnitude: always a finite double
        // Whether it is in range is for the conversion Reader uses to say.
        m_longNumber = true;
        bool ok = false;
        const double value = QByteArrayView(start, m_p - start).toDouble(&ok);
        return ok && std::isfinite(value);
    }

    bool hex4(char32_t &out)
    {
        if (m_end - m_p < 4)
            return false;
        for (int i = 0; i < 4; ++i) {
            const unsigned char c = m_p[i];
            if (!isDigit(c) && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F'))
                return false;
        }
        out = hexValue(m_p);
        m_p += 4;
        return true;
    }

    bool utf8()
    {
        char32_t cp = 0;
        const int length = decodeUtf8(m_p, m_end, cp);
        m_p += length;
        return length > 0;
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
    Members *m_topLevel;
    bool m_container = false;
    bool m_object = false;
    bool m_escapedName = false;
    bool m_longNumber = false;
    QVarLengthArray<Name, 64> m_names; // names of the objects open at the moment
    std::deque<QByteArray> m_decodedNames; // where the escaped ones among them live
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
        // Locale-independent, unlike strtod; and the very conversion Scanner checks the range with.
        const double value = QByteArrayView(start, m_p - start).toDouble(&ok);
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

    bool readUtf8(char32_t &out)
    {
        const int length = decodeUtf8(m_p, m_end, out);
        m_p += length;
        return length > 0;
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
    Scanner scanner(text, limits);
    if (scanner.accepts() && scanner.qtReadsTheSame()) {
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromRawData(text.data(), text.size()), &error);
        if (error.error == QJsonParseError::NoError) {
            if (doc.isObject())
                return QJsonValue(doc.object());
            if (doc.isArray())
                return QJsonValue(doc.array());
        }
    }
    // Everything else, and every refusal with its explanation, is Reader's.
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

QString StrictJsonObjectView::Value::toString() const
{
    if (m_type != QJsonValue::String)
        return QString();
    const QByteArrayView body = m_text.sliced(1, m_text.size() - 2);
    if (body.contains('\\'))
        return QString::fromUtf8(decodeString(body));
    return QString::fromUtf8(body);
}

double StrictJsonObjectView::Value::toDouble() const
{
    return m_type == QJsonValue::Double ? m_text.toDouble() : 0;
}

QJsonValue StrictJsonObjectView::Value::toJsonValue() const
{
    switch (m_type) {
    case QJsonValue::Undefined:
        return QJsonValue(QJsonValue::Undefined);
    case QJsonValue::Null:
        return QJsonValue(QJsonValue::Null);
    case QJsonValue::Bool:
        return QJsonValue(isTrue());
    case QJsonValue::Double:
        return QJsonValue(toDouble());
    case QJsonValue::String:
        return QJsonValue(toString());
    case QJsonValue::Array:
    case QJsonValue::Object:
        break;
    }
    // The view accepted the whole document, so this part of it reads too.
    StrictJsonLimits limits;
    limits.maxDepth = m_maxDepth;
    auto value = Reader(m_text, limits).document();
    return value ? *value : QJsonValue(QJsonValue::Undefined);
}

Result<StrictJsonObjectView> StrictJsonObjectView::parse(QByteArrayView text, const StrictJsonLimits &limits)
{
    StrictJsonObjectView view;
    view.m_text = text;
    view.m_limits = limits;
    if (text.size() <= limits.maxSize) {
        Scanner scanner(text, limits, &view.m_members);
        if (scanner.accepts() && scanner.isObject())
            return view;
    }
    // Refused: the error, word for word, is parseStrictJsonObject's.
    auto object = parseStrictJsonObject(text, limits);
    if (!object)
        return tl::unexpected(object.error());
    return fail(ErrorCode::Malformed, QStringLiteral("the strict JSON readers disagree on this document"));
}

StrictJsonObjectView::Value StrictJsonObjectView::value(QByteArrayView name) const
{
    for (const Member &m : m_members) {
        const QByteArrayView n = m.name();
        if (n.size() == name.size() && std::memcmp(n.data(), name.data(), size_t(n.size())) == 0)
            return Value(m.type, m.value, m_limits.maxDepth);
    }
    return Value();
}

QJsonObject StrictJsonObjectView::toObject() const
{
    auto object = parseStrictJsonObject(m_text, m_limits);
    return object ? *object : QJsonObject();
}

} // namespace hotdesk::jose

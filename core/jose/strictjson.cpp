// Recursive-descent strict JSON reader.
#include "strictjson.h"

#include <QJsonArray>

#include <cmath>

namespace hotdesk::jose {
namespace {

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

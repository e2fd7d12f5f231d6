// RFC 8288 Link header parsing.
#include "linkheader.h"

#include "httpclient.h"

namespace hotdesk::net {
namespace {

// RFC 9110 §5.6.2.
bool isTchar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

bool isOws(char c)
{
    return c == ' ' || c == '\t';
}

class Reader {
public:
    explicit Reader(QByteArrayView text)
        : m_text(text)
    {
    }

    bool atEnd() const { return m_pos >= m_text.size(); }
    char peek() const { return atEnd() ? '\0' : m_text[m_pos]; }
    void advance() { ++m_pos; }
    void skipOws()
    {
        while (!atEnd() && isOws(peek()))
            ++m_pos;
    }
    // Empty list elements are allowed (RFC 9110 §5.6.1): ", ,<a>" is one link.
    void skipSeparators()
    {
        while (!atEnd() && (isOws(peek()) || peek() == ','))
            ++m_pos;
    }
    QByteArray token()
    {
        const qsizetype start = m_pos;
        while (!atEnd() && isTchar(peek()))
            ++m_pos;
        return m_text.sliced(start, m_pos - start).toByteArray();
    }
    // A quoted-string starting at the opening quote; nullopt when it never ends.
    std::optional<QByteArray> quoted()
    {
        QByteArray value;
        advance();
        while (!atEnd()) {
            const char c = peek();
            advance();
            if (c == '"')
                return value;
            if (c == '\\') {
                if (atEnd())
                    return std::nullopt;
                value += peek();
                advance();
                continue;
            }
            value += c;
        }
        return std::nullopt;
    }
    // The URI-Reference between '<' and '>'; nullopt when the '>' is missing
    // or the reference holds whitespace or control characters.
    std::optional<QByteArray> target()
    {
        advance();
        const qsizetype start = m_pos;
        while (!atEnd() && peek() != '>') {
            const auto c = static_cast<unsigned char>(peek());
            if (c <= 0x20 || c == 0x7f)
                return std::nullopt;
            ++m_pos;
        }
        if (atEnd())
            return std::nullopt;
        const QByteArray reference = m_text.sliced(start, m_pos - start).toByteArray();
        advance();
        return reference;
    }
    // After a malformed link-value: on to the next comma outside quotes and
    // angle brackets, where the next link-value may start.
    void skipToNextValue()
    {
        bool inQuotes = false;
        bool inBrackets = false;
        while (!atEnd()) {
            const char c = peek();
            advance();
            if (inQuotes) {
                if (c == '\\')
                    advance();
                else if (c == '"')
                    inQuotes = false;
            } else if (inBrackets) {
                inBrackets = c != '>';
            } else if (c == '"') {
                inQuotes = true;
            } else if (c == '<') {
                inBrackets = true;
            } else if (c == ',') {
                return;
            }
        }
    }

private:
    QByteArrayView m_text;
    qsizetype m_pos = 0;
};

std::optional<WebLink> readLinkValue(Reader &in, const QUrl &base)
{
    if (in.peek() != '<')
        return std::nullopt;
    const auto reference = in.target();
    if (!reference)
        return std::nullopt;
    WebLink link;
    for (;;) {
        in.skipOws();
        if (in.atEnd() || in.peek() == ',')
            break;
        if (in.peek() != ';')
            return std::nullopt;
        in.advance();
        in.skipOws();
        const QByteArray name = in.token();
        if (name.isEmpty())
            return std::nullopt;
        in.skipOws();
        QByteArray value;
        if (in.peek() == '=') {
            in.advance();
            in.skipOws();
            if (in.peek() == '"') {
                const auto quoted = in.quoted();
                if (!quoted)
                    return std::nullopt;
                value = *quoted;
            } else {
                value = in.token();
                if (value.isEmpty())
                    return std::nullopt;
            }
        }
        const QString key = QString::fromLatin1(name).toLower();
        // RFC 8288 §3.3: of several rel parameters only the first counts; the same for the others.
        if (!link.param(key))
            link.params.append({key, QString::fromUtf8(value)});
    }
    // "<>" is the context itself (RFC 3986 §5.2.2 with an empty reference).
    if (reference->isEmpty()) {
        if (!base.isValid())
            return std::nullopt;
        link.target = base;
    } else {
        const QUrl target = QUrl::fromEncoded(*reference, QUrl::StrictMode);
        if (!target.isValid())
            return std::nullopt;
        link.target = base.isValid() ? base.resolved(target) : target;
    }
    if (const auto rel = link.param(u"rel")) {
        // Relation types are compared case-insensitively (RFC 8288 §2.1.1), several separated by spaces.
        const QStringList rels = rel->toLower().split(QLatin1Char(' '), Qt::SkipEmptyParts);
        for (const QString &r : rels) {
            const QString trimmed = r.trimmed();
            if (!trimmed.isEmpty())
                link.rels.append(trimmed);
        }
    }
    return link;
}

} // namespace

bool WebLink::hasRel(QStringView rel) const
{
    for (const QString &r : rels) {
        if (QStringView(r).compare(rel, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

std::optional<QString> WebLink::param(QStringView name) const
{
    for (const auto &[key, value] : params) {
        if (QStringView(key).compare(name, Qt::CaseInsensitive) == 0)
            return value;
    }
    return std::nullopt;
}

QList<WebLink> parseLinkHeader(QByteArrayView value, const QUrl &base)
{
    QList<WebLink> links;
    Reader in(value);
    for (;;) {
        in.skipSeparators();
        if (in.atEnd())
            break;
        if (auto link = readLinkValue(in, base))
            links.append(std::move(*link));
        else
            in.skipToNextValue();
    }
    return links;
}

QList<WebLink> linksOf(const HttpResponse &response)
{
    QList<WebLink> links;
    for (const auto &[name, value] : response.headers) {
        if (name.compare("link", Qt::CaseInsensitive) == 0)
            links += parseLinkHeader(value, response.url);
    }
    return links;
}

} // namespace hotdesk::net

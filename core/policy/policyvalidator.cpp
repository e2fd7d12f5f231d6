// Policy validation: RapidJSON reads the text and records where every value is, its SchemaValidator applies
// resources/policy.schema.json, and the rules that need two members at once come last.
#include "policyvalidator.h"

#include "../jose/jwk.h"
#include "../jose/strictjson.h"
#include "serverpolicy.h"

// RapidJSON's own regular expressions (a Thompson NFA: linear time, no backtracking)
// for the schema's "pattern"s, the default; said here so no build switches to std::regex.
#define RAPIDJSON_SCHEMA_USE_INTERNALREGEX 1
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/reader.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <QFile>
#include <QHash>
#include <QSet>
#include <QStringList>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace hotdesk::policy {

namespace {

constexpr qsizetype kMaxPolicyBytes = 1024 * 1024;
constexpr int kMaxDepth = 32; // as jose::StrictJsonLimits
// Each round of one value's check sets one finding aside; no schema node has this many keywords.
constexpr int kMaxRoundsPerValue = 256;

using rapidjson::Document;
using rapidjson::SizeType;
using rapidjson::Value;

QString textOf(const Value &v)
{
    return v.IsString() ? QString::fromUtf8(v.GetString(), qsizetype(v.GetStringLength())) : QString();
}

const Value *memberOf(const Value &object, const char *name)
{
    if (!object.IsObject())
        return nullptr;
    const auto it = object.FindMember(name);
    return it == object.MemberEnd() ? nullptr : &it->value;
}

QString escapeToken(QString token)
{
    token.replace(u'~', QStringLiteral("~0"));
    token.replace(u'/', QStringLiteral("~1"));
    return token;
}

QStringList pointerTokens(QStringView pointer)
{
    QStringList tokens;
    if (pointer.isEmpty())
        return tokens;
    const auto parts = pointer.mid(1).split(u'/');
    for (QStringView part : parts) {
        QString token = part.toString();
        token.replace(QStringLiteral("~1"), QStringLiteral("/"));
        token.replace(QStringLiteral("~0"), QStringLiteral("~"));
        tokens << token;
    }
    return tokens;
}

QString pointerText(const rapidjson::Pointer &pointer)
{
    rapidjson::StringBuffer buffer;
    pointer.Stringify(buffer);
    return QString::fromUtf8(buffer.GetString(), qsizetype(buffer.GetSize()));
}

// A value as the administrator wrote it, shortened: "15 minutes" (with quotes), 42, [...].
QString shown(const Value &v)
{
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    v.Accept(writer);
    QString text = QString::fromUtf8(buffer.GetString(), qsizetype(buffer.GetSize()));
    if (text.size() > 80)
        text = text.left(77) + QStringLiteral("...");
    return text;
}

QString kindOf(const Value &v)
{
    switch (v.GetType()) {
    case rapidjson::kNullType:
        return QStringLiteral("null");
    case rapidjson::kFalseType:
        return QStringLiteral("false");
    case rapidjson::kTrueType:
        return QStringLiteral("true");
    case rapidjson::kObjectType:
        return QStringLiteral("an object");
    case rapidjson::kArrayType:
        return QStringLiteral("a list");
    case rapidjson::kStringType:
        return QStringLiteral("a string");
    case rapidjson::kNumberType:
        return v.IsDouble() ? QStringLiteral("a decimal number") : QStringLiteral("a number");
    }
    return QString();
}

// Edits (insert, delete, replace, swap two neighbours) between two member names: "idel" is one from "idle".
int editDistance(const QString &a, const QString &b)
{
    const qsizetype n = a.size();
    const qsizetype m = b.size();
    std::vector<std::vector<int>> d(size_t(n + 1), std::vector<int>(size_t(m + 1)));
    for (qsizetype i = 0; i <= n; ++i)
        d[size_t(i)][0] = int(i);
    for (qsizetype j = 0; j <= m; ++j)
        d[0][size_t(j)] = int(j);
    for (qsizetype i = 1; i <= n; ++i) {
        for (qsizetype j = 1; j <= m; ++j) {
            const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int best = std::min(
                {d[size_t(i - 1)][size_t(j)] + 1, d[size_t(i)][size_t(j - 1)] + 1, d[size_t(i - 1)][size_t(j - 1)] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                best = std::min(best, d[size_t(i - 2)][size_t(j - 2)] + 1);
            d[size_t(i)][size_t(j)] = best;
        }
    }
    return d[size_t(n)][size_t(m)];
}

// Line and column of byte offsets in the policy text.
class SourceText {
public:
    explicit SourceText(const QByteArray &text)
        : m_text(text)
    {
        m_lineStarts.push_back(0);
        m_continuations.reserve(size_t(text.size()) + 1);
        int continuations = 0;
        for (qsizetype i = 0; i < text.size(); ++i) {
            m_continuations.push_back(continuations);
            if ((uchar(text.at(i)) & 0xC0) == 0x80) // columns count characters, not UTF-8 continuation bytes
                ++continuations;
            if (text.at(i) == '\n')
                m_lineStarts.push_back(i + 1);
        }
        m_continuations.push_back(continuations);
    }

    PolicyProblem problemAt(qsizetype offset, const QString &pointer, const QString &message) const
    {
        offset = std::clamp<qsizetype>(offset, 0, m_text.size());
        const auto next = std::upper_bound(m_lineStarts.begin(), m_lineStarts.end(), offset);
        const int line = int(next - m_lineStarts.begin());
        const qsizetype start = m_lineStarts[size_t(line - 1)];
        const int column = int(offset - start) - (m_continuations[size_t(offset)] - m_continuations[size_t(start)]) + 1;
        return PolicyProblem {line, column, pointer, message};
    }

    int lineOf(qsizetype offset) const { return problemAt(offset, QString(), QString()).line; }

    // RapidJSON reports a value once it has read it; its first character is the
    // first one after the previous event that is not white space or a separator.
    qsizetype skipSeparators(qsizetype offset) const
    {
        while (offset < m_text.size()) {
            const char c = m_text.at(offset);
            if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != ',' && c != ':')
                break;
            ++offset;
        }
        return offset;
    }

private:
    const QByteArray &m_text;
    std::vector<qsizetype> m_lineStarts;
    std::vector<int> m_continuations; // continuation bytes before each offset
};

// The text as RapidJSON reads it. Its own StringStream is copied inside the
// parser for speed and only copied back later, so its Tell() lags behind in a
// handler; this one has no such copy, and Tell() is where the reader is.
class TrackedStream {
public:
    using Ch = char;

    explicit TrackedStream(const char *text)
        : m_begin(text)
        , m_current(text)
    {
    }

    Ch Peek() const { return *m_current; }
    Ch Take() { return *m_current++; }
    size_t Tell() const { return size_t(m_current - m_begin); }
    // Only for in-place parsing, which is not used.
    Ch *PutBegin() { return nullptr; }
    void Put(Ch) { }
    void Flush() { }
    size_t PutEnd(Ch *) { return 0; }

private:
    const char *m_begin;
    const char *m_current;
};

// Where each value and each member name starts, by JSON pointer (the first one when a name repeats).
struct Positions {
    QHash<QString, qsizetype> values;
    QHash<QString, qsizetype> keys;
};

// A SAX pass over the text: positions, duplicate member names, nesting depth.
class PositionRecorder {
public:
    using Ch = char;

    PositionRecorder(const SourceText &source, const TrackedStream &stream, Positions &positions, QList<PolicyProblem> &problems)
        : m_source(source)
        , m_stream(stream)
        , m_positions(positions)
        , m_problems(problems)
    {
    }

    bool Null() { return scalar(); }
    bool Bool(bool) { return scalar(); }
    bool Int(int) { return scalar(); }
    bool Uint(unsigned) { return scalar(); }
    bool Int64(int64_t) { return scalar(); }
    bool Uint64(uint64_t) { return scalar(); }
    bool Double(double) { return scalar(); }
    bool RawNumber(const char *, SizeType, bool) { return scalar(); }
    bool String(const char *, SizeType, bool) { return scalar(); }
    bool StartObject() { return open(true); }
    bool StartArray() { return open(false); }
    bool EndObject(SizeType) { return close(); }
    bool EndArray(SizeType) { return close(); }

    bool Key(const char *name, SizeType length, bool)
    {
        const qsizetype start = m_source.skipSeparators(m_last);
        Frame &frame = m_stack.back();
        frame.key = QString::fromUtf8(name, qsizetype(length));
        const QString pointer = frame.pointer + u'/' + escapeToken(frame.key);
        if (const auto first = frame.keys.constFind(frame.key); first != frame.keys.cend()) {
            const QString where = frame.pointer.isEmpty() ? QString() : memberName(frame.pointer) + QStringLiteral(": ");
            m_problems << m_source.problemAt(start, pointer,
                QStringLiteral("%1\"%2\" appears a second time (first on line %3); JSON readers disagree on which one "
                               "counts, so keep only one")
                    .arg(where, frame.key, QString::number(m_source.lineOf(*first))));
        } else {
            frame.keys.insert(frame.key, start);
            m_positions.keys.insert(pointer, start);
        }
        m_last = qsizetype(m_stream.Tell());
        return true;
    }

    std::optional<qsizetype> tooDeepAt;

private:
    struct Frame {
        bool object = false;
        QString pointer;
        int index = 0;
        QString key;
        QHash<QString, qsizetype> keys;
    };

    QString nextPointer()
    {
        if (m_stack.empty())
            return QString();
        Frame &frame = m_stack.back();
        if (frame.object)
            return frame.pointer + u'/' + escapeToken(frame.key);
        return frame.pointer + u'/' + QString::number(frame.index++);
    }

    qsizetype beginValue(const QString &pointer)
    {
        const qsizetype start = m_source.skipSeparators(m_last);
        if (!m_positions.values.contains(pointer))
            m_positions.values.insert(pointer, start);
        m_last = qsizetype(m_stream.Tell());
        return start;
    }

    bool scalar()
    {
        beginValue(nextPointer());
        return true;
    }

    bool open(bool object)
    {
        const QString pointer = nextPointer();
        const qsizetype start = beginValue(pointer);
        if (m_stack.size() >= size_t(kMaxDepth)) {
            tooDeepAt = start;
            return false;
        }
        m_stack.push_back(Frame {object, pointer, 0, QString(), {}});
        return true;
    }

    bool close()
    {
        m_stack.pop_back();
        m_last = qsizetype(m_stream.Tell());
        return true;
    }

    const SourceText &m_source;
    const TrackedStream &m_stream;
    Positions &m_positions;
    QList<PolicyProblem> &m_problems;
    std::vector<Frame> m_stack;
    qsizetype m_last = 0;
};

QString syntaxMessage(rapidjson::ParseErrorCode code)
{
    switch (code) {
    case rapidjson::kParseErrorDocumentEmpty:
        return QStringLiteral("the file is empty; a policy is a JSON object { ... }");
    case rapidjson::kParseErrorDocumentRootNotSingular:
        return QStringLiteral("text after the end of the policy; the file holds exactly one JSON object");
    case rapidjson::kParseErrorValueInvalid:
        return QStringLiteral("not a JSON value: strings need double quotes, true, false and null are lower case, "
                              "and JSON has no comments");
    case rapidjson::kParseErrorObjectMissName:
        return QStringLiteral("expected a member name in double quotes (JSON allows no comma before '}' and no comments)");
    case rapidjson::kParseErrorObjectMissColon:
        return QStringLiteral("expected ':' after the member name");
    case rapidjson::kParseErrorObjectMissCommaOrCurlyBracket:
        return QStringLiteral("expected ',' or '}' after the member (is a comma missing at the end of the line before?)");
    case rapidjson::kParseErrorArrayMissCommaOrSquareBracket:
        return QStringLiteral("expected ',' or ']' after the list entry (is a comma missing?)");
    case rapidjson::kParseErrorStringUnicodeEscapeInvalidHex:
        return QStringLiteral("a \\u escape needs four hexadecimal digits");
    case rapidjson::kParseErrorStringUnicodeSurrogateInvalid:
        return QStringLiteral("a \\u escape holds half of a UTF-16 surrogate pair");
    case rapidjson::kParseErrorStringEscapeInvalid:
        return QStringLiteral("unknown escape sequence in a string (a backslash is written \\\\)");
    case rapidjson::kParseErrorStringMissQuotationMark:
        return QStringLiteral("the string has no closing double quote");
    case rapidjson::kParseErrorStringInvalidEncoding:
        return QStringLiteral("the text is not valid UTF-8; save the file as UTF-8");
    case rapidjson::kParseErrorNumberTooBig:
        return QStringLiteral("the number is too large");
    case rapidjson::kParseErrorNumberMissFraction:
        return QStringLiteral("a digit must follow the decimal point");
    case rapidjson::kParseErrorNumberMissExponent:
        return QStringLiteral("a digit must follow the exponent");
    case rapidjson::kParseErrorNone:
    case rapidjson::kParseErrorTermination:
    case rapidjson::kParseErrorUnspecificSyntaxError:
        break;
    }
    return QStringLiteral("JSON syntax error");
}

// The schema, parsed and compiled once per process.
class RootSchema {
public:
    RootSchema()
    {
        const QByteArray text = policySchema();
        json.Parse(text.constData());
        if (!json.HasParseError() && json.IsObject())
            compiled = std::make_unique<rapidjson::SchemaDocument>(json);
    }

    Document json;
    std::unique_ptr<rapidjson::SchemaDocument> compiled;
};

const RootSchema &rootSchema()
{
    static const RootSchema root;
    return root;
}

// One schema node on its own ("shallow": what it says about its children
// themselves is emptied), so a check of the node stops at the node.
struct CompiledSchema {
    Document source;
    std::unique_ptr<rapidjson::SchemaDocument> schema;

    void compile() { schema = std::make_unique<rapidjson::SchemaDocument>(source); }
};

// RapidJSON 1.1.0's SchemaValidator stops at the first violation. To list them
// all, the document is walked along the schema's structure (properties,
// additionalProperties, items, $ref) and each value is checked against its own
// node with the children's subschemas emptied; after each finding the cause is
// set aside (the unknown member removed from a copy of the value, or the
// violated keyword removed from a copy of the node) and the value checked again.
// Every verdict is still RapidJSON's; this only decides where to look next.
class SchemaWalker {
public:
    SchemaWalker(const RootSchema &root, const SourceText &source, const Positions &positions, QList<PolicyProblem> &problems)
        : m_root(root)
        , m_source(source)
        , m_positions(positions)
        , m_problems(problems)
    {
    }

    void walk(const Value &instance, const Value &node, const QString &pointer)
    {
        QString definition;
        const Value *resolved = resolve(node, &definition);
        if (!resolved || !resolved->IsObject())
            return;
        const Value &schema = *resolved;
        const CompiledSchema *current = shallow(schema);
        std::unique_ptr<CompiledSchema> modified;
        Document instanceCopy;
        const Value *subject = &instance;
        QSet<QString> unknown;
        QSet<QString> missing;
        for (int round = 0; round < kMaxRoundsPerValue; ++round) {
            rapidjson::SchemaValidator validator(*current->schema);
            subject->Accept(validator);
            if (validator.IsValid())
                break;
            const QString keyword = QString::fromUtf8(validator.GetInvalidSchemaKeyword());
            if (keyword == u"type") {
                report(pointer, QStringLiteral("must be %1 (found %2)").arg(expected(schema, definition), kindOf(instance)));
                return; // the node's other keywords and its children do not apply to a value of another type
            }
            if (keyword == u"additionalProperties") {
                const QString name = pointerTokens(pointerText(validator.GetInvalidDocumentPointer())).value(0);
                unknownMember(schema, definition, pointer, name);
                unknown.insert(name);
                if (subject == &instance) {
                    instanceCopy.CopyFrom(instance, instanceCopy.GetAllocator());
                    subject = &instanceCopy;
                }
                const QByteArray utf8 = name.toUtf8();
                while (instanceCopy.RemoveMember(utf8.constData())) { }
                continue;
            }
            auto next = std::make_unique<CompiledSchema>();
            next->source.CopyFrom(current->source, next->source.GetAllocator());
            bool setAside = false;
            if (keyword == u"required") {
                const QString name = firstMissing(schema, instance, missing);
                if (!name.isEmpty()) {
                    missing.insert(name);
                    const QString where = pointer.isEmpty() ? QString() : memberName(pointer) + QStringLiteral(": ");
                    m_problems << m_source.problemAt(m_positions.values.value(pointer), pointer + u'/' + escapeToken(name),
                        QStringLiteral("%1the required member \"%2\" is missing").arg(where, name));
                    setAside = removeRequired(next->source, name);
                } else {
                    setAside = next->source.RemoveMember("required");
                }
            } else {
                valueProblem(keyword, schema, definition, instance, pointer);
                setAside = next->source.RemoveMember(keyword.toUtf8().constData());
                if (keyword == u"minimum")
                    next->source.RemoveMember("exclusiveMinimum");
                if (keyword == u"maximum")
                    next->source.RemoveMember("exclusiveMaximum");
            }
            if (!setAside)
                break;
            next->compile();
            modified = std::move(next);
            current = modified.get();
        }

        if (instance.IsObject()) {
            const Value *properties = memberOf(schema, "properties");
            const Value *additional = memberOf(schema, "additionalProperties");
            for (const auto &member : instance.GetObject()) {
                const QString name = textOf(member.name);
                if (unknown.contains(name))
                    continue;
                const Value *sub = properties ? memberOf(*properties, member.name.GetString()) : nullptr;
                if (!sub && additional && additional->IsObject())
                    sub = additional;
                if (sub)
                    walk(member.value, *sub, pointer + u'/' + escapeToken(name));
            }
        } else if (instance.IsArray()) {
            const Value *items = memberOf(schema, "items");
            for (SizeType i = 0; items && i < instance.Size(); ++i) {
                const Value *sub = items->IsObject() ? items : (items->IsArray() && i < items->Size() ? &(*items)[i] : nullptr);
                if (sub)
                    walk(instance[i], *sub, pointer + u'/' + QString::number(i));
            }
        }
    }

private:
    const Value *resolve(const Value &node, QString *definition) const
    {
        const Value *current = &node;
        for (int hops = 0; hops < 8; ++hops) {
            const Value *ref = memberOf(*current, "$ref");
            if (!ref || !ref->IsString())
                return current;
            const QString target = textOf(*ref);
            if (!target.startsWith(u'#'))
                return nullptr; // the policy schema refers to nothing outside itself
            if (target.startsWith(QLatin1String("#/definitions/")))
                *definition = target.mid(14);
            current = rapidjson::Pointer(ref->GetString(), ref->GetStringLength()).Get(m_root.json);
            if (!current)
                return nullptr;
        }
        return nullptr;
    }

    const CompiledSchema *shallow(const Value &schema)
    {
        auto &entry = m_cache[&schema];
        if (entry)
            return entry.get();
        entry = std::make_unique<CompiledSchema>();
        Document &d = entry->source;
        auto &a = d.GetAllocator();
        d.CopyFrom(schema, a);
        for (const char *name : {"properties", "patternProperties"}) {
            if (auto it = d.FindMember(name); it != d.MemberEnd() && it->value.IsObject()) {
                for (auto &member : it->value.GetObject())
                    member.value.SetObject();
            }
        }
        for (const char *name : {"additionalProperties", "additionalItems", "items"}) {
            if (auto it = d.FindMember(name); it != d.MemberEnd()) {
                if (it->value.IsObject())
                    it->value.SetObject();
                else if (it->value.IsArray())
                    for (auto &item : it->value.GetArray())
                        item.SetObject();
            }
        }
        // Combinators (allOf, anyOf, oneOf, not) stay whole; their $refs need the definitions.
        if (!d.HasMember("definitions")) {
            if (const Value *definitions = memberOf(m_root.json, "definitions"))
                d.AddMember("definitions", Value(*definitions, a), a);
        }
        entry->compile();
        return entry.get();
    }

    static QString firstMissing(const Value &schema, const Value &instance, const QSet<QString> &reported)
    {
        const Value *required = memberOf(schema, "required");
        if (!required || !required->IsArray() || !instance.IsObject())
            return QString();
        for (const auto &name : required->GetArray()) {
            if (name.IsString() && !instance.HasMember(name) && !reported.contains(textOf(name)))
                return textOf(name);
        }
        return QString();
    }

    static bool removeRequired(Document &schema, const QString &name)
    {
        auto it = schema.FindMember("required");
        if (it == schema.MemberEnd() || !it->value.IsArray())
            return false;
        Value &list = it->value;
        for (auto entry = list.Begin(); entry != list.End(); ++entry) {
            if (textOf(*entry) == name) {
                list.Erase(entry);
                if (list.Empty())
                    schema.RemoveMember("required");
                return true;
            }
        }
        return schema.RemoveMember("required");
    }

    void report(const QString &pointer, const QString &text, std::optional<qsizetype> at = std::nullopt)
    {
        const QString message = pointer.isEmpty() ? QStringLiteral("the policy %1").arg(text)
                                                  : QStringLiteral("%1: %2").arg(memberName(pointer), text);
        m_problems << m_source.problemAt(at.value_or(m_positions.values.value(pointer)), pointer, message);
    }

    void unknownMember(const Value &schema, const QString &definition, const QString &parent, const QString &name)
    {
        QStringList known;
        if (const Value *properties = memberOf(schema, "properties"); properties && properties->IsObject()) {
            for (const auto &member : properties->GetObject())
                known << textOf(member.name);
        }
        QString closest;
        int best = 3;
        for (const QString &candidate : std::as_const(known)) {
            // A suggestion only where a typing mistake is likely: not for one- or two-letter names.
            const int allowed = candidate.size() < 3 ? 0 : int(std::max<qsizetype>(1, candidate.size() / 3));
            const int distance = editDistance(name.toLower(), candidate);
            if (distance < best && distance <= allowed) {
                best = distance;
                closest = candidate;
            }
        }
        const QString pointer = parent + u'/' + escapeToken(name);
        QString hint;
        if (definition == u"public_ec_jwk" && name == u"d")
            hint = QStringLiteral(" (the private part of a key: a policy holds public keys only, remove it)");
        else if (!closest.isEmpty())
            hint = QStringLiteral(" (did you mean \"%1\"?)").arg(closest);
        else if (known.isEmpty())
            hint = QStringLiteral("; this object takes no members");
        else if (parent.isEmpty())
            hint = QStringLiteral("; the top-level members are %1").arg(known.join(QStringLiteral(", ")));
        else
            hint = QStringLiteral("; the members of %1 are %2").arg(memberName(parent), known.join(QStringLiteral(", ")));
        const QString what = parent.isEmpty() ? QStringLiteral("unknown top-level member")
                                              : memberName(parent) + QStringLiteral(": unknown member");
        m_problems << m_source.problemAt(m_positions.keys.value(pointer, m_positions.values.value(parent)), pointer,
            QStringLiteral("%1 \"%2\"%3").arg(what, name, hint));
    }

    static QString definitionNoun(const QString &definition)
    {
        if (definition == u"duration")
            return QStringLiteral("an ISO 8601 duration such as PT15M");
        if (definition == u"time_of_day")
            return QStringLiteral("a 24-hour local time HH:MM such as 07:00");
        if (definition == u"https_url")
            return QStringLiteral("an https URL such as https://idp.corp.example, without query, fragment or user name");
        if (definition == u"das_url")
            return QStringLiteral("an https URL such as https://das.corp.example (http only to 127.0.0.1, [::1] or localhost), "
                                  "without query, fragment or user name");
        if (definition == u"proxy")
            return QStringLiteral("\"system\", \"none\" or an HTTP proxy URL such as http://proxy.corp.example:3128");
        if (definition == u"base64url")
            return QStringLiteral("base64url text (letters, digits, - and _, without padding)");
        if (definition == u"public_ec_jwk")
            return QStringLiteral("a public EC JSON Web Key");
        return QString();
    }

    static QString typeNoun(const QString &type)
    {
        if (type == u"string")
            return QStringLiteral("a string");
        if (type == u"integer")
            return QStringLiteral("a whole number");
        if (type == u"number")
            return QStringLiteral("a number");
        if (type == u"boolean")
            return QStringLiteral("true or false");
        if (type == u"object")
            return QStringLiteral("an object { ... }");
        if (type == u"array")
            return QStringLiteral("a list [ ... ]");
        return type;
    }

    static QString expected(const Value &schema, const QString &definition)
    {
        const QString noun = definitionNoun(definition);
        if (!noun.isEmpty())
            return noun;
        const Value *type = memberOf(schema, "type");
        if (type && type->IsArray()) {
            QStringList nouns;
            for (const auto &t : type->GetArray())
                nouns << typeNoun(textOf(t));
            return nouns.join(QStringLiteral(" or "));
        }
        return type ? typeNoun(textOf(*type)) : QStringLiteral("of another type");
    }

    static QString number(const Value *v) { return v ? shown(*v) : QString(); }

    void valueProblem(
        const QString &keyword, const Value &schema, const QString &definition, const Value &instance, const QString &pointer)
    {
        if (keyword == u"pattern") {
            const QString noun = definitionNoun(definition);
            report(pointer,
                noun.isEmpty() ? QStringLiteral("%1 does not have the required form").arg(shown(instance))
                               : QStringLiteral("%1 is not %2").arg(shown(instance), noun));
        } else if (keyword == u"enum") {
            const Value *options = memberOf(schema, "enum");
            QStringList allowed;
            for (SizeType i = 0; options && options->IsArray() && i < options->Size(); ++i)
                allowed << shown((*options)[i]);
            if (allowed.size() == 1)
                report(pointer, QStringLiteral("must be %1 (found %2)").arg(allowed.constFirst(), shown(instance)));
            else
                report(pointer, QStringLiteral("%1 is not one of %2").arg(shown(instance), allowed.join(QStringLiteral(", "))));
        } else if (keyword == u"minimum" || keyword == u"maximum") {
            const Value *low = memberOf(schema, "minimum");
            const Value *high = memberOf(schema, "maximum");
            if (low && high)
                report(pointer, QStringLiteral("%1 is not between %2 and %3").arg(shown(instance), number(low), number(high)));
            else if (low)
                report(pointer, QStringLiteral("%1 is less than the minimum %2").arg(shown(instance), number(low)));
            else
                report(pointer, QStringLiteral("%1 is more than the maximum %2").arg(shown(instance), number(high)));
        } else if (keyword == u"minLength") {
            const Value *n = memberOf(schema, "minLength");
            if (n && n->IsUint() && n->GetUint() == 1)
                report(pointer, QStringLiteral("must not be empty"));
            else
                report(pointer, QStringLiteral("must be at least %1 characters long").arg(number(n)));
        } else if (keyword == u"maxLength") {
            report(pointer,
                QStringLiteral("is %1 characters long; at most %2 are allowed")
                    .arg(textOf(instance).toUcs4().size())
                    .arg(number(memberOf(schema, "maxLength"))));
        } else if (keyword == u"minItems") {
            const Value *n = memberOf(schema, "minItems");
            if (n && n->IsUint() && n->GetUint() == 1)
                report(pointer, QStringLiteral("must list at least one entry"));
            else
                report(pointer, QStringLiteral("must list at least %1 entries").arg(number(n)));
        } else if (keyword == u"maxItems") {
            report(pointer,
                QStringLiteral("lists %1 entries; at most %2 are allowed")
                    .arg(instance.IsArray() ? instance.Size() : 0)
                    .arg(number(memberOf(schema, "maxItems"))));
        } else if (keyword == u"uniqueItems" && instance.IsArray()) {
            // The first repeated entry, found by its written form (linear, whatever the list's length).
            QHash<QByteArray, SizeType> seen;
            for (SizeType j = 0; j < instance.Size(); ++j) {
                rapidjson::StringBuffer buffer;
                rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
                instance[j].Accept(writer);
                const QByteArray written(buffer.GetString(), qsizetype(buffer.GetSize()));
                if (const auto first = seen.constFind(written); first != seen.cend()) {
                    report(pointer + u'/' + QString::number(j),
                        QStringLiteral("%1 is listed a second time (first as %2)")
                            .arg(shown(instance[j]), memberName(QString(pointer + u'/' + QString::number(*first)))));
                    return;
                }
                seen.insert(written, j);
            }
            report(pointer, QStringLiteral("lists an entry twice")); // equal objects with their members in another order
        } else {
            report(pointer, QStringLiteral("does not satisfy the schema's \"%1\" rule").arg(keyword));
        }
    }

    const RootSchema &m_root;
    const SourceText &m_source;
    const Positions &m_positions;
    QList<PolicyProblem> &m_problems;
    std::map<const Value *, std::unique_ptr<CompiledSchema>> m_cache;
};

// The combinations a schema cannot express (docs/policy.md, "Rules beyond the
// schema"). Each looks only at members the schema check found nothing wrong with.
class RuleChecker {
public:
    RuleChecker(const Document &document, const SourceText &source, const Positions &positions, QList<PolicyProblem> &problems)
        : m_document(document)
        , m_source(source)
        , m_positions(positions)
        , m_problems(problems)
        , m_schemaProblems(problems)
    {
    }

    void check()
    {
        timeouts();
        positiveDurations();
        triggers();
        schedule();
        failureActions();
        offline();
        activationKeys();
        kioskAccounts();
    }

private:
    // The member, when the schema check found nothing wrong at it or below it.
    const Value *at(const QString &pointer) const { return clean(pointer) ? anyAt(pointer) : nullptr; }

    const Value *anyAt(const QString &pointer) const
    {
        const QByteArray utf8 = pointer.toUtf8();
        return rapidjson::Pointer(utf8.constData(), SizeType(utf8.size())).Get(m_document);
    }

    // No schema problem at this member or below it.
    bool clean(const QString &pointer) const
    {
        for (const PolicyProblem &p : m_schemaProblems) {
            if (p.pointer == pointer || p.pointer.startsWith(pointer + u'/') || pointer.startsWith(p.pointer + u'/'))
                return false;
        }
        return true;
    }

    std::optional<std::chrono::seconds> duration(const QString &pointer) const
    {
        const Value *v = at(pointer);
        if (!v || !v->IsString())
            return std::nullopt;
        auto d = parseDuration(textOf(*v));
        return d ? std::optional(*d) : std::nullopt;
    }

    void problem(const QString &pointer, const QString &text)
    {
        m_problems << m_source.problemAt(
            m_positions.values.value(pointer), pointer, QStringLiteral("%1: %2").arg(memberName(pointer), text));
    }

    void timeouts()
    {
        for (const char *name : {"connect_timeout", "response_timeout", "approval_timeout"}) {
            const QString pointer = QStringLiteral("/servers/") + QLatin1String(name);
            if (const auto d = duration(pointer); d && (d->count() < 1 || d->count() > 3600))
                problem(pointer, QStringLiteral("must be between 1 second (PT1S) and 1 hour (PT1H)"));
        }
    }

    void positiveDurations()
    {
        const std::pair<const char *, const char *> members[] = {
            {"/triggers/first_logon_in", "remove the member to turn the trigger off"},
            {"/triggers/max_session", "remove the member to turn the trigger off"},
            {"/triggers/idle", "remove the member to turn the trigger off"},
            {"/failure/window", "failed attempts are counted over a period such as PT1H"},
            {"/failure/offline/grace", "use \"mode\": \"deny\" to allow no offline unlock"},
        };
        for (const auto &[member, hint] : members) {
            const QString pointer = QLatin1String(member);
            if (const auto d = duration(pointer); d && d->count() == 0)
                problem(pointer, QStringLiteral("must be longer than zero; %1").arg(QLatin1String(hint)));
        }
    }

    void triggers()
    {
        const auto maxSession = duration(QStringLiteral("/triggers/max_session"));
        const auto idle = duration(QStringLiteral("/triggers/idle"));
        const auto notify = duration(QStringLiteral("/triggers/notify_before"));
        if (maxSession && idle && idle->count() > 0 && *idle >= *maxSession)
            problem(QStringLiteral("/triggers/idle"),
                QStringLiteral("%1 is not shorter than triggers.max_session (%2), so the idle trigger could never fire "
                               "first; shorten idle or remove it")
                    .arg(formatDuration(*idle), formatDuration(*maxSession)));
        if (maxSession && notify && *notify >= *maxSession)
            problem(QStringLiteral("/triggers/notify_before"),
                QStringLiteral("%1 is not shorter than triggers.max_session (%2), so the warning would be due at logon; "
                               "shorten it")
                    .arg(formatDuration(*notify), formatDuration(*maxSession)));
        const Value *triggers = memberOf(m_document, "triggers");
        if (notify && triggers && !triggers->HasMember("schedule") && !triggers->HasMember("max_session"))
            problem(QStringLiteral("/triggers/notify_before"),
                QStringLiteral("there is neither a triggers.max_session nor a triggers.schedule to warn before; "
                               "remove it or add one of them"));
    }

    void schedule()
    {
        const Value *entries = anyAt(QStringLiteral("/triggers/schedule"));
        if (!entries || !entries->IsArray())
            return;
        QHash<QString, SizeType> seen; // "mon 07:00" -> entry
        for (SizeType i = 0; i < entries->Size(); ++i) {
            if (!clean(QStringLiteral("/triggers/schedule/%1").arg(i)))
                continue;
            const Value *days = memberOf((*entries)[i], "days");
            const Value *time = memberOf((*entries)[i], "at");
            if (!days || !days->IsArray() || !time || !time->IsString())
                continue;
            for (const auto &day : days->GetArray()) {
                const QString key = textOf(day) + u' ' + textOf(*time);
                if (const auto first = seen.constFind(key); first != seen.cend() && *first != i) {
                    const QString pointer = QStringLiteral("/triggers/schedule/%1").arg(i);
                    problem(pointer,
                        QStringLiteral("%1 at %2 is already in triggers.schedule[%3]")
                            .arg(textOf(day), textOf(*time), QString::number(*first)));
                    break;
                }
                seen.insert(key, i);
            }
        }
    }

    void failureActions()
    {
        const Value *actions = at(QStringLiteral("/failure/actions"));
        if (!actions || !actions->IsArray())
            return;
        bool lock = false;
        bool credentials = false;
        for (const auto &action : actions->GetArray()) {
            lock = lock || textOf(action) == u"lock";
            credentials = credentials || textOf(action) == u"require_credentials";
        }
        if (credentials && !lock)
            problem(QStringLiteral("/failure/actions"),
                QStringLiteral("\"require_credentials\" needs \"lock\" as well: without the lock there is nothing to "
                               "require the credentials at"));
    }

    void offline()
    {
        const Value *offline = at(QStringLiteral("/failure/offline"));
        const Value *mode = offline ? memberOf(*offline, "mode") : nullptr;
        if (!mode)
            return;
        const bool grace = textOf(*mode) == u"grace";
        if (!grace) {
            for (const char *name : {"grace", "max_uses"}) {
                if (offline->HasMember(name))
                    problem(QStringLiteral("/failure/offline/") + QLatin1String(name),
                        QStringLiteral("is only used with \"mode\": \"grace\"; remove it or change the mode"));
            }
            return;
        }
        if (!offline->HasMember("grace"))
            problem(QStringLiteral("/failure/offline"),
                QStringLiteral("\"mode\": \"grace\" needs \"grace\", how long after the last re-authentication an "
                               "offline unlock is allowed (e.g. PT4H)"));
        const Value *uses = memberOf(*offline, "max_uses");
        if (!uses)
            problem(QStringLiteral("/failure/offline"),
                QStringLiteral("\"mode\": \"grace\" needs \"max_uses\", how many offline unlocks are allowed (e.g. 3)"));
        else if (uses->IsInt() && uses->GetInt() == 0)
            problem(QStringLiteral("/failure/offline/max_uses"),
                QStringLiteral("0 allows no offline unlock at all; use \"mode\": \"deny\" instead, or allow at least 1"));
    }

    void activationKeys()
    {
        const Value *keys = at(QStringLiteral("/servers/das_activation_keys"));
        if (!keys)
            return;
        rapidjson::StringBuffer buffer;
        rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
        keys->Accept(writer);
        auto set = jose::JwkSet::fromJson(QByteArrayView(buffer.GetString(), qsizetype(buffer.GetSize())));
        if (!set || set->isEmpty())
            problem(QStringLiteral("/servers/das_activation_keys"),
                QStringLiteral("holds no usable public key (%1); copy the DAS's GET /v1/activation-key set")
                    .arg(set ? QStringLiteral("none of the keys can be used") : set.error().message));
    }

    // An exempt account is never asked, so no person could ever be signed in to it.
    void kioskAccounts()
    {
        const Value *kiosk = at(QStringLiteral("/enforcement/kiosk_accounts"));
        const Value *exempt = at(QStringLiteral("/failure/exempt_users"));
        if (!kiosk || !exempt || !kiosk->IsArray() || !exempt->IsArray())
            return;
        for (SizeType i = 0; i < kiosk->Size(); ++i) {
            for (const auto &name : exempt->GetArray()) {
                if (textOf((*kiosk)[i]) == textOf(name))
                    problem(QStringLiteral("/enforcement/kiosk_accounts/%1").arg(i),
                        QStringLiteral("%1 is also in failure.exempt_users, which is never asked to sign in; remove it "
                                       "from one of the two")
                            .arg(textOf(name)));
            }
        }
    }

    const Document &m_document;
    const SourceText &m_source;
    const Positions &m_positions;
    QList<PolicyProblem> &m_problems;
    const QList<PolicyProblem> m_schemaProblems; // a copy: the rules add to m_problems as they go
};

void sortByPosition(QList<PolicyProblem> &problems)
{
    std::stable_sort(problems.begin(), problems.end(),
        [](const PolicyProblem &a, const PolicyProblem &b) { return std::pair(a.line, a.column) < std::pair(b.line, b.column); });
}

} // namespace

QByteArray policySchema()
{
    QFile file(QStringLiteral(":/hotdesk/policy.schema.json"));
    if (!file.open(QIODevice::ReadOnly))
        return QByteArray();
    return file.readAll();
}

QList<PolicyProblem> validatePolicy(QByteArrayView json)
{
    QList<PolicyProblem> problems;
    if (json.size() > kMaxPolicyBytes)
        return {
            PolicyProblem {0, 0, QString(), QStringLiteral("the file is larger than 1 MiB; a policy is a small JSON document")}};
    const QByteArray text = json.toByteArray(); // RapidJSON reads up to a NUL
    const SourceText source(text);
    if (text.startsWith("\xEF\xBB\xBF"))
        return {source.problemAt(
            0, QString(), QStringLiteral("the file starts with a byte-order mark; save it as UTF-8 without BOM"))};
    if (const qsizetype nul = text.indexOf('\0'); nul >= 0)
        return {source.problemAt(nul, QString(), QStringLiteral("the file holds a NUL character; a policy is UTF-8 text"))};

    Positions positions;
    TrackedStream stream(text.constData());
    PositionRecorder recorder(source, stream, positions, problems);
    rapidjson::Reader reader;
    const rapidjson::ParseResult parsed = reader.Parse<rapidjson::kParseValidateEncodingFlag>(stream, recorder);
    if (recorder.tooDeepAt) {
        problems << source.problemAt(
            *recorder.tooDeepAt, QString(), QStringLiteral("objects and lists are nested deeper than %1 levels").arg(kMaxDepth));
    } else if (parsed.IsError()) {
        const qsizetype offset = qsizetype(parsed.Offset());
        QString message = syntaxMessage(parsed.Code());
        // RapidJSON calls a raw line break inside a string an invalid escape.
        if (parsed.Code() == rapidjson::kParseErrorStringEscapeInvalid && offset < text.size() && uchar(text.at(offset)) < 0x20)
            message = QStringLiteral("a line break or control character inside a string (is the closing double quote missing?)");
        problems << source.problemAt(offset, QString(), message);
    }
    if (parsed.IsError()) {
        sortByPosition(problems);
        return problems;
    }
    // RapidJSON passes a few things the agent's own strict reader refuses (a lone
    // low surrogate in a \u escape); a file either check refuses is not a policy.
    if (problems.isEmpty()) {
        if (auto strict = jose::parseStrictJson(text); !strict)
            problems << source.problemAt(0, QString(), QStringLiteral("not strict JSON: %1").arg(strict.error().message));
    }

    Document document;
    document.Parse<rapidjson::kParseValidateEncodingFlag>(text.constData());
    const RootSchema &root = rootSchema();
    if (document.HasParseError() || !root.compiled) {
        problems << PolicyProblem {
            0, 0, QString(), QStringLiteral("the policy schema built into hotdesk cannot be read; reinstall hotdesk")};
        return problems;
    }
    rapidjson::SchemaValidator whole(*root.compiled);
    document.Accept(whole);
    if (!whole.IsValid()) {
        const qsizetype before = problems.size();
        SchemaWalker(root, source, positions, problems).walk(document, root.json, QString());
        if (problems.size() == before) {
            // The walk must see what the whole-document check saw; if it ever does not, say at least that.
            const QString pointer = pointerText(whole.GetInvalidDocumentPointer());
            problems << source.problemAt(positions.values.value(pointer), pointer,
                QStringLiteral("%1: does not satisfy the schema's \"%2\" rule")
                    .arg(memberName(pointer), QString::fromUtf8(whole.GetInvalidSchemaKeyword())));
        }
    }
    RuleChecker(document, source, positions, problems).check();
    sortByPosition(problems);
    return problems;
}

QString formatProblems(const QString &file, const QList<PolicyProblem> &problems)
{
    QString out;
    for (const PolicyProblem &p : problems) {
        if (p.line > 0)
            out += QStringLiteral("%1:%2:%3: %4\n").arg(file, QString::number(p.line), QString::number(p.column), p.message);
        else
            out += QStringLiteral("%1: %2\n").arg(file, p.message);
    }
    return out;
}

QString memberName(QStringView pointer)
{
    const QStringList tokens = pointerTokens(pointer);
    if (tokens.isEmpty())
        return QStringLiteral("the policy");
    QString name;
    for (const QString &token : tokens) {
        bool index = false;
        token.toUInt(&index);
        if (index && !name.isEmpty())
            name += u'[' + token + u']';
        else
            name += (name.isEmpty() ? QString() : QStringLiteral(".")) + token;
    }
    return name;
}

} // namespace hotdesk::policy

// Options, the request line, the daemon's lines and their PAM codes; RapidJSON reads and writes the JSON.
#include "pamprotocol.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <security/_pam_types.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace hotdesk::pam {
namespace {

bool startsWith(std::string_view text, std::string_view prefix)
{
    return text.substr(0, prefix.size()) == prefix;
}

std::vector<std::string> splitCommas(std::string_view text)
{
    std::vector<std::string> parts;
    while (!text.empty()) {
        const std::size_t comma = text.find(',');
        const std::string_view part = text.substr(0, comma);
        if (!part.empty())
            parts.emplace_back(part);
        if (comma == std::string_view::npos)
            break;
        text.remove_prefix(comma + 1);
    }
    return parts;
}

// One option; empty when understood, else what is wrong with it.
std::string applyOption(Options &options, std::string_view arg)
{
    if (arg == "debug") {
        options.debug = true;
    } else if (startsWith(arg, "socket=")) {
        options.socket = std::string(arg.substr(7));
        if (options.socket.empty() || options.socket.front() != '/' || options.socket.size() > 107)
            return "socket= needs an absolute path of at most 107 bytes";
    } else if (startsWith(arg, "timeout=")) {
        const std::string_view value = arg.substr(8);
        int seconds = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
        if (ec != std::errc() || end != value.data() + value.size() || seconds < 10 || seconds > 600)
            return "timeout= needs a whole number of seconds from 10 to 600";
        options.timeoutSeconds = seconds;
    } else if (startsWith(arg, "failmode=")) {
        const std::string_view value = arg.substr(9);
        if (value == "secure")
            options.failMode = FailMode::Secure;
        else if (value == "offline")
            options.failMode = FailMode::Offline;
        else
            return "failmode= is secure or offline";
    } else if (startsWith(arg, "prompt_services=")) {
        options.promptServices = splitCommas(arg.substr(16));
    } else {
        return "unknown option";
    }
    return {};
}

// The code point at text[i] and its length in bytes; length 0 for an invalid sequence.
std::pair<char32_t, std::size_t> decodeUtf8(std::string_view text, std::size_t i)
{
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(i);
    std::size_t length = 0;
    char32_t cp = 0;
    if (lead < 0x80)
        return {lead, 1};
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
        cp = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        cp = lead & 0x0F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        cp = lead & 0x07;
    } else {
        return {0, 0};
    }
    if (i + length > text.size())
        return {0, 0};
    for (std::size_t k = 1; k < length; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80)
            return {0, 0};
        cp = (cp << 6) | (byte(i + k) & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static constexpr char32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kSmallest[length] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return {0, 0};
    return {cp, length};
}

// Characters that move the cursor, start escape sequences or reorder text on screen.
bool unsafe(char32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E)
        || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
}

std::string stringMember(const rapidjson::Value &object, const char *name, bool *wrongType)
{
    const auto it = object.FindMember(name);
    if (it == object.MemberEnd() || it->value.IsNull())
        return {};
    if (!it->value.IsString()) {
        *wrongType = true;
        return {};
    }
    return std::string(it->value.GetString(), it->value.GetStringLength());
}

} // namespace

ParsedOptions parseOptions(int argc, const char **argv)
{
    ParsedOptions parsed;
    for (int i = 0; i < argc; ++i) {
        const std::string_view arg = argv[i] ? std::string_view(argv[i]) : std::string_view();
        if (std::string problem = applyOption(parsed.options, arg); !problem.empty()) {
            parsed.error = std::string(arg) + ": " + problem;
            return parsed;
        }
    }
    return parsed;
}

std::string sanitize(std::string_view text, std::size_t maxBytes)
{
    std::string out;
    out.reserve(std::min(text.size(), maxBytes));
    for (std::size_t i = 0; i < text.size();) {
        auto [cp, length] = decodeUtf8(text, i);
        std::string_view piece = text.substr(i, length);
        if (length == 0) {
            piece = "?";
            length = 1;
        } else if (cp == '\n' || cp == '\t') {
            piece = " ";
        } else if (unsafe(cp)) {
            piece = {};
        }
        if (out.size() + piece.size() > maxBytes)
            break;
        out += piece;
        i += length;
    }
    return out;
}

std::string requestLine(const Request &request)
{
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> json(buffer);
    const auto member = [&json](const char *name, const std::string &value) {
        json.Key(name);
        json.String(value.c_str(), rapidjson::SizeType(value.size()));
    };
    json.StartObject();
    json.Key("v");
    json.Int(1);
    member("command", "pam_authenticate");
    member("user", request.user);
    member("service", request.service);
    member("tty", request.tty);
    member("rhost", request.rhost);
    member("failmode", request.failMode == FailMode::Offline ? "offline" : "secure");
    json.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize()) + '\n';
}

DaemonLine parseLine(std::string_view line)
{
    DaemonLine parsed;
    rapidjson::Document document;
    document.Parse<rapidjson::kParseValidateEncodingFlag>(line.data(), line.size());
    if (document.HasParseError() || !document.IsObject())
        return parsed;
    bool wrongType = false;
    const std::string event = stringMember(document, "event", &wrongType);
    parsed.message = sanitize(stringMember(document, "message", &wrongType));
    if (const auto ok = document.FindMember("ok"); ok != document.MemberEnd()) {
        if (!ok->value.IsBool() || !event.empty())
            return parsed;
        parsed.ok = ok->value.GetBool();
        parsed.error = stringMember(document, "error", &wrongType);
        parsed.result = stringMember(document, "result", &wrongType);
        parsed.kind = DaemonLine::Kind::Reply;
    } else if (event == "pam_info") {
        parsed.kind = DaemonLine::Kind::Info;
    } else if (event == "pam_result") {
        parsed.result = stringMember(document, "result", &wrongType);
        parsed.kind = parsed.result.empty() ? DaemonLine::Kind::Malformed : DaemonLine::Kind::Result;
    } else if (!event.empty()) {
        parsed.kind = DaemonLine::Kind::Other;
    }
    if (wrongType || (parsed.kind == DaemonLine::Kind::Reply && !parsed.ok && parsed.error.empty()))
        parsed.kind = DaemonLine::Kind::Malformed;
    return parsed;
}

int pamCodeForResult(std::string_view result)
{
    if (result == "approved" || result == "recent" || result == "offline_granted")
        return PAM_SUCCESS;
    if (result == "locked_out")
        return PAM_MAXTRIES;
    if (result == "unavailable")
        return PAM_AUTHINFO_UNAVAIL;
    if (result == "not_covered")
        return PAM_IGNORE;
    return PAM_AUTH_ERR; // denied, expired, and whatever this module does not know
}

int pamCodeForError(std::string_view error)
{
    if (error == "not_covered")
        return PAM_IGNORE;
    if (error == "locked_out")
        return PAM_MAXTRIES;
    if (error == "no_such_user")
        return PAM_USER_UNKNOWN;
    if (error == "forbidden" || error == "busy")
        return PAM_AUTH_ERR;
    return PAM_AUTHINFO_UNAVAIL; // unavailable, an unknown command (an older daemon), anything else
}

bool wantsPrompt(const Options &options, std::string_view service)
{
    for (const std::string &name : options.promptServices)
        if (name == service)
            return true;
    return false;
}

} // namespace hotdesk::pam

// Fuzz target: pam_hotdesk.so's reading of the daemon's lines (pam/pamprotocol.h). Whatever arrives, the kind is one
// of the five, and every text that can reach the person's terminal is valid UTF-8 without control characters, at most
// 400 bytes, and unchanged when sanitized again.
#include "fuzztarget.h"

#include "pamprotocol.h"

#include <string>

using namespace hotdesk;

namespace {

[[noreturn]] void broken(const QString &what)
{
    fuzz::invariantBroken("fuzz_pamline", what);
}

void checkTerminalSafe(const std::string &text, const char *what)
{
    const QByteArray bytes = QByteArray::fromStdString(text);
    if (bytes.size() > 400)
        broken(QStringLiteral("%1 is %2 bytes").arg(QLatin1String(what)).arg(bytes.size()));
    if (QString::fromUtf8(bytes).toUtf8() != bytes)
        broken(QStringLiteral("%1 is not valid UTF-8").arg(QLatin1String(what)));
    for (const QChar c : QString::fromUtf8(bytes)) {
        const ushort u = c.unicode();
        if (u < 0x20 || (u >= 0x7F && u <= 0x9F) || u == 0x1B)
            broken(
                QStringLiteral("%1 holds the control character U+%2").arg(QLatin1String(what)).arg(u, 4, 16, QLatin1Char('0')));
    }
    if (pam::sanitize(text) != text)
        broken(QStringLiteral("%1 changes when sanitized again").arg(QLatin1String(what)));
}

QString kindName(pam::DaemonLine::Kind kind)
{
    switch (kind) {
    case pam::DaemonLine::Kind::Malformed:
        return QStringLiteral("malformed");
    case pam::DaemonLine::Kind::Reply:
        return QStringLiteral("reply");
    case pam::DaemonLine::Kind::Info:
        return QStringLiteral("info");
    case pam::DaemonLine::Kind::Result:
        return QStringLiteral("result");
    case pam::DaemonLine::Kind::Other:
        return QStringLiteral("other");
    }
    broken(QStringLiteral("a kind outside the five"));
}

} // namespace

HOTDESK_FUZZ_TARGET(fuzz_pamline)
{
    const std::string text(reinterpret_cast<const char *>(data), size);
    checkTerminalSafe(pam::sanitize(text), "the sanitized input");
    const pam::DaemonLine line = pam::parseLine(text);
    fuzz::noteOutcome(kindName(line.kind));
    checkTerminalSafe(line.message, "the message");
    if (line.kind == pam::DaemonLine::Kind::Result && line.result.empty())
        broken(QStringLiteral("a result without a name"));
    if (line.kind == pam::DaemonLine::Kind::Reply && !line.ok && line.error.empty())
        broken(QStringLiteral("a refusal without an error name"));
    return 0;
}

// hotdeskd's message ids and error codes in the agent's language; the daemon itself speaks English only.
#include "daemontexts.h"

#include "../flow/progresstext.h"

#include <QCoreApplication>
#include <QJsonArray>

#include <algorithm>
#include <iterator>

namespace hotdesk::agent {
namespace {

struct ErrorText {
    const char *error;
    const char *text;
};

// The error codes a person may meet at the lock (a sign-in or a recovery code refused); the others name a
// mistake of the agent's and keep the daemon's English message.
constexpr ErrorText kErrors[] = {
    {"busy",
        QT_TRANSLATE_NOOP("hotdesk::agent::DaemonTexts",
            "Another sign-in or check for this session is under way. Wait a moment, then try again.")},
    {"locked_out",
        QT_TRANSLATE_NOOP("hotdesk::agent::DaemonTexts", "Sign-in is blocked for now after too many failed attempts.")},
    {"not_locked", QT_TRANSLATE_NOOP("hotdesk::agent::DaemonTexts", "This session is not locked any more.")},
    {"unavailable",
        QT_TRANSLATE_NOOP("hotdesk::agent::DaemonTexts", "Sign-in is not possible on this PC now. Ask your administrator.")},
    {"recovery_codes_disabled", QT_TRANSLATE_NOOP("hotdesk::agent::DaemonTexts", "Recovery codes are not allowed on this PC.")},
    {"forbidden", QT_TRANSLATE_NOOP("hotdesk::agent::DaemonTexts", "The system service refused this for this session.")},
};

} // namespace

QString daemonTextForPeople(const QJsonObject &line)
{
    const QString id = line.value(QLatin1String("message_id")).toString();
    if (!id.isEmpty()) {
        QStringList args;
        for (const QJsonValue &arg : line.value(QLatin1String("message_args")).toArray())
            args << arg.toString();
        const QString text = flow::progressText(id, args);
        if (!text.isNull())
            return text;
    }
    const QString error = line.value(QLatin1String("error")).toString();
    const auto *known = std::find_if(
        std::begin(kErrors), std::end(kErrors), [&error](const ErrorText &e) { return error == QLatin1String(e.error); });
    if (known != std::end(kErrors))
        return QCoreApplication::translate("hotdesk::agent::DaemonTexts", known->text);
    return line.value(QLatin1String("message")).toString();
}

} // namespace hotdesk::agent

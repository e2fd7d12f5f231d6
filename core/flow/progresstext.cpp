// The progress sentences of ReauthFlow, looked up by id in the flow's translation context.
#include "progresstext.h"

#include <QCoreApplication>

#include <algorithm>
#include <iterator>

namespace hotdesk::flow {
namespace {

struct Entry {
    const char *id;
    const char *text; // English, with %1... for the arguments
};

// The ids are part of hotdeskd's protocol (sign_in_progress's message_id): never renamed, only added.
constexpr Entry kEntries[] = {
    {"discovery", QT_TRANSLATE_NOOP("hotdesk::flow::ReauthFlow", "Contacting the identity provider…")},
    {"registration", QT_TRANSLATE_NOOP("hotdesk::flow::ReauthFlow", "Registering %1 on this PC…")},
    {"request_object",
        QT_TRANSLATE_NOOP("hotdesk::flow::ReauthFlow", "Asking the device authentication server for a sign-in request…")},
    {"approval_asked",
        QT_TRANSLATE_NOOP("hotdesk::flow::ReauthFlow", "This PC is not recognized. Asking an administrator to approve it…")},
    {"code_sending", QT_TRANSLATE_NOOP("hotdesk::flow::ReauthFlow", "This PC is not recognized. Sending you a one-time code…")},
    {"code_sent",
        QT_TRANSLATE_NOOP("hotdesk::flow::ReauthFlow",
            "A one-time code was sent to you by another way (e-mail). Enter it to register this PC.")},
    {"code_wrong", QT_TRANSLATE_NOOP("hotdesk::flow::ReauthFlow", "That code is not right. Check it and enter it again.")},
    {"waiting_for_phone", QT_TRANSLATE_NOOP("hotdesk::flow::ReauthFlow", "Approve the sign-in on your phone.")},
    {"code_exchange", QT_TRANSLATE_NOOP("hotdesk::flow::ReauthFlow", "Completing the sign-in…")},
    {"validation", QT_TRANSLATE_NOOP("hotdesk::flow::ReauthFlow", "Checking the identity provider's answer…")},
};

} // namespace

QString progressText(const QString &id, const QStringList &args)
{
    const auto *entry
        = std::find_if(std::begin(kEntries), std::end(kEntries), [&id](const Entry &e) { return id == QLatin1String(e.id); });
    if (entry == std::end(kEntries))
        return {};
    QString text = QCoreApplication::translate("hotdesk::flow::ReauthFlow", entry->text);
    for (const QString &arg : args)
        text = text.arg(arg);
    return text;
}

} // namespace hotdesk::flow

// Loading the agent's translations for the user's language.
#pragma once

#include <QLocale>

namespace hotdesk::ui {

// Installs the translation for locale (the system's by default) from the
// embedded :/i18n/hotdesk_<lang>.qm, replacing one installed before; English
// needs none. Returns whether a translation was installed.
bool installTranslations(const QLocale &locale = QLocale::system());

} // namespace hotdesk::ui

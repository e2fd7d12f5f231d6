// Translation loading.
#include "translations.h"

#include <QCoreApplication>
#include <QTranslator>

namespace hotdesk::ui {

bool installTranslations(const QLocale &locale)
{
    static QTranslator *installed = nullptr;
    if (installed) {
        QCoreApplication::removeTranslator(installed);
        delete installed;
        installed = nullptr;
    }
    auto translator = std::make_unique<QTranslator>();
    // Tries hotdesk_de_CH, hotdesk_de, ... in the order of the user's languages.
    if (!translator->load(locale, QStringLiteral("hotdesk"), QStringLiteral("_"), QStringLiteral(":/i18n")))
        return false;
    installed = translator.release();
    QCoreApplication::installTranslator(installed);
    return true;
}

} // namespace hotdesk::ui

// Process-wide preparation of the UI.
#include "uiinit.h"

#include <QLoggingCategory>

namespace hotdesk::ui {

void prepareApplication()
{
    // WebEngine lists its start-up parameters at info level; the command line's
    // stderr is for the user. QT_LOGGING_RULES still overrides this.
    QLoggingCategory::setFilterRules(QStringLiteral("qt.webenginecontext.info=false"));
}

} // namespace hotdesk::ui

// Process-wide preparation of the UI.
#include "uiinit.h"

#include "authbrowser.h"

#include <QCoreApplication>
#include <QLoggingCategory>

namespace hotdesk::ui {

void prepareApplication()
{
    QCoreApplication::setAttribute(Qt::AA_ShareOpenGLContexts);
    // WebEngine lists its start-up parameters at info level; the command line's
    // stderr is for the user. QT_LOGGING_RULES still overrides this.
    QLoggingCategory::setFilterRules(QStringLiteral("qt.webenginecontext.info=false"));
    registerAuthBrowserSchemes();
}

} // namespace hotdesk::ui

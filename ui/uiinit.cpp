// Process-wide preparation of the UI.
#include "uiinit.h"

#include "authbrowser.h"

#include <QCoreApplication>

namespace hotdesk::ui {

void prepareApplication()
{
    QCoreApplication::setAttribute(Qt::AA_ShareOpenGLContexts);
    registerAuthBrowserSchemes();
}

} // namespace hotdesk::ui

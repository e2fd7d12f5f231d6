// Opening a URL in the user's default browser.
#pragma once

#include "core/result.h"

#include <QUrl>

namespace hotdesk::cli {

// $BROWSER when set (a command; "%s" stands for the URL, else the URL is
// appended), otherwise the desktop's default (QDesktopServices with a GUI,
// xdg-open without one).
Status openInSystemBrowser(const QUrl &url);

} // namespace hotdesk::cli

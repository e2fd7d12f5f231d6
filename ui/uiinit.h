// What the process must do for the UI before QApplication exists.
#pragma once

namespace hotdesk::ui {

// Call in main() before constructing QApplication. Loads nothing: WebEngine
// and its shared OpenGL context come with the first sign-in (AuthBrowserWidget::start()).
void prepareApplication();

} // namespace hotdesk::ui

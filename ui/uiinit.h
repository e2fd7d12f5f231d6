// What the process must do for the UI before QApplication exists.
#pragma once

namespace hotdesk::ui {

// Call in main() before constructing QApplication: WebEngine needs shared
// OpenGL contexts, and accepts custom URL schemes (the agent's redirect
// scheme) only before it starts. Starts nothing itself.
void prepareApplication();

} // namespace hotdesk::ui

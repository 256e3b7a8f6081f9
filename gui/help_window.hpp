// The Help window: what each panel shows, the colours, the mouse and keys, and how to run,
// repeat, open and save. Opened by the Help button of the file bar; Escape or its close box
// closes it.
#pragma once

namespace forklore::gui {

// Draws the window while `open` is true; sets it false when the user closes it.
void draw_help_window(bool& open);

} // namespace forklore::gui

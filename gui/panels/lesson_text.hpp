// A lesson's text as the Lessons tab draws it: Markdown as blocks (gui/models/markdown_blocks.hpp)
// with headings coloured, lists indented and code in its own colour, and coloured text, all
// wrapped at the column's edge: a lesson's column is narrow, and nothing in it scrolls sideways.
#pragma once

#include <imgui.h>

#include <string>

namespace forklore::gui {

// The colour of a lesson's headings and titles.
inline const ImVec4 kLessonHeading{0.65f, 0.80f, 1.00f, 1.0f};

void draw_markdown(const std::string& markdown);
void coloured_text(const ImVec4& colour, const std::string& text);
void disabled_text(const std::string& text); // in the style's disabled colour

} // namespace forklore::gui

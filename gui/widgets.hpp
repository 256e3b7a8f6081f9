// Small pieces every panel uses: the "(?)" help marker, the colour vocabulary, verdict colours.
#pragma once

#include "sim/verdict/verdict.hpp"

#include <imgui.h>

namespace forklore::gui {

// One vocabulary on every panel: a lock held is green, held while others wait yellow, a wait red.
namespace palette {
inline constexpr ImU32 held = IM_COL32(70, 170, 90, 255);
inline constexpr ImU32 held_with_waiters = IM_COL32(220, 190, 50, 255);
inline constexpr ImU32 waiting = IM_COL32(210, 60, 60, 255);
inline constexpr ImU32 running = IM_COL32(90, 90, 100, 255);
inline constexpr ImU32 selected = IM_COL32(80, 160, 255, 255);
inline constexpr ImU32 process_edge = IM_COL32(200, 200, 210, 255);
inline constexpr ImU32 warning = IM_COL32(240, 200, 110, 255); // e.g. the trace is partial
} // namespace palette

// `colour` with its alpha replaced (0 to 255): tints and shades of the palette.
constexpr ImU32 with_alpha(ImU32 colour, int alpha) {
    return (colour & ~IM_COL32_A_MASK) | (static_cast<ImU32>(alpha) << IM_COL32_A_SHIFT);
}

// Verdict colours: completed green, deadlocked red, failed/crashed orange, timed out/limit grey.
ImVec4 verdict_colour(VerdictKind kind);

// A greyed "(?)" that shows `text` in a tooltip when hovered, as ImGui's own demo does.
void help_marker(const char* text);

// Text that wraps at the edge of the current region.
void wrapped_text(const std::string& text);

} // namespace forklore::gui

// The scenario browser (left column): the corpus grouped and numbered in teaching order, a search
// box, and the lesson of the selected scenario.
#pragma once

#include "sim/scenario/scenario.hpp"

#include <string>

namespace forklore::gui {

struct BrowserPanelState {
    std::string search;       // matched against id, title and lesson, ignoring case
    bool show_hidden = false; // the engine's self-tests
    std::string requested; // set for one frame when the user picks a scenario (the app applies it)
};

// Draws the browser with `selected_id` highlighted. A click sets state.requested.
void draw_browser_panel(BrowserPanelState& state, const std::string& selected_id);

// Whether a scenario matches a search text (case-insensitive, on id, title and lesson). Exposed
// for the tests.
bool scenario_matches(const Scenario& scenario, const std::string& search);

} // namespace forklore::gui

// The Lessons tab (left column, beside the scenario browser): the lessons of tutorials/ with how
// far the student is in each; one lesson opened and walked a page at a time (its introduction,
// each step, "What you learned"), Back and Next. A predict step offers its choices and runs once
// one is chosen, then says right or wrong against the verdict; a run step runs and points the
// other panels at each `look:`; an explain step checks an answer (and another after a wrong
// one); a fix step shows the knobs to turn, applies them in the controls and runs; a play step
// starts its challenge in the Scheduler tab and lists each try; hints one at a time; at the end,
// the hand-in. The model is gui/models/lesson_session.hpp; the app carries
// out what the panel asks for (a run, a look).
#pragma once

#include "gui/models/lesson_looks.hpp"
#include "gui/models/lesson_session.hpp"

#include <imgui.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace forklore::gui {

// A button (or radio button, or list entry) drawn in the last frame, where, and whether it could
// be pressed: what the tests click.
struct DrawnButton {
    std::string label;
    ImVec2 min, max;
    bool enabled = true;
};

struct LessonsPanelState {
    LessonSession session;

    // What the student typed or chose on the step shown; cleared when another step is shown.
    std::string answer_text; // an explain step answered in words
    int chosen = -1;         // an explain step's choice (a predict step's is its progress)
    int answer_page = -1;    // the page these belong to
    std::string handin_path; // the hand-in's file ("" until the end page proposes a name)
    std::string handin_message;
    bool handin_error = false;
    bool handin_exists = false; // the path exists: Overwrite is offered
    std::string look_said;      // what the last look selected

    // Asked for this frame; the app carries it out (the panel only edits the session).
    std::optional<std::size_t> run_step;  // run this step through the controls
    std::optional<std::size_t> play_step; // play this step's challenge in the Scheduler tab
    std::optional<LookTarget> look;       // point the other panels at this

    std::vector<DrawnButton> drawn_buttons;
    // The drawn button with this label; null when it was not drawn.
    const DrawnButton* button(const std::string& label) const;
};

// `running`: a run of the app's session is in progress (the lesson's or the user's).
void draw_lessons_panel(LessonsPanelState& state, bool running);

} // namespace forklore::gui

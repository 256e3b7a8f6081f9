// What the app does for the Lessons panel: reads the lessons and the student's progress, runs a
// lesson's step through the controls as a user would (the scenario, the variant and the knobs
// chosen there, then Run), hands the run's final record back to the lesson, points every panel
// at a look, and draws the left column with its Scenarios and Lessons tabs.
#pragma once

#include "gui/app.hpp"
#include "gui/models/lesson_looks.hpp"

#include <cstddef>
#include <filesystem>
#include <string>

namespace forklore::gui {

// Reads the lessons of `lessons_directory` and the progress at `progress_path` (empty: kept in
// memory only). The lesson that was open when the GUI was left opens again at the page it
// reached, with the Lessons tab in front.
void load_lessons(App& app, const std::filesystem::path& lessons_directory,
                  const std::filesystem::path& progress_path);

// Opens lesson `id` at `page` (its progress's page when negative) with the Lessons tab in front.
// Returns "" or why not (an unknown id, with the ids there are).
std::string open_lesson(App& app, const std::string& id, int page = -1);

// Sets the step's scenario, variant and knobs in the controls and starts the run, with the
// Timeline in front. Returns "" or why it cannot start (also said in the Lessons panel).
std::string run_lesson_step(App& app, std::size_t step);

// Gives the lesson its run's final record once the session is idle (once per frame).
void take_lesson_run(App& app);

// Plays a play step's challenge: chooses it in the Scheduler tab, starts its stepped run there and
// brings the tab to the front. Returns "" or why it cannot start.
std::string play_lesson_step(App& app, std::size_t step);

// Gives the lesson each finished stepped run of the challenge it plays (once per frame), with
// whether the goal was reached; Undo and Play again in the Scheduler tab make further tries.
void take_lesson_play(App& app);

// What the Lessons panel asked for this frame (a step's run, a challenge to play, a look),
// carried out and cleared.
void carry_out_lesson_requests(App& app);

// Selects what the look found and brings its tab to the front; its run is put on screen first
// when another is there.
void follow_look(App& app, const LookTarget& target);

// The browser region's content: the Scenarios and Lessons tabs.
void draw_left_column(App& app);

} // namespace forklore::gui

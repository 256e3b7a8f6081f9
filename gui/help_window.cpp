#include "gui/help_window.hpp"

#include "gui/widgets.hpp"

#include <imgui.h>

#include <algorithm>

namespace forklore::gui {

namespace {

struct HelpSection {
    const char* title;
    const char* text;
};

// Every sentence here describes what the panels draw (gui/panels/*): a panel that changes what
// it shows changes its line here.
constexpr HelpSection kSections[] = {
    {"How to use it",
     "1. Choose a scenario on the left (the lesson is under its name).\n"
     "2. Pick a variant (a named set of knobs with its expected outcome) or turn the knobs.\n"
     "3. Run: the scenario runs for real in a sandbox, and every panel fills while it runs. "
     "Repeat N runs it N times and counts the outcomes (a hang rate with its 95% interval). "
     "Stop kills the sandbox.\n"
     "4. Read the verdict on the right, then find its story on the timeline.\n"
     "Open and Save (top) read and write a run record as JSON: a class can look at the same "
     "run. Export writes the run on screen as an SVG timeline (a slide), a Chrome trace "
     "(ui.perfetto.dev) or a Markdown report (a handout). The Matrix tab runs the corpus's "
     "variants (the quick deterministic ones, or all with 'racy and slow'); click a cell to open "
     "its run."},
    {"Lessons",
     "The Lessons tab (left, beside Scenarios) walks a lesson of tutorials/ a page at a time, with "
     "Back and Next. Predict: choose an outcome, then Run (the scenario, variant and knobs are "
     "set in the controls, and every panel shows the run); your prediction is said right or "
     "wrong against the verdict. Run: run it, then 'Show lock ...', 'Show thread ...' or 'Show "
     "process ...' selects it in the Locks, Timeline or Process tree tab. Explain: answer, Check, "
     "and try again after a wrong answer. Fix: Apply and run sets the knobs the step names. Hints "
     "come one at a time. Your progress is saved as you go (~/.local/state/forklore/"
     "lessons.json) and comes back at the next start; at the end, Hand in writes a Markdown "
     "summary for your teacher."},
    {"Timeline",
     "One lane per thread, grouped by process (the group's header names the process, its role "
     "and how it was started). Bars: green a lock held, yellow held while another thread waits "
     "for it, red a thread waiting. A red bar that reaches the right edge never ended. After a "
     "deadlock a STUCK thread can never run again (its last wait is hatched); a 'live' one ran "
     "beside them. Triangles are other events; arrows join a parent to the child it started "
     "(labelled fork, spawn, ...). The sandbox's own host and reaper are hidden unless 'sandbox "
     "host and reaper' is ticked."},
    {"Process tree",
     "The processes from parent to child, each edge labelled by how the child was made. A box's "
     "colour is its state at the end: red stuck or blocked, green exited 0, orange failed or "
     "killed by a signal, grey killed by the runner. A thick red outline marks the culprit."},
    {"Locks",
     "Every lock of the run, one row per copy (after fork() the same address is one lock in the "
     "parent and an independent copy in the child): its owner at the end of the run, and its "
     "state (green held, yellow held with waiters, red waited on, ORPHANED when its owner does "
     "not exist in that copy's process). Below: the file locks /proc/locks showed."},
    {"Matrix",
     "The corpus as scenario x variant cells, coloured by verdict; a red border marks a cell "
     "that did not end as expected. Hover a cell for its details, click it to open its run. By "
     "default it runs the quick deterministic variants, as 'forklore matrix' does; 'racy and "
     "slow' adds the racy ones (a hang rate over many runs) and the slow ones; a filter other "
     "than * runs every variant it matches."},
    {"Scheduler",
     "Be the scheduler of a real run: choose a challenge, press Play, and let one waiting "
     "thread take one step at a time (Step). Each thread stops before every lock, unlock, "
     "wait, fork, print...: the table says what it is about to do and on which line. A thread "
     "blocked in the kernel cannot be chosen. Undo replays the steps but the last in a fresh "
     "sandbox. The verdict and your schedule decide whether the goal is met."},
    {"Verdict",
     "How the run ended and why, proven from what the kernel says: the explanation, the stuck "
     "set, the wait-for graph (a thread -> the lock it waits for -> the thread that holds it; a "
     "red arrow is an orphaned lock, yellow arrows a cycle), and the stacks of the blocked "
     "threads."},
    {"Output and Source",
     "Output: the event log (click a row to select its event everywhere), stdout, stderr and "
     "what each process printed. Source: the scenario's code beside the run."},
    {"Colours",
     "Green: held, or completed. Yellow: held while others wait. Red: waiting, stuck or "
     "deadlocked. Orange: failed or crashed. Grey: running, timed out, or killed by the runner. "
     "Blue: what you selected; a selection is shown in every panel."},
    {"Mouse and keys",
     "Timeline: mouse wheel zooms around the pointer, shift+wheel scrolls the lanes, drag pans, "
     "'Fit' shows the whole run. Hover anything for details; click to select it in every panel. "
     "Drag the lines between the panels to resize them. Enter in the record file box opens it. "
     "Escape closes this window. 'zoom' (top) makes text and sizes larger for a projector "
     "(forklore-gui --zoom 1.5)."},
};

} // namespace

void draw_help_window(bool& open) {
    const ImGuiIO& io = ImGui::GetIO();
    const ImVec2 size(std::min(io.DisplaySize.x * 0.9f, ImGui::GetFontSize() * 52),
                      io.DisplaySize.y * 0.8f);
    ImGui::SetNextWindowSize(size, ImGuiCond_Appearing);
    ImGui::SetNextWindowPos(ImVec2(io.DisplaySize.x / 2, io.DisplaySize.y / 2), ImGuiCond_Appearing,
                            ImVec2(0.5f, 0.5f));
    if (ImGui::Begin("Help", &open,
                     ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoCollapse)) {
        for (const auto& section : kSections) {
            if (ImGui::CollapsingHeader(section.title, ImGuiTreeNodeFlags_DefaultOpen))
                wrapped_text(section.text);
        }
        if (ImGui::IsWindowFocused(ImGuiFocusedFlags_RootAndChildWindows) &&
            ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape)))
            open = false;
    }
    ImGui::End();
}

} // namespace forklore::gui

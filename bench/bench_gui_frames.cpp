// Measures what the GUI costs with a large trace loaded: the time to build the timeline's model
// from a ~100k-event run, and the frame time of the Timeline tab drawn headless (an ImGui
// context with no window: the panel's work and ImGui's, without the GPU) at several zoom levels,
// panning a little every frame so nothing is drawn twice from the same view. Then the whole
// application's frame (draw_app, every panel) with that record on screen against the same
// frame with no record, for each centre tab: the ratio is what a large trace costs.
//
//   build/bin/forklore_bench_gui [RECORD.json] [frames] [--tsv]
// Without a record it runs the selftest-many-events scenario (about 100,000 lock events).
// --tsv prints only the whole-application ratios, as rows for bench/bench_table.py.
#include "gui/app.hpp"
#include "gui/panels/timeline_panel.hpp"
#include "sim/record/record.hpp"
#include "sim/run/runner.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/timeline/timeline_model.hpp"
#include "tests/gui/headless.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values.empty() ? 0 : values[values.size() / 2];
}

// The median time of `frames` frames of the whole application with `tab` in front, after a few
// frames that build the panels' models.
double app_frame_ms(forklore::gui::test::HeadlessImGui& imgui, forklore::gui::App& app,
                    forklore::gui::CentreTab tab, int frames) {
    using namespace forklore::gui;
    app.show_tab = tab;
    for (int i = 0; i < 5; ++i)
        imgui.frame([&] { draw_app(app); });
    std::vector<double> times;
    for (int f = 0; f < frames; ++f) {
        auto start = Clock::now();
        imgui.frame([&] { draw_app(app); });
        times.push_back(ms_since(start));
    }
    if (std::getenv("FORKLORE_BENCH_VERBOSE"))
        fmt::print(stderr, "{} vertices\n", ImGui::GetDrawData()->TotalVtxCount);
    return median(times);
}

std::shared_ptr<const forklore::RunRecord> load_or_run(int argc, char** argv) {
    using namespace forklore;
    if (argc > 1 && std::string(argv[1]).ends_with(".json")) {
        std::ifstream in(argv[1]);
        return std::make_shared<const RunRecord>(run_record_from_json(nlohmann::json::parse(in)));
    }
    const Scenario* many = ScenarioRegistry::instance().find("selftest-many-events");
    if (!many)
        return nullptr;
    return std::make_shared<const RunRecord>(run_scenario(make_request(*many, "default")));
}

} // namespace

int main(int argc, char** argv) {
    using namespace forklore;
    using namespace forklore::gui;
    auto record = load_or_run(argc, argv);
    if (!record)
        return 1;
    int frames = 300;
    bool tsv = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--tsv")
            tsv = true;
        else if (!arg.ends_with(".json"))
            frames = std::max(1, std::atoi(argv[i]));
    }

    // The whole application, a record of ~100k events on screen against none, side by side:
    // the two alternate, five rounds, and each figure is the median of its rounds.
    {
        struct Tab {
            const char* name;
            CentreTab tab;
        } tabs[] = {{"Timeline", CentreTab::timeline},
                    {"Process tree", CentreTab::process_tree},
                    {"Locks", CentreTab::locks}};
        App loaded;
        show_record(loaded, RecordView{record, next_record_generation(), false});
        for (const Tab& tab : tabs) {
            std::vector<double> with, without;
            for (int round = 0; round < 5; ++round) {
                // A fresh ImGui context for each (one at a time: the newest is the current one);
                // the loaded app keeps its models across rounds, as the GUI keeps them.
                {
                    test::HeadlessImGui imgui(1280, 800);
                    App empty;
                    without.push_back(app_frame_ms(imgui, empty, tab.tab, frames / 5));
                }
                {
                    test::HeadlessImGui imgui(1280, 800);
                    with.push_back(app_frame_ms(imgui, loaded, tab.tab, frames / 5));
                }
            }
            double ratio = median(with) / median(without);
            if (tsv)
                fmt::print("GUI: whole frame (headless), {} tab, {}-event record against none\t"
                           "{:.2f}x\t{:.3f} ms against {:.3f} ms, median of 5 x {} frames\t"
                           "<= 2x\t{}\n",
                           tab.name, record->events.size(), ratio, median(with), median(without),
                           frames / 5, ratio <= 2 ? "yes" : "no");
            else
                fmt::print("whole frame, {} tab: {:.3f} ms with the {}-event record, {:.3f} ms "
                           "with none: {:.2f}x\n",
                           tab.name, median(with), record->events.size(), median(without), ratio);
        }
    }
    if (tsv)
        return 0;

    // The model, built a few times: the best and the mean.
    std::vector<double> builds;
    std::size_t holds = 0, bars = 0;
    for (int i = 0; i < 5; ++i) {
        auto start = Clock::now();
        TimelineModel model = build_timeline_model(*record);
        builds.push_back(ms_since(start));
        holds = model.lock_holds;
        bars = 0;
        for (const auto& lane : model.lanes)
            for (const auto& row : lane.rows)
                bars += row.bars.size();
    }
    double build_mean = 0;
    for (double b : builds)
        build_mean += b;
    build_mean /= static_cast<double>(builds.size());
    fmt::print("record: {} events, {} lock holds, {} bars after splitting by waiters\n",
               record->events.size(), holds, bars);
    fmt::print("timeline model build: mean {:.2f} ms, best {:.2f} ms (5 builds)\n", build_mean,
               *std::min_element(builds.begin(), builds.end()));

    // Frames at several zoom levels (1 = the whole run), 1280x800 like a laptop window.
    test::HeadlessImGui imgui(1280, 800);
    TimelinePanelState state;
    Selection selection;
    const RecordView view{record, 1, false};
    imgui.frame([&] { draw_timeline_panel(state, view, selection); }); // builds and fits
    const double fitted = state.ns_per_px;
    const float width = state.plot_max.x - state.plot_min.x;
    for (double zoom : {1.0, 10.0, 100.0, 1000.0, 100000.0}) {
        std::vector<double> times;
        for (int f = 0; f < frames; ++f) {
            state.user_moved = zoom != 1.0;
            state.ns_per_px = fitted / zoom;
            // Pan across the middle of the run, a few pixels a frame.
            const double visible = state.ns_per_px * width;
            state.view_start_ns = static_cast<double>(state.model.end_ns) / 2 - visible / 2 +
                                  visible * 0.01 * (f % 50);
            auto start = Clock::now();
            imgui.frame([&] { draw_timeline_panel(state, view, selection); });
            times.push_back(ms_since(start));
        }
        double mean = 0;
        for (double t : times)
            mean += t;
        mean /= static_cast<double>(times.size());
        fmt::print(
            "timeline frame at zoom x{:<6g} ({:>10.1f} ns/px): mean {:.3f} ms, max {:.3f} ms "
            "over {} frames, {} vertices\n",
            zoom, state.ns_per_px, mean, *std::max_element(times.begin(), times.end()), frames,
            ImGui::GetDrawData()->TotalVtxCount);
    }
    return 0;
}

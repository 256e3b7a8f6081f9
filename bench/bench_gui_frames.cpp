// Measures what the GUI costs with a large trace loaded: the time to build the timeline's model
// from a ~100k-event run, and the frame time of the Timeline tab drawn headless (an ImGui
// context with no window: the panel's work and ImGui's, without the GPU) at several zoom levels,
// panning a little every frame so nothing is drawn twice from the same view.
//
//   build/bin/forklore_bench_gui [RECORD.json] [frames]
// Without a record it runs the selftest-many-events scenario (about 100,000 lock events).
#include "gui/models/timeline_model.hpp"
#include "gui/panels/timeline_panel.hpp"
#include "sim/record.hpp"
#include "sim/runner.hpp"
#include "sim/scenario.hpp"
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
    for (int i = 1; i < argc; ++i)
        if (!std::string(argv[i]).ends_with(".json"))
            frames = std::max(1, std::atoi(argv[i]));

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

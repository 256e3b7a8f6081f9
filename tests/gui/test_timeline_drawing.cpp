// The timeline's walks over a row skip by pixel column, not by bar, so that a frame of a
// 100k-event record costs the columns on screen: these tests hold the skips to the plain walk
// they replace (every hold wide enough is named and listed, whatever the zoom) and the galloping
// search to std::lower_bound.
#include "gui/panels/timeline_drawing.hpp"
#include "gui/panels/timeline_panel.hpp"
#include "sim/timeline/timeline_model.hpp"
#include "tests/gui/headless.hpp"
#include "tests/gui/records.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using namespace forklore;
using namespace forklore::gui;
using namespace forklore::gui::test;
using forklore::gui::timeline_drawing::draw_hold_row;
using forklore::gui::timeline_drawing::kMinBarPx;
using forklore::gui::timeline_drawing::Mapping;

namespace {

// The holds draw_hold_row must list, found the plain way: every hold from the first visible bar
// on, its segments grouped by their acquire, kept when at least kMinBarPx wide.
std::vector<std::size_t> wide_holds(const TimelineRow& row, const Mapping& map, ImVec2 plot_min,
                                    ImVec2 plot_max) {
    const auto& bars = row.bars;
    const double t_begin = map.t(plot_min.x), t_end = map.t(plot_max.x);
    std::vector<std::size_t> wide;
    for (std::size_t k =
             row.first_ending_at_or_after(static_cast<std::int64_t>(std::floor(t_begin)));
         k < bars.size() && static_cast<double>(bars[k].start_ns) <= t_end;) {
        std::size_t last = k;
        while (last + 1 < bars.size() && bars[last + 1].begin_event == bars[k].begin_event)
            ++last;
        if (map.x(static_cast<double>(bars[last].end_ns)) -
                map.x(static_cast<double>(bars[k].start_ns)) >=
            kMinBarPx)
            wide.push_back(bars[k].begin_event);
        k = last + 1;
    }
    return wide;
}

std::vector<std::size_t> listed_holds(HeadlessImGui& imgui, const TimelineRow& row,
                                      const Mapping& map, ImVec2 plot_min, ImVec2 plot_max) {
    static const RunRecord no_record;
    std::vector<DrawnBand> drawn;
    imgui.frame([&] {
        draw_hold_row(ImGui::GetWindowDrawList(), row, map, 100, 120, plot_min, plot_max, {},
                      no_record, drawn, 0, 0);
    });
    std::vector<std::size_t> events;
    for (const DrawnBand& band : drawn)
        events.push_back(band.event);
    return events;
}

// A row of holds of every shape: runs of holds far narrower than a pixel, holds of a few
// segments (held, then held with waiters) whose first segments are narrow, and long holds, with
// gaps between them; bars never overlap, as stack_rows guarantees.
TimelineRow crowded_row(unsigned seed) {
    std::mt19937_64 random(seed);
    auto between = [&](std::int64_t low, std::int64_t high) {
        return std::uniform_int_distribution<std::int64_t>(low, high)(random);
    };
    TimelineRow row;
    std::int64_t t = 0;
    for (std::size_t hold = 0; hold < 4000; ++hold) {
        t += between(0, 3) == 0 ? between(0, 5000) : between(0, 40);
        const std::int64_t segments = between(1, 3);
        for (std::int64_t s = 0; s < segments; ++s) {
            TimelineBar bar;
            bar.start_ns = t;
            t += between(0, 9) == 0 ? between(100, 20000) : between(0, 30);
            bar.end_ns = t;
            bar.kind = s % 2 == 0 ? BarKind::held : BarKind::held_with_waiters;
            bar.begin_event = hold;
            row.bars.push_back(bar);
        }
    }
    row.sum_times();
    return row;
}

} // namespace

TEST_CASE("timeline: the galloping search finds what std::lower_bound finds, from any start",
          "[gui][timeline]") {
    const TimelineRow row = crowded_row(7);
    std::mt19937_64 random(11);
    const std::int64_t last_start = row.bars.back().start_ns;
    for (int probe = 0; probe < 20000; ++probe) {
        const std::int64_t t =
            std::uniform_int_distribution<std::int64_t>(-10, last_start + 10)(random);
        const auto expected =
            static_cast<std::size_t>(std::lower_bound(row.bars.begin(), row.bars.end(), t,
                                                      [](const TimelineBar& bar, std::int64_t at) {
                                                          return bar.start_ns < at;
                                                      }) -
                                     row.bars.begin());
        CHECK(row.first_starting_at_or_after(t) == expected);
        const std::size_t from =
            std::uniform_int_distribution<std::size_t>(0, row.bars.size())(random);
        CHECK(row.first_starting_at_or_after(t, from) == std::max(expected, from));
    }
}

TEST_CASE("timeline: a hold row lists exactly the holds wide enough to see, at every zoom",
          "[gui][timeline]") {
    const ImVec2 plot_min(40, 0), plot_max(1240, 600);
    HeadlessImGui imgui;
    for (unsigned seed : {1u, 2u, 3u}) {
        const TimelineRow row = crowded_row(seed);
        const double span = static_cast<double>(row.bars.back().end_ns);
        // From the whole row in view (thousands of holds per pixel) to a few holds in view.
        for (double ns_per_px : {span / 1200, span / 12000, 50.0, 5.0, 0.5}) {
            for (double start_fraction : {0.0, 0.37, 0.9}) {
                Mapping map;
                map.start_ns = span * start_fraction;
                map.ns_per_px = ns_per_px;
                map.x0 = plot_min.x;
                INFO("seed " << seed << ", " << ns_per_px << " ns a pixel from " << map.start_ns);
                const auto expected = wide_holds(row, map, plot_min, plot_max);
                CHECK(listed_holds(imgui, row, map, plot_min, plot_max) == expected);
            }
        }
    }
}

TEST_CASE("timeline: the 100k-event record's hold rows list the same holds as the plain walk",
          "[gui][timeline]") {
    auto record = recorded(kManyEvents);
    const TimelineModel model = build_timeline_model(*record);
    const ImVec2 plot_min(40, 0), plot_max(1240, 600);
    HeadlessImGui imgui;
    std::size_t rows = 0, listed = 0;
    for (const auto& lane : model.lanes)
        for (const auto& row : lane.hold_rows) {
            if (row.bars.empty())
                continue;
            ++rows;
            const double begin = static_cast<double>(row.bars.front().start_ns);
            const double span = static_cast<double>(row.bars.back().end_ns) - begin;
            for (double zoom : {1.0, 30.0, 1000.0}) {
                Mapping map;
                map.start_ns = begin + span / 3;
                map.ns_per_px = std::max(span / 1200 / zoom, 1e-3);
                map.x0 = plot_min.x;
                const auto expected = wide_holds(row, map, plot_min, plot_max);
                CHECK(listed_holds(imgui, row, map, plot_min, plot_max) == expected);
                listed += expected.size();
            }
        }
    CHECK(rows > 0);
    CHECK(listed > 0); // zoomed in, some holds are wide enough to name
}

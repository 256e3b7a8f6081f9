// A run's timeline as one SVG picture, for a slide: what the GUI's Timeline tab shows, without
// the GUI. One lane per thread, grouped by process in the process tree's order (the sandbox's
// own host and reaper are left out), each labelled "process N (role) · thread NAME (tid T)";
// a time axis in milliseconds from the run's start; the locks a thread holds as named bands
// (green, yellow while another thread waits for the lock), its waits as red bars (a wait that
// never ended runs to the end of its thread, hatched, and says so), the locks a forked child was
// born holding as purple bands (hatched when nobody in the child can unlock them); arrows for
// each fork, spawn and exec, from the thread that made it to the first lane of what it made; the
// verdict as the title and its explanation under it. Every text from the program (thread, lock
// and process names) is escaped; hovering a bar shows the GUI's tooltip for it (<title>).
//
// For tests and tools each lane is `<g class="lane" data-pid=".." data-tid=".." ...>` inside a
// `<g class="process" data-pid="..">`.
#pragma once

#include "sim/record/record.hpp"

#include <string>

namespace forklore {

struct SvgTimelineOptions {
    int width = 1280; // pixels: readable on a 1280-wide slide; the height follows the lanes
};

std::string svg_timeline(const RunRecord& record, const SvgTimelineOptions& options = {});

} // namespace forklore

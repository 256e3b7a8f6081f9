// A run's timeline as one SVG picture (svg_timeline.hpp).
//
// Index of this file:
// [SECTION] Sizes, colours and text
// [SECTION] The view: time to x, and the axis
// [SECTION] Rows of rectangles
// [SECTION] Lanes and processes
// [SECTION] Arrows, legend, and the picture
#include "sim/export/svg_timeline.hpp"

#include "sim/export/export.hpp"
#include "sim/export/thread_spans.hpp"
#include "sim/export/xml_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace forklore {

namespace {

// [SECTION] Sizes, colours and text ----------------------------------------------------------

constexpr double kMargin = 16;
constexpr double kLabelWidth = 360; // the lane labels' column, left of the plot
constexpr double kRowHeight = 14;   // one row of a lane: a copy, a hold row or a wait row
constexpr double kBarHeight = 11;
constexpr double kLanePadding = 4;
constexpr double kLabelFont = 11, kBarFont = 9.5;
// An average character of DejaVu Sans (the widest of the fonts asked for) is about 0.55 of its
// size in the lowercase text of labels: enough to decide whether a label fits (a renderer's real
// widths differ a little; labels keep a margin).
constexpr double kCharWidth = 0.55;
constexpr const char* kFont = "DejaVu Sans, Arial, Helvetica, sans-serif";

// The GUI's vocabulary (and Tracy's): green held, yellow held while others wait, red waiting.
constexpr const char* kHeld = "#43a047";
constexpr const char* kHeldWithWaiters = "#f9a825";
constexpr const char* kWaiting = "#e53935";
constexpr const char* kRunning = "#64b5f6";
constexpr const char* kSleeping = "#b0bec5";
constexpr const char* kCopy = "#8e24aa";
constexpr const char* kStartArrow = "#1565c0";
constexpr const char* kExecArrow = "#6d4c41";
constexpr const char* kInk = "#263238";
constexpr const char* kFaint = "#78909c";
constexpr const char* kStuck = "#c62828";
// A white outline under text drawn over other things (an arrow's label crossing a bar).
constexpr const char* kHalo = " stroke=\"#ffffff\" stroke-width=\"3\" stroke-linejoin=\"round\" "
                              "paint-order=\"stroke\"";

std::size_t characters(std::string_view text) {
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

double text_width(std::string_view text, double font_size) {
    return static_cast<double>(characters(text)) * font_size * kCharWidth;
}

// `text` cut to at most `max_characters` characters, with an ellipsis when cut.
std::string cut(const std::string& text, std::size_t max_characters) {
    if (characters(text) <= max_characters || max_characters < 2)
        return text;
    std::size_t kept = 0, end = 0;
    while (end < text.size()) {
        std::size_t next = end + 1;
        while (next < text.size() && (static_cast<unsigned char>(text[next]) & 0xC0) == 0x80)
            ++next;
        if (++kept > max_characters - 1)
            break;
        end = next;
    }
    return text.substr(0, end) + "\u2026";
}

// Words of `text` into lines of at most `width` characters, at most `max_lines` of them (the
// last one ending in an ellipsis when text was left out).
std::vector<std::string> wrap(const std::string& text, std::size_t width, std::size_t max_lines) {
    std::vector<std::string> lines;
    std::string line, word;
    bool left_out = false;
    auto flush = [&] {
        if (word.empty() || left_out) {
            word.clear();
            return;
        }
        if (!line.empty() && characters(line) + 1 + characters(word) > width) {
            if (lines.size() + 1 == max_lines) {
                left_out = true; // the last line stays as it is, and ends in the ellipsis
                word.clear();
                return;
            }
            lines.push_back(std::move(line));
            line.clear();
        }
        line += (line.empty() ? "" : " ") + word;
        word.clear();
    };
    for (char c : text) {
        if (c == ' ' || c == '\n' || c == '\t')
            flush();
        else
            word += c;
    }
    flush();
    if (!line.empty())
        // Text left out: the last line ends in " …", or, when that does not fit, is cut to end
        // in "…" (the two spaces make cut() cut a line that would just fit).
        lines.push_back(!left_out                       ? cut(line, width)
                        : characters(line) + 2 <= width ? line + " \u2026"
                                                        : cut(line + "  ", width));
    return lines;
}

std::string number(double value) {
    return fmt::format("{:.1f}", value);
}

// [SECTION] The view: time to x, and the axis -------------------------------------------------

struct View {
    std::int64_t start_ns = 0, end_ns = 1;
    double left = 0, right = 1; // the plot's x range

    double x(std::int64_t t_ns) const {
        const double fraction =
            static_cast<double>(t_ns - start_ns) / static_cast<double>(end_ns - start_ns);
        return std::clamp(left + fraction * (right - left), left, right);
    }
};

// The program's story (sim/timeline: from its first process to its last event), and after it
// what followed: a hang's final waits, the verdict's proof. A tail no longer than the story is
// shown whole (the waits that never ended are the point of a deadlock's picture); a longer one
// (a timeout of seconds after a few milliseconds of activity) is cut to half the story's length,
// and a wait that goes on past the right edge is marked there.
View choose_view(const TimelineModel& model, double left, double right) {
    View view;
    view.left = left;
    view.right = right;
    view.start_ns = model.story_start_ns;
    const std::int64_t story = std::max<std::int64_t>(model.story_end_ns - model.story_start_ns, 0);
    view.end_ns = model.end_ns - model.story_end_ns <= story
                      ? model.end_ns
                      : model.story_end_ns + std::max<std::int64_t>(story / 2, 1);
    view.end_ns = std::max(view.end_ns, model.story_end_ns);
    if (view.end_ns - view.start_ns < 1000) // at least a microsecond
        view.end_ns = view.start_ns + 1000;
    return view;
}

// A step of 1, 2 or 5 times a power of ten giving about eight ticks.
double tick_step_ms(double span_ms) {
    const double raw = span_ms / 8;
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    for (double factor : {1.0, 2.0, 5.0})
        if (factor * power >= raw)
            return factor * power;
    return 10 * power;
}

std::string axis(const View& view, double y_axis, double y_bottom) {
    const double start_ms = static_cast<double>(view.start_ns) / 1e6;
    const double end_ms = static_cast<double>(view.end_ns) / 1e6;
    const double step = tick_step_ms(end_ms - start_ms);
    const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step))));
    std::string svg = "<g class=\"axis\">\n";
    svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"{}\">ms from the run's "
                       "start</text>\n",
                       kMargin, number(y_axis - 4), kFaint);
    for (double tick = std::ceil(start_ms / step) * step; tick <= end_ms + step * 1e-6;
         tick += step) {
        const double x = view.x(static_cast<std::int64_t>(std::llround(tick * 1e6)));
        svg += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#eceff1\"/>"
                           "<text x=\"{0}\" y=\"{3}\" font-size=\"10\" fill=\"{4}\" "
                           "text-anchor=\"middle\">{5:.{6}f}</text>\n",
                           number(x), number(y_axis), number(y_bottom), number(y_axis - 4), kFaint,
                           tick, decimals);
    }
    svg +=
        fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\"/>\n</g>\n",
                    number(view.left), number(y_axis), number(view.right), number(y_axis), kFaint);
    return svg;
}

// [SECTION] Rows of rectangles ----------------------------------------------------------------

// What one row draws, after neighbours too narrow to tell apart at this scale were merged.
struct Rect {
    double x0 = 0, x1 = 0;
    const char* fill = kWaiting;
    bool hatched = false;    // never ended (or a copy nobody can unlock)
    bool past_right = false; // goes on past the right edge
    std::string title;       // the tooltip
    std::string label;       // "holds file_lock (never ended)"; "" for none
    std::string short_label; // what is said when the label does not fit: "holds file_lock"
    double label_x1 = 0;     // where the labelled thing ends (a hold cut into segments)
    std::size_t begin_event = kNoTimelineEvent;
    // The time each colour covers, in pixels, once narrow neighbours were merged into it.
    std::vector<std::pair<const char*, double>> covered;
};

// Adds `rect` to a row, or widens the last one with it when it is too narrow to tell apart
// (thousands of short holds within a few pixels are one rectangle, not thousands). A widened
// rectangle takes the colour that covered most of it, as the GUI colours a pixel column.
void add_rect(std::vector<Rect>& rects, Rect rect) {
    const double width = rect.x1 - rect.x0;
    rect.x1 = std::max(rect.x1, rect.x0 + 1); // a hold of a microsecond still shows
    rect.label_x1 = std::max(rect.label_x1, rect.x1);
    rect.covered = {{rect.fill, width}};
    // Into a wide one only of its own colour: a short hold after a long wait stays visible.
    if (width < 2 && !rects.empty() && rect.x0 <= rects.back().x1 + 0.75 &&
        (rects.back().fill == rect.fill || rects.back().x1 - rects.back().x0 < 8)) {
        Rect& last = rects.back();
        last.x1 = std::max(last.x1, rect.x1);
        last.past_right = last.past_right || rect.past_right;
        last.hatched = last.hatched || rect.hatched;
        auto known = std::find_if(last.covered.begin(), last.covered.end(),
                                  [&](const auto& entry) { return entry.first == rect.fill; });
        if (known == last.covered.end())
            last.covered.emplace_back(rect.fill, width);
        else
            known->second += width;
        last.fill =
            std::max_element(last.covered.begin(), last.covered.end(),
                             [](const auto& a, const auto& b) { return a.second < b.second; })
                ->first;
        if (last.begin_event != rect.begin_event &&
            last.title.find("(and more") == std::string::npos)
            last.title += "\n(and more, too close together to tell apart here)";
        return;
    }
    rects.push_back(std::move(rect));
}

const char* bar_fill(const TimelineBar& bar) {
    switch (bar.kind) {
    case BarKind::running:
        return kRunning;
    case BarKind::sleeping:
        return kSleeping;
    case BarKind::held:
        return kHeld;
    case BarKind::held_with_waiters:
        return kHeldWithWaiters;
    case BarKind::waiting:
        return kWaiting;
    }
    return kWaiting;
}

// Dark text on light fills, white on dark ones.
const char* ink_on(const char* fill) {
    return fill == kHeldWithWaiters || fill == kRunning || fill == kSleeping ? kInk : "#ffffff";
}

std::vector<Rect> row_rects(const TimelineModel& model, const RunRecord& record,
                            const TimelineRow& row, const View& view) {
    std::vector<Rect> rects;
    for (std::size_t i = 0; i < row.bars.size(); ++i) {
        const TimelineBar& bar = row.bars[i];
        if (bar.end_ns < view.start_ns || bar.start_ns > view.end_ns)
            continue;
        Rect rect;
        rect.x0 = view.x(bar.start_ns);
        rect.x1 = view.x(bar.end_ns);
        rect.fill = bar_fill(bar);
        const bool hold = bar.kind == BarKind::held || bar.kind == BarKind::held_with_waiters;
        rect.hatched = bar.open() && !hold;
        rect.past_right = bar.end_ns > view.end_ns;
        rect.title = describe_bar(model, record, bar);
        rect.begin_event = bar.begin_event;
        // A hold cut into segments is labelled once, over all of them.
        const bool continues_hold = hold && i > 0 &&
                                    row.bars[i - 1].begin_event == bar.begin_event &&
                                    bar.begin_event != kNoTimelineEvent;
        if (!continues_hold) {
            rect.short_label = bar_name(model, record, bar);
            rect.label = rect.short_label + (rect.hatched ? " (never ended)" : "");
            std::int64_t end = bar.end_ns;
            for (std::size_t j = i + 1;
                 hold && j < row.bars.size() && row.bars[j].begin_event == bar.begin_event; ++j)
                end = row.bars[j].end_ns;
            rect.label_x1 = view.x(end);
        }
        add_rect(rects, std::move(rect));
    }
    return rects;
}

std::vector<Rect> copy_rects(const TimelineModel& model, const RunRecord& record,
                             const CopyBand& band, const View& view) {
    std::vector<Rect> rects;
    if (band.end_ns < view.start_ns || band.start_ns > view.end_ns)
        return rects;
    Rect rect;
    rect.x0 = view.x(band.start_ns);
    rect.x1 = view.x(band.end_ns);
    rect.fill = kCopy;
    rect.hatched = band.lock.orphaned;
    rect.past_right = band.end_ns > view.end_ns;
    rect.title = describe_copy(model, record, band);
    rect.label = "copy of " + copy_band_label(band);
    rect.short_label =
        "copy of " +
        (band.lock.name.empty() ? fmt::format("{:#x}", band.lock.address) : band.lock.name);
    add_rect(rects, std::move(rect));
    return rects;
}

std::string draw_row(const std::vector<Rect>& rects, double y, const View& view) {
    std::string svg;
    for (const Rect& rect : rects) {
        svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\">"
                           "<title>{}</title></rect>\n",
                           number(rect.x0), number(y), number(rect.x1 - rect.x0),
                           number(kBarHeight), rect.fill, xml_escape(rect.title));
        if (rect.hatched)
            svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" "
                               "fill=\"url(#never-ended)\" pointer-events=\"none\"/>\n",
                               number(rect.x0), number(y), number(rect.x1 - rect.x0),
                               number(kBarHeight));
        if (rect.past_right)
            svg += fmt::format("<path d=\"M{0},{1}l6,{2}l-6,{2}z\" fill=\"{3}\"><title>goes on "
                               "past the right edge</title></path>\n",
                               number(rect.x1 + 1), number(y), number(kBarHeight / 2), rect.fill);
    }
    // Labels inside their bar when they fit (the long form, else the short one), else just right
    // of it when the row is free there.
    for (std::size_t i = 0; i < rects.size(); ++i) {
        const Rect& rect = rects[i];
        const double text_y = y + kBarHeight - 2.5;
        const double inside = rect.label_x1 - rect.x0;
        const double outside =
            (i + 1 < rects.size() ? rects[i + 1].x0 : view.right) - rect.label_x1 - 4;
        for (const std::string* label : {&rect.label, &rect.short_label}) {
            const double width = text_width(*label, kBarFont) + 6;
            if (label->empty())
                continue;
            if (inside >= width) {
                svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{}\" "
                                   "pointer-events=\"none\">{}</text>\n",
                                   number(rect.x0 + 3), number(text_y), kBarFont, ink_on(rect.fill),
                                   xml_escape(*label));
                break;
            }
            if (!rect.past_right && outside >= width) {
                svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{}\"{} "
                                   "pointer-events=\"none\">{}</text>\n",
                                   number(rect.label_x1 + 3), number(text_y), kBarFont, kInk, kHalo,
                                   xml_escape(*label));
                break;
            }
        }
    }
    return svg;
}

// [SECTION] Lanes and processes ---------------------------------------------------------------

std::size_t row_count(const TimelineLane& lane) {
    return std::max<std::size_t>(1, lane.copies.size() + lane.hold_rows.size() + lane.rows.size());
}

double lane_height(const TimelineLane& lane) {
    return static_cast<double>(row_count(lane)) * kRowHeight + 2 * kLanePadding;
}

std::string draw_lane(const TimelineModel& model, const RunRecord& record, const TimelineLane& lane,
                      double top, const View& view) {
    const double height = lane_height(lane);
    const bool stuck = lane.verdict == LaneVerdict::stuck;
    std::string svg = fmt::format(
        "<g class=\"lane\" data-pid=\"{}\" data-tid=\"{}\" data-thread=\"{}\" data-stuck=\"{}\" "
        "data-label=\"{}\">\n",
        lane.pid, lane.tid, xml_escape(lane.name), stuck ? "true" : "false",
        xml_escape(lane_label(model, lane)));
    // The label column: the whole label on hover, as much as fits on screen.
    const double badge = stuck ? 44 : 0;
    const auto fits = static_cast<std::size_t>((kLabelWidth - badge) / (kLabelFont * kCharWidth));
    const double text_y = top + kLanePadding + kRowHeight / 2 + kLabelFont / 2 - 1.5;
    svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{}\">{}<title>{}</title>"
                       "</text>\n",
                       kMargin, number(text_y), kLabelFont, stuck ? kStuck : kInk,
                       xml_escape(cut(lane_label(model, lane), fits)),
                       xml_escape(describe_lane(lane)));
    if (stuck)
        svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"{}\" font-weight=\"bold\" "
                           "fill=\"{}\" text-anchor=\"end\">STUCK</text>\n",
                           number(view.left - 8), number(text_y), kLabelFont, kStuck);
    // The thread's life: it existed from here to there, whatever it did.
    const double middle = top + height / 2;
    if (lane.end_ns >= view.start_ns && lane.start_ns <= view.end_ns)
        svg += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#cfd8dc\" "
                           "stroke-width=\"1\"/>\n",
                           number(view.x(lane.start_ns)), number(middle),
                           number(view.x(lane.end_ns)), number(middle));
    double y = top + kLanePadding + (kRowHeight - kBarHeight) / 2;
    for (const CopyBand& band : lane.copies) {
        svg += draw_row(copy_rects(model, record, band, view), y, view);
        y += kRowHeight;
    }
    for (const TimelineRow& row : lane.hold_rows) {
        svg += draw_row(row_rects(model, record, row, view), y, view);
        y += kRowHeight;
    }
    for (const TimelineRow& row : lane.rows) {
        svg += draw_row(row_rects(model, record, row, view), y, view);
        y += kRowHeight;
    }
    return svg + "</g>\n";
}

// [SECTION] Arrows, legend, and the picture -------------------------------------------------

struct LanePlace {
    double top = 0, height = 0;
};

std::string draw_arrows(const TimelineModel& model, const std::vector<LanePlace>& places,
                        const View& view) {
    std::string svg = "<g class=\"arrows\">\n";
    for (const TimelineArrow& arrow : model.arrows) {
        if (arrow.kind == ArrowKind::exit || arrow.from_lane >= places.size() ||
            arrow.to_lane >= places.size())
            continue;
        if (arrow.from_ns > view.end_ns || arrow.to_ns < view.start_ns)
            continue;
        const bool start = arrow.kind == ArrowKind::start;
        const char* colour = start ? kStartArrow : kExecArrow;
        const LanePlace& from = places[arrow.from_lane];
        const LanePlace& to = places[arrow.to_lane];
        const double x1 = view.x(arrow.from_ns), x2 = view.x(arrow.to_ns);
        const double y1 = from.top + from.height / 2;
        // Down to the top of the child's lane, or up to its bottom (an exec on a lane above).
        const double y2 = arrow.to_lane == arrow.from_lane ? from.top + from.height
                          : to.top >= from.top             ? to.top + 2
                                                           : to.top + to.height - 2;
        std::string label = arrow.label;
        if (!arrow.copies.empty())
            label += " \u2014 " + copies_label(arrow);
        svg += fmt::format(
            "<g class=\"arrow\" data-kind=\"{}\"><title>{}</title>\n"
            "<path d=\"M{},{} L{},{}\" stroke=\"{}\" stroke-width=\"1.5\" fill=\"none\" "
            "marker-end=\"url(#arrow-{})\"/>\n"
            "<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{}\"{}>{}</text></g>\n",
            start ? "start" : "exec", xml_escape(label), number(x1), number(y1), number(x2),
            number(y2), colour, start ? "start" : "exec", number(std::max(x1, x2) + 4),
            number((y1 + y2) / 2 + 3), kBarFont, colour, kHalo, xml_escape(cut(label, 70)));
    }
    return svg + "</g>\n";
}

std::string legend(double y) {
    struct Entry {
        const char* fill;
        bool hatched;
        const char* text;
    };
    const Entry entries[] = {
        {kHeld, false, "holds a lock"},
        {kHeldWithWaiters, false, "holds it while others wait"},
        {kWaiting, false, "waits"},
        {kWaiting, true, "waits and never gets it"},
        {kCopy, true, "a lock fork() copied, nobody can unlock"},
        {kRunning, false, "runs (kernel samples)"},
    };
    std::string svg = "<g class=\"legend\">\n";
    double x = kMargin;
    for (const Entry& entry : entries) {
        svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"18\" height=\"{}\" fill=\"{}\"/>",
                           number(x), number(y), number(kBarHeight), entry.fill);
        if (entry.hatched)
            svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"18\" height=\"{}\" "
                               "fill=\"url(#never-ended)\"/>",
                               number(x), number(y), number(kBarHeight));
        svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"{}\">{}</text>\n",
                           number(x + 23), number(y + 9), kInk, entry.text);
        x += 23 + text_width(entry.text, 10) + 18;
    }
    svg += fmt::format("<path d=\"M{0},{1} L{2},{1}\" stroke=\"{3}\" stroke-width=\"1.5\" "
                       "marker-end=\"url(#arrow-start)\"/><text x=\"{4}\" y=\"{5}\" "
                       "font-size=\"10\" fill=\"{6}\">fork, spawn, exec</text>\n",
                       number(x), number(y + 5), number(x + 22), kStartArrow, number(x + 28),
                       number(y + 9), kInk);
    return svg + "</g>\n";
}

std::string definitions() {
    std::string svg = "<defs>\n"
                      "<pattern id=\"never-ended\" width=\"6\" height=\"6\" "
                      "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
                      "<rect width=\"2.5\" height=\"6\" fill=\"#000000\" fill-opacity=\"0.3\"/>"
                      "</pattern>\n";
    const std::pair<const char*, const char*> arrows[] = {{"start", kStartArrow},
                                                          {"exec", kExecArrow}};
    for (const auto& [id, colour] : arrows)
        svg += fmt::format("<marker id=\"arrow-{}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" "
                           "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">"
                           "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"{}\"/></marker>\n",
                           id, colour);
    return svg + "</defs>\n";
}

} // namespace

std::string svg_timeline(const RunRecord& record, const SvgTimelineOptions& options) {
    const TimelineModel model = export_timeline(record);
    const double width = std::max(options.width, 640);
    const View view = choose_view(model, kMargin + kLabelWidth + 12, width - kMargin - 8);

    // The header: the verdict, then its explanation.
    std::string header = fmt::format(
        "<text x=\"{}\" y=\"28\" font-size=\"18\" font-weight=\"bold\" fill=\"{}\">{}</text>\n",
        kMargin, record.verdict.kind == VerdictKind::completed ? kInk : kStuck,
        xml_escape(cut(fmt::format("{}: {}", run_name(record), verdict_label(record.verdict)),
                       static_cast<std::size_t>((width - 2 * kMargin) / (18 * kCharWidth)))));
    double y = 28;
    const auto line_characters = static_cast<std::size_t>((width - 2 * kMargin) / (12 * 0.55));
    for (const std::string& line : wrap(record.verdict.explanation, line_characters, 4)) {
        y += 17;
        header += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"{}\">{}</text>\n",
                              kMargin, number(y), kInk, xml_escape(line));
    }
    const double axis_y = y + 30;

    std::vector<LanePlace> places(model.lanes.size());
    double top = axis_y + 6;
    std::string lanes;
    for (std::size_t g = 0; g < model.groups.size(); ++g) {
        const TimelineGroup& group = model.groups[g];
        double group_height = 0;
        for (std::size_t l = group.first_lane;
             l < group.first_lane + group.lane_count && l < model.lanes.size(); ++l)
            group_height += lane_height(model.lanes[l]);
        lanes += fmt::format("<g class=\"process\" data-pid=\"{}\">\n<rect x=\"0\" y=\"{}\" "
                             "width=\"{}\" height=\"{}\" fill=\"{}\"/>\n<line x1=\"0\" y1=\"{}\" "
                             "x2=\"{}\" y2=\"{}\" stroke=\"#cfd8dc\"/>\n",
                             group.pid, number(top), number(width), number(group_height),
                             g % 2 == 0 ? "#f5f7fa" : "#ffffff", number(top), number(width),
                             number(top));
        for (std::size_t l = group.first_lane;
             l < group.first_lane + group.lane_count && l < model.lanes.size(); ++l) {
            places[l] = {top, lane_height(model.lanes[l])};
            lanes += draw_lane(model, record, model.lanes[l], top, view);
            top += places[l].height;
        }
        lanes += "</g>\n";
    }
    if (model.lanes.empty()) {
        lanes += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"{}\">The record "
                             "holds no thread of the program.</text>\n",
                             kMargin, number(top + 16), kFaint);
        top += 24;
    }
    const double height = top + 44;

    std::string svg =
        fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
                    "viewBox=\"0 0 {0} {1}\" font-family=\"{2}\">\n"
                    "<title>{3}</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n",
                    number(width), number(height), kFont,
                    xml_escape(fmt::format("forklore: {}: {}", run_name(record),
                                           verdict_label(record.verdict))));
    svg += definitions() + header + axis(view, axis_y, top) + lanes +
           draw_arrows(model, places, view) + legend(top + 18) + "</svg>\n";
    return svg;
}

} // namespace forklore

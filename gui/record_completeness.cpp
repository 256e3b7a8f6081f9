#include "gui/record_completeness.hpp"

#include <fmt/format.h>

namespace forklore::gui {

std::string describe_incomplete_record(const RunRecord& record) {
    // The count is the writer's ("event_count"); events dropped by a full ring were never in it
    // (describe_lost_events says those).
    if (!record.declared_events || *record.declared_events == record.events.size())
        return {};
    const std::uint64_t declared = *record.declared_events;
    if (record.events.size() > declared)
        return fmt::format("This record holds {} events but says it was saved with {}: it was "
                           "edited, and what the panels show may not be the run's.",
                           record.events.size(), declared);
    return fmt::format("This record holds {} of the {} events it was saved with: the file was "
                       "cut short. The timeline and the event log show only what is left, and "
                       "the verdict is the one saved with the whole run: its wait-for graph is "
                       "not drawn over a trace that lacks it.",
                       record.events.size(), declared);
}

} // namespace forklore::gui

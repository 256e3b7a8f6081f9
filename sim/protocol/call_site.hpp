// Where a probe was called: the file and line of the scenario code that called it, so that the
// GUI can show the code beside the timeline.
//
// Every probe entry point takes a CallSite as its last parameter, defaulted: the default is
// built at the caller's line (std::source_location::current() in a default argument names the
// call), and everything in it is computed by the compiler, so a probe pays nothing to know it.
// The path is relative to the source tree: the build maps the tree's prefix away
// (-fmacro-prefix-map, which g++ applies to source_location), so records are the same from any
// clone. A probe that calls another passes its own CallSite on, so the line recorded is always
// the scenario's, never the probe's.
//
// Which line of a call that spans several: g++ 12 names the first line of a function call, but
// the last line of an object's construction (a probe::Thread made with its body written inline
// is recorded at the body's closing `});`).
#pragma once

#include "sim/protocol/events.hpp"

#include <cstdint>
#include <source_location>

namespace forklore {

struct CallSite {
    const char* path = nullptr; // relative to the source tree; null when unknown
    std::uint32_t file = 0;     // source_file_id(path), 0 when unknown
    std::uint32_t line = 0;

    // The caller's file and line (as a defaulted parameter: the call's).
    consteval CallSite(std::source_location where = std::source_location::current()) noexcept
        : path(where.file_name()), file(source_file_id(where.file_name())), line(where.line()) {}

    // No location: events the engine records on its own (a process's start, the reaper's exits).
    static constexpr CallSite unknown() noexcept { return CallSite(Unknown{}); }
    bool known() const noexcept { return file != 0; }

  private:
    struct Unknown {};
    constexpr explicit CallSite(Unknown) noexcept {}
};

} // namespace forklore

// What a runner leaves when it is killed (its cgroups, its working directory) carries its pid in
// the name: "forklore-<pid>-<n>", "/tmp/forklore-run-<pid>-XXXXXX". A later runner removes the
// leftovers of runners that are gone.
#pragma once

#include <sys/types.h>

#include <string_view>

namespace forklore {

// The runner's pid in `name` ("<prefix><pid>-..."); 0 when the name is not of that form.
pid_t runner_in_name(std::string_view name, std::string_view prefix);

// Whether the runner `pid` has exited (and is not this process): its leftovers may go.
bool runner_is_gone(pid_t pid);

} // namespace forklore

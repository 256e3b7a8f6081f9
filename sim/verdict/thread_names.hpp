// The names the verdict's sentences give threads. A thread's name is its comm, which the probes
// set ("reader") or a program sets itself (pthread_setname_np, prctl). A program nobody
// instrumented often never names its threads: then every one of them has the program's name
// (all 'python3'), which tells a student nothing. Such a thread is called "main" when its tid is
// its process's pid and "thread N" otherwise, the names the Timeline gives its lanes.
#pragma once

#include "sim/observe/snapshot.hpp"
#include "sim/observe/stacks.hpp"

#include <string>

namespace forklore {

// True when the thread's comm is only its program's name (the basename of its executable or of
// the command's first word, as the kernel keeps it: 15 characters).
bool has_program_name_only(const ProcessSnapshot& process, const ThreadSnapshot& thread);

// The thread's name for a sentence: its comm, or "main" / "thread N" (namespace tid) when the comm
// is only the program's name.
std::string readable_thread_name(const ProcessSnapshot& process, const ThreadSnapshot& thread);

// The snapshot with every scenario thread's name made readable (the sandbox's own processes and
// the kernel's facts other than the names are unchanged).
Snapshot with_readable_thread_names(Snapshot snapshot);

// The snapshot with each thread of a CPython process whose comm is only the program's name
// named by its threading name, where a stack read it ("printer", "MainThread"): CPython 3.11
// never gives a thread's name to the kernel, so every comm is 'python3'. Others unchanged.
Snapshot with_python_thread_names(Snapshot snapshot, const std::vector<ThreadStack>& stacks);

// The same from a list of host tid -> threading name (add_python_stacks gives it for every thread
// of a CPython process, the live ones whose stacks were not taken too).
Snapshot with_python_thread_names(Snapshot snapshot, const ThreadNameList& names);

} // namespace forklore

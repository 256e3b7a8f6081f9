// Internal to the verdict engine: the real names of locks a student never created, read from what
// a stack shows. glibc's own locks (the stdio lock of a FILE, malloc's, the loader's, the time
// zone's...) are bare lock words with no owner and no name in memory; the glibc function on the
// stack that took one says which it is. A Python lock is a semaphore underneath; the Python frame
// that waits says which kind of object it belongs to when that frame is one of the standard
// library's own (importlib's _ModuleLock, threading's Condition).
#pragma once

#include "sim/observe/python_frames.hpp"
#include "sim/observe/stacks.hpp"

#include <string>
#include <string_view>

namespace forklore {

// The glibc lock that `function`, a glibc function on the stack just above the wait, takes, as a
// student should read it ("the time-zone lock tzset_lock"); "" when the function is not known.
// Names and behaviour are glibc 2.36's (x86_64); the sentence names the version where it matters.
std::string glibc_lock_taken_by(std::string_view function);

// The Python object whose lock a thread waits on, from its innermost Python frame, when the frame
// is one that only ever waits on one kind of lock ("an import lock (importlib's _ModuleLock...)");
// "" otherwise: a user's `with lock:` may be a Lock or an RLock, and the frame cannot tell.
std::string python_lock_named_by_frame(const PythonFrame& innermost);

// How a Python process came to be, when its own frames show it: a child of multiprocessing's
// fork start method still runs under Popen._launch (popen_fork.py), right below the os.fork() that
// made it; a fork server's child under _serve_one (forkserver.py). "a copy made by os.fork() in
// multiprocessing's fork start method (popen_fork.py:71 in Popen._launch(), started at
// app.py:79 in <module>())"; "" when the frames do not say (a bare os.fork() leaves no frame).
std::string python_fork_origin(const PythonStack& python);

} // namespace forklore

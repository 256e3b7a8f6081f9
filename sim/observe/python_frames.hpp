// Python stacks of a CPython process, read from outside, the way py-spy reads them.
//
// Why from outside: forklore takes these at the moment it has proven a hang, and nothing it does
// then may change what it proves. The interpreter's state (runtime -> interpreters -> thread
// states -> frames -> code objects) is read with process_vm_readv: no signal is sent (a
// faulthandler dump on a signal would run code in a process whose locks may be the very ones
// that hang), no code is injected, the process is not even stopped. A read that races a running
// thread can only give a wrong or missing frame, which the reader bounds and checks; it can never
// make the process wait.
//
// The struct offsets come from the installed CPython headers (python_offsets.c, offsetof()), so
// the reader knows exactly one version: the one this machine's headers describe (Debian's 3.11.2
// here). Any other interpreter is refused with a sentence saying so.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace forklore {

struct PythonFrame {
    std::string file;     // co_filename, as the interpreter has it
    std::string function; // co_qualname ("Printer.run"), else co_name
    int line = 0;         // of the instruction the frame is at; 0 when the code has no line there
};

// What the interpreter says about one thread. Valid for the moment it was read.
struct PythonThread {
    std::uint64_t ident = 0;         // threading.get_ident(): pthread_self() of the thread
    pid_t native_tid = 0;            // gettid() in the process's PID namespace
    std::string name;                // its threading.Thread's name, "" when threading has none
    std::vector<PythonFrame> frames; // innermost first
};

// A lock whose object the interpreter can name (sys.stderr's buffer, a module's import lock, a
// threading.Lock or RLock in a module's globals or a logging handler), found in memory
// (python_known_locks.cpp).
struct PythonKnownLock {
    std::uint64_t futex = 0; // the address a thread waiting for it waits on
    std::string object;      // "the threading.RLock registry_lock (a global of module __main__)"
    std::uint64_t owner_ident = 0; // the ident the object records as its holder, 0 when none
};

struct PythonProcess {
    bool interpreter = false; // its executable is a CPython interpreter (has _PyRuntime)
    std::string version;      // "3.11.2", from the process's own Py_Version
    std::string error;        // why nothing could be read; empty when it was
    std::vector<PythonThread> threads;
    std::vector<PythonKnownLock> locks; // whose futex one of the `waited` addresses is
    std::vector<std::pair<std::uint64_t, std::string>>
        thread_names; // ident -> threading name,
                      // finished threads included (threading._dangling)

    const PythonThread* thread_with_tid(pid_t native_tid) const;
    std::string name_of_ident(std::uint64_t ident) const; // "" when unknown
};

// True when this forklore was built with CPython's headers (python_offsets.c compiled).
bool python_frames_available();

// Reads the interpreter of host process `pid`. `waited` are the futex addresses its threads wait
// on: those that belong to a known object's lock are named in `locks`. A process that is not a
// CPython of the supported version gives an `error` and nothing else.
PythonProcess read_python_process(pid_t pid, const std::vector<std::uint64_t>& waited);

// The pure part: the line an instruction of a code object is at, from its co_linetable in
// CPython 3.11's location-table format (Objects/locations.md): entries of one header byte (bit 7
// set; bits 3-6 a code, bits 0-2 the entry's length in code units minus one) followed by varints.
// Codes 0-9 and 10-12 move the line by 0 and code-10, 13 and 14 by a signed varint, 15 means "no
// line". std::nullopt when `instruction` (an index in code units) is past the table or has no
// line.
std::optional<int> python_line_of_instruction(std::string_view linetable, int first_line,
                                              std::int64_t instruction);

// UTF-8 of a string of `length` code points of `kind` bytes each (1, 2 or 4: a compact
// PyUnicodeObject's data).
std::string python_text_as_utf8(std::string_view data, unsigned kind, std::size_t length);

} // namespace forklore

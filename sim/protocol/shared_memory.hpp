// A new memfd of `size` bytes, mapped MAP_SHARED: the memory the event channel and the schedule
// board share with the sandbox (forked children inherit the mapping, exec'd ones map the fd).
#pragma once

#include <cstddef>

namespace forklore {

struct SharedMemory {
    int fd = -1;         // close-on-exec; dup2 it into a child that must attach
    void* mem = nullptr; // zero-filled, as a fresh memfd is
};

// Throws std::system_error naming `what` ("event channel") when it cannot be made; leaks nothing.
SharedMemory create_shared_memory(const char* name, std::size_t size, const char* what);

} // namespace forklore

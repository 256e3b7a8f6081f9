#include "sim/protocol/shared_memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace forklore {

SharedMemory create_shared_memory(const char* name, std::size_t size, const char* what) {
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0)
        throw std::system_error(errno, std::generic_category(), "memfd_create");
    if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
        int err = errno;
        close(fd);
        throw std::system_error(err, std::generic_category(), std::string("ftruncate ") + what);
    }
    void* mem = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mem == MAP_FAILED) {
        int err = errno;
        close(fd);
        throw std::system_error(err, std::generic_category(), std::string("mmap ") + what);
    }
    return {fd, mem};
}

} // namespace forklore

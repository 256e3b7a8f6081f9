#include "sim/protocol/wait_status.hpp"

#include <sys/wait.h>

#include <cstring>

#include <fmt/format.h>

namespace forklore {

std::string signal_name(int signal) {
    const char* abbreviation = sigabbrev_np(signal);
    if (abbreviation)
        return fmt::format("SIG{}", abbreviation);
    return fmt::format("signal {}", signal);
}

bool WaitStatus::exited() const {
    return known() && WIFEXITED(raw_);
}

int WaitStatus::exit_code() const {
    return exited() ? WEXITSTATUS(raw_) : -1;
}

bool WaitStatus::killed() const {
    return known() && WIFSIGNALED(raw_);
}

int WaitStatus::fatal_signal() const {
    return killed() ? WTERMSIG(raw_) : 0;
}

std::string WaitStatus::text() const {
    if (!known())
        return "unknown";
    if (WIFEXITED(raw_))
        return fmt::format("exited with code {}", WEXITSTATUS(raw_));
    if (WIFSIGNALED(raw_))
        return fmt::format("killed by {}", signal_name(WTERMSIG(raw_)));
    if (WIFSTOPPED(raw_))
        return fmt::format("stopped by {}", signal_name(WSTOPSIG(raw_)));
    return fmt::format("ended with wait status {:#x}", raw_);
}

} // namespace forklore

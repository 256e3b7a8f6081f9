// How a process ended, as waitpid(2) reports it: one type instead of raw ints decoded by hand.
//
// The raw status still travels where the kernel's format is the contract (the channel's
// process_exit events, the run record's JSON); everything that asks a question of it asks a
// WaitStatus.
#pragma once

#include <string>

namespace forklore {

// A signal's name: "SIGSEGV"; "signal 40" for one without a name (real-time signals).
std::string signal_name(int signal);

class WaitStatus {
  public:
    // Unknown: never reaped, or the status could not be read (a lost fork-server answer).
    WaitStatus() = default;
    // A status as waitpid(2) filled it in; -1 stays unknown.
    static WaitStatus from_raw(int raw) { return WaitStatus(raw); }

    bool known() const { return raw_ != kUnknown; }
    bool exited() const;
    // Exited with code 0: the one ending a parent treats as success.
    bool exited_ok() const { return exited() && exit_code() == 0; }
    // The exit code when exited(), else -1.
    int exit_code() const;
    bool killed() const;
    // The signal that killed it, else 0.
    int fatal_signal() const;
    // What waitpid filled in (-1 when unknown).
    int raw() const { return raw_; }
    // "exited with code 3", "killed by SIGSEGV", "stopped by SIGSTOP", "unknown".
    std::string text() const;

    friend bool operator==(WaitStatus a, WaitStatus b) { return a.raw_ == b.raw_; }

  private:
    static constexpr int kUnknown = -1;
    explicit WaitStatus(int raw) : raw_(raw) {}
    int raw_ = kUnknown;
};

} // namespace forklore

// Starting a child process by a start method, and waiting for it.
//
// The child runs one of the current scenario's named child functions with explicit arguments.
// With `fork` it is called directly in the forked copy of the caller (the copy has every lock
// in the state it had); `fork_exec` and `spawn` start the host executable afresh, which looks
// the function up by name; `forkserver` asks a server forked earlier, while the scenario was
// still single-threaded, to fork a clean copy of itself.
#pragma once

#include "sim/protocol/call_site.hpp"
#include "sim/protocol/start_method.hpp"
#include "sim/protocol/wait_status.hpp"
#include "sim/scenario/scenario.hpp"

#include <sys/types.h>

#include <string>

namespace forklore::probe {

// What the host tells the probes before the scenario body starts.
struct LaunchContext {
    std::string host_path; // the host executable, resolved before any thread exists
    const Scenario* scenario = nullptr;
    int channel_fd = -1; // inherited (not close-on-exec) by exec'd children
    int board_fd = -1;   // a stepped run's schedule board, inherited likewise; -1: not stepped
};
void set_launch_context(LaunchContext context);
const LaunchContext& launch_context();

// A child process started by start_child. Move-only; wait() before it goes out of scope.
class Child {
  public:
    Child() = default;
    Child(pid_t pid, StartMethod method, int status_fd = -1)
        : pid_(pid), method_(method), status_fd_(status_fd) {}
    Child(Child&& other) noexcept;
    Child& operator=(Child&& other) noexcept;
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child();

    pid_t pid() const { return pid_; }
    StartMethod method() const { return method_; }
    bool valid() const { return pid_ > 0; }

    // Blocks until the child ends and says how it ended (unknown when it cannot be known: a
    // second wait, or a fork server that died before it answered). Records a process_exit event.
    WaitStatus wait(CallSite site = {});
    // Sends a signal and records signal_sent, so the death it causes is known to be meant.
    void kill(int signal, CallSite site = {});

  private:
    pid_t pid_ = -1;
    StartMethod method_ = StartMethod::fork;
    int status_fd_ = -1; // forkserver children: the server reports the status here
    bool waited_ = false;
};

// Starts `function` of the current scenario in a new process made by `method`.
// Throws std::runtime_error when the process cannot be made (or, for forkserver, when no
// server was started).
// The child_start event (and a fork_exec child's exec) carry the line of this call.
Child start_child(StartMethod method, const std::string& function, const ChildArgs& args = {},
                  CallSite site = {});

// Runs a child function in this process (the entry of fork_exec and spawn children, and of
// forked ones): records process_start, calls it, flushes stdio, returns its exit code.
int run_child_function(const std::string& function, const ChildArgs& args, StartMethod method);

// The forkserver. start_forkserver() must be called while the process is single-threaded;
// the host calls it before the body when a start-method knob is set to forkserver.
void start_forkserver();
bool forkserver_running();
// The server records the child's child_start at `site` (the scenario's start_child call).
Child forkserver_request(const std::string& function, const ChildArgs& args, CallSite site = {});

} // namespace forklore::probe

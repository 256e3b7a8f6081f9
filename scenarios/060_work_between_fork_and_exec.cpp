// 060 work-between-fork-and-exec — fork + exec is safe only if the child does (almost) nothing
// in between.
//
// What it shows: the usual advice is "if you must fork from a threaded program, exec at once".
// The reason is the gap between fork() and exec(): the child is a copy of the threaded parent
// with every lock in the state it had, and POSIX allows it only async-signal-safe calls until it
// execs. Here a printer thread is in the middle of a log line (it holds the application logger's
// mutex and, inside it, stderr's FILE lock) at the instant the main thread forks. The child
// then does one step and execs the host, whose fresh program logs a line:
//   - nothing: execv straight away (what start_child(fork_exec) does) -> the new program runs;
//   - logger: "one last log line before exec" through the application's logger -> the child
//     waits for the logger's mutex for ever and never reaches exec;
//   - stdio: fprintf(stderr) before exec -> works, because glibc resets its own stdio locks in
//     the child of fork. Not a licence: it is glibc repairing its own lock, not yours.
//
// What to look for: in `log_before_exec` the child's main thread waits on `logger`, owned by
// the parent's `printer`, and there is no exec event. In the other two the child records an
// exec event and the new program's "after exec" line appears.
//
// Variants: exec_at_once, log_before_exec (hangs), stdio_before_exec.
#include "sim/probe/probe.hpp"
#include "sim/probe/start.hpp"
#include "sim/scenario/scenario.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

using namespace forklore;

// The application's logging library: one mutex around each line.
probe::Logger g_logger{"logger"};

// The exec'd program's command line, built by the parent BEFORE fork: building it in the child
// would allocate, which is not async-signal-safe. Static storage: the child has the same copy.
// The shape is the host's `child` command, as sim/probe/start.cpp builds it for fork_exec.
std::vector<std::string> g_exec_strings;
std::vector<char*> g_exec_argv;

void prepare_exec_argv(const std::string& function) {
    const probe::LaunchContext& launch = probe::launch_context();
    g_exec_strings = {launch.host_path, "child",
                      "--scenario",     launch.scenario->id,
                      "--function",     function,
                      "--method",       "fork_exec",
                      "--channel-fd",   std::to_string(launch.channel_fd)};
    g_exec_argv.clear();
    for (auto& s : g_exec_strings)
        g_exec_argv.push_back(s.data());
    g_exec_argv.push_back(nullptr);
}

// --- The program the child execs: a fresh copy of the host, with a fresh logger ------------

int after_exec(const ChildArgs&) {
    g_logger.write("after exec: a fresh program, whose logger nobody holds");
    return 0;
}

// --- The forked child: one step, then exec ---------------------------------------------------

int step_then_exec(const ChildArgs& args) {
    const std::string& step = args.at("step");
    if (step == "logger") {
        g_logger.write(
            "child: one last log line before exec"); // SYNC: the logger's mutex, copied locked
    } else if (step == "stdio") {
        probe::print(
            stderr,
            "child: one last fprintf before exec"); // SYNC: stderr's FILE lock, reset by glibc
    }
    // From here only async-signal-safe calls: record() is, execv is.
    probe::record(EventKind::exec, 0, 0, 0, "forklore-host");
    execv(g_exec_argv[0], g_exec_argv.data());
    _exit(127); // exec failed
}

// --- The parent ------------------------------------------------------------------------------

int run(ScenarioContext& context) {
    const std::string step = context.knob("before_exec");
    prepare_exec_argv("after_exec");

    probe::Barrier mid_line{"mid_line", 2};
    probe::Barrier child_started{"child_started", 2};
    probe::Barrier finished{"finished", 2};
    probe::Thread printer("printer", [&] {
        // Forced: the printer is in the middle of a log line exactly while the main thread forks:
        // inside the logger's mutex, and inside stderr's FILE lock as the logger's fprintf would
        // be.
        g_logger.mutex().lock(); // SYNC: inside the logger
        flockfile(stderr);       // SYNC: inside glibc's stderr lock
        probe::note("printer: mid-line, holding the logger's mutex and stderr's FILE lock");
        mid_line.arrive_and_wait();
        child_started.arrive_and_wait(); // SYNC: keeps both until the child exists
        funlockfile(stderr);
        g_logger.mutex().unlock();
        g_logger.write("printer: line finished");
        finished.arrive_and_wait(); // stay alive: an orphaned lock's owner stays visible
    });
    mid_line.arrive_and_wait(); // SYNC: from here the printer holds the logger and stderr
    probe::note("main: forking while the printer is in the middle of a log line");
    probe::Child child = probe::start_child(StartMethod::fork, "step_then_exec", {{"step", step}});
    child_started.arrive_and_wait();
    const WaitStatus status = child.wait(); // SYNC: waits for ever if the child never reaches exec
    finished.arrive_and_wait();
    printer.join();
    return status.exited_ok() ? 0 : 1;
}

Scenario describe() {
    Scenario s;
    s.id = "work-between-fork-and-exec";
    s.group = "myths checked";
    s.title = "What the child does between fork and exec";
    s.lesson =
        "fork followed by exec is the safe way for a threaded program to start another program, "
        "but only if the child does nothing risky in between: until exec it is a copy of the "
        "threaded parent with every lock as it was, and POSIX allows it only async-signal-safe "
        "calls. A printer thread is in the middle of a log line when the main thread forks. A "
        "child that execs at once starts a fresh program that logs normally. A child that writes "
        "one last line through the application's logger first waits for ever for the logger's "
        "mutex and never reaches exec. A child that uses fprintf(stderr) instead gets through on "
        "glibc, which resets its own stdio locks in the child (POSIX does not promise it); no "
        "one resets your logger's.";
    s.knobs = {
        Knob::choice(
            "before_exec", "nothing", {"nothing", "logger", "stdio"},
            "What the child does between fork and exec: nothing, a line through the logger, or a "
            "plain fprintf(stderr)."),
    };
    s.variants = {
        {"exec_at_once",
         "the child only calls execv: the exec'd program logs normally",
         {{"before_exec", "nothing"}},
         Expectation::completes()},
        {"log_before_exec",
         "the child logs one line before exec: the logger's mutex is orphaned",
         {{"before_exec", "logger"}},
         Expectation::deadlocks(DeadlockReason::orphaned_lock)},
        {"stdio_before_exec",
         "the child fprintf's to stderr before exec: glibc reset the FILE lock",
         {{"before_exec", "stdio"}},
         Expectation::completes()},
    };
    s.body = run;
    s.children = {{"step_then_exec", step_then_exec}, {"after_exec", after_exec}};
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace

// 030 lock-cycle — the deadlock that needs no fork: two threads, two locks, opposite order.
//
// What it shows: thread `a` takes `left` then `right`; thread `b` takes `right` then `left`.
// If each gets its first lock before the other's second, each waits for the lock the other
// holds, for ever. Taking locks in one global order makes the cycle impossible.
//
// What to look for: the wait-for graph has a cycle a -> right -> b -> left -> a. This is the
// contrast case for the fork lessons: here both owners exist, in the same process.
//
// Variants: opposite_order (deadlocked, cycle), same_order (completed).
#include "sim/probe/probe.hpp"
#include "sim/scenario/scenario.hpp"

namespace {

using namespace forklore;

probe::Mutex g_left{"left"};
probe::Mutex g_right{"right"};

int run(ScenarioContext& context) {
    const bool opposite = context.knob("order") == "opposite";
    // Forced timing makes both first locks be taken before either second one: the cycle every
    // time. Natural timing leaves the order to the scheduler: the machine's (a race) or yours.
    const bool forced = context.knob("timing") == "forced";
    probe::Barrier first_locks_held{"first_locks_held", 2};
    auto take_both = [&](probe::Mutex& first, probe::Mutex& second) {
        first.lock(); // SYNC: first lock
        if (opposite && forced)
            first_locks_held.arrive_and_wait();
        second.lock(); // SYNC: second lock: with opposite order, held by the other thread
        probe::note("holding both locks");
        second.unlock();
        first.unlock();
    };
    probe::Thread a("a", [&] { take_both(g_left, g_right); });
    probe::Thread b("b", [&] {
        if (opposite)
            take_both(g_right, g_left);
        else
            take_both(g_left, g_right);
    });
    a.join();
    b.join();
    return 0;
}

Scenario describe() {
    Scenario s;
    s.id = "lock-cycle";
    s.group = "fork and locks";
    s.title = "Two threads take two locks in opposite order";
    s.lesson =
        "Thread a locks `left` then `right`; thread b locks `right` then `left`. When each holds "
        "its first lock, each waits for the other's: a cycle in the wait-for graph, and neither "
        "can ever go on. No fork is involved: both owners exist, which is what tells a cycle from "
        "an orphaned lock. Taking the locks in the same order everywhere removes the cycle.";
    s.knobs = {
        Knob::choice("order", "opposite", {"opposite", "same"},
                     "The order thread b takes the two locks in."),
        Knob::choice("timing", "forced", {"forced", "natural"},
                     "forced: a barrier makes each thread take its first lock before either takes "
                     "its second; natural: nothing forces the order (a race, or yours to choose "
                     "in a stepped run)."),
    };
    s.variants = {
        {"opposite_order",
         "a: left then right; b: right then left",
         {{"order", "opposite"}},
         Expectation::deadlocks(DeadlockReason::cycle)},
        {"same_order",
         "both threads: left then right",
         {{"order", "same"}},
         Expectation::completes()},
    };
    s.body = run;
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace

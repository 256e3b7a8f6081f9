// Why a run completed: the children, how each was made, what that did to the locks held at that
// moment; and the hazards that did not bite (warnings). See completion.hpp.
//
// Index of this file:
// [SECTION] The locks a process held at a moment, by the trace
// [SECTION] Children made by a fresh program: spawn, fork_exec
// [SECTION] Children made by fork
// [SECTION] Children made by a fork server
// [SECTION] Many children made alike, told once
// [SECTION] The completion story
#include "sim/verdict/completion.hpp"

#include "sim/protocol/start_method.hpp"
#include "sim/verdict/explain.hpp"
#include "sim/verdict/shared_file_locks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace forklore {

namespace {

// ---------------------------------------------------------------------------------------------
// [SECTION] The locks a process held at a moment, by the trace
// ---------------------------------------------------------------------------------------------

bool is_owned_lock_event(const Event& e) {
    if (e.kind != EventKind::lock_acquired && e.kind != EventKind::lock_released)
        return false;
    // A semaphore is a count with no owner: taking one is not holding it.
    return static_cast<LockKind>(e.arg0) != LockKind::semaphore;
}

// Joins phrases: "a", "a and b", "a, b and c".
std::string joined(const std::vector<std::string>& parts) {
    if (parts.size() <= 1)
        return fmt::format("{}", fmt::join(parts, ""));
    std::vector<std::string> all_but_last(parts.begin(), parts.end() - 1);
    return fmt::format("{} and {}", fmt::join(all_but_last, ", "), parts.back());
}

// A lock held in a process at some moment: where, by whom, since when.
struct HeldLock {
    std::uint64_t address = 0;
    std::string name;
    pid_t holder_tid = 0;
    std::string holder_thread;
    std::int64_t since_ns = 0;
};

// The in-memory locks held in process `pid` just before `moment_ns`, replayed from its lock events
// (a recursive mutex taken twice is held until released twice; rwlock readers each hold it).
std::vector<HeldLock> locks_held_at(const std::vector<Event>& events, pid_t pid,
                                    std::int64_t moment_ns) {
    std::map<std::uint64_t, std::vector<HeldLock>> held; // address -> holders, oldest first
    for (const auto& e : events) {
        if (e.pid != pid || e.time_ns >= moment_ns || !is_owned_lock_event(e))
            continue;
        auto& holders = held[e.object];
        if (e.kind == EventKind::lock_acquired) {
            holders.push_back({e.object, std::string(field_text(e.name)), e.tid,
                               std::string(field_text(e.thread)), e.time_ns});
            continue;
        }
        // A release by its holder, else (an atfork handler in a child, an unlock by another
        // thread) of the oldest hold.
        auto own = std::find_if(holders.begin(), holders.end(),
                                [&](const HeldLock& h) { return h.holder_tid == e.tid; });
        if (own != holders.end())
            holders.erase(own);
        else if (!holders.empty())
            holders.erase(holders.begin());
    }
    std::vector<HeldLock> result;
    for (auto& [address, holders] : held)
        if (!holders.empty())
            result.push_back(holders.back());
    return result;
}

// The threads of process `pid` alive at `moment_ns` by the trace: its first thread, and every
// thread_start not followed by its thread_exit.
int threads_alive_at(const std::vector<Event>& events, pid_t pid, std::int64_t moment_ns) {
    int alive = 1;
    for (const auto& e : events) {
        if (e.pid != pid || e.time_ns >= moment_ns)
            continue;
        if (e.kind == EventKind::thread_start)
            ++alive;
        if (e.kind == EventKind::thread_exit)
            --alive;
    }
    return std::max(alive, 1);
}

// The flock and OFD locks process `pid` held just before `moment_ns`, by its own events (the
// latest acquisition of each, not released since).
std::vector<const Event*> file_locks_held_at(const std::vector<Event>& events, pid_t pid,
                                             std::int64_t moment_ns) {
    std::map<std::uint64_t, const Event*> latest; // inode -> its latest acquire or release
    for (const auto& e : events) {
        if (e.pid != pid || e.time_ns >= moment_ns)
            continue;
        if (e.kind != EventKind::file_lock_acquired && e.kind != EventKind::file_lock_released)
            continue;
        auto kind = static_cast<FileLockKind>(e.arg0);
        if (kind != FileLockKind::flock && kind != FileLockKind::ofd)
            continue;
        latest[static_cast<std::uint64_t>(e.arg1)] = &e;
    }
    std::vector<const Event*> held;
    for (const auto& [inode, e] : latest)
        if (e->kind == EventKind::file_lock_acquired)
            held.push_back(e);
    return held;
}

// " Process 2 held flock 'log_lock' through fd 4 then: fork() copies every fd, ..." for the file
// locks an fd can carry into the child, which no in-memory reasoning covers.
std::string file_locks_carried(const std::vector<Event>& events, pid_t parent,
                               std::int64_t moment_ns, bool fresh_program) {
    std::vector<std::string> held;
    for (const Event* e : file_locks_held_at(events, parent, moment_ns))
        held.push_back(fmt::format(
            "{} '{}' through fd {}",
            static_cast<FileLockKind>(e->arg0) == FileLockKind::flock ? "flock" : "OFD lock",
            field_text(e->name), e->object));
    if (held.empty())
        return {};
    return fmt::format(
        " Process {} held {} then: {}, and such a lock belongs to the open file description, "
        "which the child's copy of the fd shares.",
        parent, joined(held),
        fresh_program ? "exec and posix_spawn keep every fd that is not close-on-exec"
                      : "fork() copies every fd");
}

const Event* first_event_of_process(const std::vector<Event>& events, pid_t pid) {
    auto found = std::find_if(events.begin(), events.end(), [&](const Event& e) {
        return e.pid == pid && e.kind != EventKind::process_exit;
    });
    return found == events.end() ? nullptr : &*found;
}

// The moment a child was made: before its parent's child_start event (recorded once fork() or
// posix_spawn returned) and before the child's own first event, whichever came first.
std::int64_t moment_made(const std::vector<Event>& events, const Event& made) {
    std::int64_t moment = made.time_ns;
    if (const Event* first = first_event_of_process(events, static_cast<pid_t>(made.object)))
        moment = std::min(moment, first->time_ns);
    return moment;
}

// The child's first event on a lock matching `same`: how its copy (or its own new lock) behaved.
template <typename Same>
const Event* first_lock_event_in(const std::vector<Event>& events, pid_t child, Same&& same) {
    auto found = std::find_if(events.begin(), events.end(), [&](const Event& e) {
        return e.pid == child && (e.kind == EventKind::lock_wait || is_owned_lock_event(e)) &&
               same(e);
    });
    return found == events.end() ? nullptr : &*found;
}

// " It took its own 'file_lock' at 120.3 ms without waiting." when the trace shows that.
std::string child_took_lock(const Event* first, bool own_copy, std::int64_t run_start_ns) {
    if (!first || first->kind != EventKind::lock_acquired)
        return {};
    return fmt::format(" It took {} '{}' at {} without waiting.",
                       own_copy ? "its copy of" : "its own", field_text(first->name),
                       time_in_run(run_start_ns, first->time_ns));
}

std::string held_phrase(const HeldLock& lock) {
    return fmt::format("'{}', held by {}",
                       lock.name.empty() ? fmt::format("{:#x}", lock.address) : lock.name,
                       thread_phrase(lock.holder_thread, lock.holder_tid));
}

std::string lock_name_of(const HeldLock& lock) {
    return lock.name.empty() ? fmt::format("the lock at {:#x}", lock.address)
                             : fmt::format("'{}'", lock.name);
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Children made by a fresh program: spawn, fork_exec
// ---------------------------------------------------------------------------------------------

std::string fresh_program_story(const std::vector<Event>& events, const Event& made,
                                std::int64_t run_start_ns) {
    const auto child = static_cast<pid_t>(made.object);
    const auto method = static_cast<StartMethod>(made.arg0);
    const std::int64_t moment = moment_made(events, made);
    std::vector<HeldLock> held = locks_held_at(events, made.pid, moment);
    std::string how = method == StartMethod::spawn ? "spawn" : "fork then exec";
    std::string text = fmt::format("{} started from a fresh program ({}) at {}",
                                   capitalized(process_label(events, child)), how,
                                   time_in_run(run_start_ns, made.time_ns));
    if (held.empty())
        return text +
               fmt::format(": it copied no lock in memory, and process {} held none then.",
                           made.pid) +
               file_locks_carried(events, made.pid, moment, true);
    std::vector<std::string> phrases;
    for (const auto& lock : held)
        phrases.push_back(held_phrase(lock));
    text += fmt::format(": no copy of {} at that moment existed in it", joined(phrases));
    if (method == StartMethod::fork_exec) {
        auto exec_event = std::find_if(events.begin(), events.end(), [&](const Event& e) {
            return e.pid == child && e.kind == EventKind::exec;
        });
        const Event* exec = exec_event == events.end() ? nullptr : &*exec_event;
        const char* them = held.size() == 1 ? "it" : "them";
        text += exec ? fmt::format(" (fork() copied {} held, but exec replaced the copy at {} "
                                   "before it took any lock)",
                                   them, time_in_run(run_start_ns, exec->time_ns))
                     : fmt::format(" (fork() copied {} held, but exec replaced the copy)", them);
    }
    text += ".";
    for (const auto& lock : held) {
        const Event* first = first_lock_event_in(events, child, [&](const Event& e) {
            return !lock.name.empty() && field_text(e.name) == lock.name;
        });
        text += child_took_lock(first, false, run_start_ns);
    }
    return text + file_locks_carried(events, made.pid, moment, true);
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Children made by fork
// ---------------------------------------------------------------------------------------------

// The thread that called fork() held `lock` across it and both processes released their copy
// right after: what pthread_atfork handlers do.
struct AtforkRelease {
    HeldLock lock;
    const Event* parent_release = nullptr;
    const Event* child_release = nullptr;
    const Event* waited = nullptr; // the forking thread's lock_wait before it took it
};

std::vector<AtforkRelease> atfork_releases(const std::vector<Event>& events, const Event& made,
                                           std::int64_t moment) {
    const auto child = static_cast<pid_t>(made.object);
    auto takes_or_releases = [](const Event& e) {
        return e.kind == EventKind::lock_acquired || e.kind == EventKind::lock_released;
    };
    // What the forking thread did with each lock in the parent, in one pass: its last wait and
    // acquisition before the fork, and its first release after that acquisition.
    struct ForkerUse {
        const Event* waited = nullptr;
        const Event* taken = nullptr;
        const Event* released = nullptr;
    };
    std::map<std::uint64_t, ForkerUse> forker;
    for (const auto& p : events) {
        if (p.pid != made.pid || p.tid != made.tid)
            continue;
        ForkerUse& use = forker[p.object];
        if (p.time_ns < moment && p.kind == EventKind::lock_wait)
            use.waited = &p;
        if (p.time_ns < moment && p.kind == EventKind::lock_acquired) {
            // A wait belongs to the acquisition right after it, not to a later one.
            if (use.waited && use.taken && use.waited->time_ns <= use.taken->time_ns)
                use.waited = nullptr;
            use.taken = &p;
            use.released = nullptr;
        }
        if (use.taken && !use.released && p.kind == EventKind::lock_released &&
            p.time_ns >= use.taken->time_ns)
            use.released = &p;
    }
    std::vector<AtforkRelease> found;
    std::set<std::uint64_t> seen;
    for (const auto& e : events) {
        // A semaphore taken in a prepare handler and posted in both processes is the same
        // pattern: its copy's count is restored.
        if (e.pid != child || !takes_or_releases(e) || !seen.insert(e.object).second)
            continue;
        // The child's first event on this lock is a release: its copy was held at the fork ...
        if (e.kind != EventKind::lock_released)
            continue;
        // ... by the forking thread, which took it before the fork and released it in the parent.
        auto use = forker.find(e.object);
        if (use == forker.end() || !use->second.taken || !use->second.released)
            continue;
        const Event* taken = use->second.taken;
        AtforkRelease release;
        release.lock = {e.object, std::string(field_text(e.name)), made.tid,
                        std::string(field_text(taken->thread)), taken->time_ns};
        release.parent_release = use->second.released;
        release.child_release = &e;
        const Event* waited = use->second.waited;
        release.waited = waited && waited->time_ns <= taken->time_ns ? waited : nullptr;
        found.push_back(release);
    }
    return found;
}

std::string fork_story(const std::vector<Event>& events, const Event& made,
                       std::int64_t run_start_ns, std::vector<VerdictWarning>& warnings) {
    const auto child = static_cast<pid_t>(made.object);
    const std::int64_t moment = moment_made(events, made);
    std::string text = fmt::format(
        "{} was made by {} from process {} at {}", capitalized(process_label(events, child)),
        copy_call_name(made.arg1), made.pid, time_in_run(run_start_ns, moment));
    std::vector<AtforkRelease> atfork = atfork_releases(events, made, moment);
    std::vector<HeldLock> held = locks_held_at(events, made.pid, moment);
    // A lock the atfork pattern released before the child_start event is not in `held`.
    std::erase_if(held, [&](const HeldLock& lock) {
        return std::any_of(atfork.begin(), atfork.end(),
                           [&](const AtforkRelease& r) { return r.lock.address == lock.address; });
    });
    std::vector<std::string> sentences;
    for (const auto& release : atfork) {
        std::string waited;
        if (release.waited)
            waited = fmt::format(" (it waited for it from {})",
                                 time_in_run(run_start_ns, release.waited->time_ns));
        sentences.push_back(fmt::format(
            "{}, the thread that called fork(), took {} at {}{} and held it across the fork; the "
            "parent released its copy at {} and the child released its own first thing, at {}, "
            "as pthread_atfork handlers do, so the child's copy was free",
            capitalized(thread_phrase(release.lock.holder_thread, made.tid)),
            lock_name_of(release.lock), time_in_run(run_start_ns, release.lock.since_ns), waited,
            time_in_run(run_start_ns, release.parent_release->time_ns),
            time_in_run(run_start_ns, release.child_release->time_ns)));
    }
    for (const auto& lock : held) {
        const Event* first = first_lock_event_in(
            events, child, [&](const Event& e) { return e.object == lock.address; });
        if (first && first->kind == EventKind::lock_acquired) {
            // The copy was free after all: released between the fork and the parent's event.
            sentences.push_back(fmt::format("the child took its copy of {} at {} without waiting",
                                            lock_name_of(lock),
                                            time_in_run(run_start_ns, first->time_ns)));
            continue;
        }
        const bool forker = lock.holder_tid == made.tid;
        std::string holder = thread_phrase(lock.holder_thread, lock.holder_tid);
        // An exec replaces the copy (with the whole program): the hazard lasted until then.
        auto exec_event = std::find_if(events.begin(), events.end(), [&](const Event& e) {
            return e.pid == child && e.kind == EventKind::exec;
        });
        const Event* exec = exec_event == events.end() ? nullptr : &*exec_event;
        std::string copy = fmt::format(
            "the copy of {} that fork() made was held by {}{}, a thread that does not exist in "
            "the child",
            lock_name_of(lock), holder, forker ? " (the thread that called fork())" : "");
        std::string label = process_label(events, child);
        if (exec) {
            sentences.push_back(fmt::format(
                "{}; the child took no lock before it called exec at {}, which replaced the copy "
                "with a fresh program",
                copy, time_in_run(run_start_ns, exec->time_ns)));
            warnings.push_back(
                {"copied_held_lock",
                 fmt::format("fork() at {} copied {} into {} while {} of process {} held it. "
                             "Until its exec at {}, any call in {} that took {} (a logger, the "
                             "library behind it) would have waited for ever; it took none.",
                             time_in_run(run_start_ns, moment), lock_name_of(lock), label, holder,
                             made.pid, time_in_run(run_start_ns, exec->time_ns), label,
                             lock_name_of(lock)),
                 child});
            continue;
        }
        sentences.push_back(fmt::format("{}; the child never took it, so it did not hang", copy));
        warnings.push_back(
            {"copied_held_lock",
             fmt::format("fork() at {} copied {} into {} while {} of process {} held it: that "
                         "copy stays locked for ever, because the thread that would unlock it was "
                         "not copied. {} never took it, so this run did not hang; any call in it "
                         "that takes {} (the library behind it, a logger) would wait for ever.",
                         time_in_run(run_start_ns, moment), lock_name_of(lock), label, holder,
                         made.pid, capitalized(label), lock_name_of(lock)),
             child});
    }
    if (sentences.empty()) {
        int threads = threads_alive_at(events, made.pid, moment);
        text += threads == 1
                    ? fmt::format(", when process {} had one thread (the one that called fork()) "
                                  "and held no lock the trace follows: every such lock it copied "
                                  "was free.",
                                  made.pid)
                    : fmt::format(", when none of the {} threads of process {} held a lock the "
                                  "trace follows: every such lock it copied was free.",
                                  threads, made.pid);
        return text + file_locks_carried(events, made.pid, moment, false);
    }
    return fmt::format("{}. {}.", text, capitalized(joined(sentences))) +
           file_locks_carried(events, made.pid, moment, false);
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Children made by a fork server
// ---------------------------------------------------------------------------------------------

std::string forkserver_story(const std::vector<Event>& events, const Event& made,
                             std::int64_t run_start_ns) {
    const auto child = static_cast<pid_t>(made.object);
    const pid_t server = made.pid;
    const Event* server_made = child_start_of(events, server);
    std::string text = fmt::format("{} was forked by the fork server (process {}) at {}",
                                   capitalized(process_label(events, child)), server,
                                   time_in_run(run_start_ns, moment_made(events, made)));
    if (!server_made)
        return text + ": a copy of the server, not of the busy program.";
    const pid_t program = server_made->pid;
    const std::int64_t server_moment = moment_made(events, *server_made);
    std::vector<HeldLock> held_now = locks_held_at(events, program, moment_made(events, made));
    std::vector<HeldLock> held_then = locks_held_at(events, program, server_moment);
    const int threads_then = threads_alive_at(events, program, server_moment);
    if (!held_now.empty()) {
        std::vector<std::string> phrases;
        for (const auto& lock : held_now)
            phrases.push_back(fmt::format("{} held {}",
                                          thread_phrase(lock.holder_thread, lock.holder_tid),
                                          lock_name_of(lock)));
        text += fmt::format(": a copy of the server, not of process {}, where {} at that moment",
                            program, joined(phrases));
    } else {
        text += fmt::format(": a copy of the server, not of process {}", program);
    }
    text += fmt::format(". The server itself was forked from process {} at {}, when it had {}",
                        program, time_in_run(run_start_ns, server_moment),
                        threads_then == 1 ? std::string("one thread")
                                          : fmt::format("{} threads", threads_then));
    if (held_then.empty()) {
        text += " and held no lock, so every lock in the server, and in the children it forks, "
                "is free.";
    } else {
        std::vector<std::string> phrases;
        for (const auto& lock : held_then)
            phrases.push_back(held_phrase(lock));
        text += fmt::format(", while {} (the server's copy of it is locked).", joined(phrases));
    }
    for (const auto& lock : held_now) {
        const Event* first = first_lock_event_in(
            events, child, [&](const Event& e) { return e.object == lock.address; });
        text += child_took_lock(first, true, run_start_ns);
    }
    return text;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Many children made alike, told once
// ---------------------------------------------------------------------------------------------

// The story with its numbers (pids, times, fds) blanked: two children made the same way, by the
// same process, tell the same story but for those.
std::string without_numbers(const std::string& text) {
    std::string shape;
    for (char c : text)
        if (c < '0' || c > '9')
            shape += c;
        else if (shape.empty() || shape.back() != '#')
            shape += '#';
    return shape;
}

// A pool of workers makes many children the same way: the first one's story is told in full,
// the others are named after it.
std::vector<std::string> collapse_alike(const std::vector<std::string>& stories,
                                        const std::vector<pid_t>& pids,
                                        const std::vector<std::int64_t>& moments,
                                        std::int64_t run_start_ns) {
    std::vector<std::string> told;
    for (std::size_t i = 0; i < stories.size();) {
        std::size_t end = i + 1;
        while (end < stories.size() && without_numbers(stories[end]) == without_numbers(stories[i]))
            ++end;
        told.push_back(stories[i]);
        if (end - i > 1) {
            std::vector<pid_t> others(pids.begin() + static_cast<std::ptrdiff_t>(i + 1),
                                      pids.begin() + static_cast<std::ptrdiff_t>(end));
            std::vector<std::string> times;
            for (std::size_t k = i + 1; k < end; ++k)
                times.push_back(time_in_run(run_start_ns, moments[k]));
            told.push_back(fmt::format(
                "So {} process{} {}, made the same way at {}.", others.size() == 1 ? "was" : "were",
                others.size() == 1 ? "" : "es", pid_list(others), joined(times)));
        }
        i = end;
    }
    return told;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] The completion story
// ---------------------------------------------------------------------------------------------

CompletionStory explain_completion(const std::vector<Event>& events,
                                   const std::vector<Snapshot>& snapshots,
                                   std::int64_t run_start_ns) {
    CompletionStory story;
    std::vector<std::string> stories;
    std::vector<pid_t> pids;
    std::vector<std::int64_t> moments;
    for (const auto& e : events) {
        if (e.kind != EventKind::child_start)
            continue;
        switch (static_cast<StartMethod>(e.arg0)) {
        case StartMethod::fork:
            stories.push_back(fork_story(events, e, run_start_ns, story.warnings));
            break;
        case StartMethod::fork_exec:
        case StartMethod::spawn:
            stories.push_back(fresh_program_story(events, e, run_start_ns));
            break;
        case StartMethod::forkserver:
            stories.push_back(forkserver_story(events, e, run_start_ns));
            break;
        }
        pids.push_back(static_cast<pid_t>(e.object));
        moments.push_back(moment_made(events, e));
    }
    story.children = collapse_alike(stories, pids, moments, run_start_ns);
    shared_file_lock_warnings(events, snapshots, run_start_ns, story.warnings);
    return story;
}

void add_completion_story(Verdict& verdict, const std::vector<Event>& events,
                          const std::vector<Snapshot>& snapshots, std::int64_t run_start_ns) {
    CompletionStory story = explain_completion(events, snapshots, run_start_ns);
    if (verdict.kind == VerdictKind::completed && !story.children.empty())
        verdict.explanation +=
            fmt::format(" Why it did not hang: {}", fmt::join(story.children, " "));
    if (!story.warnings.empty())
        verdict.explanation +=
            fmt::format(" {} warning{}: a hazard was there and did not bite this time (see below).",
                        story.warnings.size(), story.warnings.size() == 1 ? "" : "s");
    for (auto& warning : story.warnings)
        verdict.warnings.push_back(std::move(warning));
}

} // namespace forklore

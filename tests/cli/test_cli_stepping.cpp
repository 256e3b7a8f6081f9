// `forklore run --step` and `--schedule`: the person at the terminal steps file-read-under-lock
// (timing=natural: nothing forces the order) into the orphaned-lock hang by typing who goes next;
// the record keeps the schedule, and `--schedule` replays it, again and again, to the same hang.
#include "tests/cli/cli_run.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

using namespace forklore::cli_test;
using Catch::Matchers::Contains;

namespace {

// `forklore ARGS...` with `typed` on its stdin (the launcher pipes it in).
CliResult run_typing(const std::string& typed, const std::vector<std::string>& args) {
    return run_cli(args, 100, {"/bin/sh", "-c", "printf '" + typed + "' | \"$@\"", "sh"});
}

const std::vector<std::string> kNatural = {"run", "file-read-under-lock", "--set",
                                           "timing=natural"};

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

} // namespace

TEST_CASE("run --step: typed choices fork while the reader holds the lock; --schedule replays "
          "the hang every time",
          "[cli][stepped]") {
    TempDir dir;
    const std::string record = (dir.path / "hang.json").string();
    // 1: the reader starts, 1: it takes file_lock, 2: main notes, 2: main forks. Then the
    // input ends: the rest runs unscheduled.
    CliResult stepped = run_typing("1\\n1\\n2\\n2\\n", with(kNatural, {"--step", "--out", record}));
    INFO(stepped.out << stepped.err);
    REQUIRE(stepped.exit_code == 0);
    CHECK_THAT(stepped.err, Contains("step 1: who goes next?"));
    CHECK_THAT(stepped.err, Contains("reader (pid 2, tid 3): start reader"));
    CHECK_THAT(stepped.err, Contains("reader (pid 2, tid 3): lock file_lock"));
    CHECK_THAT(stepped.out, Contains("deadlocked / orphaned_lock"));
    CHECK_THAT(stepped.out, Contains("schedule: 4 steps chosen"));
    CHECK_THAT(stepped.out, Contains("4. main (pid 2, tid 2): start child read"));
    CHECK_THAT(stepped.out, Contains("then the rest ran unscheduled"));

    CliResult replayed = run_cli(with(kNatural, {"--schedule", record, "--repeat", "5"}));
    INFO(replayed.out << replayed.err);
    REQUIRE(replayed.exit_code == 0);
    CHECK_THAT(replayed.out, Contains("deadlocked(orphaned_lock)        5"));
    CHECK_THAT(replayed.out, Contains("hang rate 100.0% (5 of 5)"));
}

TEST_CASE("run --step: at the end of the input the run goes on unscheduled", "[cli][stepped]") {
    // stdin is /dev/null: the first prompt meets its end, nothing is chosen, and the race is
    // the machine's (measured: completes, the reader reads 64 KiB before the fork; either verdict
    // is a real one).
    CliResult result = run_cli(with(kNatural, {"--step"}));
    INFO(result.out << result.err);
    REQUIRE(result.exit_code == 0);
    CHECK_THAT(result.err, Contains("end of input: the rest runs free"));
    CHECK_THAT(result.out, Contains("schedule: 0 steps chosen"));
}

TEST_CASE("run --step and --schedule refuse what cannot work, in one line", "[cli][stepped]") {
    TempDir dir;
    require_usage_error(run_cli(with(kNatural, {"--step", "--repeat", "2"})));
    const std::string plain = (dir.path / "plain.json").string();
    REQUIRE(
        run_cli({"run", "file-read-under-lock", "--variant", "spawn", "--out", plain}).exit_code ==
        0);
    require_one_line(run_cli(with(kNatural, {"--schedule", plain})), 1,
                     "a run record without a schedule");
    require_one_line(run_cli(with(kNatural, {"--schedule", (dir.path / "none.json").string()})), 1,
                     "none.json");
    require_usage_error(run_cli(with(kNatural, {"--schedule", plain, "--step"})));
}

TEST_CASE("explore: without preemptions file-read-under-lock never hangs; one preemption finds "
          "the hang and a replayable shortest schedule",
          "[cli][stepped][explore]") {
    const std::vector<std::string> explore = {
        "explore", "file-read-under-lock", "--variant", "fork", "--set", "timing=natural"};
    // Bound 0: a thread runs until it blocks or ends; the fork falls before the reader starts
    // or once it waits at its barrier, never while it holds the lock.
    CliResult none = run_cli(with(explore, {"--bound", "0", "--json"}));
    INFO(none.out << none.err);
    REQUIRE(none.exit_code == 0);
    const auto calm = nlohmann::json::parse(none.out);
    CHECK(calm["complete"] == true);
    CHECK(calm["outcomes"].size() == 1);
    CHECK(calm["outcomes"].contains("completed"));

    TempDir dir;
    const std::string out = (dir.path / "explored.json").string();
    CliResult one = run_cli(with(explore, {"--bound", "1", "--out", out}));
    INFO(one.out << one.err);
    REQUIRE(one.exit_code == 0);
    CHECK_THAT(one.out, Contains("deadlocked(orphaned_lock)"));
    CHECK_THAT(one.out, Contains("it hung at 2 of them"));
    const auto explored = nlohmann::json::parse(read_text(out));
    REQUIRE(explored["outcomes"].contains("deadlocked(orphaned_lock)"));
    CHECK(explored["fork_placements"].size() == 6);
    // Its shortest hanging schedule, saved alone, replays to the hang.
    const std::string schedule = (dir.path / "shortest.json").string();
    {
        std::ofstream file(schedule);
        file << explored["outcomes"]["deadlocked(orphaned_lock)"]["shortest"].dump();
    }
    CliResult replay = run_cli(with(kNatural, {"--schedule", schedule, "--repeat", "3"}));
    INFO(replay.out << replay.err);
    CHECK_THAT(replay.out, Contains("deadlocked(orphaned_lock)        3"));

    // Without --set timing: explore frees it (forced timing's barriers fix the order) and says so.
    CliResult freed =
        run_cli({"explore", "file-read-under-lock", "--variant", "fork", "--bound", "0"});
    INFO(freed.out << freed.err);
    REQUIRE(freed.exit_code == 0);
    CHECK_THAT(freed.out, Contains("file-read-under-lock:fork with timing=natural"));
}

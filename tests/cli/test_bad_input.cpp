// Test names never start with '-': Catch would read them as options (and run nothing).
//
// Bad input, from outside: every verb of `forklore`, and forklore-gui's --open, --screenshot and
// --lesson, given what a user or a script can get wrong. Each is refused with one line on stderr
// and the exit code `forklore --help` documents, before anything runs; no output file is created
// or damaged and no process is left behind (run_cli checks that after every run).
//
// Index of this file:
// [SECTION] Helpers: refused quickly, with nothing added
// [SECTION] Output files: refused before anything runs, kept as they were
// [SECTION] Option values, ids, knobs and arguments
// [SECTION] exec's program, and the exit codes --help lists
// [SECTION] forklore-gui --open, --screenshot and --lesson
#include "cli_run.hpp"
#include "sim/record/record.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

// [SECTION] Helpers: refused quickly, with nothing added ------------------------------------------

namespace {

using forklore::cli_test::CliResult;
using forklore::cli_test::lines_of;
using forklore::cli_test::read_text;
using forklore::cli_test::require_one_line;
using forklore::cli_test::run_cli;
using forklore::cli_test::run_program;
using forklore::cli_test::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kExitError = 1, kExitUsage = 2;
// A refusal comes before anything runs: well within this, where each command refused would run
// for 60 s. Generous, for a machine busy with other tests (ctest -j2) and other work.
constexpr auto kBeforeAnythingRan = std::chrono::seconds(45);

std::set<std::string> names_in(const fs::path& directory) {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(directory))
        names.insert(entry.path().filename());
    return names;
}

mode_t lmode(const std::string& path) {
    struct stat status {};
    REQUIRE(lstat(path.c_str(), &status) == 0);
    return status.st_mode;
}

// The commands that write a file a user names, each one that would run for a minute (or the
// whole corpus) if it ran: refusing in seconds proves the check comes first.
std::vector<std::vector<std::string>> commands_writing(const std::string& path) {
    return {{"run", "selftest-spin", "--timeout", "60", "--out", path},
            {"run", "selftest-spin", "--timeout", "60", "--repeat", "3", "--json", "--out", path},
            {"exec", "--timeout", "60", "--out", path, "--", "sleep", "60"},
            {"matrix", "--all", "--junit", path}};
}

// Runs each command writing `path` and expects each refused with `message`, quickly, with
// nothing added to `directory` (by default the path's own; "" for none: /dev is not ours).
void require_output_refused(const std::string& path, const std::string& message,
                            std::optional<fs::path> watched = std::nullopt) {
    const fs::path directory = watched ? *watched : fs::path(path).parent_path();
    const bool watch = !directory.empty() && fs::exists(directory);
    const auto before = watch ? names_in(directory) : std::set<std::string>{};
    for (const auto& args : commands_writing(path)) {
        INFO("forklore " << args[0] << " " << args[1] << " ... " << path);
        const auto started = Clock::now();
        require_one_line(run_cli(args), kExitUsage, message);
        CHECK(Clock::now() - started < kBeforeAnythingRan);
        if (watch)
            CHECK(names_in(directory) == before);
    }
}

} // namespace

// [SECTION] Output files: refused before anything runs, kept as they were -------------------------

TEST_CASE("output files (--out, --junit): a FIFO, a device, a symbolic link, a directory are "
          "refused before "
          "anything runs, and left as they were",
          "[cli][out][errors]") {
    TempDir dir;
    SECTION("a FIFO") {
        const std::string fifo = (dir.path / "fifo").string();
        REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
        require_output_refused(fifo, "cannot write " + fifo + ": it is a FIFO (named pipe)");
        CHECK(S_ISFIFO(lmode(fifo)));
    }
    SECTION("/dev/null, and a device node made for the test") {
        require_output_refused("/dev/null", "cannot write /dev/null: it is a character device",
                               fs::path());
        CHECK(S_ISCHR(lmode("/dev/null")));
        if (geteuid() != 0) {
            WARN("mknod needs root: only /dev/null checked here");
            return;
        }
        // Like /dev/full, whose destruction as root started this: a char device (1, 7).
        const std::string node = (dir.path / "full").string();
        REQUIRE(mknod(node.c_str(), S_IFCHR | 0666, makedev(1, 7)) == 0);
        require_output_refused(node, "cannot write " + node + ": it is a character device");
        struct stat status {};
        REQUIRE(lstat(node.c_str(), &status) == 0);
        CHECK(S_ISCHR(status.st_mode));
        CHECK(status.st_rdev == makedev(1, 7));
    }
    SECTION("a symbolic link to a regular file, and a dangling one") {
        const std::string target = (dir.path / "target.json").string();
        std::ofstream(target) << "precious\n";
        const std::string link = (dir.path / "link.json").string();
        fs::create_symlink(target, link);
        require_output_refused(link, "cannot write " + link + ": it is a symbolic link");
        CHECK(S_ISLNK(lmode(link)));
        CHECK(read_text(target) == "precious\n");
        const std::string dangling = (dir.path / "dangling.json").string();
        fs::create_symlink(dir.path / "nowhere.json", dangling);
        require_output_refused(dangling, "it is a symbolic link");
        CHECK_FALSE(fs::exists(dir.path / "nowhere.json"));
    }
    SECTION("a directory") {
        require_output_refused(dir.path.string(), "it is a directory", dir.path);
        require_output_refused(dir.path.string() + "/", "it names a directory", dir.path);
    }
    SECTION("a socket") {
        const std::string path = (dir.path / "socket").string();
        const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        REQUIRE(fd >= 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        require_output_refused(path, "it is a socket");
        close(fd);
    }
    SECTION("a missing directory") {
        const std::string path = (dir.path / "missing" / "record.json").string();
        require_output_refused(path, "its directory " + (dir.path / "missing").string() +
                                         ": No such file or directory");
        CHECK_FALSE(fs::exists(dir.path / "missing"));
    }
}

TEST_CASE(
    "output files: --out into a directory the user may not write is refused before anything runs",
    "[cli][out][errors]") {
    TempDir dir;
    const fs::path locked = dir.path / "locked";
    fs::create_directory(locked);
    const std::string path = (locked / "record.json").string();
    if (geteuid() == 0) {
        // Root writes anywhere: run as nobody, for whom the test's private directory is closed.
        if (access("/usr/bin/setpriv", X_OK) != 0) {
            WARN("no setpriv to drop privileges: not checked here");
            return;
        }
        const std::vector<std::string> nobody = {"/usr/bin/setpriv", "--reuid=65534",
                                                 "--regid=65534", "--clear-groups"};
        const auto started = Clock::now();
        CliResult result =
            run_cli({"run", "selftest-spin", "--timeout", "60", "--out", path}, 100, nobody);
        require_one_line(result, kExitUsage, "cannot write " + path + ": ");
        CHECK_THAT(result.err, Catch::Matchers::Contains("Permission denied"));
        CHECK(Clock::now() - started < kBeforeAnythingRan);
    } else {
        REQUIRE(chmod(locked.c_str(), 0555) == 0);
        require_output_refused(path, "its directory " + locked.string() + ": Permission denied");
        chmod(locked.c_str(), 0755);
    }
    CHECK(names_in(locked).empty());
}

TEST_CASE("output files: --out '' and --junit '' are refused, not taken as no file",
          "[cli][out][errors]") {
    require_one_line(run_cli({"run", "selftest-spin", "--out", ""}), kExitUsage,
                     "--out: needs a file name");
    require_one_line(run_cli({"exec", "--out", "", "--", "true"}), kExitUsage,
                     "--out: needs a file name");
    require_one_line(run_cli({"matrix", "--junit", ""}), kExitUsage, "--junit: needs a file name");
}

TEST_CASE("output files: a write that fails after the run keeps what the file held",
          "[cli][out][errors]") {
    // A 16 KiB tmpfs in a mount namespace of its own: the record (tens of KiB) cannot fit, so
    // the write fails with ENOSPC after a real run. The script shows what the file holds after.
    if (geteuid() != 0 || access("/usr/bin/unshare", X_OK) != 0) {
        WARN("needs root and unshare for a small tmpfs: not checked here");
        return;
    }
    TempDir dir;
    const std::string mount = dir.path.string();
    const std::string out = mount + "/record.json";
    const std::string script = "mount -t tmpfs -o size=16k forklore-test '" + mount +
                               "' || exit 90\n"
                               "printf 'precious\\n' > '" +
                               out +
                               "'\n"
                               "\"$@\"; code=$?\n"
                               "printf 'kept: %s\\n' \"$(cat '" +
                               out +
                               "')\"\n"
                               "printf 'files: %s\\n' \"$(ls -A '" +
                               mount +
                               "' | tr '\\n' ' ')\"\n"
                               "exit $code\n";
    CliResult result = run_cli(
        {"run", "file-read-under-lock", "--variant", "spawn", "--out", out}, 100,
        {"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh"});
    INFO("stdout: " << result.out << "\nstderr: " << result.err);
    REQUIRE(result.exit_code != 90);
    CHECK(result.exit_code == kExitError);
    CHECK(result.err == "forklore: cannot write " + out + ": No space left on device\n");
    CHECK_THAT(result.out, Catch::Matchers::Contains("kept: precious\n"));
    CHECK_THAT(result.out, Catch::Matchers::Contains("files: record.json \n")); // no temporary left
    CHECK_THAT(result.out, !Catch::Matchers::Contains("completed")); // no report of a lost record
}

TEST_CASE("output files: what appears at the path during the run is not replaced either",
          "[cli][out][errors]") {
    // The path is new when the run starts; a FIFO takes it while the run goes on.
    TempDir dir;
    const std::string out = (dir.path / "record.json").string();
    const std::string script = "(sleep 1; mkfifo '" + out + "') & exec \"$@\"";
    CliResult result = run_cli({"run", "selftest-spin", "--timeout", "3", "--out", out}, 100,
                               {"/bin/sh", "-c", script, "sh"});
    require_one_line(result, kExitError, "cannot write " + out + ": it is a FIFO (named pipe)");
    CHECK(S_ISFIFO(lmode(out)));
    CHECK(names_in(dir.path) == std::set<std::string>{"record.json"});
}

TEST_CASE("an interrupted run writes no --out file", "[cli][out][interrupt]") {
    TempDir dir;
    const std::string out = (dir.path / "record.json").string();
    CliResult result =
        run_cli({"run", "selftest-spin", "--timeout", "60", "--out", out}, 100, {}, 500);
    CHECK(result.exit_code == 130);
    CHECK(names_in(dir.path).empty());
}

// [SECTION] Option values, ids, knobs and arguments -----------------------------------------------

TEST_CASE("option values out of range, NaN, infinite or not numbers: one line, exit 2",
          "[cli][errors][options]") {
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{"run", "selftest-spin", "--timeout", "nan"},
         "--timeout: takes a number of seconds from 0.01 to 3600 (got 'nan')"},
        {{"run", "selftest-spin", "--timeout", "NaN"}, "(got 'NaN')"},
        {{"run", "selftest-spin", "--timeout", "inf"}, "(got 'inf')"},
        {{"run", "selftest-spin", "--timeout", "-1"}, "(got '-1')"},
        {{"run", "selftest-spin", "--timeout", "0"}, "(got '0')"},
        {{"run", "selftest-spin", "--timeout", "3601"}, "(got '3601')"},
        {{"run", "selftest-spin", "--timeout", "1e300"}, "(got '1e300')"},
        {{"run", "selftest-spin", "--timeout", "0x10"}, "(got '0x10')"},
        {{"run", "selftest-spin", "--timeout", ""}, "(got '')"},
        {{"run", "selftest-spin", "--timeout", "1\n"}, "(got '1\\n')"},
        {{"exec", "--timeout", "nan", "--", "true"},
         "--timeout: takes a number of seconds from 0.01 to 86400 (got 'nan')"},
        {{"exec", "--timeout", "86401", "--", "true"}, "(got '86401')"},
        {{"exec", "--timeout", "-inf", "--", "true"}, "(got '-inf')"},
        {{"run", "selftest-spin", "--repeat", "0"},
         "--repeat: takes a whole number from 1 to 100000 (got '0')"},
        {{"run", "selftest-spin", "--repeat", "-3"}, "(got '-3')"},
        {{"run", "selftest-spin", "--repeat", "100001"}, "(got '100001')"},
        {{"run", "selftest-spin", "--repeat", "99999999999999999999999"},
         "(got '99999999999999999999999')"},
        {{"run", "selftest-spin", "--repeat", "1e3"}, "(got '1e3')"},
        {{"run", "selftest-spin", "--repeat", "2.5"}, "(got '2.5')"},
        {{"matrix", "--jobs", "0"}, "--jobs: takes a whole number from 1 to 256 (got '0')"},
        {{"matrix", "--jobs", "257"}, "(got '257')"},
        {{"matrix", "--jobs", "nan"}, "(got 'nan')"},
        {{"matrix", "--repeat", "0"}, "--repeat: takes a whole number from 1 to 10000 (got '0')"},
        {{"run", "selftest-spin", "--max-output", "-1"}, "--max-output takes a number of bytes"},
        {{"run", "selftest-spin", "--max-output", "1.5M"}, "(got '1.5M')"},
        {{"run", "selftest-spin", "--max-output", "99999999999999999999"},
         "(got '99999999999999999999')"},
        {{"run", "selftest-spin", "--max-output", "16777216T"}, "(got '16777216T')"},
        {{"exec", "--max-output", "nan", "--", "true"}, "(got 'nan')"},
    };
    for (const auto& c : cases) {
        INFO("forklore " << c.args[0] << " " << c.args[c.args.size() - 1]);
        require_one_line(run_cli(c.args), kExitUsage, c.message);
    }
}

TEST_CASE("every verb refuses bad ids, knobs and arguments with one line and exit 2",
          "[cli][errors]") {
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{"list", "extra"}, "extra"},
        {{"list", "--bogus"}, "--bogus"},
        {{"show"}, "id is required"},
        {{"show", "no-such"}, "unknown scenario 'no-such' (see 'forklore list')"},
        {{"show", "bad\nid"}, "unknown scenario 'bad\\nid'"},
        {{"show", ""}, "unknown scenario ''"},
        {{"run", "no-such"}, "unknown scenario 'no-such'"},
        {{"run", "file-read-under-lock", "--variant", "no_such"},
         "scenario 'file-read-under-lock' has no variant 'no_such' (variants: "},
        {{"run", "file-read-under-lock", "--variant", "a\nb"}, "has no variant 'a\\nb'"},
        {{"run", "file-read-under-lock", "--set", "start_method=bad"},
         "knob 'start_method' takes one of: "},
        {{"run", "file-read-under-lock", "--set", "start_method=fork\nx"}, "(got 'fork\\nx')"},
        {{"run", "file-read-under-lock", "--set", "start_method="}, "(got '')"},
        {{"run", "file-read-under-lock", "--set", "no_such_knob=1"},
         "scenario 'file-read-under-lock' has no knob 'no_such_knob' (knobs: "},
        {{"run", "file-read-under-lock", "--set", "a\tb=1"}, "has no knob 'a\\tb'"},
        {{"run", "file-read-under-lock", "--set", "start_method"},
         "--set takes knob=value (got 'start_method')"},
        {{"run", "file-read-under-lock", "--set", "=fork"}, "--set takes knob=value (got '=fork')"},
        {{"run", "file-read-under-lock", "--set", ""}, "--set takes knob=value (got '')"},
        {{"run", "selftest-spin", "--set", "x=1"}, "has no knob 'x' (knobs: none)"},
        {{"matrix", "--filter", "no-such:*"}, "no variant matches the filter 'no-such:*'"},
        {{"matrix", "--filter", "x\ny"}, "no variant matches the filter 'x\\ny'"},
        {{"exec"}, "exec needs a program to run"},
        {{"exec", "--out"}, "--out"},
        // The commands after exec (quiz ...) are not listed here: any order of them passes.
        {{"frobnicate"},
         "unknown command 'frobnicate' (commands: list, show, run, matrix, explore, exec"},
        {{"explore", "no-such"}, "unknown scenario 'no-such'"},
        {{"explore", "lock-cycle", "--set", "timing=sometimes"}, "knob 'timing' takes one of: "},
        {{"explore", "lock-cycle", "--bound", "99"}, "--bound"},
        {{"explore", "lock-cycle", "--max-schedules", "0"}, "--max-schedules"},
        {{"explore", "lock-cycle", "--no-prune"}, "--no-prune requires --unbounded"},
        {{"", "x"}, "unknown command"},
    };
    for (const auto& c : cases) {
        INFO("forklore " << c.args[0] << (c.args.size() > 1 ? " " + c.args.back() : ""));
        require_one_line(run_cli(c.args), kExitUsage, c.message);
    }
}

// [SECTION] exec's program, and the exit codes --help lists ---------------------------------------

TEST_CASE("exec refuses what exec(2) would refuse, before a sandbox exists: 126 or 127",
          "[cli][exec][errors]") {
    TempDir dir;
    const std::string garbage = (dir.path / "garbage").string();
    {
        std::ofstream out(garbage, std::ios::binary);
        for (int i = 0; i < 2000; ++i)
            out.put(static_cast<char>((i * 7919 + 13) % 256));
    }
    const std::string empty = (dir.path / "empty").string();
    std::ofstream(empty).close();
    const std::string script = (dir.path / "no-shebang").string();
    std::ofstream(script) << "echo hello\n";
    for (const auto& path : {garbage, empty, script})
        REQUIRE(chmod(path.c_str(), 0755) == 0);
    require_one_line(run_cli({"exec", "--", garbage}), 126,
                     "cannot run '" + garbage + "': Exec format error");
    require_one_line(run_cli({"exec", "--", empty}), 126, "Exec format error");
    require_one_line(run_cli({"exec", "--", script}), 126, "Exec format error");
    require_one_line(run_cli({"exec", "--", dir.path.string()}), 126, "Is a directory");
    require_one_line(run_cli({"exec", "--", "/dev/null"}), 126, "Permission denied");
    require_one_line(run_cli({"exec", "--", (dir.path / "missing").string()}), 127,
                     "No such file or directory");
    // A script with #! is run, and judged.
    std::ofstream(script) << "#!/bin/sh\nexit 3\n";
    CHECK(run_cli({"exec", "--", script}).exit_code == 10);
}

TEST_CASE("forklore --help lists the exit codes", "[cli][errors]") {
    CliResult result = run_cli({"--help"});
    CHECK(result.exit_code == 0);
    for (const char* line :
         {"\n  0    success", "\n  1    matrix: some variant did not end as expected",
          "\n  2    usage error", "\n  10-15, 126, 127  exec only", "\n  130  interrupted"})
        CHECK_THAT(result.out, Catch::Matchers::Contains(line));
}

// [SECTION] forklore-gui --open, --screenshot and --lesson ---------------------------------------

// Refused before a window opens (no display needed).

#ifdef FORKLORE_GUI_TESTED

namespace {

void require_gui_refused(const std::vector<std::string>& args, const std::string& message) {
    INFO("forklore-gui " << args.front() << " " << args.back());
    const auto started = Clock::now();
    require_one_line(run_program("forklore-gui", args, 60), kExitUsage, message, "forklore-gui: ");
    CHECK(Clock::now() - started < kBeforeAnythingRan);
}

// A minimal record whose `key` holds lists nested `depth` deep.
std::string nested_record(const std::string& key, std::size_t depth) {
    return R"({"format":"forklore-run","version":1,"verdict":"completed",")" + key +
           "\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
}

} // namespace

TEST_CASE("forklore-gui --open: records nested 100,000 deep are refused in one line, no crash",
          "[cli][gui][open]") {
    // The five keys whose 100,000-deep lists killed the GUI with SIGSEGV.
    TempDir dir;
    for (const std::string key : {"events", "snapshots", "processes", "stacks", "wait_for"}) {
        const std::string path = (dir.path / (key + ".json")).string();
        std::ofstream(path) << nested_record(key, 100'000);
        const bool streamed = key == "events" || key == "snapshots";
        require_gui_refused({"--open", path},
                            path + ": run record: " +
                                (streamed ? key + "[0]: must be an object"
                                          : std::string("arrays and objects nested more than 32 "
                                                        "deep")));
    }
}

TEST_CASE("forklore-gui --open: what is not a run record is refused in one line",
          "[cli][gui][open]") {
    TempDir dir;
    auto file = [&](const std::string& name, const std::string& content) {
        const std::string path = (dir.path / name).string();
        std::ofstream(path, std::ios::binary) << content;
        return path;
    };
    const std::string good = R"({"format":"forklore-run","version":1,"verdict":"completed"})";
    std::string garbage;
    for (int i = 0; i < 4096; ++i)
        garbage += static_cast<char>((i * 7919 + 13) % 256);
    const std::string missing = (dir.path / "missing.json").string();
    require_gui_refused({"--open", missing},
                        "cannot open " + missing + ": No such file or directory");
    require_gui_refused({"--open", dir.path.string()}, "it is a directory, not a regular file");
    require_gui_refused({"--open", "/dev/zero"}, "cannot read /dev/zero: it is a character device");
    const std::string fifo = (dir.path / "fifo").string();
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    require_gui_refused({"--open", fifo}, "it is a FIFO (named pipe), not a regular file");
    require_gui_refused({"--open", file("empty.json", "")},
                        "empty.json is empty: not a run record");
    require_gui_refused({"--open", file("truncated.json", good.substr(0, good.size() / 2))},
                        "truncated.json: not JSON: parse error");
    require_gui_refused({"--open", file("garbage.bin", garbage)}, "garbage.bin: not JSON: ");
    require_gui_refused({"--open", file("list.json", "[1, 2, 3]")},
                        "list.json: not a run record (no \"format\": \"forklore-run\")");
    require_gui_refused({"--open", file("newer.json", R"({"format":"forklore-run","version":9})")},
                        "run record version 9 is not supported");
    require_gui_refused(
        {"--open",
         file("bad-pid.json", R"({"format":"forklore-run","version":1,"verdict":"completed",)"
                              R"("events":[{"kind":"note","pid":1e20}]})")},
        "run record: events[0].pid: must be a whole number");
    require_gui_refused({"--open", ""}, "--open: needs a file name");
    require_gui_refused({"--challenge", "no-such"}, "unknown challenge 'no-such' (challenges: ");
    require_gui_refused({"--play", "main"}, "--play requires --challenge");
    // Past the size bound: refused by its size, unread (a sparse file of 200 MiB).
    const std::string huge = file("huge.json", "");
    fs::resize_file(huge, 200 << 20);
    require_gui_refused({"--open", huge},
                        "huge.json is larger than 128 MiB, the most a run record may be");
    if (geteuid() != 0) {
        const std::string unreadable = file("unreadable.json", good);
        REQUIRE(chmod(unreadable.c_str(), 0) == 0);
        require_gui_refused({"--open", unreadable}, "Permission denied");
    }
}

TEST_CASE("forklore-gui --open: a record past the bound on events is refused, quickly",
          "[cli][gui][open]") {
    TempDir dir;
    const std::string path = (dir.path / "many.json").string();
    {
        std::ofstream out(path);
        out << R"({"format":"forklore-run","version":1,"verdict":"completed","events":[)";
        for (std::size_t i = 0; i <= forklore::RecordLimits{}.max_events; ++i)
            out << (i ? "," : "") << R"({"kind":"note","t_ns":)" << i << "}";
        out << "]}";
    }
    require_gui_refused({"--open", path}, "run record: more than " +
                                              std::to_string(forklore::RecordLimits{}.max_events) +
                                              " events");
}

TEST_CASE("forklore-gui --screenshot: a FIFO, a device, a symbolic link are refused before a "
          "window opens",
          "[cli][gui][screenshot]") {
    TempDir dir;
    const std::string fifo = (dir.path / "shot.png").string();
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    require_gui_refused({"--screenshot", fifo}, "cannot write " + fifo + ": it is a FIFO");
    require_gui_refused({"--screenshot", "/dev/null"},
                        "cannot write /dev/null: it is a character device");
    const std::string link = (dir.path / "link.png").string();
    fs::create_symlink(dir.path / "target.png", link);
    require_gui_refused({"--screenshot", link}, "it is a symbolic link");
    CHECK_FALSE(fs::exists(dir.path / "target.png"));
    require_gui_refused({"--screenshot", ""}, "--screenshot: needs a file name");
}

TEST_CASE("forklore-gui --lesson and --predict: what cannot be opened or answered is refused in "
          "one line, and the student's progress is not touched",
          "[cli][gui][lesson]") {
    TempDir state;
    // The GUI tests' fixture lesson, and a progress directory of the test's own.
    const std::vector<std::string> environment = {"/usr/bin/env",
                                                  std::string("FORKLORE_LESSONS=") +
                                                      FORKLORE_SOURCE_DIR + "/tests/gui/lessons",
                                                  "XDG_STATE_HOME=" + state.path.string()};
    auto refused = [&](const std::vector<std::string>& args, const std::string& message) {
        INFO("forklore-gui " << args.front() << " " << args.back());
        require_one_line(run_program("forklore-gui", args, 60, environment), kExitUsage, message,
                         "forklore-gui: ");
    };
    refused({"--lesson", "99-none"}, "unknown lesson '99-none'");
    refused({"--lesson", "01-what-fork-copies:0"}, "STEP is a step's number, from 1");
    refused({"--lesson", "01-what-fork-copies:two"}, "STEP is a step's number, from 1");
    refused({"--lesson", "01-what-fork-copies:9"}, "lesson '01-what-fork-copies' has 6 steps");
    refused({"--lesson", "01-what-fork-copies", "--predict", "completed"},
            "--predict needs the step: --lesson ID:STEP");
    refused({"--lesson", "01-what-fork-copies:3", "--predict", "completed"},
            "step 3 of lesson '01-what-fork-copies' is not a predict step");
    refused({"--lesson", "01-what-fork-copies:2", "--predict", "maybe"},
            "--predict 'maybe' is not one of the step's choices");
    refused({"--predict", "completed"}, "--predict requires --lesson");
    CHECK_FALSE(fs::exists(state.path / "forklore")); // no progress written for any of them
}

#endif

// Output files a user names (--out, --junit, the GUI's Save and --screenshot): only a new name
// or a regular file is written, whole or not at all; whatever else is at the path (a device, a
// FIFO, a socket, a symbolic link, a directory) is left exactly as it was.
#include "sim/record/user_file.hpp"

#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

using namespace forklore;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "forklore-out-XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ignored);
        fs::remove_all(path, ignored);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
    // The names in the directory: a temporary file left behind would show here.
    std::set<std::string> names() const {
        std::set<std::string> found;
        for (const auto& entry : fs::directory_iterator(path))
            found.insert(entry.path().filename());
        return found;
    }
};

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_text(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

mode_t lmode(const std::string& path) {
    struct stat status {};
    REQUIRE(lstat(path.c_str(), &status) == 0);
    return status.st_mode;
}

// Expects write_output_file to refuse `path` with one line containing `words`, and
// output_file_problem to say the same beforehand.
void require_refused(const std::string& path, const std::string& words) {
    INFO("path " << path);
    const auto problem = output_file_problem(path);
    REQUIRE(problem.has_value());
    CHECK_THAT(*problem, Contains(words));
    CHECK(problem->find('\n') == std::string::npos);
    try {
        write_output_file(path, "new content\n");
        FAIL("written");
    } catch (const UserFileError& error) {
        CHECK(std::string(error.what()) == *problem);
    }
}

} // namespace

TEST_CASE("an output file is written whole, as a new file or over a regular one", "[user_file]") {
    TempDir dir;
    const std::string path = dir.file("record.json");
    SECTION("a new name: the umask's permissions, nothing else left in the directory") {
        const mode_t old_mask = umask(027);
        write_output_file(path, "first\n");
        umask(old_mask);
        CHECK(read_text(path) == "first\n");
        CHECK((lmode(path) & 07777) == 0640);
        CHECK(dir.names() == std::set<std::string>{"record.json"});
    }
    SECTION("over a regular file: replaced, its permissions kept") {
        write_text(path, "old\n");
        REQUIRE(chmod(path.c_str(), 0604) == 0);
        write_output_file(path, std::string(100'000, 'x'));
        CHECK(read_text(path) == std::string(100'000, 'x'));
        CHECK((lmode(path) & 07777) == 0604);
        CHECK(dir.names() == std::set<std::string>{"record.json"});
    }
    SECTION("a bare name is in the current directory") {
        const fs::path previous = fs::current_path();
        fs::current_path(dir.path);
        write_output_file("bare.json", "bare\n");
        fs::current_path(previous);
        CHECK(read_text(dir.file("bare.json")) == "bare\n");
    }
}

TEST_CASE("an output path that is not a regular file or a new name is refused and left as it was",
          "[user_file]") {
    TempDir dir;
    SECTION("a FIFO") {
        const std::string fifo = dir.file("fifo");
        REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
        require_refused(fifo, "cannot write " + fifo + ": it is a FIFO (named pipe)");
        CHECK(S_ISFIFO(lmode(fifo)));
    }
    SECTION("a symbolic link, to a regular file or to nothing") {
        const std::string target = dir.file("target");
        write_text(target, "target\n");
        const std::string link = dir.file("link");
        fs::create_symlink(target, link);
        require_refused(link, "it is a symbolic link");
        CHECK(S_ISLNK(lmode(link)));
        CHECK(read_text(target) == "target\n");
        const std::string dangling = dir.file("dangling");
        fs::create_symlink(dir.file("nowhere"), dangling);
        require_refused(dangling, "it is a symbolic link");
        CHECK_FALSE(fs::exists(dir.file("nowhere")));
    }
    SECTION("a directory, or a name ending in /") {
        require_refused(dir.path.string(), "it is a directory");
        require_refused(dir.file("new") + "/", "it names a directory");
    }
    SECTION("a character device") {
        // /dev/null itself, and (as root) a device node made for the test: mknod c 1 3 is
        // /dev/null too, so nothing breaks if it were written.
        require_refused("/dev/null", "cannot write /dev/null: it is a character device");
        require_refused("/dev/full", "it is a character device");
        if (geteuid() == 0) {
            const std::string node = dir.file("null-device");
            REQUIRE(mknod(node.c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
            require_refused(node, "it is a character device");
            struct stat status {};
            REQUIRE(lstat(node.c_str(), &status) == 0);
            CHECK(S_ISCHR(status.st_mode));
            CHECK(status.st_rdev == makedev(1, 3));
        }
    }
    SECTION("a socket") {
        const std::string path = dir.file("socket");
        const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        REQUIRE(fd >= 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        REQUIRE(path.size() < sizeof address.sun_path);
        std::strcpy(address.sun_path, path.c_str());
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        require_refused(path, "it is a socket");
        close(fd);
        CHECK(S_ISSOCK(lmode(path)));
    }
    SECTION("a directory that does not exist, or is a file") {
        require_refused(dir.file("missing/record.json"),
                        "its directory " + dir.file("missing") + ": No such file or directory");
        const std::string file = dir.file("file");
        write_text(file, "x");
        require_refused(file + "/record.json", "Not a directory");
    }
    SECTION("no name at all") {
        require_refused("", "no output file name given");
    }
    SECTION("a directory or file we may not write") {
        if (geteuid() == 0) {
            WARN("root may write anywhere: the CLI tests check this as nobody");
            return;
        }
        const std::string locked = dir.file("locked");
        fs::create_directory(locked);
        REQUIRE(chmod(locked.c_str(), 0555) == 0);
        require_refused(locked + "/record.json", "Permission denied");
        const std::string read_only = dir.file("read-only.json");
        write_text(read_only, "keep\n");
        REQUIRE(chmod(read_only.c_str(), 0444) == 0);
        require_refused(read_only, "Permission denied");
        CHECK(read_text(read_only) == "keep\n");
    }
    // Nothing was created beside what the section made.
    for (const auto& name : dir.names())
        CHECK(name.find(".XXXXXX") == std::string::npos);
}

TEST_CASE("a write that fails half way leaves the old file and no temporary file", "[user_file]") {
    // A file size limit makes the write fail after 4 KiB. The signal it raises (SIGXFSZ, whose
    // default is to kill the process) is blocked while writing and taken away: this test process
    // surviving is part of what is checked.
    TempDir dir;
    const std::string path = dir.file("record.json");
    write_text(path, "precious\n");
    rlimit old_limit{};
    REQUIRE(getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
    rlimit small = old_limit;
    small.rlim_cur = 4096;
    REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
    std::string message;
    try {
        write_output_file(path, std::string(100'000, 'x'));
    } catch (const UserFileError& error) {
        message = error.what();
    }
    REQUIRE(setrlimit(RLIMIT_FSIZE, &old_limit) == 0);
    CHECK(message == "cannot write " + path + ": File too large");
    CHECK(read_text(path) == "precious\n");
    CHECK(dir.names() == std::set<std::string>{"record.json"});
    sigset_t pending;
    sigpending(&pending);
    CHECK_FALSE(sigismember(&pending, SIGXFSZ));
}

TEST_CASE("reading a user's file: a regular file within its size bound", "[user_file]") {
    TempDir dir;
    const std::string path = dir.file("in.json");
    write_text(path, std::string(5000, 'a'));
    CHECK(read_regular_file(path, 5000, "a test file") == std::string(5000, 'a'));
    CHECK_THROWS_WITH(read_regular_file(path, 4999, "a test file"),
                      path + " is larger than 4999 bytes, the most a test file may be");
    CHECK_THROWS_WITH(read_regular_file("/dev/zero", 1 << 20, "a test file"),
                      "cannot read /dev/zero: it is a character device, not a regular file");
    CHECK_THROWS_WITH(read_regular_file(dir.file("none"), 10, "x"),
                      "cannot open " + dir.file("none") + ": No such file or directory");
    CHECK(read_regular_file(dir.file("in.json"), 1ULL << 20, "x").size() == 5000);
}

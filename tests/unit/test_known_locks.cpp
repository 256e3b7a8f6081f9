// The names of glibc's internal locks by the function that took them (known_locks.hpp), as the
// explanation of a stuck child gives them. Each name was checked against a hung run's stack
// (glibc 2.36): the child of getaddrinfo_fork waits in __lll_lock_wait_private under __check_pf,
// the child of localtime_fork under __tz_convert, the child of popen_fork under _IO_proc_open.
#include "sim/verdict/known_locks.hpp"

#include <catch2/catch.hpp>

using namespace forklore;
using Catch::Matchers::Contains;

TEST_CASE("glibc's internal locks are named by the function that took them", "[verdict]") {
    CHECK_THAT(glibc_lock_taken_by("__check_pf"), Contains("check_pf.c") && Contains("netlink"));
    CHECK_THAT(glibc_lock_taken_by("__tz_convert"), Contains("tzset_lock"));
    CHECK_THAT(glibc_lock_taken_by("_IO_proc_open"),
               Contains("proc_file_chain_lock") && Contains("glibc 2.41"));
    CHECK_THAT(glibc_lock_taken_by("buffered_vfprintf"), Contains("the lock of the FILE"));
    CHECK(glibc_lock_taken_by("main").empty());
}

TEST_CASE("a Python lock is named by the frame that waits on it when nothing else names it",
          "[verdict][python]") {
    CHECK_THAT(
        python_lock_named_by_frame({"<frozen importlib._bootstrap>", "_ModuleLock.acquire", 120}),
        Contains("an import lock (importlib's _ModuleLock"));
    CHECK_THAT(
        python_lock_named_by_frame({"/usr/lib/python3.11/threading.py", "Condition.wait", 320}),
        Contains("the waiter lock of a threading.Condition"));
    CHECK(python_lock_named_by_frame({"/tmp/x/script.py", "worker", 12}).empty());
}

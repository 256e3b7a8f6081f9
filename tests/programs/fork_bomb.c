/* fork_bomb: `for (;;) fork();` — every process forks forever. Never run it outside a cgroup cap.
 *
 * What it does: the two-line fork bomb that took a whole machine down through `forklore exec`
 * before the sandbox had cgroups (the PID table filled; every program failed to fork).
 *
 * How it was measured, outside forklore (Debian 12, glibc 2.36, kernel 6.18, 2 cores,
 * 2026-12-03), inside a pids cgroup capped at 300 tasks (`mkdir /sys/fs/cgroup/pids/cap; echo
 * 300 > pids.max; echo $$ > cgroup.procs; timeout 3 ./fork_bomb`): at 1 s pids.current was 298
 * (the cap, less the shell's) and pids.events "max 10871" (every process keeps calling fork,
 * which the kernel refuses with EAGAIN); `timeout` killed only the first process: 298 were still
 * there after it, and had to be killed by hand from cgroup.procs.
 * forklore must say: limit (tasks), from the kernel's pids.events, within a second, with nothing
 * left afterwards, and the machine able to fork meanwhile.
 */
#include <unistd.h>

int main(void) {
    for (;;) fork();
}

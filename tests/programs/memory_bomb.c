/* memory_bomb: allocates and touches 64 MiB after 64 MiB, forever. Never run it outside a cap.
 *
 * What it does: malloc + memset in a loop (touching the pages, so they are really used, not only
 * reserved), printing the total every 256 MiB.
 *
 * How it was measured, outside forklore (Debian 12, glibc 2.36, kernel 6.18, 2 cores, 24 GiB, no
 * swap, 2026-12-03): in a memory cgroup limited to 512 MiB (`memory.limit_in_bytes`), `timeout
 * 20 ./memory_bomb; echo $?`: 137 (SIGKILL) after about 0.3 s and "allocated 256 MiB"; the
 * cgroup's memory.oom_control then showed `oom_kill 1`, and `dmesg` a "Memory cgroup out of
 * memory: Killed process". Before the sandbox had cgroups, forklore said `crashed` (SIGKILL) with
 * no word of memory.
 * forklore must say: limit (memory), from the cgroup's OOM-kill counter, not crashed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    const size_t chunk = 64u << 20;
    size_t total = 0;
    for (;;) {
        char* block = malloc(chunk);
        if (!block) continue;
        memset(block, 1, chunk);
        total += chunk;
        if (total % (256u << 20) == 0) {
            printf("allocated %zu MiB\n", total >> 20);
            fflush(stdout);
        }
    }
}

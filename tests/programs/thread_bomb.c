/* thread_bomb: creates threads that sleep, without end. Never run it outside a cgroup cap.
 *
 * What it does: the main thread calls pthread_create in a loop, ignoring failures; every thread
 * sleeps in pause().
 *
 * How it was measured, outside forklore (Debian 12, glibc 2.36, kernel 6.18, 2 cores,
 * 2026-12-03): in a pids cgroup capped at 300 tasks, `timeout 3 ./thread_bomb`: pids.current
 * reached 300 and stayed there, pids.events "max" was 80004 at 1 s and 149761 at 2 s
 * (pthread_create returns EAGAIN); `timeout` ended it, and nothing was left.
 * Without the cgroup, under forklore's former RLIMIT_AS of 4 GiB only, it stopped at about 395
 * threads (8 MiB stacks) and spun.
 * forklore must say: limit (tasks), from pids.events, within a second; nothing left afterwards.
 */
#include <pthread.h>
#include <unistd.h>

static void* sleeper(void* unused) {
    (void)unused;
    for (;;) pause();
    return NULL;
}

int main(void) {
    for (;;) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, sleeper, NULL) == 0) pthread_detach(thread);
    }
}

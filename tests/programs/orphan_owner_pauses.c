/* orphan_owner_pauses: the owner of a mutex sits in pause(); a child forked meanwhile locks it.
 *
 * What it does: thread 'owner' locks a mutex and then sits in pause() forever, holding it (a
 * worker that parks itself waiting for a signal that never comes). Once the mutex is held (a
 * barrier makes this deterministic), main forks. The child ('child_locker') locks its copy of
 * the mutex: fork() copied the lock word, locked, owned by a thread that does not exist in the
 * child, so it waits forever. The parent ('parent') waits for the child with waitpid(pid, 0).
 *
 * Why it matters: nothing in the sandbox runs, but the owner is in pause(), an "unclassifiable"
 * signal wait that the old engine could not prove was stuck (it said timed_out).
 *
 * How it was measured, outside forklore (Debian 12, glibc 2.36-9+deb12u14, gcc 12.2,
 * kernel 6.18, 2 cores, 2026-12-03):
 * `timeout 10 ./orphan_owner_pauses; echo $?` 3 times -> 124 each time (it never
 * ends by itself); /proc/PID/task/TID/{stat,wchan,syscall} read at 2 s in each run; `gdb -p PID
 * -batch -ex 'thread apply all bt'` on every process of run 1; then 10 more runs (measure_hang.py,
 * README.md) with the same states at 1 s and at 3 s: 10 of 10.
 * Measured: 13 of 13 runs hang the same way:
 *   parent (main)  S  wchan do_wait          wait4(child)        gdb: waitpid <- main
 *   owner          S  wchan __do_sys_pause   pause()             gdb: __libc_pause <- owner
 *   child_locker   S  wchan futex_do_wait    futex(&g_mutex, FUTEX_WAIT, 2)
 *                                            gdb: __lll_lock_wait <- pthread_mutex_lock <- main
 * forklore must say: deadlocked / orphaned_lock (exit 12). Stuck: child_locker (the orphaned
 * mutex), parent (waits for a stuck child), owner (pause(): only a live thread could signal it,
 * and none is live). Live: none.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t g_locked;

static void* owner(void* unused) {
    (void)unused;
    prctl(PR_SET_NAME, "owner", 0, 0, 0);
    pthread_mutex_lock(&g_mutex);
    pthread_barrier_wait(&g_locked); /* main forks only once the mutex is held */
    for (;;) pause();                /* holds the mutex forever: no signal ever comes */
    return NULL;
}

int main(void) {
    prctl(PR_SET_NAME, "parent", 0, 0, 0);
    pthread_barrier_init(&g_locked, NULL, 2);
    pthread_t thread;
    if (pthread_create(&thread, NULL, owner, NULL) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
    }
    pthread_barrier_wait(&g_locked);
    printf("mutex at %p held by the owner thread (in pause); forking\n", (void*)&g_mutex);
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) {
        prctl(PR_SET_NAME, "child_locker", 0, 0, 0);
        pthread_mutex_lock(&g_mutex); /* locked, owner 'owner' (not in this process): forever */
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0); /* untimed: waits as long as the child does */
    return 0;
}

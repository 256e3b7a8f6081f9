/* atfork_unlock_in_child: pthread_atfork handlers that take a lock before fork and unlock it in
 * both processes, the textbook repair, tried on three kinds of lock. No forklore probes.
 *
 *   atfork_unlock_in_child KIND MODE     KIND: mutex | recursive | rwlock_write
 *                                        MODE: unlock | reinit (how the child's handler repairs)
 *
 * A thread ("holder") holds the lock when the main thread ("forker") forks. The prepare handler
 * lets the holder give it back, then takes it itself; the parent's handler unlocks it. In the
 * child ("child") the handler either unlocks it or re-initialises it, then the child takes the
 * lock and exits 0; the parent waits for the child and exits with its status.
 *
 * Measured outside forklore (glibc 2.36-9+deb12u14, Debian 12, 2026-12-04), `timeout 5 PROGRAM
 * KIND MODE` 5 times each, gdb -p on the hung child once:
 *   mutex unlock, mutex reinit, recursive reinit, rwlock_write reinit: exit 0, every time;
 *   recursive unlock: the child's pthread_mutex_unlock returns EPERM (the owner recorded is the
 *     parent's forking thread; the child's only thread has another tid), the child then waits in
 *     __lll_lock_wait for ever (124 every time);
 *   rwlock_write unlock: pthread_rwlock_unlock returns 0, but the child's thread is not
 *     __cur_writer, so glibc takes the reader path and the write lock stays held: the child waits
 *     in pthread_rwlock_wrlock for ever (124 every time).
 * forklore must say: completed for the first four, deadlocked for the other two.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

enum kind { MUTEX, RECURSIVE, RWLOCK_WRITE };
static enum kind g_kind;
static int g_reinit;
static pthread_mutex_t g_mutex;
static pthread_rwlock_t g_rwlock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t g_held, g_release;

static void init_lock(void) {
    if (g_kind == RWLOCK_WRITE) {
        pthread_rwlock_init(&g_rwlock, NULL);
        return;
    }
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    if (g_kind == RECURSIVE)
        pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&g_mutex, &attributes);
    pthread_mutexattr_destroy(&attributes);
}
static void take(void) {
    if (g_kind == RWLOCK_WRITE)
        pthread_rwlock_wrlock(&g_rwlock);
    else
        pthread_mutex_lock(&g_mutex);
}
static int give(void) {
    return g_kind == RWLOCK_WRITE ? pthread_rwlock_unlock(&g_rwlock) : pthread_mutex_unlock(&g_mutex);
}

static void prepare(void) {
    pthread_barrier_wait(&g_release); /* the holder gives the lock back... */
    take();                           /* ...and the forking thread takes it */
}
static void in_parent(void) {
    give();
}
static void in_child(void) {
    if (g_reinit) {
        init_lock(); /* a fresh, free lock: nothing of the parent's state is kept */
        return;
    }
    const int error = give();
    char line[96];
    const int length = snprintf(line, sizeof line, "child: the atfork unlock returned %d (%s)\n",
                                error, error ? strerror(error) : "ok");
    if (write(STDOUT_FILENO, line, (size_t)length) < 0) _exit(3);
}

static void* holder(void* unused) {
    (void)unused;
    prctl(PR_SET_NAME, "holder", 0, 0, 0);
    take();
    pthread_barrier_wait(&g_held);
    pthread_barrier_wait(&g_release); /* keeps the lock until the fork begins */
    give();
    return NULL;
}

int main(int argc, char** argv) {
    if (argc != 3 || (strcmp(argv[2], "unlock") != 0 && strcmp(argv[2], "reinit") != 0)) {
        fprintf(stderr, "usage: atfork_unlock_in_child mutex|recursive|rwlock_write unlock|reinit\n");
        return 2;
    }
    if (strcmp(argv[1], "mutex") == 0)
        g_kind = MUTEX;
    else if (strcmp(argv[1], "recursive") == 0)
        g_kind = RECURSIVE;
    else if (strcmp(argv[1], "rwlock_write") == 0)
        g_kind = RWLOCK_WRITE;
    else {
        fprintf(stderr, "atfork_unlock_in_child: unknown kind '%s'\n", argv[1]);
        return 2;
    }
    g_reinit = strcmp(argv[2], "reinit") == 0;
    prctl(PR_SET_NAME, "forker", 0, 0, 0);
    init_lock();
    pthread_barrier_init(&g_held, NULL, 2);
    pthread_barrier_init(&g_release, NULL, 2);
    pthread_atfork(prepare, in_parent, in_child);
    pthread_t thread;
    if (pthread_create(&thread, NULL, holder, NULL) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
    }
    pthread_barrier_wait(&g_held); /* from here on the holder holds the lock */
    const pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) {
        prctl(PR_SET_NAME, "child", 0, 0, 0);
        take(); /* hangs when the handler could not give the copy back */
        printf("child: got the lock\n");
        give();
        return 0;
    }
    int status = 0;
    if (waitpid(child, &status, 0) < 0) {
        perror("waitpid");
        return 1;
    }
    pthread_join(thread, NULL);
    printf("forker: the child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

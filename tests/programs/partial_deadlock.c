/* partial_deadlock: a forked child stuck for ever while its parent keeps running.
 *
 * A thread ("holder") locks a pthread mutex and then sits in pause(). The main thread forks while
 * the mutex is held; the child locks its copy and waits forever (the holder is not in the child).
 * Meanwhile most of the parent is anything but stuck: its "chatter" thread prints a tick every
 * 10 ms and its main thread polls the child with waitpid(WNOHANG). Its "waiter" thread, though,
 * waits for the child with a blocking waitpid: only the stuck child could end that wait. The stuck
 * set is the child's thread and "waiter"; chatter, main and holder (a pause() that a live thread
 * could end with a signal) are live. Used by the GUI tests: stuck lanes, live lanes, a "partly
 * stuck" parent.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t g_locked;

static void* holder(void* unused) {
    prctl(PR_SET_NAME, "holder", 0, 0, 0);
    pthread_mutex_lock(&g_mutex);
    pthread_barrier_wait(&g_locked); /* the main thread forks only once the mutex is held */
    for (;;)
        pause();
    return unused;
}

static pid_t g_child;
static int g_go[2];       /* the child locks only once the waiter is named and about to wait */
static pthread_barrier_t g_waiter_ready;

static void* waiter(void* unused) {
    prctl(PR_SET_NAME, "waiter", 0, 0, 0);
    pthread_barrier_wait(&g_waiter_ready);
    int status;
    waitpid(g_child, &status, 0); /* the child never ends: stuck with it */
    return unused;
}

static pthread_barrier_t g_chatter_named;

static void* chatter(void* unused) {
    prctl(PR_SET_NAME, "chatter", 0, 0, 0);
    pthread_barrier_wait(&g_chatter_named);
    for (int i = 0;; i++) {
        fprintf(stderr, "tick %d\n", i);
        usleep(10000);
    }
    return unused;
}

int main(void) {
    pthread_t holder_thread, chatter_thread, waiter_thread;
    pthread_barrier_init(&g_locked, NULL, 2);
    pthread_barrier_init(&g_waiter_ready, NULL, 2);
    pthread_barrier_init(&g_chatter_named, NULL, 2);
    if (pipe(g_go) != 0)
        return 1;
    pthread_create(&holder_thread, NULL, holder, NULL);
    pthread_barrier_wait(&g_locked);
    pthread_create(&chatter_thread, NULL, chatter, NULL);
    /* Named before anything can be proven: on a loaded machine a thread that was created but
     * never ran yet still has the program's name when the child's hang is proven. */
    pthread_barrier_wait(&g_chatter_named);
    g_child = fork();
    if (g_child == 0) {
        char go;
        if (read(g_go[0], &go, 1) != 1)
            _exit(1);
        pthread_mutex_lock(&g_mutex); /* the child's copy is locked by a thread it does not have */
        _exit(0);
    }
    pthread_create(&waiter_thread, NULL, waiter, NULL);
    pthread_barrier_wait(&g_waiter_ready);
    if (write(g_go[1], "g", 1) != 1)
        return 1;
    for (;;) { /* polls: never blocked, so never part of the stuck set */
        int status;
        if (waitpid(g_child, &status, WNOHANG) == g_child)
            return 0;
        usleep(20000);
    }
}

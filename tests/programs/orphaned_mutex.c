/* orphaned_mutex: the classic fork-while-locked hang, in plain C with no forklore probes.
 *
 * A thread ("holder") locks a pthread mutex and then waits, holding it, on a pipe nobody writes.
 * The main thread forks while the mutex is held; the child inherits the mutex locked, but not
 * the holder thread, and locks it: it waits forever. The parent waits for the child. Used by
 * the CLI tests: `forklore exec -- orphaned_mutex` must prove deadlocked(orphaned_lock) and name
 * the mutex's address, the waiting child and the owner thread left in the parent.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t g_locked;
static int g_never[2]; /* a pipe whose write end stays open and silent: the holder never returns */

static void* holder(void* unused) {
    (void)unused;
    prctl(PR_SET_NAME, "holder", 0, 0, 0);
    pthread_mutex_lock(&g_mutex);
    pthread_barrier_wait(&g_locked); /* the main thread forks only once the mutex is held */
    char byte;
    if (read(g_never[0], &byte, 1) < 0) perror("read");
    pthread_mutex_unlock(&g_mutex);
    return NULL;
}

int main(void) {
    if (pipe(g_never) != 0) {
        perror("pipe");
        return 1;
    }
    pthread_barrier_init(&g_locked, NULL, 2);
    pthread_t thread;
    if (pthread_create(&thread, NULL, holder, NULL) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
    }
    pthread_barrier_wait(&g_locked);
    printf("mutex at %p held by the holder thread; forking\n", (void*)&g_mutex);
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) {
        /* The copy of the mutex is locked and names the holder, which does not exist here. */
        pthread_mutex_lock(&g_mutex);
        puts("child: never printed");
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    return 0;
}

/* completes_with_children: threads, a fork, an exec and timed sleeps, all ending well.
 *
 * Nothing here can hang: every wait either has a timeout or waits for something that finishes.
 * `forklore exec` must call it completed (exit 0) and show the child and its exec in the
 * process tree.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
static int g_counter = 0;

static void sleep_ms(long ms) {
    struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&pause, NULL);
}

static void* worker(void* unused) {
    (void)unused;
    for (int i = 0; i < 20; ++i) {
        pthread_mutex_lock(&g_mutex);
        ++g_counter;
        pthread_mutex_unlock(&g_mutex);
        sleep_ms(5);
    }
    return NULL;
}

int main(void) {
    pthread_t threads[2];
    for (int i = 0; i < 2; ++i) pthread_create(&threads[i], NULL, worker, NULL);
    for (int i = 0; i < 2; ++i) pthread_join(threads[i], NULL);
    /* Forked once the threads are gone: the child starts with an unlocked mutex. */
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) {
        execl("/bin/sh", "sh", "-c", "sleep 0.05; echo child done", (char*)NULL);
        _exit(127);
    }
    int status = 0;
    waitpid(child, &status, 0);
    printf("counter %d, child %s\n", g_counter,
           WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "ok" : "failed");
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

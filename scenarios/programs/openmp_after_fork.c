/* openmp_after_fork: an OpenMP parallel loop in the parent, then a child process that runs one too.
 *
 * The program of scenario 086 (scenarios/086_openmp_runtime_after_fork.cpp, whose header has the
 * measurements). It includes no forklore header: built twice by scenarios/CMakeLists.txt, with
 * gcc -fopenmp (GCC's runtime, libgomp) and with clang-14 -fopenmp (LLVM's runtime, libomp), it
 * shows what each OpenMP runtime does when its thread pool is forked.
 *
 *   openmp_after_fork METHOD PARENT_PARALLEL
 *     METHOD           fork: the child is a copy of the parent (only the calling thread);
 *                      spawn: the child is this program started afresh (posix_spawn), as
 *                      Python's spawn starts a new interpreter.
 *     PARENT_PARALLEL  on: the parent runs a parallel loop first, so its runtime's pool of
 *                      worker threads exists at fork; off: nothing was started before.
 *   openmp_after_fork child    (what a spawned child runs)
 *
 * OMP_NUM_THREADS, set by whoever runs it, says how many threads a parallel loop uses.
 * Exit 0 when every sum is right and the child exited 0.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <omp.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

/* How many threads this process has now, from /proc/self/task. */
static int threads_now(void) {
    DIR* tasks = opendir("/proc/self/task");
    if (!tasks)
        return -1;
    int count = 0;
    for (struct dirent* entry; (entry = readdir(tasks)) != NULL;)
        if (entry->d_name[0] != '.')
            ++count;
    closedir(tasks);
    return count;
}

/* The runtime's file, from where omp_get_num_threads lives: libgomp.so.1 or libomp.so.5. */
static const char* runtime_file(void) {
    Dl_info info;
    if (dladdr((void*)&omp_get_num_threads, &info) && info.dli_fname)
        return info.dli_fname;
    return "unknown";
}

/* Real work, split over the runtime's threads: the sum of 0 .. n-1. At its first parallel region
 * the runtime starts its worker threads; at the end of the region they stay, asleep, for the
 * next one (a pool). */
static int parallel_sum(const char* who) {
    const long n = 4000000;
    long sum = 0;
    int team = 0;
#pragma omp parallel reduction(+ : sum)
    {
#pragma omp single
        team = omp_get_num_threads();
#pragma omp for
        for (long i = 0; i < n; ++i)
            sum += i;
    }
    const int right = sum == n * (n - 1) / 2;
    printf("%s: a parallel loop of %d threads summed %ld (%s); the process has %d threads now\n",
           who, team, sum, right ? "right" : "WRONG", threads_now());
    fflush(stdout);
    return right;
}

static int run_child(void) {
    return parallel_sum("child") ? 0 : 1;
}

int main(int argc, char** argv) {
    if (argc == 2 && strcmp(argv[1], "child") == 0)
        return run_child();
    if (argc != 3 || (strcmp(argv[1], "fork") != 0 && strcmp(argv[1], "spawn") != 0) ||
        (strcmp(argv[2], "on") != 0 && strcmp(argv[2], "off") != 0)) {
        fprintf(stderr, "usage: %s fork|spawn on|off\n", argv[0]);
        return 2;
    }
    const char* env_threads = getenv("OMP_NUM_THREADS");
    printf("parent: OpenMP runtime %s, OMP_NUM_THREADS=%s\n", runtime_file(),
           env_threads ? env_threads : "(unset)");
    fflush(stdout);
    if (strcmp(argv[2], "on") == 0 && !parallel_sum("parent"))
        return 1;

    pid_t child = -1;
    if (strcmp(argv[1], "fork") == 0) {
        child = fork();
        if (child == 0)
            _exit(run_child()); /* libgomp: waits for ever for the pool's threads it lacks */
    } else {
        char* child_argv[] = {argv[0], "child", NULL};
        int error = posix_spawn(&child, "/proc/self/exe", NULL, NULL, child_argv, environ);
        if (error != 0)
            child = -1;
    }
    if (child < 0) {
        perror("starting the child");
        return 1;
    }
    int status = 0;
    if (waitpid(child, &status, 0) != child) /* waits as long as the child does */
        return 1;
    printf("parent: the child %s %d\n", WIFEXITED(status) ? "exited with" : "was killed by signal",
           WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

/* cgroup_cap: runs a command inside a cgroup cap of its own, then proves nothing was left.
 *
 *   cgroup_cap MAX_TASKS MAX_MEMORY_BYTES -- COMMAND ARGS...
 *
 * Used by the containment tests: a fork, thread or memory bomb run through forklore must be
 * bounded even if forklore's own containment fails, so each test puts forklore in a pids (and
 * memory) cgroup of its own, beneath the caller's. After COMMAND exits, every process still in
 * the cap is counted, killed and reported: the test asserts there were none. Exit: COMMAND's
 * exit code; 77 when no cap can be made here (not root, no cgroup v1 pids hierarchy: the tests
 * then do not run a bomb); 99 when COMMAND left processes behind.
 *
 * cgroup v1 only (this machine and CI); a v2-only machine gets 77.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char pids_dir[512], memory_dir[512];

static int write_text(const char* directory, const char* file, const char* text) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s", directory, file);
    FILE* f = fopen(path, "w");
    if (!f) return -1;
    int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* The caller's own cgroup in a v1 hierarchy, from /proc/self/cgroup ("4:memory:/a/b"). */
static int own_cgroup(const char* controller, char* out, size_t size) {
    FILE* f = fopen("/proc/self/cgroup", "r");
    if (!f) return -1;
    char line[1024];
    int found = -1;
    while (fgets(line, sizeof line, f)) {
        char* first = strchr(line, ':');
        char* second = first ? strchr(first + 1, ':') : NULL;
        if (!second) continue;
        *second = '\0';
        char* list = first + 1;
        for (char* name = strtok(list, ","); name; name = strtok(NULL, ","))
            if (strcmp(name, controller) == 0) {
                second[1 + strcspn(second + 1, "\n")] = '\0';
                snprintf(out, size, "%s", strcmp(second + 1, "/") == 0 ? "" : second + 1);
                found = 0;
            }
    }
    fclose(f);
    return found;
}

static int make_cap(const char* controller, char* directory, size_t size) {
    char own[400];
    if (own_cgroup(controller, own, sizeof own) != 0) return -1;
    snprintf(directory, size, "/sys/fs/cgroup/%s%s/forklore-test-cap-%d", controller, own,
             (int)getpid());
    if (mkdir(directory, 0755) != 0) return -1;
    return 0;
}

/* Kills what is left in `directory` and in the cgroups beneath it, removes those, and returns
 * how many processes there were. */
static int empty_tree(const char* directory) {
    int total = 0;
    DIR* dir = opendir(directory);
    if (dir) {
        struct dirent* entry;
        while ((entry = readdir(dir)))
            if (entry->d_type == DT_DIR && entry->d_name[0] != '.') {
                char child[1024];
                snprintf(child, sizeof child, "%s/%s", directory, entry->d_name);
                total += empty_tree(child);
                rmdir(child);
            }
        closedir(dir);
    }
    for (int round = 0; round < 200; ++round) {
        char path[1100];
        snprintf(path, sizeof path, "%s/cgroup.procs", directory);
        FILE* f = fopen(path, "r");
        if (!f) return total;
        int pid, seen = 0;
        while (fscanf(f, "%d", &pid) == 1) {
            kill(pid, SIGKILL);
            ++seen;
        }
        fclose(f);
        if (round == 0) total += seen;
        if (seen == 0) break;
        usleep(5000);
    }
    return total;
}

int main(int argc, char** argv) {
    if (argc < 5 || strcmp(argv[3], "--") != 0) {
        fprintf(stderr, "usage: cgroup_cap MAX_TASKS MAX_MEMORY_BYTES -- COMMAND ARGS...\n");
        return 2;
    }
    if (geteuid() != 0 || make_cap("pids", pids_dir, sizeof pids_dir) != 0) {
        fprintf(stderr, "cgroup_cap: cannot make a pids cgroup here: %s\n", strerror(errno));
        return 77;
    }
    write_text(pids_dir, "pids.max", argv[1]);
    if (make_cap("memory", memory_dir, sizeof memory_dir) == 0) {
        write_text(memory_dir, "memory.limit_in_bytes", argv[2]);
    } else {
        memory_dir[0] = '\0';
    }
    pid_t child = fork();
    if (child == 0) {
        char self[32];
        snprintf(self, sizeof self, "%d", (int)getpid());
        if (write_text(pids_dir, "cgroup.procs", self) != 0 ||
            (memory_dir[0] && write_text(memory_dir, "cgroup.procs", self) != 0)) {
            perror("cgroup_cap: join");
            _exit(77);
        }
        execv(argv[4], argv + 4);
        perror("cgroup_cap: exec");
        _exit(127);
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    /* Whatever the command's sandbox left would still be in the cap (or its child cgroups,
     * which forklore removes when it ends well). */
    int left = empty_tree(pids_dir);
    if (memory_dir[0]) left += empty_tree(memory_dir);
    rmdir(pids_dir);
    if (memory_dir[0]) rmdir(memory_dir);
    if (left > 0) {
        fprintf(stderr, "cgroup_cap: %d processes were left behind in the cap\n", left);
        return 99;
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}

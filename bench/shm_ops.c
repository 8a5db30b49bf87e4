/*
 * Microbenchmarks of the POSIX calls that shm_redirect.so takes over: named semaphores and shm_open.
 * Each run measures ROUNDS times (a run lasts a fraction of a second, short enough for one hiccup of a shared
 * machine to spoil a single figure); the harness repeats runs and interleaves them with the other variants.
 *
 *   shm_ops sem-local N      sem_post + sem_wait pairs on one named semaphore, in one process
 *   shm_ops sem-pingpong N   round trips between two processes through two named semaphores
 *   shm_ops sem-open N       sem_open(O_CREAT|O_EXCL) + sem_close + sem_unlink
 *   shm_ops shm-open N       shm_open(O_CREAT|O_EXCL) + close + shm_unlink
 *   shm_ops shm-sized N      the same with an ftruncate to one page between: the first sizing (the library
 *                            allocates the blocks then and tags the object with its owner)
 *   shm_ops sem-reopen N     sem_open of an existing semaphore by name (not open in this process) + sem_close
 *   shm_ops shm-reopen N     shm_open of an existing, sized object by name + close
 *   shm_ops raw-reopen N     the kernel's part of it, by system calls (never through a library): openat of
 *                            an existing file in /dev/shm + close
 *   shm_ops raw-reopen-check N  the same with an fstat between, the link count check the library's
 *                            reclaim needs: with raw-reopen, the floor of the library's shm-reopen against glibc's
 *   shm_ops sem-open N HELD  the same with HELD other semaphores open (and their files in the directory)
 *   shm_ops shm-open N HELD  the same with HELD other shared memory objects in the directory
 *   shm_ops first-use N      the first sem_open+sem_close+sem_unlink of a process, in N fresh children
 *   shm_ops first-open       one shm_open of a missing name, nothing else: a process's first use of the
 *                            library's directory (and of the reclaim's check), launched by the harness
 *   shm_ops objects N        creates N shm objects and N semaphores, prints "ready", waits to be killed
 *
 * Prints one JSON object: {"metric": [one value per round]}, rates in operations per second, latencies in
 * microseconds; the latencies also as "metric_cpu", the thread's CPU time per operation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
    fprintf(stderr, "shm_ops: %s: %s\n", what, strerror(errno));
    exit(1);
}

#define ROUNDS 5

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void) {
    return clock_s(CLOCK_MONOTONIC);
}

/* The calling thread's CPU time (user + system): what the calls cost, without the time spent waiting for a
   CPU or a lock that other jobs on a shared machine hold, which wall time includes. */
static double cpu_now(void) {
    return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

/* The latency benchmarks leave their CPU time per operation here, reported next to the wall time. */
static double last_cpu_us;

/* Names carry the pid so that concurrent or crashed runs never collide; padded to pid_max's 7 digits so that
   a name's length, which the path handling's instruction count follows, is the same in every process. */
static void name(char *buf, size_t len, const char *tag) {
    snprintf(buf, len, "/clm-bench-%s-%07ld", tag, (long)getpid());
}

static sem_t *open_new_sem(const char *n, unsigned value) {
    sem_t *s = sem_open(n, O_CREAT | O_EXCL, 0600, value);
    if (s == SEM_FAILED)
        die("sem_open");
    return s;
}

static double sem_local(long n) {
    char n1[64];
    name(n1, sizeof n1, "local");
    sem_t *s = open_new_sem(n1, 0);
    double t0 = now();
    for (long i = 0; i < n; i++) {
        if (sem_post(s) != 0 || sem_wait(s) != 0)
            die("sem_post/sem_wait");
    }
    double dt = now() - t0;
    sem_close(s);
    sem_unlink(n1);
    return (double)n / dt;
}

static double sem_pingpong(long n) {
    char n1[64], n2[64];
    name(n1, sizeof n1, "ping");
    name(n2, sizeof n2, "pong");
    sem_t *ping = open_new_sem(n1, 0), *pong = open_new_sem(n2, 0);
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        for (long i = 0; i < n; i++) {
            if (sem_wait(ping) != 0 || sem_post(pong) != 0)
                die("child sem_wait/sem_post");
        }
        _exit(0);
    }
    double t0 = now();
    for (long i = 0; i < n; i++) {
        if (sem_post(ping) != 0 || sem_wait(pong) != 0)
            die("parent sem_post/sem_wait");
    }
    double dt = now() - t0;
    int status;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "shm_ops: ping-pong child failed\n");
        exit(1);
    }
    sem_close(ping);
    sem_close(pong);
    sem_unlink(n1);
    sem_unlink(n2);
    return (double)n / dt;
}

static double sem_open_latency(long n) {
    char n1[64];
    name(n1, sizeof n1, "open");
    double t0 = now(), c0 = cpu_now();
    for (long i = 0; i < n; i++) {
        sem_t *s = open_new_sem(n1, 1);
        if (sem_close(s) != 0)
            die("sem_close");
        if (sem_unlink(n1) != 0)
            die("sem_unlink");
    }
    last_cpu_us = (cpu_now() - c0) / (double)n * 1e6;
    return (now() - t0) / (double)n * 1e6;
}

static double shm_open_latency(long n) {
    char n1[64];
    name(n1, sizeof n1, "shm");
    double t0 = now(), c0 = cpu_now();
    for (long i = 0; i < n; i++) {
        int fd = shm_open(n1, O_CREAT | O_EXCL | O_RDWR, 0600);
        if (fd < 0)
            die("shm_open");
        close(fd);
        if (shm_unlink(n1) != 0)
            die("shm_unlink");
    }
    last_cpu_us = (cpu_now() - c0) / (double)n * 1e6;
    return (now() - t0) / (double)n * 1e6;
}

static double shm_sized_latency(long n) {
    char n1[64];
    name(n1, sizeof n1, "sized");
    double t0 = now(), c0 = cpu_now();
    for (long i = 0; i < n; i++) {
        int fd = shm_open(n1, O_CREAT | O_EXCL | O_RDWR, 0600);
        if (fd < 0 || ftruncate(fd, 4096) != 0)
            die("shm_open/ftruncate");
        close(fd);
        if (shm_unlink(n1) != 0)
            die("shm_unlink");
    }
    last_cpu_us = (cpu_now() - c0) / (double)n * 1e6;
    return (now() - t0) / (double)n * 1e6;
}

/* Opening by name what another process made, as a worker does: the object exists, and (for a semaphore) is
   not open in this process, so the open finds it in the directory rather than in the process's own table. */
static double sem_reopen_latency(long n) {
    char n1[64];
    name(n1, sizeof n1, "reopen");
    if (sem_close(open_new_sem(n1, 1)) != 0)
        die("sem_close");
    double t0 = now(), c0 = cpu_now();
    for (long i = 0; i < n; i++) {
        sem_t *s = sem_open(n1, 0);
        if (s == SEM_FAILED || sem_close(s) != 0)
            die("sem_open/sem_close (existing)");
    }
    last_cpu_us = (cpu_now() - c0) / (double)n * 1e6;
    double us = (now() - t0) / (double)n * 1e6;
    if (sem_unlink(n1) != 0)
        die("sem_unlink");
    return us;
}

static double shm_reopen_latency(long n) {
    char n1[64];
    name(n1, sizeof n1, "shmreopen");
    int fd = shm_open(n1, O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0 || ftruncate(fd, 4096) != 0)
        die("shm_open/ftruncate");
    close(fd);
    double t0 = now(), c0 = cpu_now();
    for (long i = 0; i < n; i++) {
        if ((fd = shm_open(n1, O_RDWR, 0)) < 0)
            die("shm_open (existing)");
        close(fd);
    }
    last_cpu_us = (cpu_now() - c0) / (double)n * 1e6;
    double us = (now() - t0) / (double)n * 1e6;
    if (shm_unlink(n1) != 0)
        die("shm_unlink");
    return us;
}

static int raw_check;
static char raw_path[96];

/* The file goes however the run ends (die() exits): /dev/shm must be left as it was found. */
static void raw_remove(void) {
    if (raw_path[0])
        syscall(SYS_unlinkat, AT_FDCWD, raw_path, 0);
}

static double raw_reopen_latency(long n) {
    char n1[64];
    char *path = raw_path;
    name(n1, sizeof n1, "rawreopen");
    snprintf(raw_path, sizeof raw_path, "/dev/shm%s", n1);
    static int registered;
    if (!registered++)
        atexit(raw_remove);
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 || syscall(SYS_ftruncate, fd, 4096) != 0)
        die("openat/ftruncate");
    syscall(SYS_close, fd);
    double t0 = now(), c0 = cpu_now();
    for (long i = 0; i < n; i++) {
        if ((fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0)) < 0)
            die("openat (existing)");
        struct stat st;
        if (raw_check && syscall(SYS_fstat, fd, &st) != 0)
            die("fstat");
        syscall(SYS_close, fd);
    }
    last_cpu_us = (cpu_now() - c0) / (double)n * 1e6;
    double us = (now() - t0) / (double)n * 1e6;
    if (syscall(SYS_unlinkat, AT_FDCWD, path, 0) != 0)
        die("unlink");
    raw_path[0] = '\0';
    return us;
}

static double raw_reopen_check_latency(long n) {
    raw_check = 1;
    return raw_reopen_latency(n);
}

/* The cheapest first use: the library checks its directory (and the reclaim its group) on the way. */
static int first_open(void) {
    int fd = shm_open("/clm-bench-first-open-none", O_RDONLY, 0);
    return fd < 0 && errno == ENOENT ? 0 : 1;
}

/* What a killed runtime leaves behind: N segments and N semaphores, then waits for SIGKILL. */
static _Noreturn void objects(long n) {
    for (long i = 0; i < n; i++) {
        char n1[64];
        snprintf(n1, sizeof n1, "/clm-bench-dead-%ld-%ld", (long)getpid(), i);
        int fd = shm_open(n1, O_CREAT | O_EXCL | O_RDWR, 0600);
        /* Sized, as every user sizes a segment: that is when the library tags it for the reclaim. */
        if (fd < 0 || ftruncate(fd, 4096) != 0)
            die("shm_open/ftruncate");
        close(fd);
        sem_close(open_new_sem(n1, 0));
    }
    printf("ready\n");
    fflush(stdout);
    for (;;)
        pause();
}

/* Objects kept open while a latency is measured, so that growth with their number shows. */
static long held_count;
static sem_t **held_sems;
static int *held_fds;

static void hold(int sem) {
    if (held_count == 0)
        return;
    held_sems = calloc((size_t)held_count, sizeof *held_sems);
    held_fds = calloc((size_t)held_count, sizeof *held_fds);
    for (long i = 0; i < held_count; i++) {
        char tag[32], n[64];
        snprintf(tag, sizeof tag, "held%ld", i);
        name(n, sizeof n, tag);
        if (sem) {
            held_sems[i] = open_new_sem(n, 0);
        } else if ((held_fds[i] = shm_open(n, O_CREAT | O_EXCL | O_RDWR, 0600)) < 0) {
            die("shm_open (held)");
        } else {
            /* Neither glibc nor the library keeps anything per shared memory object: what grows is the
               directory. Closed, HELD objects fit any descriptor limit. */
            close(held_fds[i]);
        }
    }
}

static void release(int sem) {
    for (long i = 0; i < held_count; i++) {
        char tag[32], n[64];
        snprintf(tag, sizeof tag, "held%ld", i);
        name(n, sizeof n, tag);
        if (sem) {
            sem_close(held_sems[i]);
            sem_unlink(n);
        } else {
            shm_unlink(n);
        }
    }
}

/* One child per sample, so each measures its process's first call into the library (or glibc) and whatever
   that call sets up (the library: the redirect directory opened and checked). The parent never calls it. */
static double first_use_latency(long unused) {
    (void)unused;
    int fds[2];
    if (pipe(fds) != 0)
        die("pipe");
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        char n1[64];
        name(n1, sizeof n1, "first");
        double t0 = now(), c0 = cpu_now();
        sem_t *s = open_new_sem(n1, 1);
        if (sem_close(s) != 0 || sem_unlink(n1) != 0)
            die("sem_close/sem_unlink");
        double us[2] = {(now() - t0) * 1e6, (cpu_now() - c0) * 1e6};
        _exit(write(fds[1], us, sizeof us) == sizeof us ? 0 : 1);
    }
    close(fds[1]);
    double us[2] = {0, 0};
    ssize_t got = read(fds[0], us, sizeof us);
    close(fds[0]);
    int status;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != sizeof us) {
        fprintf(stderr, "shm_ops: first-use child failed\n");
        exit(1);
    }
    last_cpu_us = us[1];
    return us[0];
}

int main(int argc, char **argv) {
    static const struct {
        const char *name, *metric;
        double (*run)(long);
    } benches[] = {
        {"sem-local", "sem_local_ops", sem_local},
        {"sem-pingpong", "sem_pingpong_roundtrips", sem_pingpong},
        {"sem-open", "sem_open_us", sem_open_latency},
        {"shm-open", "shm_open_us", shm_open_latency},
        {"shm-sized", "shm_sized_us", shm_sized_latency},
        {"sem-reopen", "sem_reopen_us", sem_reopen_latency},
        {"shm-reopen", "shm_reopen_us", shm_reopen_latency},
        {"raw-reopen", "raw_reopen_us", raw_reopen_latency},
        {"raw-reopen-check", "raw_reopen_check_us", raw_reopen_check_latency},
        {"first-use", "first_use_us", first_use_latency},
    };
    if (argc == 2 && strcmp(argv[1], "first-open") == 0)
        return first_open();
    if (argc == 3 && strcmp(argv[1], "objects") == 0) {
        char *end = NULL;
        long count = strtol(argv[2], &end, 10);
        if (*end != '\0' || count <= 0)
            return 2;
        objects(count);
    }
    char *end = NULL, *end2 = NULL;
    long n = argc >= 3 ? strtol(argv[2], &end, 10) : 0;
    held_count = argc == 4 ? strtol(argv[3], &end2, 10) : 0;
    if (argc < 3 || argc > 4 || *end != '\0' || n <= 0 || (argc == 4 && (*end2 != '\0' || held_count < 0))) {
        fprintf(stderr, "usage: shm_ops sem-local|sem-pingpong|sem-open|shm-open|shm-sized|sem-reopen|shm-reopen|raw-reopen|raw-reopen-check|first-use "
                        "ITERATIONS_PER_ROUND [HELD] (positive integers)\n");
        return 2;
    }
    int sem = strcmp(argv[1], "sem-open") == 0;
    if (held_count && !sem && strcmp(argv[1], "shm-open") != 0) {
        fprintf(stderr, "shm_ops: HELD applies to sem-open and shm-open only\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++) {
        if (strcmp(argv[1], benches[i].name) == 0) {
            int first = benches[i].run == first_use_latency;
            hold(sem);
            /* first-use: N samples, one child each. */
            long rounds = first ? n : ROUNDS;
            double *cpu = calloc((size_t)rounds, sizeof *cpu);
            printf("{\"%s\": [", benches[i].metric);
            for (long r = 0; r < rounds; r++) {
                last_cpu_us = 0;
                printf("%s%.3f", r ? ", " : "", benches[i].run(n));
                cpu[r] = last_cpu_us;
            }
            printf("]");
            if (cpu[0] > 0) {
                printf(", \"%s_cpu\": [", benches[i].metric);
                for (long r = 0; r < rounds; r++)
                    printf("%s%.3f", r ? ", " : "", cpu[r]);
                printf("]");
            }
            printf("}\n");
            release(sem);
            return 0;
        }
    }
    fprintf(stderr, "shm_ops: unknown benchmark %s\n", argv[1]);
    return 2;
}

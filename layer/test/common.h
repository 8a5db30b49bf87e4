/* Tiny TAP-style harness shared by the C tests.  Each test program prints
   "ok N - ..." / "not ok N - ..." lines and exits non-zero on any failure.
   Tests observe the file system through raw system calls so that what they
   check never passes through the library under test. */
#ifndef SHMR_TEST_COMMON_H
#define SHMR_TEST_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int t_count, t_failed;

static __attribute__((unused)) void check(int cond, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    printf("%s %d - ", cond ? "ok" : "not ok", ++t_count);
    vprintf(fmt, ap);
    va_end(ap);
    if (!cond) {
        printf(" (errno %d: %s)", saved, strerror(saved));
        t_failed++;
    }
    printf("\n");
    fflush(stdout);
    errno = saved;
}

static __attribute__((unused)) void skip(const char *what, const char *why)
{
    printf("ok %d - %s # SKIP %s\n", ++t_count, what, why);
    fflush(stdout);
}

static __attribute__((unused)) int finish(void)
{
    printf("# %d checks, %d failed\n", t_count, t_failed);
    return t_failed ? 1 : 0;
}

/* CALL must fail with -1 (or the given failure value) and errno ERR. */
#define CHECK_ERR(call, fail, err, ...)                                       \
    do {                                                                      \
        errno = 0;                                                            \
        int ok_ = (call) == (fail) && errno == (err);                         \
        check(ok_, __VA_ARGS__);                                              \
    } while (0)

static __attribute__((unused)) int raw_stat(const char *path, struct stat *st)
{
    return (int)syscall(SYS_newfstatat, AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

static __attribute__((unused)) int raw_exists(const char *path)
{
    struct stat st;
    return raw_stat(path, &st) == 0;
}

static __attribute__((unused)) int raw_unlink(const char *path)
{
    return (int)syscall(SYS_unlinkat, AT_FDCWD, path, 0);
}

/* The library's rule: /dev/shm is used when it is a writable directory. */
static __attribute__((unused)) int redirected(void)
{
    struct stat st;
    if (syscall(SYS_newfstatat, AT_FDCWD, "/dev/shm", &st, 0) != 0 || !S_ISDIR(st.st_mode))
        return 1;
    return syscall(SYS_faccessat, AT_FDCWD, "/dev/shm", W_OK | X_OK) != 0;
}

/* Where the library puts objects in this process's environment. */
static const char *object_dir(void)
{
    if (!redirected())
        return "/dev/shm";
    const char *d = getenv("SHM_REDIRECT_DIR");
    return d && d[0] == '/' ? d : "/tmp/shm";
}

static __attribute__((unused)) void object_file(char *buf, size_t len, const char *prefix, const char *name)
{
    snprintf(buf, len, "%s/%s%s", object_dir(), prefix, name);
}

/* A name no other test run uses. */
static __attribute__((unused)) void uniq(char *buf, size_t len, const char *tag)
{
    snprintf(buf, len, "shmr-test-%d-%s", (int)getpid(), tag);
}

/* Runs this test binary again as "EXE --helper ARGS..." with ENV added (and
   LD_PRELOAD removed when PRELOAD is 0); under qemu-user the child goes
   through the same emulator (SHMR_TEST_QEMU="emulator sysroot").  Returns
   the pid; the child's stderr goes to ERRFD when it is >= 0. */
static __attribute__((unused)) pid_t spawn_helper(char *const args[], const char *const env[], int preload, int errfd)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    if (!preload)
        unsetenv("LD_PRELOAD");
    for (int i = 0; env && env[i]; i++)
        putenv((char *)env[i]);
    if (errfd >= 0)
        dup2(errfd, 2);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0)
        _exit(126);
    exe[n] = '\0';
    char *argv[16];
    int a = 0;
    char *qemu = getenv("SHMR_TEST_QEMU");
    char qbuf[PATH_MAX];
    if (qemu && *qemu) {
        snprintf(qbuf, sizeof qbuf, "%s", qemu);
        char *sp = strchr(qbuf, ' ');
        argv[a++] = qbuf;
        if (sp) {
            *sp = '\0';
            argv[a++] = "-L";
            argv[a++] = sp + 1;
        }
    }
    argv[a++] = exe;
    argv[a++] = "--helper";
    for (int i = 0; args[i] && a < 15; i++)
        argv[a++] = args[i];
    argv[a] = NULL;
    execvp(argv[0], argv);
    _exit(127);
}

/* The next line a helper driven over a pipe writes on FD, without its newline (static). */
static __attribute__((unused)) const char *read_reply(int fd)
{
    static char line[128];
    size_t n = 0;
    char c;
    while (n < sizeof line - 1 && read(fd, &c, 1) == 1 && c != '\n')
        line[n++] = c;
    line[n] = '\0';
    return line;
}

/* spawn_helper with the child's stdin and stdout on pipes: *TO_CHILD is ours
   to write (and close), *FROM_CHILD ours to read; both close on exec.
   Returns the pid, or -1 when the pipes cannot be made. */
static __attribute__((unused)) pid_t spawn_piped(char *const args[], const char *const env[], int *to_child, int *from_child)
{
    /* Close-on-exec from the start: a helper that held its own stdin's
       write end, or another helper's, would never see the end of its
       input, and outlive a test that died (a timeout) for ever. */
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return -1;
    }
    fflush(stdout);
    int save0 = fcntl(0, F_DUPFD_CLOEXEC, 3), save1 = fcntl(1, F_DUPFD_CLOEXEC, 3);
    dup2(in[0], 0);
    dup2(out[1], 1);
    pid_t pid = spawn_helper(args, env, 1, -1);
    dup2(save0, 0);
    dup2(save1, 1);
    close(save0);
    close(save1);
    close(in[0]);
    close(out[1]);
    *to_child = in[1];
    *from_child = out[0];
    return pid;
}

static __attribute__((unused)) int wait_status(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#endif

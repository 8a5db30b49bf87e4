/* The redirect directory is trusted only when no other user can tamper with
   it, like the sticky, root-owned /dev/shm: a directory (not a symlink, not
   a file) owned by this user or root, and sticky if others may write to it.
   Otherwise every call that would use it fails and nothing lands there. */
#include "common.h"

#include <semaphore.h>
#include <sys/mman.h>

#define OTHER_UID 65534

/* Tries each kind of object; prints "sem shm open" errno values. */
static int helper(void)
{
    errno = 0;
    sem_t *s = sem_open("shmr-test-dir", O_CREAT, 0600, 1);
    int e1 = s == SEM_FAILED ? errno : 0;
    errno = 0;
    int fd = shm_open("shmr-test-dir", O_CREAT | O_RDWR, 0600);
    int e2 = fd < 0 ? errno : 0;
    errno = 0;
    int fd2 = open("/dev/shm/shmr-test-dir-file", O_CREAT | O_WRONLY, 0600);
    int e3 = fd2 < 0 ? errno : 0;
    printf("%d %d %d\n", e1, e2, e3);
    return 0;
}

static char out[256], err[4096];

/* Runs the helper with SHM_REDIRECT_DIR=DIR; fills out and err. */
static void run(const char *dir)
{
    char env[PATH_MAX + 32];
    snprintf(env, sizeof env, "SHM_REDIRECT_DIR=%s", dir);
    const char *envs[] = { env, NULL };
    char opath[] = "/tmp/shmr-test-out-XXXXXX", epath[] = "/tmp/shmr-test-err-XXXXXX";
    int ofd = mkstemp(opath), efd = mkstemp(epath);
    char *args[] = { "x", NULL };
    fflush(stdout);
    int saved = dup(1);
    dup2(ofd, 1);
    pid_t pid = spawn_helper(args, envs, 1, efd);
    dup2(saved, 1);
    close(saved);
    wait_status(pid);
    ssize_t n = pread(ofd, out, sizeof out - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    n = pread(efd, err, sizeof err - 1, 0);
    err[n > 0 ? n : 0] = '\0';
    close(ofd);
    close(efd);
    unlink(opath);
    unlink(epath);
}

/* Nothing was created in DIR. */
static int empty_dir(const char *dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/sem.shmr-test-dir", dir);
    int none = !raw_exists(p);
    snprintf(p, sizeof p, "%s/shmr-test-dir", dir);
    none = none && !raw_exists(p);
    snprintf(p, sizeof p, "%s/shmr-test-dir-file", dir);
    return none && !raw_exists(p);
}

static void refused(const char *what, const char *dir, const char *target, int err_want)
{
    run(dir);
    char want[64];
    snprintf(want, sizeof want, "%d %d %d\n", err_want, err_want, err_want);
    check(strcmp(out, want) == 0, "%s: sem_open, shm_open, open(/dev/shm/...) fail with %s (got %.*s)", what,
          strerror(err_want), (int)strcspn(out, "\n"), out);
    check(empty_dir(target), "... and create nothing in %s", target);
    check(strstr(err, "shm_redirect: ") && strstr(err, dir), "... with a warning naming %s: %.*s", dir,
          (int)strcspn(err, "\n"), err);
}

static void cleanup(const char *dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/sem.shmr-test-dir", dir);
    raw_unlink(p);
    snprintf(p, sizeof p, "%s/shmr-test-dir", dir);
    raw_unlink(p);
    snprintf(p, sizeof p, "%s/shmr-test-dir-file", dir);
    raw_unlink(p);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--helper") == 0)
        return helper();
    if (!redirected()) {
        skip("redirect directory safety", "/dev/shm exists, the redirect directory is not used");
        return finish();
    }
    if (geteuid() != 0) {
        skip("redirect directory safety", "needs root to create files owned by another user");
        return finish();
    }
    char base[128], dir[256], target[256];
    snprintf(base, sizeof base, "/tmp/shmr-test-dirs-%d", (int)getpid());
    syscall(SYS_mkdirat, AT_FDCWD, base, 01777);
    snprintf(target, sizeof target, "%s/theirs", base);
    syscall(SYS_mkdirat, AT_FDCWD, target, 0777);
    syscall(SYS_fchmodat, AT_FDCWD, target, 01777);
    syscall(SYS_fchownat, AT_FDCWD, target, OTHER_UID, OTHER_UID, 0);

    /* Another user plants the redirect directory's name as a symlink to a
       directory of theirs (what /tmp/shm in a shared /tmp invites). */
    snprintf(dir, sizeof dir, "%s/link", base);
    syscall(SYS_symlinkat, target, AT_FDCWD, dir);
    syscall(SYS_fchownat, AT_FDCWD, dir, OTHER_UID, OTHER_UID, AT_SYMLINK_NOFOLLOW);
    refused("a symlink to another user's directory", dir, target, ELOOP);
    raw_unlink(dir);

    refused("another user's sticky directory", target, target, EACCES);

    snprintf(dir, sizeof dir, "%s/open", base);
    syscall(SYS_mkdirat, AT_FDCWD, dir, 0777);
    syscall(SYS_fchmodat, AT_FDCWD, dir, 0777);
    refused("a world-writable directory without the sticky bit", dir, dir, EACCES);
    syscall(SYS_unlinkat, AT_FDCWD, dir, AT_REMOVEDIR);

    snprintf(dir, sizeof dir, "%s/file", base);
    close((int)syscall(SYS_openat, AT_FDCWD, dir, O_CREAT | O_WRONLY, 0600));
    run(dir);
    check(strcmp(out, "20 20 20\n") == 0, "a regular file: ENOTDIR everywhere (got %.*s)", (int)strcspn(out, "\n"), out);
    raw_unlink(dir);

    /* Trusted: our own private directory, root's sticky one, a fresh one. */
    snprintf(dir, sizeof dir, "%s/mine", base);
    syscall(SYS_mkdirat, AT_FDCWD, dir, 0700);
    run(dir);
    check(strcmp(out, "0 0 0\n") == 0 && err[0] == '\0', "our own 0700 directory is used (got %.*s)",
          (int)strcspn(out, "\n"), out);
    cleanup(dir);
    syscall(SYS_unlinkat, AT_FDCWD, dir, AT_REMOVEDIR);
    snprintf(dir, sizeof dir, "%s/new", base);
    run(dir);
    check(strcmp(out, "0 0 0\n") == 0 && err[0] == '\0', "a missing directory is created and used");
    cleanup(dir);
    syscall(SYS_unlinkat, AT_FDCWD, dir, AT_REMOVEDIR);

    syscall(SYS_unlinkat, AT_FDCWD, target, AT_REMOVEDIR);
    syscall(SYS_unlinkat, AT_FDCWD, base, AT_REMOVEDIR);
    return finish();
}

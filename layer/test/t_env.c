/* SHM_REDIRECT_DIR, SHM_REDIRECT_DEBUG and the creation of the redirect
   directory, each in a fresh process (the library decides once per process). */
#include "common.h"

#include <semaphore.h>
#include <sys/mman.h>

static int helper(char **argv)
{
    const char *what = argv[2], *name = argv[3];
    if (strcmp(what, "sem") == 0) {
        sem_t *s = sem_open(name, O_CREAT, 0600, 1);
        return s == SEM_FAILED ? 1 : 0;
    }
    if (strcmp(what, "shm") == 0) {
        umask(077);
        int fd = shm_open(name, O_CREAT | O_RDWR, 0600);
        return fd < 0 ? 1 : 0;
    }
    if (strcmp(what, "stat") == 0) {
        struct stat st;
        return stat("/dev/shm", &st) == 0 && stat("/etc/hostname", &st) == 0 ? 0 : 1;
    }
    return 9;
}

/* Runs a helper with extra environment, capturing its stderr into ERR. */
static int run(char *what, char *name, const char *const env[], char *err, size_t errlen)
{
    char path[] = "/tmp/shmr-test-err-XXXXXX";
    int fd = mkstemp(path);
    char *args[] = { what, name, NULL };
    int rc = wait_status(spawn_helper(args, env, 1, fd));
    ssize_t n = pread(fd, err, errlen - 1, 0);
    err[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    return rc;
}

static mode_t raw_mode(const char *path)
{
    struct stat st;
    return raw_stat(path, &st) == 0 ? st.st_mode : 0;
}

int main(int argc, char **argv)
{
    if (argc > 3 && strcmp(argv[1], "--helper") == 0)
        return helper(argv);
    char name[64], dir[256], env1[300], file[PATH_MAX], err[4096];
    uniq(name, sizeof name, "env");
    snprintf(dir, sizeof dir, "/tmp/shmr-test-dir-%d", (int)getpid());
    snprintf(env1, sizeof env1, "SHM_REDIRECT_DIR=%s//", dir);
    snprintf(file, sizeof file, "%s/sem.%s", dir, name);
    const char *custom[] = { env1, "SHM_REDIRECT_DEBUG=", NULL };

    if (!redirected()) {
        check(run("sem", name, custom, err, sizeof err) == 0, "sem_open with SHM_REDIRECT_DIR set");
        check(!raw_exists(dir), "SHM_REDIRECT_DIR is ignored while /dev/shm exists");
        sem_unlink(name);
        const char *debug[] = { "SHM_REDIRECT_DEBUG=1", NULL };
        check(run("sem", name, debug, err, sizeof err) == 0 && err[0] == '\0',
              "SHM_REDIRECT_DEBUG=1 prints nothing when nothing is redirected");
        sem_unlink(name);
        return finish();
    }

    check(run("sem", name, custom, err, sizeof err) == 0 && raw_exists(file),
          "SHM_REDIRECT_DIR (trailing slashes dropped) holds sem.<name>: %s", file);
    check(raw_mode(dir) == (S_IFDIR | 01777), "it was created with mode 01777 (got %o)", (unsigned)raw_mode(dir));
    check(err[0] == '\0', "no output without SHM_REDIRECT_DEBUG");
    raw_unlink(file);
    syscall(SYS_unlinkat, AT_FDCWD, dir, AT_REMOVEDIR);

    /* 16 processes create the directory at once; all must succeed. */
    pid_t pids[16];
    const char *race[] = { env1, NULL };
    for (int i = 0; i < 16; i++) {
        char *args[] = { "shm", name, NULL };
        pids[i] = spawn_helper(args, race, 1, -1);
    }
    int failed = 0;
    for (int i = 0; i < 16; i++)
        failed += wait_status(pids[i]) != 0;
    snprintf(file, sizeof file, "%s/%s", dir, name);
    check(failed == 0 && raw_exists(file), "16 processes creating the directory concurrently all succeed");
    check(raw_mode(dir) == (S_IFDIR | 01777), "directory mode 01777 despite umask 077 (got %o)", (unsigned)raw_mode(dir));
    raw_unlink(file);
    syscall(SYS_unlinkat, AT_FDCWD, dir, AT_REMOVEDIR);

    const char *relative[] = { "SHM_REDIRECT_DIR=relative/dir", NULL };
    snprintf(file, sizeof file, "/tmp/shm/sem.%s", name);
    check(run("sem", name, relative, err, sizeof err) == 0 && raw_exists(file),
          "a relative SHM_REDIRECT_DIR falls back to /tmp/shm");
    check(strstr(err, "SHM_REDIRECT_DIR must be an absolute directory") != NULL,
          "... with a warning on stderr");
    raw_unlink(file);

    const char *debug[] = { "SHM_REDIRECT_DEBUG=1", "SHM_REDIRECT_DIR=", NULL };
    check(run("sem", name, debug, err, sizeof err) == 0, "sem_open with SHM_REDIRECT_DEBUG=1");
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "shm_redirect: sem_open %s -> /tmp/shm/sem.%s\n", name, name);
    check(strstr(err, want) != NULL, "debug line: %.*s", (int)strlen(want) - 1, want);
    raw_unlink(file);
    /* Built against glibc < 2.33, stat() reaches the library as __xstat. */
    check(run("stat", name, debug, err, sizeof err) == 0
              && (strcmp(err, "shm_redirect: stat /dev/shm -> /tmp/shm\n") == 0
                  || strcmp(err, "shm_redirect: __xstat /dev/shm -> /tmp/shm\n") == 0),
          "exactly one debug line for stat(\"/dev/shm\"), none for other paths");
    return finish();
}

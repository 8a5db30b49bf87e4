/* sem_open when an unnamed O_TMPFILE file cannot be used, so it creates
   the semaphore under a temporary name instead: O_TMPFILE refused with
   EOPNOTSUPP (as by a file system without it; here a seccomp filter), or,
   with SHMR_TEST_NO_PROC=1, /proc not mounted (the unnamed file cannot be
   linked through /proc/self/fd).  Same semantics either way. */
#include "common.h"

#include "seccomp_refuse.h"

#include <dirent.h>
#include <semaphore.h>

/* "sem." entries in the object directory other than sem.NAME. */
static int strays(const char *name)
{
    char mine[NAME_MAX + 1];
    snprintf(mine, sizeof mine, "sem.%s", name);
    DIR *d = opendir(object_dir());
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strncmp(e->d_name, "sem.", 4) == 0 && strcmp(e->d_name, mine) != 0;
    closedir(d);
    return n;
}

int main(void)
{
    if (getenv("SHMR_TEST_NO_PROC")) {
        check(syscall(SYS_faccessat, AT_FDCWD, "/proc/self/fd", F_OK) != 0, "/proc is not mounted");
    } else {
        /* Every openat with O_TMPFILE (the flag bit without O_DIRECTORY). */
        int refused = refuse_syscall(SYS_openat, 2, O_TMPFILE & ~O_DIRECTORY, O_TMPFILE & ~O_DIRECTORY, EOPNOTSUPP);
        if (refused != 0 && (errno == ENOSYS || errno == EINVAL)) {
            /* qemu-user (a filter would bind the emulator too) or a kernel without seccomp filters. */
            skip("O_TMPFILE refused by a seccomp filter", "no seccomp filters here");
            return finish();
        }
        check(refused == 0, "seccomp filter refusing O_TMPFILE installed");
        CHECK_ERR((int)syscall(SYS_openat, AT_FDCWD, "/tmp", O_TMPFILE | O_RDWR, 0600), -1, EOPNOTSUPP,
                  "O_TMPFILE -> EOPNOTSUPP");
    }

    char name[64], file[PATH_MAX];
    uniq(name, sizeof name, "fallback");
    object_file(file, sizeof file, "sem.", name);
    /* A directory not created yet holds no strays. */
    int before = redirected() ? strays(name) : 0;
    if (before < 0)
        before = 0;

    mode_t old = umask(027);
    sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0666, 3);
    umask(old);
    check(s != SEM_FAILED, "sem_open O_CREAT|O_EXCL creates %s", file);
    struct stat st = { 0 };
    int stated = raw_stat(file, &st) == 0;
    check(stated && (st.st_mode & 07777) == 0640 && st.st_size == 32,
          "32 bytes, mode 0666 & ~umask 027 = 0640 (got %o)", (unsigned)(st.st_mode & 07777));
    /* Read before check(): its arguments are evaluated in no set order. */
    int v = -1;
    int got = s != SEM_FAILED && sem_getvalue(s, &v) == 0;
    check(got && v == 3, "initial value 3 (got %d)", v);
    CHECK_ERR(sem_open(name, O_CREAT | O_EXCL, 0600, 0), SEM_FAILED, EEXIST, "O_CREAT|O_EXCL again -> EEXIST");
    check(sem_open(name, O_CREAT, 0600, 0) == s, "O_CREAT opens the existing one, same address");
    if (redirected())
        check(strays(name) == before, "no temporary file left behind");
    else
        skip("no temporary file left behind", "the host's /dev/shm is shared with other programs");
    sem_close(s);
    sem_close(s);

    /* Racing creators: one initialises, every post lands. */
    char race[64];
    uniq(race, sizeof race, "fallback-race");
    enum { KIDS = 8 };
    for (int i = 0; i < KIDS; i++) {
        if (fork() == 0) {
            sem_t *r = sem_open(race, O_CREAT, 0600, 0);
            _exit(r == SEM_FAILED || sem_post(r) != 0);
        }
    }
    int failed = 0, status;
    while (wait(&status) > 0)
        failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    sem_t *r = sem_open(race, 0);
    v = -1;
    got = r != SEM_FAILED && sem_getvalue(r, &v) == 0;
    check(failed == 0 && got && v == KIDS,
          "%d racing O_CREAT openers: %d posts seen (failed %d)", KIDS, v, failed);
    if (r != SEM_FAILED)
        sem_close(r);

    check(sem_unlink(name) == 0 && !raw_exists(file), "sem_unlink removes it");
    sem_unlink(race);
    return finish();
}

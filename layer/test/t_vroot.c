/* The virtual /dev/shm behaves like a directory mounted in /dev: "." is
   itself, ".." is /dev, a listing shows both, and chmod/chown of it act as
   on a shared /dev/shm without changing the redirect directory, which the
   other processes of the function need sticky and writable by all. */
#include "common.h"

#include <dirent.h>

#define OTHER_UID 65534

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The redirect directory's mode and owner, seen past the library. */
static struct stat real_dir(void)
{
    struct stat st = { 0 };
    syscall(SYS_newfstatat, AT_FDCWD, object_dir(), &st, 0);
    return st;
}

static int unchanged(const struct stat *before)
{
    struct stat now = real_dir();
    return now.st_mode == before->st_mode && now.st_uid == before->st_uid && now.st_gid == before->st_gid;
}

/* As another user: chmod and chown of /dev/shm are refused, as on a
   /dev/shm owned by someone else. */
static int as_other(void)
{
    if (setgid(OTHER_UID) != 0 || setuid(OTHER_UID) != 0)
        return 3;
    errno = 0;
    int chmod_eperm = chmod("/dev/shm", 0700) == -1 && errno == EPERM;
    errno = 0;
    int chown_eperm = chown("/dev/shm", OTHER_UID, OTHER_UID) == -1 && errno == EPERM;
    return chmod_eperm && chown_eperm ? 0 : 1;
}

int main(void)
{
    if (!redirected()) {
        skip("virtual /dev/shm as a directory", "/dev/shm exists, nothing is virtual");
        return finish();
    }
    char name[64], file[128];
    uniq(name, sizeof name, "vroot");
    snprintf(file, sizeof file, "/dev/shm/%s", name);
    int fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    check(fd >= 0, "a file in /dev/shm");
    if (fd >= 0)
        close(fd);

    struct stat root = { 0 }, dot = { 0 }, dotdot = { 0 }, dev = { 0 }, again = { 0 };
    int ok = stat("/dev/shm", &root) == 0 && stat("/dev/shm/.", &dot) == 0;
    check(ok && S_ISDIR(dot.st_mode) && same_file(&root, &dot), "stat /dev/shm/. is /dev/shm");
    ok = stat("/dev/shm/..", &dotdot) == 0 && stat("/dev", &dev) == 0;
    check(ok && same_file(&dotdot, &dev), "stat /dev/shm/.. is /dev");
    ok = lstat("/dev/shm/../shm/.", &again) == 0;
    check(ok && same_file(&again, &root), "/dev/shm/../shm/. is /dev/shm again");
    ok = fstatat(AT_FDCWD, "/dev/shm/x/../..", &again, 0) == 0;
    check(ok && same_file(&again, &dev), "/dev/shm/x/../.. is /dev (fstatat)");

    DIR *d = opendir("/dev/shm");
    int seen_dot = 0, seen_dotdot = 0, seen_file = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        seen_dot += strcmp(e->d_name, ".") == 0;
        seen_dotdot += strcmp(e->d_name, "..") == 0;
        seen_file += strcmp(e->d_name, name) == 0;
    }
    if (d)
        closedir(d);
    check(seen_dot == 1 && seen_dotdot == 1 && seen_file == 1, "readdir lists ., .. and the file");

    struct stat before = real_dir();
    check((before.st_mode & 07777) == 01777, "the redirect directory is sticky and writable by all (%o)",
          (unsigned)(before.st_mode & 07777));
    if (geteuid() == 0) {
        check(chmod("/dev/shm", 0700) == 0 && unchanged(&before), "chmod 0700 /dev/shm: done, directory unchanged");
        check(fchmodat(AT_FDCWD, "/dev/shm/", 0755, 0) == 0 && unchanged(&before),
              "fchmodat /dev/shm/ 0755: done, directory unchanged");
        check(chown("/dev/shm", OTHER_UID, OTHER_UID) == 0 && lchown("/dev/shm", OTHER_UID, -1) == 0
                  && fchownat(AT_FDCWD, "/dev/shm//", -1, OTHER_UID, 0) == 0 && unchanged(&before),
              "chown, lchown, fchownat of /dev/shm: done, directory unchanged");
        check(stat("/dev/shm", &root) == 0 && (root.st_mode & 07777) == 01777, "stat /dev/shm still shows 1777");
        pid_t pid = fork();
        if (pid == 0)
            _exit(as_other());
        check(wait_status(pid) == 0 && unchanged(&before), "another user: chmod and chown of /dev/shm -> EPERM");
    } else {
        skip("chmod/chown of /dev/shm", "needs root to compare with another user");
    }
    CHECK_ERR(rmdir("/dev/shm/../shm"), -1, EBUSY, "rmdir /dev/shm/../shm -> EBUSY");
    check(unlink(file) == 0, "unlink the file");
    return finish();
}

/* The redirect directory's lifetime in one process: a failure that may pass
   (a full descriptor table) is not remembered, a directory removed between
   two uses (rm -rf of it, or of /tmp's content) is made again, and once
   checked the directory cannot be swapped for a symlink through a parent
   that others can write. */
#include "common.h"

#include <dirent.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>

static char base[128], dir[256];

/* Removes DIR and what it holds (one level: all the library makes). */
static void rm_rf(const char *path)
{
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        DIR *d = fdopendir(fd);
        for (struct dirent *e; d && (e = readdir(d));)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                syscall(SYS_unlinkat, fd, e->d_name, 0);
        if (d)
            closedir(d);
    }
    syscall(SYS_unlinkat, AT_FDCWD, path, AT_REMOVEDIR);
}

static int entries(const char *path)
{
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    DIR *d = fdopendir(fd);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

/* sem_open + shm_open + both unlinks of fresh names; 0 when all worked. */
static int use_once(const char *tag)
{
    char name[64];
    uniq(name, sizeof name, tag);
    sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0600, 1);
    if (s == SEM_FAILED)
        return -1;
    int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    int ok = fd >= 0 && sem_post(s) == 0;
    if (fd >= 0)
        close(fd);
    sem_close(s);
    ok = sem_unlink(name) == 0 && ok;
    ok = shm_unlink(name) == 0 && ok;
    return ok ? 0 : -1;
}

/* First use with the descriptor table full: that call fails with EMFILE,
   the next one after descriptors are freed works. */
static void fd_table_full(void)
{
    struct rlimit old, low;
    getrlimit(RLIMIT_NOFILE, &old);
    low = old;
    low.rlim_cur = 64;
    setrlimit(RLIMIT_NOFILE, &low);
    int fds[64], n = 0;
    for (; n < 64; n++)
        if ((fds[n] = (int)syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
            break;
    char name[64];
    uniq(name, sizeof name, "emfile");
    errno = 0;
    sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0600, 1);
    int sem_err = s == SEM_FAILED ? errno : 0;
    errno = 0;
    int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    int shm_err = fd < 0 ? errno : 0;
    while (n > 0)
        close(fds[--n]);
    setrlimit(RLIMIT_NOFILE, &old);
    check(sem_err == EMFILE && shm_err == EMFILE, "first use with the descriptor table full: EMFILE (got %d, %d)",
          sem_err, shm_err);
    check(use_once("after-emfile") == 0, "descriptors freed: sem_open and shm_open work");
}

/* The numbers the library keeps (directory, registry, record, gate) are
   among the lowest: the program's own files take them, by dup2 over them
   and after closing them all.  The library must work with descriptors of
   its own and never write, lock or unlink through the program's. */
#define REUSED 48

/* Uses the library (a creation appends to the group's record, an unlink
   passes the gate) with every number below REUSED the program's. */
static void reused_numbers(void)
{
    /* Not under qemu-user, whose own descriptors would go too. */
    if (getenv("SHMR_TEST_QEMU")) {
        skip("the program's files reuse the library's descriptor numbers", "qemu-user");
        return;
    }
    char path[300];
    snprintf(path, sizeof path, "%s/user-dup2", base);
    int user = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    int high = fcntl(user, F_DUPFD, 900);
    close(user);
    for (int fd = 3; fd < REUSED; fd++)
        dup2(high, fd);
    int used = use_once("after-dup2") == 0;
    struct stat st = { 0 };
    fstat(high, &st);
    check(used && st.st_size == 0, "with the program's file dup2'd over its descriptors (file size %lld)",
          (long long)st.st_size);

    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    /* Files and directories, as closefrom then opens leave them. */
    for (int fd = 3; fd < REUSED; fd++) {
        snprintf(path, sizeof path, "%s/user-%d", base, fd);
        if (fd % 2)
            syscall(SYS_mkdirat, AT_FDCWD, path, 0700);
        int got = (int)syscall(SYS_openat, AT_FDCWD, path,
                               fd % 2 ? O_RDONLY | O_DIRECTORY : O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (got != fd)
            printf("# user file %d opened as %d\n", fd, got);
    }
    used = use_once("after-closeall") == 0;
    int touched = 0;
    for (int fd = 3; fd < REUSED; fd++) {
        snprintf(path, sizeof path, "%s/user-%d", base, fd);
        touched += fd % 2 ? entries(path) != 0 : raw_stat(path, &st) != 0 || st.st_size != 0;
        /* Nothing locks them through the program's descriptors: a
           description of the test's own takes LOCK_EX at once. */
        int probe = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
        touched += probe < 0 || flock(probe, LOCK_EX | LOCK_NB) != 0;
        if (probe >= 0)
            close(probe);
    }
    check(used && touched == 0, "after the program closed all its descriptors and reused the numbers (%d touched)",
          touched);

    /* Closing the record dropped the group's lock: the library took it
       again, so a reclaimer cannot take the group for dead. */
    const char *reclaim = getenv("SHM_REDIRECT_RECLAIM");
    if (reclaim && strcmp(reclaim, "0") == 0) {
        skip("the group's record is held again", "SHM_REDIRECT_RECLAIM=0");
    } else {
        snprintf(path, sizeof path, "%s.reclaim/g.%ld", dir, (long)getpgid(0));
        int rec = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
        errno = 0;
        int free_ = rec >= 0 && flock(rec, LOCK_EX | LOCK_NB) == 0;
        check(rec >= 0 && !free_ && errno == EWOULDBLOCK, "the group's record is held again");
        if (rec >= 0)
            close(rec);
    }
    for (int fd = 3; fd < REUSED; fd++) {
        close(fd);
        snprintf(path, sizeof path, "%s/user-%d", base, fd);
        syscall(SYS_unlinkat, AT_FDCWD, path, fd % 2 ? AT_REMOVEDIR : 0);
    }
    close(high);
    snprintf(path, sizeof path, "%s/user-dup2", base);
    syscall(SYS_unlinkat, AT_FDCWD, path, 0);
}

/* The library's descriptor of the directory, found through /proc/self/fd;
   -1 when none. */
static int library_number(void)
{
    char link[64], target[300];
    for (int fd = 3; fd < 1024; fd++) {
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        long n = syscall(SYS_readlinkat, AT_FDCWD, link, target, sizeof target - 1);
        if (n > 0 && (target[n] = '\0', strcmp(target, dir) == 0))
            return fd;
    }
    return -1;
}

/* An object of each kind named NAME, made (CREATE) or read back: the
   segment holds its name, the semaphore the value 7.  1 when they are. */
static int kept_objects(const char *name, int create)
{
    char got[64] = "";
    int value = -1;
    int fd = shm_open(name, create ? O_CREAT | O_EXCL | O_RDWR : O_RDONLY, 0600);
    if (fd >= 0 && create)
        pwrite(fd, name, strlen(name), 0);
    if (fd >= 0 && !create)
        pread(fd, got, sizeof got - 1, 0);
    if (fd >= 0)
        close(fd);
    sem_t *s = sem_open(name, create ? O_CREAT | O_EXCL : 0, 0600, 7);
    if (s != SEM_FAILED) {
        sem_getvalue(s, &value);
        sem_close(s);
    }
    return fd >= 0 && value == 7 && (create || strcmp(got, name) == 0);
}

/* An open that creates nothing trusts the library's descriptor without
   checking it: the program closing its number, or giving the number to a
   file or to a directory of its own, or the directory removed and made
   again by someone else, must show up as the open's failure and be
   mended, never as a wrong file. */
static void reads_through_a_lost_number(void)
{
    char name[64], path[400], mine[300];
    uniq(name, sizeof name, "lost");
    check(kept_objects(name, 1), "objects made to be opened again");
    snprintf(mine, sizeof mine, "%s/program-dir", base);
    syscall(SYS_mkdirat, AT_FDCWD, mine, 0700);
    snprintf(path, sizeof path, "%s/program-file", base);
    int file = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int theirs = (int)syscall(SYS_openat, AT_FDCWD, mine, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const char *how[] = { "closed", "given to a file of the program's", "given to a directory of the program's" };
    for (int i = 0; i < 3; i++) {
        int n = library_number();
        if (i == 0)
            syscall(SYS_close, n);
        else
            syscall(SYS_dup3, i == 1 ? file : theirs, n, O_CLOEXEC);
        check(n >= 0 && kept_objects(name, 0), "opened by name after the library's number was %s", how[i]);
        /* Closed, the number may well be the library's again. */
        int now = library_number();
        check(now >= 0 && (i == 0 || now != n), "the library has a descriptor of its own again");
    }
    check(entries(mine) == 0, "nothing was made in the program's directory (%d entries)", entries(mine));
    close(file);
    close(theirs);
    raw_unlink(path);
    syscall(SYS_unlinkat, AT_FDCWD, mine, AT_REMOVEDIR);

    /* Removed, then made again by another process with the same name in it
       (raw: as glibc with a real /dev/shm would see it). */
    rm_rf(dir);
    syscall(SYS_mkdirat, AT_FDCWD, dir, 01777);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    pwrite(fd, "again", 5, 0);
    close(fd);
    char got[8] = "";
    fd = shm_open(name, O_RDONLY, 0);
    if (fd >= 0) {
        pread(fd, got, sizeof got - 1, 0);
        close(fd);
    }
    check(strcmp(got, "again") == 0, "after the directory was removed and made again, the new one's object is opened");
    shm_unlink(name);

    /* Removed, then its path made a symlink: the open says the refusal
       (ELOOP), not the removed directory's ENOENT. */
    pid_t child = fork();
    if (child == 0) {
        rm_rf(dir);
        syscall(SYS_symlinkat, base, AT_FDCWD, dir);
        errno = 0;
        int first = shm_open(name, O_RDONLY, 0) < 0 && errno == ELOOP;
        errno = 0;
        _exit(first && shm_open(name, O_RDONLY, 0) < 0 && errno == ELOOP ? 0 : 1);
    }
    check(wait_status(child) == 0, "after the directory was removed and its path made a symlink, opens fail with ELOOP");
    raw_unlink(dir);
}

/* rm -rf of the directory between two uses, then of /tmp's content. */
static void removed_between_uses(void)
{
    check(use_once("first") == 0, "first use");
    rm_rf(dir);
    check(!raw_exists(dir), "%s removed after first use", dir);
    int used = use_once("after-rm") == 0;
    struct stat st = { 0 };
    int made = raw_stat(dir, &st) == 0;
    check(used && made && st.st_mode == (S_IFDIR | 01777), "the next use makes it again, mode 01777 (got %o)",
          (unsigned)st.st_mode);

    rm_rf(dir);
    syscall(SYS_unlinkat, AT_FDCWD, base, AT_REMOVEDIR);
    syscall(SYS_mkdirat, AT_FDCWD, base, 0700);
    check(use_once("after-parent") == 0 && raw_exists(dir), "and again after its parent was emptied");
    char name[64];
    uniq(name, sizeof name, "virtual");
    char vpath[128];
    snprintf(vpath, sizeof vpath, "/dev/shm/%s", name);
    rm_rf(dir);
    int vfd = open(vpath, O_CREAT | O_EXCL | O_WRONLY, 0600);
    check(vfd >= 0, "open(/dev/shm/...) after removal makes it again too");
    if (vfd >= 0)
        close(vfd);
    unlink(vpath);

    reads_through_a_lost_number();
    reused_numbers();
}

/* Another user of a writable parent swaps the directory for a symlink to
   theirs, again and again: once checked, the directory we opened is the
   only one used. */
static void swapped(void)
{
    char evil[256], away[256];
    snprintf(evil, sizeof evil, "%s/theirs", base);
    snprintf(away, sizeof away, "%s/away", base);
    syscall(SYS_mkdirat, AT_FDCWD, evil, 0777);
    syscall(SYS_fchmodat, AT_FDCWD, evil, 01777);
    syscall(SYS_fchmodat, AT_FDCWD, base, 0777);
    check(use_once("before-swap") == 0, "first use before the swapping starts");
    int before = entries(dir);
    pid_t swapper = fork();
    if (swapper == 0) {
        for (;;) {
            syscall(SYS_renameat, AT_FDCWD, dir, AT_FDCWD, away);
            syscall(SYS_symlinkat, evil, AT_FDCWD, dir);
            usleep(500);
            syscall(SYS_unlinkat, AT_FDCWD, dir, 0);
            syscall(SYS_renameat, AT_FDCWD, away, AT_FDCWD, dir);
            usleep(100);
        }
    }
    enum { OBJECTS = 200 };
    int failed = 0;
    for (int i = 0; i < OBJECTS; i++) {
        char name[64], tag[16];
        snprintf(tag, sizeof tag, "swap%d", i);
        uniq(name, sizeof name, tag);
        sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0600, 1);
        int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
        failed += s == SEM_FAILED || fd < 0;
        if (s != SEM_FAILED)
            sem_close(s);
        if (fd >= 0)
            close(fd);
        usleep(50);
    }
    kill(swapper, SIGKILL);
    wait_status(swapper);
    if (!raw_exists(dir) || entries(dir) < 0) {
        syscall(SYS_unlinkat, AT_FDCWD, dir, 0);
        syscall(SYS_renameat, AT_FDCWD, away, AT_FDCWD, dir);
    }
    int planted = entries(evil), ours = entries(dir) - before;
    check(planted == 0, "nothing landed in the swapped-in directory (%d entries)", planted);
    check(failed == 0 && ours == 2 * OBJECTS, "all %d objects are in our directory (%d there, %d calls failed)",
          2 * OBJECTS, ours, failed);
    rm_rf(evil);
}

/* With an argument, only that part (emfile, removed or swapped): each
   on its own in a fresh process. */
int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : "";
    if (!redirected()) {
        skip("redirect directory lifetime", "/dev/shm exists, the redirect directory is not used");
        return finish();
    }
    /* A directory of this test's own, set before the library's first use. */
    snprintf(base, sizeof base, "/tmp/shmr-test-life-%d", (int)getpid());
    snprintf(dir, sizeof dir, "%s/shm", base);
    syscall(SYS_mkdirat, AT_FDCWD, base, 0700);
    setenv("SHM_REDIRECT_DIR", dir, 1);

    if (!*only || strcmp(only, "emfile") == 0)
        fd_table_full();
    if (!*only || strcmp(only, "removed") == 0)
        removed_between_uses();
    if (!*only || strcmp(only, "swapped") == 0)
        swapped();
    rm_rf(dir);
    syscall(SYS_unlinkat, AT_FDCWD, base, AT_REMOVEDIR);
    return finish();
}

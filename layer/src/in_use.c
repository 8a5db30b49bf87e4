#include "in_use.h"

#include "debug.h"
#include "sys.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <time.h>

#define SLOW_OPEN_MS 500

long long in_use_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int in_use_opened(int fd, int dirfd, const char *at, int follow, long long started, struct stat *st)
{
    /* Only a lease break waits this long, or a stall: the lock then costs
       nothing that matters. */
    int slow = in_use_clock() - started >= SLOW_OPEN_MS && sys_flock(fd, LOCK_SH) == 0;
    int rc = sys_fstat(fd, st);
    if (slow)
        sys_flock(fd, LOCK_UN);
    if (rc != 0)
        return -1;
    if (!S_ISREG(st->st_mode) || st->st_nlink == 1)
        return 1;
    if (st->st_nlink == 0)
        return 0;
    /* Several names: a reclaim may have unlinked ours alone. */
    return sys_names(dirfd, at, follow ? 0 : AT_SYMLINK_NOFOLLOW, st);
}

/* fs.lease-break-time 0 revokes a lease at the first open that breaks it,
   however briefly its holder kept it: no protection, so no claim. */
static int leases_wait(void)
{
    static atomic_int known; /* 1 wait, 2 do not */
    if (!atomic_load(&known)) {
        char c = '4'; /* unreadable: the kernel's default, 45 */
        int fd = sys_openat(AT_FDCWD, "/proc/sys/fs/lease-break-time", O_RDONLY | O_CLOEXEC, 0);
        if (fd >= 0) {
            syscall(SYS_read, fd, &c, 1);
            close(fd);
        }
        atomic_store(&known, c == '0' ? 2 : 1);
    }
    return atomic_load(&known) == 1;
}

/* Said once per process: without leases the reclaim keeps everything, and
   killed runtimes' objects fill the disk again. */
static void no_leases(const char *why)
{
    static atomic_int said;
    if (!atomic_exchange(&said, 1))
        warn_line("reclaim: ", why, ": nothing is reclaimed, and the objects of killed runtimes will fill the disk");
}

int in_use_claim(int fd)
{
    if (!leases_wait()) {
        no_leases("fs.lease-break-time is 0, which revokes a lease at once (set it to 1 or more)");
        return 0;
    }
    /* A break is said by a signal to the holder, SIGIO by default, which
       would kill it: SIGURG is ignored unless handled, and once the owner
       is cleared no signal goes at all. */
    syscall(SYS_fcntl, fd, F_SETSIG, SIGURG);
    if (syscall(SYS_fcntl, fd, F_SETLEASE, F_WRLCK) != 0) {
        /* EAGAIN: in use; EACCES: another user's file; ENOLCK, ENOMEM: for now. */
        if (errno == EINVAL || errno == EPERM || errno == ENOSYS)
            no_leases("no file leases on the redirect directory's file system, or fs.leases-enable is 0, or a "
                      "seccomp filter refuses them (put SHM_REDIRECT_DIR on ext4, xfs or tmpfs)");
        return 0;
    }
    syscall(SYS_fcntl, fd, F_SETOWN, 0);
    return syscall(SYS_flock, fd, LOCK_EX | LOCK_NB) == 0;
}

int in_use_still_claimed(int fd)
{
    return syscall(SYS_fcntl, fd, F_GETLEASE) == F_WRLCK;
}

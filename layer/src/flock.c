/* flock on a descriptor of the redirect directory.  The library's own
   LOCK_SH (hold.h) lives on the same open file description as the
   program's: a program's LOCK_UN would drop it, and a program's LOCK_EX
   would wait for every other process that has the file open, for ever.
   So a program's flock on such a descriptor becomes an open file
   description lock (F_OFD_SETLK) on one byte far past any data: the same
   semantics between processes using the library (shared or exclusive,
   converted, inherited by fork, released at the last close), never in the
   way of the library's own lock.  Where that lock cannot be had (kernels
   before 3.15; LOCK_EX on a descriptor not open for writing, LOCK_SH on
   one not open for reading) the call is flock's, but LOCK_UN keeps the
   library's LOCK_SH.  Any other descriptor is flock's as usual. */

#include "export.h"
#include "real.h"
#include "shm_dir.h"
#include "sys.h"

#include <errno.h>
#include <string.h>
#include <sys/file.h>

#define PROGRAM_LOCK_BYTE (0x7fffffffffffffffLL - 1)

static _Atomic(void *) flock_next;

static int real_flock(int fd, int op)
{
    int (*next)(int, int) = real_next(&flock_next, "flock");
    return next ? next(fd, op) : (int)syscall(SYS_flock, fd, op);
}

/* FD is a regular file below the redirect directory. */
static int in_redirect_dir(int fd)
{
    const struct shm_target *t = shm_target();
    struct stat st, dir;
    if (!t->redirect || sys_fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || sys_fstat(shm_dir_fd(), &dir) != 0
        || st.st_dev != dir.st_dev)
        return 0;
    char link[32] = "/proc/self/fd/", target[PATH_MAX];
    char *p = link + 14;
    char digits[12];
    int n = 0;
    for (unsigned v = (unsigned)fd; n == 0 || v > 0; v /= 10)
        digits[n++] = (char)('0' + v % 10);
    while (n > 0)
        *p++ = digits[--n];
    *p = '\0';
    long len = syscall(SYS_readlinkat, AT_FDCWD, link, target, sizeof target - 1);
    return len > (long)t->len && memcmp(target, t->dir, t->len) == 0 && target[t->len] == '/';
}

SHMR_EXPORT int flock(int fd, int op)
{
    int kind = op & ~LOCK_NB;
    if ((kind != LOCK_SH && kind != LOCK_EX && kind != LOCK_UN) || !in_redirect_dir(fd))
        return real_flock(fd, op);
    struct flock fl = { .l_type = kind == LOCK_SH ? F_RDLCK : kind == LOCK_EX ? F_WRLCK : F_UNLCK,
                        .l_whence = SEEK_SET,
                        .l_start = PROGRAM_LOCK_BYTE,
                        .l_len = 1 };
    if (kind == LOCK_UN) {
        /* Whichever way the lock was taken: the library's LOCK_SH stays. */
        syscall(SYS_fcntl, fd, F_OFD_SETLK, &fl);
        real_flock(fd, LOCK_SH | LOCK_NB);
        return 0;
    }
    if (syscall(SYS_fcntl, fd, op & LOCK_NB ? F_OFD_SETLK : F_OFD_SETLKW, &fl) == 0)
        return 0;
    /* EAGAIN is EWOULDBLOCK; EINTR and ENOLCK are flock's too.  EBADF: a
       byte-range lock needs the descriptor open for reading (shared) or
       writing (exclusive), flock does not. */
    if (errno != EINVAL && errno != EBADF)
        return -1;
    return real_flock(fd, op);
}

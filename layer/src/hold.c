#include "hold.h"

#include "sys.h"

#include <errno.h>
#include <sys/file.h>

void hold_fd(int fd)
{
    while (syscall(SYS_flock, fd, LOCK_SH) != 0 && errno == EINTR)
        ;
}

int hold_named(int fd, int dirfd, const char *at, int follow, struct stat *st)
{
    /* Blocking: the only other LOCK_EX on these files is a reclaimer's,
       held for an fstatat and an unlinkat (or a program's that does not
       have the library, as with any flock).  Applications' own flock calls
       on our descriptors are byte-range locks (flock.c). */
    hold_fd(fd);
    if (sys_fstat(fd, st) != 0)
        return -1;
    if (!S_ISREG(st->st_mode))
        return 1; /* a directory, a FIFO: locked, harmlessly, and never reclaimed by name */
    /* A reclaimer unlinks only under LOCK_EX: with ours held, a link count
       of 1 is our name's for as long as we hold it. */
    if (st->st_nlink == 1)
        return 1;
    if (st->st_nlink == 0)
        return 0;
    struct stat named;
    return sys_fstatat(dirfd, at, &named, follow ? 0 : AT_SYMLINK_NOFOLLOW) == 0 && named.st_ino == st->st_ino
        && named.st_dev == st->st_dev;
}

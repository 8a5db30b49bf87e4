/* Calls that change or probe directory entries by path. */

#include "path_calls.h"

#include <stdio.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

PATH_CALL(int, -1, unlink, (const char *path), (p))
PATH_CALL(int, -1, access, (const char *path, int mode), (p, mode))
PATH_CALL(int, -1, faccessat, (int dirfd, const char *path, int mode, int flags),
          (dirfd, p, mode, flags))
PATH_CALL(int, -1, mkdir, (const char *path, mode_t mode), (p, mode))
PATH_CALL(int, -1, mkdirat, (int dirfd, const char *path, mode_t mode), (dirfd, p, mode))

/* The virtual /dev/shm stands for a mount point: like the real one it
   cannot be removed or renamed, however it is spelled ("/dev/shm/",
   "/dev/shm//"), which also keeps the redirect directory in place for
   every other process. */
static int is_virtual_root(const char *original, const char *rewritten)
{
    if (original == rewritten)
        return 0;
    original += 8;
    while (*original == '/')
        original++;
    return *original == '\0';
}

REAL_NEXT(rmdir)
SHMR_EXPORT int rmdir(const char *path)
{
    SHM_PATH(p, path, -1);
    if (is_virtual_root(path, p)) {
        errno = EBUSY;
        return -1;
    }
    NEXT_OR_ENOSYS(rmdir, -1)
    return next(p);
}

REAL_NEXT(unlinkat)
SHMR_EXPORT int unlinkat(int dirfd, const char *path, int flags)
{
    SHM_PATH(p, path, -1);
    if ((flags & AT_REMOVEDIR) && is_virtual_root(path, p)) {
        errno = EBUSY;
        return -1;
    }
    NEXT_OR_ENOSYS(unlinkat, -1)
    return next(dirfd, p, flags);
}

REAL_NEXT(rename)
SHMR_EXPORT int rename(const char *from, const char *to)
{
    SHM_PATH(f, from, -1);
    SHM_PATH(t, to, -1);
    if (is_virtual_root(from, f) || is_virtual_root(to, t)) {
        errno = EBUSY;
        return -1;
    }
    NEXT_OR_ENOSYS(rename, -1)
    return next(f, t);
}

REAL_NEXT(renameat)
SHMR_EXPORT int renameat(int fromfd, const char *from, int tofd, const char *to)
{
    SHM_PATH(f, from, -1);
    SHM_PATH(t, to, -1);
    if (is_virtual_root(from, f) || is_virtual_root(to, t)) {
        errno = EBUSY;
        return -1;
    }
    NEXT_OR_ENOSYS(renameat, -1)
    return next(fromfd, f, tofd, t);
}

/* Calls that change or probe directory entries by path. */

#include "path_calls.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

PATH_CALL(int, -1, unlink, (const char *path), (p))
PATH_CALL(int, -1, access, (const char *path, int mode), (p, mode))
PATH_CALL(int, -1, faccessat, (int dirfd, const char *path, int mode, int flags),
          (dirfd, p, mode, flags))
PATH_CALL(int, -1, mkdir, (const char *path, mode_t mode), (p, mode))
PATH_CALL(int, -1, mkdirat, (int dirfd, const char *path, mode_t mode), (dirfd, p, mode))

/* Python's shutil.copy chmods its destination; os.chown, os.truncate,
   os.utime and coreutils' chmod/truncate/touch -d/realpath/readlink -f
   reach these. */
PATH_CALL(int, -1, chmod, (const char *path, mode_t mode), (p, mode))
PATH_CALL(int, -1, fchmodat, (int dirfd, const char *path, mode_t mode, int flags), (dirfd, p, mode, flags))
PATH_CALL(int, -1, chown, (const char *path, uid_t uid, gid_t gid), (p, uid, gid))
PATH_CALL(int, -1, lchown, (const char *path, uid_t uid, gid_t gid), (p, uid, gid))
PATH_CALL(int, -1, fchownat, (int dirfd, const char *path, uid_t uid, gid_t gid, int flags),
          (dirfd, p, uid, gid, flags))
PATH_CALL(int, -1, truncate, (const char *path, off_t len), (p, len))
PATH_CALL(int, -1, truncate64, (const char *path, off64_t len), (p, len))
PATH_CALL(int, -1, utimensat, (int dirfd, const char *path, const struct timespec times[2], int flags),
          (dirfd, p, times, flags))
PATH_CALL(ssize_t, -1, readlink, (const char *path, char *buf, size_t len), (p, buf, len))
PATH_CALL(ssize_t, -1, readlinkat, (int dirfd, const char *path, char *buf, size_t len), (dirfd, p, buf, len))
/* ls -l asks for ACLs and SELinux labels; cp -a and shutil.copy2 copy
   extended attributes. */
PATH_CALL(ssize_t, -1, getxattr, (const char *path, const char *key, void *val, size_t len), (p, key, val, len))
PATH_CALL(ssize_t, -1, lgetxattr, (const char *path, const char *key, void *val, size_t len), (p, key, val, len))
PATH_CALL(ssize_t, -1, listxattr, (const char *path, char *list, size_t len), (p, list, len))
PATH_CALL(ssize_t, -1, llistxattr, (const char *path, char *list, size_t len), (p, list, len))
PATH_CALL(int, -1, setxattr, (const char *path, const char *key, const void *val, size_t len, int flags),
          (p, key, val, len, flags))
PATH_CALL(int, -1, lsetxattr, (const char *path, const char *key, const void *val, size_t len, int flags),
          (p, key, val, len, flags))
/* A shell's "cd /dev/shm" or os.chdir: relative names then work as-is. */
PATH_CALL(int, -1, chdir, (const char *path), (p))

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

/* coreutils' mv uses renameat2 (glibc >= 2.28); before that only the
   system call exists. */
REAL_NEXT(renameat2)
SHMR_EXPORT int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned int flags)
{
    SHM_PATH(f, from, -1);
    SHM_PATH(t, to, -1);
    if (is_virtual_root(from, f) || is_virtual_root(to, t)) {
        errno = EBUSY;
        return -1;
    }
    __typeof__(renameat2) *next = next_renameat2();
    if (!next)
        return (int)syscall(SYS_renameat2, fromfd, f, tofd, t, flags);
    return next(fromfd, f, tofd, t, flags);
}

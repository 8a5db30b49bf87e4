/* The stat and statfs families. */

#include "path_calls.h"
#include "sys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Before glibc 2.33 these were the exported stat entry points (the header
   inlined stat() into __xstat()); glibc >= 2.33 keeps them for old binaries
   as compatibility symbols only, so newer headers no longer declare them. */
int __xstat(int ver, const char *path, struct stat *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags);

/* stat, lstat, fstatat and their 64 forms are exported by glibc only since
   2.33; a caller can still reach ours on an older glibc (e.g. through
   dlsym), so fall back to the system call, whose struct stat is glibc's on
   x86_64 and aarch64 (struct stat64 is the same layout on 64-bit targets). */
PATH_CALL_OR(int, -1, stat, (const char *path, struct stat *st), (p, st),
             sys_fstatat(AT_FDCWD, p, st, 0))
PATH_CALL_OR(int, -1, lstat, (const char *path, struct stat *st), (p, st),
             sys_fstatat(AT_FDCWD, p, st, AT_SYMLINK_NOFOLLOW))
PATH_CALL_OR(int, -1, fstatat, (int dirfd, const char *path, struct stat *st, int flags),
             (dirfd, p, st, flags), sys_fstatat(dirfd, p, st, flags))
PATH_CALL_OR(int, -1, stat64, (const char *path, struct stat64 *st), (p, st),
             sys_fstatat(AT_FDCWD, p, (struct stat *)st, 0))
PATH_CALL_OR(int, -1, lstat64, (const char *path, struct stat64 *st), (p, st),
             sys_fstatat(AT_FDCWD, p, (struct stat *)st, AT_SYMLINK_NOFOLLOW))
PATH_CALL_OR(int, -1, fstatat64, (int dirfd, const char *path, struct stat64 *st, int flags),
             (dirfd, p, st, flags), sys_fstatat(dirfd, p, (struct stat *)st, flags))

/* statx arrived in glibc 2.28; before that only the system call exists.
   Headers that follow the target glibc strictly (zig 0.17's for 2.26) do not
   declare it, yet the glibc the library runs on may have it, so it is
   declared here: the same prototype as glibc's, which C allows twice, and
   only a pointer to the struct, which needs no definition. */
struct statx;
int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf);
PATH_CALL_OR(int, -1, statx,
             (int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf),
             (dirfd, p, flags, mask, buf),
             (int)syscall(SYS_statx, dirfd, p, flags, mask, buf))

/* Looked up at the version they were introduced with (real.c). */
PATH_CALL(int, -1, __xstat, (int ver, const char *path, struct stat *st), (ver, p, st))
PATH_CALL(int, -1, __lxstat, (int ver, const char *path, struct stat *st), (ver, p, st))
PATH_CALL(int, -1, __fxstatat, (int ver, int dirfd, const char *path, struct stat *st, int flags),
          (ver, dirfd, p, st, flags))
PATH_CALL(int, -1, __xstat64, (int ver, const char *path, struct stat64 *st), (ver, p, st))
PATH_CALL(int, -1, __lxstat64, (int ver, const char *path, struct stat64 *st), (ver, p, st))
PATH_CALL(int, -1, __fxstatat64, (int ver, int dirfd, const char *path, struct stat64 *st, int flags),
          (ver, dirfd, p, st, flags))

/* multiprocessing's heap asks statvfs("/dev/shm") for free space. */
PATH_CALL(int, -1, statvfs, (const char *path, struct statvfs *buf), (p, buf))
PATH_CALL(int, -1, statvfs64, (const char *path, struct statvfs64 *buf), (p, buf))
PATH_CALL(int, -1, statfs, (const char *path, struct statfs *buf), (p, buf))
PATH_CALL(int, -1, statfs64, (const char *path, struct statfs64 *buf), (p, buf))

#ifndef SHMR_SYS_H
#define SHMR_SYS_H

/* The library exports open, unlink, stat, ... itself, so calling those names
   from inside would land back in the interposers.  Internal file work goes
   straight to the kernel through the *at system calls, which exist on both
   x86_64 and aarch64 and carry no glibc symbol version beyond syscall(). */

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline int sys_openat(int dirfd, const char *path, int flags, mode_t mode)
{
    return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}

static inline int sys_unlinkat(int dirfd, const char *path)
{
    return (int)syscall(SYS_unlinkat, dirfd, path, 0);
}

static inline int sys_linkat(int fromfd, const char *from, int tofd, const char *to, int flags)
{
    return (int)syscall(SYS_linkat, fromfd, from, tofd, to, flags);
}

static inline int sys_mkdirat(int dirfd, const char *path, mode_t mode)
{
    return (int)syscall(SYS_mkdirat, dirfd, path, mode);
}

static inline int sys_mkdir(const char *path, mode_t mode)
{
    return sys_mkdirat(AT_FDCWD, path, mode);
}

static inline int sys_dup3(int from, int to, int flags)
{
    return (int)syscall(SYS_dup3, from, to, flags);
}

static inline int sys_fchmod(int fd, mode_t mode)
{
    return (int)syscall(SYS_fchmod, fd, mode);
}

/* struct stat is the kernel's layout on x86_64 and aarch64, so the raw
   newfstatat/fstat results need no conversion. */
static inline int sys_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    return (int)syscall(SYS_newfstatat, dirfd, path, st, flags);
}

static inline int sys_fstat(int fd, struct stat *st)
{
    return (int)syscall(SYS_fstat, fd, st);
}

/* NAME in DIRFD (FLAGS as fstatat's) still names the file ST describes. */
static inline int sys_names(int dirfd, const char *name, int flags, const struct stat *st)
{
    struct stat now;
    return sys_fstatat(dirfd, name, &now, flags) == 0 && now.st_ino == st->st_ino && now.st_dev == st->st_dev;
}

/* flock, waiting through signals (a blocking lock is interrupted by any
   handler's signal). */
static inline int sys_flock(int fd, int op)
{
    int rc;
    while ((rc = (int)syscall(SYS_flock, fd, op)) != 0 && errno == EINTR)
        ;
    return rc;
}

static inline int sys_access(const char *path, int mode)
{
    return (int)syscall(SYS_faccessat, AT_FDCWD, path, mode);
}

#endif

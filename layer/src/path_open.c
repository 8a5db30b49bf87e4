/* Calls that open files or directories by path. */

#include "path_calls.h"
#include "in_use.h"
#include "path_track.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

/* glibc's _FORTIFY_SOURCE entry points; their headers declare them only
   under fortification. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

/* open and openat take a mode only when they may create a file. */
static inline int creates(int flags)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

/* The variadic open calls cannot use PATH_CALL; their fast and cold paths
   are shared instead: open/open64 and openat/openat64 have one type each.
   GCC never turns a call in a function using va_start into a tail call, so
   these four keep a small frame (the register save area) and a call. */
typedef int open_fn(const char *path, int flags, ...);
typedef int openat_fn(int dirfd, const char *path, int flags, ...);

static __attribute__((noinline, cold)) int open_rewrite(_Atomic(void *) *slot, const char *name, int dirfd,
                                                        const char *path, int flags, mode_t mode, int at)
{
    char buf[PATH_MAX];
    const char *p = shm_path(name, path, buf);
    if (!p)
        return -1;
    void *next = real_next(slot, name);
    if (!next) {
        errno = ENOSYS;
        return -1;
    }
    if ((flags & O_CREAT) && p != path)
        path_making(p);
    for (;;) {
        long long started = in_use_clock();
        int fd = at ? ((openat_fn *)next)(dirfd, p, flags, mode) : ((open_fn *)next)(p, flags, mode);
        if (p == path || path_opened(p, fd, flags, started))
            return fd;
        close(fd); /* reclaimed while the open waited: open again, after it */
    }
}

static inline int open_path(_Atomic(void *) *slot, const char *name, const char *path, int flags, mode_t mode)
{
    open_fn *next = next_untouched(slot, path);
    return next ? next(path, flags, mode) : open_rewrite(slot, name, AT_FDCWD, path, flags, mode, 0);
}

static inline int openat_path(_Atomic(void *) *slot, const char *name, int dirfd, const char *path, int flags,
                              mode_t mode)
{
    openat_fn *next = next_untouched(slot, path);
    return next ? next(dirfd, path, flags, mode) : open_rewrite(slot, name, dirfd, path, flags, mode, 1);
}

static _Atomic(void *) open_next, open64_next, openat_next, openat64_next;

SHMR_EXPORT int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = creates(flags) ? va_arg(ap, mode_t) : 0;
    va_end(ap);
    return open_path(&open_next, "open", path, flags, mode);
}

SHMR_EXPORT int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = creates(flags) ? va_arg(ap, mode_t) : 0;
    va_end(ap);
    return open_path(&open64_next, "open64", path, flags, mode);
}

SHMR_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = creates(flags) ? va_arg(ap, mode_t) : 0;
    va_end(ap);
    return openat_path(&openat_next, "openat", dirfd, path, flags, mode);
}

SHMR_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = creates(flags) ? va_arg(ap, mode_t) : 0;
    va_end(ap);
    return openat_path(&openat64_next, "openat64", dirfd, path, flags, mode);
}

/* The others that open, the same way: while a reclaim removed the file as
   the open waited, the call is made again. */
#define REOPENING_CALL(ret, fail, name, params, args, fd, flags, close_it)                      \
    PATH_CALL_WITH(ret, fail, name, params, args, (errno = ENOSYS, fail),                       \
                   long long started = in_use_clock();                                          \
                   if (((flags) & O_CREAT) && p != path) path_making(p);,                       \
                   while (p != path && !path_opened(p, fd, flags, started)) {                   \
                       close_it;                                                                \
                       started = in_use_clock();                                                \
                       r = next args;                                                           \
                   })

REOPENING_CALL(int, -1, __open_2, (const char *path, int flags), (p, flags), r, flags, close(r))
REOPENING_CALL(int, -1, __open64_2, (const char *path, int flags), (p, flags), r, flags, close(r))
REOPENING_CALL(int, -1, __openat_2, (int dirfd, const char *path, int flags), (dirfd, p, flags), r, flags, close(r))
REOPENING_CALL(int, -1, __openat64_2, (int dirfd, const char *path, int flags), (dirfd, p, flags), r, flags,
               close(r))
REOPENING_CALL(int, -1, creat, (const char *path, mode_t mode), (p, mode), r, O_CREAT, close(r))
REOPENING_CALL(int, -1, creat64, (const char *path, mode_t mode), (p, mode), r, O_CREAT, close(r))

/* fopen's modes "w" and "a" create. */
static int fopen_flags(const char *mode)
{
    return mode && (mode[0] == 'w' || mode[0] == 'a') ? O_CREAT : 0;
}

/* glibc's fopen and opendir open the file internally, past any interposed
   open, so they need interposing themselves. */
REOPENING_CALL(FILE *, NULL, fopen, (const char *path, const char *mode), (p, mode), r ? fileno(r) : -1,
               fopen_flags(mode), fclose(r))
REOPENING_CALL(FILE *, NULL, fopen64, (const char *path, const char *mode), (p, mode), r ? fileno(r) : -1,
               fopen_flags(mode), fclose(r))
PATH_CALL(DIR *, NULL, opendir, (const char *path), (p))

/* Calls that open files or directories by path. */

#include "path_calls.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>

/* glibc's _FORTIFY_SOURCE entry points; their headers declare them only
   under fortification. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

/* open and openat read a mode only when they may create a file. */
#define MODE_ARG(flags, last)                                                 \
    mode_t mode = 0;                                                          \
    if (((flags) & O_CREAT) || ((flags) & O_TMPFILE) == O_TMPFILE) {          \
        va_list ap;                                                           \
        va_start(ap, last);                                                   \
        mode = va_arg(ap, mode_t);                                            \
        va_end(ap);                                                           \
    }

#define OPEN_CALL(name)                                                       \
    REAL_NEXT(name)                                                           \
    SHMR_EXPORT int name(const char *path, int flags, ...)                    \
    {                                                                         \
        MODE_ARG(flags, flags)                                                \
        SHM_PATH(p, path, -1);                                                \
        NEXT_OR_ENOSYS(name, -1)                                              \
        return next(p, flags, mode);                                          \
    }

#define OPENAT_CALL(name)                                                     \
    REAL_NEXT(name)                                                           \
    SHMR_EXPORT int name(int dirfd, const char *path, int flags, ...)         \
    {                                                                         \
        MODE_ARG(flags, flags)                                                \
        SHM_PATH(p, path, -1);                                                \
        NEXT_OR_ENOSYS(name, -1)                                              \
        return next(dirfd, p, flags, mode);                                   \
    }

OPEN_CALL(open)
OPEN_CALL(open64)
OPENAT_CALL(openat)
OPENAT_CALL(openat64)

PATH_CALL(int, -1, __open_2, (const char *path, int flags), (p, flags))
PATH_CALL(int, -1, __open64_2, (const char *path, int flags), (p, flags))
PATH_CALL(int, -1, __openat_2, (int dirfd, const char *path, int flags), (dirfd, p, flags))
PATH_CALL(int, -1, __openat64_2, (int dirfd, const char *path, int flags), (dirfd, p, flags))
PATH_CALL(int, -1, creat, (const char *path, mode_t mode), (p, mode))
PATH_CALL(int, -1, creat64, (const char *path, mode_t mode), (p, mode))

/* glibc's fopen and opendir open the file internally, past any interposed
   open, so they need interposing themselves. */
PATH_CALL(FILE *, NULL, fopen, (const char *path, const char *mode), (p, mode))
PATH_CALL(FILE *, NULL, fopen64, (const char *path, const char *mode), (p, mode))
PATH_CALL(DIR *, NULL, opendir, (const char *path), (p))

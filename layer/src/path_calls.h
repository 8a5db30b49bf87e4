#ifndef SHMR_PATH_CALLS_H
#define SHMR_PATH_CALLS_H

/* Shared shape of the path interposers: rewrite the path argument if it
   names the virtual /dev/shm, then hand the call to the next definition. */

#include "export.h"
#include "real.h"
#include "shm_dir.h"

#include <errno.h>

/* Declares `const char *VAR`: PATH, or its rewrite; returns FAIL (errno
   ENAMETOOLONG) when the rewrite does not fit PATH_MAX. */
#define SHM_PATH(var, path, fail)                                             \
    char var##_buf[PATH_MAX];                                                 \
    const char *var = shm_path(__func__, (path), var##_buf);                  \
    if (!var)                                                                 \
        return fail

/* Declares `next`, the next definition of NAME; returns FAIL with ENOSYS
   when this glibc has none (only for symbols every supported glibc has). */
#define NEXT_OR_ENOSYS(name, fail)                                            \
    __typeof__(name) *next = next_##name();                                   \
    if (!next) {                                                              \
        errno = ENOSYS;                                                       \
        return fail;                                                          \
    }

/* An interposer taking one path as its argument named `path`. */
#define PATH_CALL(ret, fail, name, params, args)                              \
    REAL_NEXT(name)                                                           \
    SHMR_EXPORT ret name params                                               \
    {                                                                         \
        SHM_PATH(p, path, fail);                                              \
        NEXT_OR_ENOSYS(name, fail)                                            \
        return next args;                                                     \
    }

/* Like PATH_CALL, but for symbols older glibcs lack: FALLBACK (using `p`)
   does the work with a raw system call instead. */
#define PATH_CALL_OR(ret, name, params, args, fallback)                       \
    REAL_NEXT(name)                                                           \
    SHMR_EXPORT ret name params                                               \
    {                                                                         \
        SHM_PATH(p, path, -1);                                                \
        __typeof__(name) *next = next_##name();                               \
        if (!next)                                                            \
            return fallback;                                                  \
        return next args;                                                     \
    }

#endif

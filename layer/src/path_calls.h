#ifndef SHMR_PATH_CALLS_H
#define SHMR_PATH_CALLS_H

/* Shared shape of the path interposers.  Nearly every call names a path
   outside /dev/shm, so the exported function is only the fast path: a
   prefix test, a load of the cached next definition and a tail call to it.
   Everything else -- the PATH_MAX buffer for a rewritten path, the first
   dlsym, debug output, a glibc without the symbol -- lives in a cold,
   out-of-line twin, so the fast path needs no stack frame. */

#include "export.h"
#include "real.h"
#include "shm_dir.h"
#include "shm_path.h"

#include <errno.h>

/* The next definition to hand the call to untouched, or NULL when PATH
   names /dev/shm or the definition is not looked up yet (or absent): then
   the call's cold twin takes over. */
static inline void *next_untouched(_Atomic(void *) *slot, const char *path)
{
    if (__builtin_expect(shm_prefix(path), 0))
        return NULL;
    return real_cached(slot);
}

/* The interposer NAME, whose parameter `path` is the path (PARAMS); ARGS
   hands the call on, naming the path `p`.  NAME_rewrite, the cold twin,
   returns FAIL when the rewrite fails (errno set by shm_path), runs
   ON_PATH (statements that may use `path` and `p`, or nothing) once the
   path is rewritten, and returns FALLBACK, an expression that may use `p`,
   when glibc has no NAME.  AFTER (statements that may use `p` and the
   result `r`, or nothing) runs once the call is made. */
#define PATH_CALL_WITH(ret, fail, name, params, args, fallback, on_path, after) \
    static _Atomic(void *) name##_next;                                       \
    static __attribute__((noinline, cold)) ret name##_rewrite params          \
    {                                                                         \
        char rewritten[PATH_MAX];                                             \
        const char *p = shm_path(#name, path, rewritten);                     \
        if (!p)                                                               \
            return fail;                                                      \
        on_path                                                               \
        __typeof__(name) *next = real_next(&name##_next, #name);              \
        ret r = next ? next args : fallback;                                  \
        after                                                                 \
        return r;                                                             \
    }                                                                         \
    SHMR_EXPORT ret name params                                               \
    {                                                                         \
        const char *p = path;                                                 \
        __typeof__(name) *next = next_untouched(&name##_next, p);             \
        return next ? next args : name##_rewrite args;                        \
    }

#define PATH_CALL_OR(ret, fail, name, params, args, fallback)                 \
    PATH_CALL_WITH(ret, fail, name, params, args, fallback, , )

/* Like PATH_CALL, for calls that change the attributes of what PATH names:
   on the virtual /dev/shm itself the call answers ON_ROOT instead, an
   expression of the parameters (see virtual_root.h). */
#define PATH_CALL_ROOT(ret, fail, name, params, args, on_root)                \
    PATH_CALL_WITH(ret, fail, name, params, args, (errno = ENOSYS, fail),     \
                   if (shm_is_root(path, p)) return on_root;, )

/* Like PATH_CALL, for a call that makes what it names, returning 0 when
   it did (path_track.h). */
#define PATH_CALL_MAKING(ret, fail, name, params, args)                       \
    PATH_CALL_WITH(ret, fail, name, params, args, (errno = ENOSYS, fail),     \
                   if (p != path) path_making(p);, if (p != path) path_made(p, r == 0);)

/* For symbols every supported glibc has: ENOSYS should one be missing. */
#define PATH_CALL(ret, fail, name, params, args) PATH_CALL_OR(ret, fail, name, params, args, (errno = ENOSYS, fail))

#endif

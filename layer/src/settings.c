/* The library's settings, read from the environment once, here and
   nowhere else: SHM_REDIRECT_DIR, SHM_REDIRECT_DEBUG, SHM_REDIRECT_RECLAIM,
   and whether /dev/shm is usable at all. */

#include "settings.h"

#include "debug.h"
#include "sys.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DIR "/tmp/shm"
#define DEFAULT_AFTER 10
#define MAX_AFTER 86400

static const struct shm_target native = { 0, 0, 0, 0, "/dev/shm", 8 };

static _Atomic(const struct shm_target *) current;

static int dev_shm_usable(void)
{
    struct stat st;
    return sys_fstatat(AT_FDCWD, "/dev/shm", &st, 0) == 0 && S_ISDIR(st.st_mode)
        && sys_access("/dev/shm", W_OK | X_OK) == 0;
}

/* SHM_REDIRECT_DIR without its trailing slashes, or NULL (with a warning
   when it is set but unusable) to fall back to the default. */
static const char *configured_dir(size_t *len)
{
    const char *v = getenv("SHM_REDIRECT_DIR");
    if (!v || !*v)
        return NULL;
    size_t n = strlen(v);
    while (n > 1 && v[n - 1] == '/')
        n--;
    if (v[0] != '/' || n == 1) {
        warn_line("SHM_REDIRECT_DIR must be an absolute directory other than /, using " DEFAULT_DIR
                  " instead of ",
                  v, "");
        return NULL;
    }
    if (n > SHM_DIR_MAX) {
        warn_line("SHM_REDIRECT_DIR is too long, using " DEFAULT_DIR " instead of ", v, "");
        return NULL;
    }
    *len = n;
    return v;
}

/* SHM_REDIRECT_RECLAIM_AFTER: whole seconds up to a day, else the default
   (with a warning when it is set but malformed). */
static int reclaim_after(void)
{
    const char *v = getenv("SHM_REDIRECT_RECLAIM_AFTER");
    if (!v || !*v)
        return DEFAULT_AFTER;
    int n = 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9' || (n = n * 10 + (*p - '0')) > MAX_AFTER) {
            warn_line("SHM_REDIRECT_RECLAIM_AFTER must be a number of seconds from 0 to 86400, using 10 instead of ",
                      v, "");
            return DEFAULT_AFTER;
        }
    }
    return n;
}

static const struct shm_target *decide(void)
{
    const char *debug = getenv("SHM_REDIRECT_DEBUG");
    int dbg = debug && debug[0] == '1' && debug[1] == '\0';
    int redirect = !dev_shm_usable();
    if (!redirect && !dbg)
        return &native;

    size_t len = native.len;
    const char *dir = native.dir;
    if (redirect) {
        dir = configured_dir(&len);
        if (!dir) {
            dir = DEFAULT_DIR;
            len = sizeof DEFAULT_DIR - 1;
        }
    }
    struct shm_target *t = malloc(sizeof *t + len + 1);
    if (!t)
        return NULL;
    char *copy = (char *)(t + 1);
    memcpy(copy, dir, len);
    copy[len] = '\0';
    t->redirect = redirect;
    t->debug = dbg;
    const char *reclaim = getenv("SHM_REDIRECT_RECLAIM");
    t->reclaim = !(reclaim && reclaim[0] == '0' && reclaim[1] == '\0');
    t->reclaim_after = redirect && t->reclaim ? reclaim_after() : 0;
    t->dir = copy;
    t->len = len;
    return t;
}

const struct shm_target *shm_target(void)
{
    const struct shm_target *t = atomic_load_explicit(&current, memory_order_acquire);
    if (t)
        return t;
    int saved = errno;
    t = decide();
    errno = saved;
    if (!t) /* out of memory: answer without caching, try again next time */
        return &native;
    const struct shm_target *expected = NULL;
    if (!atomic_compare_exchange_strong_explicit(&current, &expected, t, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        if (t != &native)
            free((void *)t);
        t = expected;
    }
    return t;
}

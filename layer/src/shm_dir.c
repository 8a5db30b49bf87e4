#include "shm_dir.h"

#include "debug.h"
#include "sys.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DIR "/tmp/shm"

static const struct shm_target native = { 0, 0, "/dev/shm", 8 };

static _Atomic(const struct shm_target *) current;
static atomic_int dir_ready;

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
                  v);
        return NULL;
    }
    if (n > SHM_DIR_MAX) {
        warn_line("SHM_REDIRECT_DIR is too long, using " DEFAULT_DIR " instead of ", v);
        return NULL;
    }
    *len = n;
    return v;
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

int shm_dir_ensure(const struct shm_target *t)
{
    if (!t->redirect || atomic_load_explicit(&dir_ready, memory_order_acquire))
        return 0;
    int saved = errno;
    if (sys_mkdir(t->dir, 01777) == 0) {
        /* mkdir applies the umask; the directory is shared by every user
           of the function, like /dev/shm, so set the mode explicitly. */
        sys_chmod(t->dir, 01777);
        debug_op("mkdir", t->dir, NULL);
    } else if (errno != EEXIST) {
        return -1;
    }
    atomic_store_explicit(&dir_ready, 1, memory_order_release);
    errno = saved;
    return 0;
}

const char *shm_path_slow(const char *op, const char *path, char buf[PATH_MAX])
{
    const struct shm_target *t = shm_target();
    if (!t->redirect)
        return path;
    size_t rest = strlen(path + 8);
    if (t->len + rest >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    /* A failure here resurfaces from the call itself (ENOENT). */
    (void)shm_dir_ensure(t);
    memcpy(buf, t->dir, t->len);
    memcpy(buf + t->len, path + 8, rest + 1);
    debug_op(op, path, buf);
    return buf;
}

#include "shm_dir.h"

#include "debug.h"
#include "reclaim.h"
#include "sys.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DIR "/tmp/shm"

static const struct shm_target native = { 0, 0, "/dev/shm", 8 };

static _Atomic(const struct shm_target *) current;
/* The redirect directory: 0 not checked yet, 1 usable, -errno refused. */
static atomic_int dir_state;

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

/* Why a directory that exists is not trusted, or NULL.  The rule mirrors
   what makes /dev/shm safe to share: nobody but us (or root) can remove,
   replace or plant entries in it.  FD was opened with O_NOFOLLOW, so a
   symlink planted under the directory's name never gets this far. */
static const char *untrusted(int fd, int *err)
{
    struct stat st;
    if (sys_fstat(fd, &st) != 0) {
        *err = errno;
        return ": cannot be examined";
    }
    *err = EACCES;
    if (st.st_uid != geteuid() && st.st_uid != 0)
        return ": owned by another user (set SHM_REDIRECT_DIR to a directory of yours)";
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
        return ": writable by others without the sticky bit";
    return NULL;
}

int shm_dir_ensure(const struct shm_target *t)
{
    if (!t->redirect)
        return 0;
    int state = atomic_load_explicit(&dir_state, memory_order_acquire);
    if (state == 1)
        return 0;
    if (state < 0) {
        errno = -state;
        return SHM_DIR_UNSAFE;
    }
    int saved = errno;
    int created = sys_mkdir(t->dir, 01777) == 0;
    if (!created && errno != EEXIST)
        return SHM_DIR_MISSING;
    int err = 0;
    const char *why = NULL;
    int fd = sys_openat(AT_FDCWD, t->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    struct stat st;
    if (fd < 0) {
        /* With O_DIRECTORY a symlink fails as ENOTDIR too; tell them apart. */
        err = errno;
        if (err == ENOTDIR && sys_fstatat(AT_FDCWD, t->dir, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
            err = ELOOP;
        why = err == ELOOP ? ": it is a symbolic link" : err == ENOTDIR ? ": not a directory" : ": cannot be opened";
    } else {
        why = untrusted(fd, &err);
        /* mkdir applies the umask; the directory is shared by every user
           of the function, like /dev/shm, so set the mode explicitly. */
        if (!why && created)
            sys_fchmod(fd, 01777);
        close(fd);
    }
    if (why) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&dir_state, &expected, -err))
            warn_line("refusing to use ", t->dir, why);
        errno = err;
        return SHM_DIR_UNSAFE;
    }
    if (created)
        debug_op("mkdir", t->dir, NULL);
    atomic_store_explicit(&dir_state, 1, memory_order_release);
    reclaim_on_first_use(t);
    errno = saved;
    return 0;
}

/* REST (what follows "/dev/shm") climbs above /dev/shm with "..".  In the
   real /dev/shm that leads into /dev; rewritten it would lead next to the
   redirect directory instead, so such a path is left alone. */
static int escapes(const char *rest)
{
    long depth = 0;
    while (*rest) {
        while (*rest == '/')
            rest++;
        size_t n = strcspn(rest, "/");
        if (n == 2 && rest[0] == '.' && rest[1] == '.') {
            if (--depth < 0)
                return 1;
        } else if (n > 0 && !(n == 1 && rest[0] == '.')) {
            depth++;
        }
        rest += n;
    }
    return 0;
}

const char *shm_path_slow(const char *op, const char *path, char buf[PATH_MAX])
{
    const struct shm_target *t = shm_target();
    if (!t->redirect || escapes(path + 8))
        return path;
    size_t rest = strlen(path + 8);
    if (t->len + rest >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    int saved = errno;
    int ready = shm_dir_ensure(t);
    if (ready == SHM_DIR_UNSAFE)
        return NULL;
    /* A directory that could not be made shows up as the call's own error. */
    errno = saved;
    memcpy(buf, t->dir, t->len);
    memcpy(buf + t->len, path + 8, rest + 1);
    debug_op(op, path, buf);
    return buf;
}

#include "shm_dir.h"

#include "debug.h"
#include "pidlock.h"
#include "reclaim.h"
#include "sys.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DIR "/tmp/shm"

static const struct shm_target native = { 0, 0, 0, "/dev/shm", 8 };

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
   replace or plant entries in it. */
static const char *untrusted(const struct stat *st)
{
    if (st->st_uid != geteuid() && st->st_uid != 0)
        return ": owned by another user (set SHM_REDIRECT_DIR to a directory of yours)";
    if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(st->st_mode & S_ISVTX))
        return ": writable by others without the sticky bit";
    return NULL;
}

/* The redirect directory, open: its descriptor and the identity of the
   directory it was opened on.  Objects are created, opened and unlinked
   relative to the descriptor, so once checked, the directory cannot be
   swapped under us by renaming or replacing its path. */
static atomic_int dir_fd = -1;
static _Atomic uint64_t dir_dev, dir_ino;
/* errno of a definite refusal (a symlink, not a directory, another owner,
   open to others without the sticky bit), else 0.  Only such answers are
   kept: a failure that may pass (EMFILE, ENOMEM, EINTR, ...) is the
   failing call's alone. */
static atomic_int dir_refused;
/* Serialises reopening; a child forked meanwhile takes it over. */
static atomic_int dir_lock;

/* FD is still the directory we opened, and that directory still has a
   name (rm -rf of it, or of the /tmp around it, leaves it unlinked). */
static int still_ours(int fd)
{
    struct stat st;
    int saved = errno;
    int ours = fd >= 0 && sys_fstat(fd, &st) == 0 && st.st_nlink > 0
        && (uint64_t)st.st_ino == atomic_load_explicit(&dir_ino, memory_order_acquire)
        && (uint64_t)st.st_dev == atomic_load_explicit(&dir_dev, memory_order_acquire);
    errno = saved;
    return ours;
}

/* Refuses the directory for the rest of the process's life (warning once). */
static int refuse(const struct shm_target *t, int err, const char *why)
{
    int expected = 0;
    if (atomic_compare_exchange_strong(&dir_refused, &expected, err))
        warn_line("refusing to use ", t->dir, why);
    errno = err;
    return SHM_DIR_UNSAFE;
}

/* Opens (creating it when missing) and checks the directory, and installs
   its descriptor, setting *OPENED when this call did.  Called with
   dir_lock held. */
static int reopen(const struct shm_target *t, int *opened)
{
    int old = atomic_load_explicit(&dir_fd, memory_order_acquire);
    if (still_ours(old))
        return 0;
    /* The directory we had lost its name but the number is still ours:
       the new directory takes its place under the same number, so a
       thread about to use that number gets one or the other, never a
       file of the program's. */
    struct stat st;
    int replace = old >= 0 && sys_fstat(old, &st) == 0 && S_ISDIR(st.st_mode)
        && (uint64_t)st.st_ino == atomic_load_explicit(&dir_ino, memory_order_relaxed)
        && (uint64_t)st.st_dev == atomic_load_explicit(&dir_dev, memory_order_relaxed);

    int created = sys_mkdir(t->dir, 01777) == 0;
    if (!created && errno != EEXIST)
        return SHM_DIR_MISSING;
    int fd = sys_openat(AT_FDCWD, t->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (fd < 0) {
        /* With O_DIRECTORY a symlink fails as ENOTDIR too; tell them apart. */
        int err = errno;
        if (err == ENOTDIR && sys_fstatat(AT_FDCWD, t->dir, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
            err = ELOOP;
        if (err == ELOOP)
            return refuse(t, err, ": it is a symbolic link");
        if (err == ENOTDIR)
            return refuse(t, err, ": not a directory");
        if (err == ENOENT) /* removed again between mkdir and open */
            return SHM_DIR_MISSING;
        errno = err;
        return SHM_DIR_FAILED;
    }
    const char *why = NULL;
    if (sys_fstat(fd, &st) != 0 || (why = untrusted(&st))) {
        int err = errno;
        close(fd);
        if (!why) {
            errno = err;
            return SHM_DIR_FAILED;
        }
        return refuse(t, EACCES, why);
    }
    /* mkdir applies the umask; the directory is shared by every user of
       the function, like /dev/shm, so set the mode explicitly. */
    if (created) {
        sys_fchmod(fd, 01777);
        debug_op("mkdir", t->dir, NULL);
    }
    if (replace && sys_dup3(fd, old, O_CLOEXEC) == old) {
        close(fd);
        fd = old;
    }
    atomic_store_explicit(&dir_dev, (uint64_t)st.st_dev, memory_order_release);
    atomic_store_explicit(&dir_ino, (uint64_t)st.st_ino, memory_order_release);
    atomic_store_explicit(&dir_fd, fd, memory_order_release);
    *opened = 1;
    return 0;
}

int shm_dir_ensure(const struct shm_target *t)
{
    if (!t->redirect)
        return 0;
    int refused = atomic_load_explicit(&dir_refused, memory_order_acquire);
    if (refused) {
        errno = refused;
        return SHM_DIR_UNSAFE;
    }
    if (__builtin_expect(still_ours(atomic_load_explicit(&dir_fd, memory_order_acquire)), 1))
        return 0;
    int saved = errno;
    pidlock_take(&dir_lock);
    int opened = 0;
    int rc = reopen(t, &opened);
    pidlock_drop(&dir_lock);
    if (rc != 0)
        return rc;
    /* A process's first directory (and one made again after a removal)
       is when objects of dead process groups are looked for. */
    if (opened)
        reclaim_on_first_use(t, atomic_load_explicit(&dir_fd, memory_order_acquire));
    errno = saved;
    return 0;
}

int shm_dir_fd(void)
{
    return atomic_load_explicit(&dir_fd, memory_order_acquire);
}

/* Where REST (what follows "/dev/shm") climbs above /dev/shm with "..":
   what follows that "..", or NULL when it stays inside.  The virtual
   /dev/shm's parent is /dev, as the real one's: such a path is resolved
   there, not next to the redirect directory. */
static const char *escape(const char *rest)
{
    long depth = 0;
    while (*rest) {
        while (*rest == '/')
            rest++;
        size_t n = strcspn(rest, "/");
        if (n == 2 && rest[0] == '.' && rest[1] == '.') {
            if (--depth < 0)
                return rest + 2;
        } else if (n > 0 && !(n == 1 && rest[0] == '.')) {
            depth++;
        }
        rest += n;
    }
    return NULL;
}

const char *shm_path_slow(const char *op, const char *path, char buf[PATH_MAX])
{
    const struct shm_target *t = shm_target();
    if (!t->redirect)
        return path;
    const char *above = escape(path + 8);
    if (above) {
        /* "/dev" and what follows: "/dev/shm/.." is /dev, and
           "/dev/shm/../shm/x" names the virtual /dev/shm again. */
        char up[PATH_MAX];
        size_t n = strlen(above);
        memcpy(up, "/dev", 4);
        memcpy(up + 4, above, n + 1);
        if (!shm_prefix(up)) {
            memcpy(buf, up, n + 5);
            debug_op(op, path, buf);
            return buf;
        }
        /* Redirecting, the answer is BUF or NULL, never UP. */
        return shm_path_slow(op, up, buf);
    }
    size_t rest = strlen(path + 8);
    if (t->len + rest >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    int saved = errno;
    int ready = shm_dir_ensure(t);
    if (ready != 0 && ready != SHM_DIR_MISSING)
        return NULL;
    /* A directory that could not be made shows up as the call's own error. */
    errno = saved;
    memcpy(buf, t->dir, t->len);
    memcpy(buf + t->len, path + 8, rest + 1);
    debug_op(op, path, buf);
    return buf;
}

int shm_is_root(const char *original, const char *rewritten)
{
    const struct shm_target *t = shm_target();
    if (original == rewritten || !t->redirect || strncmp(rewritten, t->dir, t->len) != 0)
        return 0;
    rewritten += t->len;
    while (*rewritten == '/')
        rewritten++;
    return *rewritten == '\0';
}

#include "shm_dir.h"

#include "debug.h"
#include "kept.h"
#include "pidlock.h"
#include "reclaim.h"
#include "sys.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

/* The rule mirrors what makes /dev/shm safe to share: nobody but us (or
   root) can remove, replace or plant entries in it. */
const char *shm_dir_untrusted(const struct stat *st)
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
static struct kept dir = KEPT_INIT;
/* errno of a definite refusal (a symlink, not a directory, another owner,
   open to others without the sticky bit), else 0.  Only such answers are
   kept: a failure that may pass (EMFILE, ENOMEM, EINTR, ...) is the
   failing call's alone. */
static atomic_int dir_refused;
/* Serialises reopening; a child forked meanwhile takes it over. */
static atomic_int dir_lock;

/* The number is still the directory we opened (kept.h), and that directory
   still has a name (rm -rf of it, or of the /tmp around it, leaves it
   unlinked). */
static int still_ours(void)
{
    struct stat st;
    return kept_fd(&dir, &st) >= 0 && st.st_nlink > 0;
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

int shm_dir_open(const char *path, struct stat *st, const char **why, int *made)
{
    int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int fd = sys_openat(AT_FDCWD, path, flags, 0);
    *made = 0;
    *why = NULL;
    if (fd < 0 && errno == ENOENT) {
        *made = sys_mkdir(path, 01777) == 0 ? 1 : errno == EEXIST ? 0 : -1;
        if (*made < 0)
            return -1;
        fd = sys_openat(AT_FDCWD, path, flags, 0);
    }
    int err = errno;
    if (fd < 0) {
        /* With O_DIRECTORY a symlink fails as ENOTDIR too; tell them apart. */
        if (err == ENOTDIR && sys_fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st->st_mode))
            err = ELOOP;
        *why = err == ELOOP ? ": it is a symbolic link" : err == ENOTDIR ? ": not a directory" : NULL;
    } else if (sys_fstat(fd, st) != 0 || (*why = shm_dir_untrusted(st))) {
        err = *why ? EACCES : errno;
        close(fd);
        fd = -1;
    } else if (*made == 1) {
        /* mkdir applied the umask; the directory is shared by every user
           of the function, like /dev/shm. */
        sys_fchmod(fd, 01777);
    }
    errno = err;
    return fd;
}

/* Opens (creating it when missing) and checks the directory, and installs
   its descriptor, setting *OPENED when this call did.  Called with
   dir_lock held. */
static int reopen(const struct shm_target *t, int *opened)
{
    int old = atomic_load_explicit(&dir.fd, memory_order_acquire);
    if (still_ours())
        return 0;
    /* The directory we had lost its name but the number is still ours:
       the new directory takes its place under the same number, so a
       thread about to use that number gets one or the other, never a
       file of the program's. */
    struct stat st;
    int replace = kept_fd(&dir, NULL) == old && old >= 0;

    const char *why;
    int created;
    int fd = shm_dir_open(t->dir, &st, &why, &created);
    if (fd < 0 && why)
        return refuse(t, errno, why);
    if (fd < 0) /* ENOENT: removed again between mkdir and open */
        return created < 0 || errno == ENOENT ? SHM_DIR_MISSING : SHM_DIR_FAILED;
    if (created)
        debug_op(t, "mkdir", t->dir, NULL);
    if (replace && sys_dup3(fd, old, O_CLOEXEC) == old) {
        close(fd);
        fd = old;
    }
    kept_set(&dir, fd, &st);
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
    if (__builtin_expect(still_ours(), 1))
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
        reclaim_on_first_use(t, atomic_load_explicit(&dir.fd, memory_order_acquire));
    errno = saved;
    return 0;
}

int shm_dir_fd(void)
{
    return atomic_load_explicit(&dir.fd, memory_order_acquire);
}

int shm_dir_ours(void)
{
    return kept_fd(&dir, NULL);
}

int shm_dir_known(const struct shm_target *t)
{
    if (__builtin_expect(atomic_load_explicit(&dir.fd, memory_order_acquire) >= 0, 1))
        return 0;
    return shm_dir_ensure(t);
}

int shm_dir_stale(const struct shm_target *t, int err)
{
    if (!t->redirect || (err != ENOENT && err != EBADF && err != ENOTDIR))
        return 0;
    if (still_ours()) {
        errno = err;
        return 0;
    }
    return shm_dir_ensure(t) == 0; /* or fails with why the directory cannot be used */
}

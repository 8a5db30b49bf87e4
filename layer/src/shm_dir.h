#ifndef SHMR_SHM_DIR_H
#define SHMR_SHM_DIR_H

#include <limits.h>
#include <stddef.h>

/* Where POSIX shared memory objects live in this process: /dev/shm itself
   when it is a writable directory, else the redirect directory.  Decided on
   first use and kept for the life of the process (and its forks). */
struct shm_target {
    int redirect;    /* 0: /dev/shm is usable and nothing is rewritten */
    int debug;       /* SHM_REDIRECT_DEBUG=1 */
    const char *dir; /* no trailing slash */
    size_t len;
};

const struct shm_target *shm_target(void);

/* The longest redirect directory accepted: "<dir>/sem.<name>" must always
   fit in PATH_MAX for every name glibc accepts. */
#define SHM_DIR_MAX (PATH_MAX - NAME_MAX - 16)

/* Prepares the redirect directory on first use: creates it (mode 01777)
   when missing and checks that no other user can tamper with it.  Returns
   0 when it is usable (or nothing is redirected), errno untouched;
   SHM_DIR_MISSING with errno from mkdir (ENOENT for a missing parent,
   EROFS, ENOSPC, ...) when it cannot be created; SHM_DIR_UNSAFE with errno
   ELOOP (a symlink), ENOTDIR or EACCES (another owner, or writable by
   others without the sticky bit) after a one-time warning on stderr. */
#define SHM_DIR_MISSING (-1)
#define SHM_DIR_UNSAFE (-2)
int shm_dir_ensure(const struct shm_target *t);

/* Exactly "/dev/shm" or a path below it: the only paths ever rewritten. */
static inline int shm_prefix(const char *p)
{
    return p && p[0] == '/' && p[1] == 'd' && p[2] == 'e' && p[3] == 'v' && p[4] == '/'
        && p[5] == 's' && p[6] == 'h' && p[7] == 'm' && (p[8] == '\0' || p[8] == '/');
}

const char *shm_path_slow(const char *op, const char *path, char buf[PATH_MAX]);

/* PATH itself, or its rewrite into BUF when it names the virtual /dev/shm;
   NULL with errno ENAMETOOLONG when the rewrite does not fit, or with
   shm_dir_ensure's errno when the redirect directory is unsafe. */
static inline const char *shm_path(const char *op, const char *path, char buf[PATH_MAX])
{
    if (__builtin_expect(!shm_prefix(path), 1))
        return path;
    return shm_path_slow(op, path, buf);
}

#endif

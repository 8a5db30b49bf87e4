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

/* Creates the redirect directory (mode 01777) if it does not exist yet.
   Returns 0, or -1 with errno from mkdir (e.g. ENOSPC, ENOENT for a
   missing parent) and errno otherwise untouched. */
int shm_dir_ensure(const struct shm_target *t);

/* Exactly "/dev/shm" or a path below it: the only paths ever rewritten. */
static inline int shm_prefix(const char *p)
{
    return p && p[0] == '/' && p[1] == 'd' && p[2] == 'e' && p[3] == 'v' && p[4] == '/'
        && p[5] == 's' && p[6] == 'h' && p[7] == 'm' && (p[8] == '\0' || p[8] == '/');
}

const char *shm_path_slow(const char *op, const char *path, char buf[PATH_MAX]);

/* PATH itself, or its rewrite into BUF when it names the virtual /dev/shm;
   NULL with errno ENAMETOOLONG when the rewrite does not fit. */
static inline const char *shm_path(const char *op, const char *path, char buf[PATH_MAX])
{
    if (__builtin_expect(!shm_prefix(path), 1))
        return path;
    return shm_path_slow(op, path, buf);
}

#endif

#ifndef SHMR_SHM_PATH_H
#define SHMR_SHM_PATH_H

/* Rewriting paths under /dev/shm into the redirect directory, for the path
   calls (path_calls.h). */

#include <limits.h>

/* Exactly "/dev/shm" or a path below it: the only paths ever rewritten. */
static inline int shm_prefix(const char *p)
{
    return p && p[0] == '/' && p[1] == 'd' && p[2] == 'e' && p[3] == 'v' && p[4] == '/'
        && p[5] == 's' && p[6] == 'h' && p[7] == 'm' && (p[8] == '\0' || p[8] == '/');
}

const char *shm_path_slow(const char *op, const char *path, char buf[PATH_MAX]);

/* REWRITTEN, shm_path's answer for ORIGINAL, is the virtual /dev/shm
   itself (the redirect directory), however it was spelled. */
int shm_is_root(const char *original, const char *rewritten);

/* PATH itself, or its rewrite into BUF when it names the virtual /dev/shm
   (or climbs out of it into /dev: "/dev/shm/.." is "/dev", as natively);
   NULL with errno ENAMETOOLONG when the rewrite does not fit, or with
   shm_dir_ensure's errno when the redirect directory is unsafe. */
static inline const char *shm_path(const char *op, const char *path, char buf[PATH_MAX])
{
    if (__builtin_expect(!shm_prefix(path), 1))
        return path;
    return shm_path_slow(op, path, buf);
}

#endif

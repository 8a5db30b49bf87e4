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
    int reclaim;     /* unless SHM_REDIRECT_RECLAIM=0 (reclaim.c) */
    const char *dir; /* no trailing slash */
    size_t len;
};

const struct shm_target *shm_target(void);

/* The longest redirect directory accepted: "<dir>/sem.<name>" must always
   fit in PATH_MAX for every name glibc accepts. */
#define SHM_DIR_MAX (PATH_MAX - NAME_MAX - 16)

/* Makes the redirect directory ready for a call that needs it: on first
   use, and again whenever it was removed (rm -rf of it or of /tmp's
   content), creates it (mode 01777) when missing, opens it and checks that
   no other user can tamper with it.  Returns 0 when it is usable (or
   nothing is redirected), errno untouched; otherwise errno says why and
   nothing is remembered except a definite refusal:
   SHM_DIR_MISSING    it cannot be created (errno from mkdir: ENOENT for a
                      missing parent, EROFS, ENOSPC, ...);
   SHM_DIR_UNSAFE     ELOOP (a symlink), ENOTDIR or EACCES (another owner,
                      or writable by others without the sticky bit): warned
                      about once on stderr and refused from then on;
   SHM_DIR_FAILED     anything else (EMFILE, ENFILE, ENOMEM, ...): this
                      call fails, the next one tries again. */
#define SHM_DIR_MISSING (-1)
#define SHM_DIR_UNSAFE (-2)
#define SHM_DIR_FAILED (-3)
int shm_dir_ensure(const struct shm_target *t);

/* The redirect directory's descriptor once shm_dir_ensure returned 0 while
   redirecting (close-on-exec; kept for the life of the process and its
   forks, replaced when the directory is removed or the number closed): the
   directory that every object is created, opened and unlinked relative to.
   -1 before. */
int shm_dir_fd(void);

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

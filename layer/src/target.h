#ifndef SHMR_TARGET_H
#define SHMR_TARGET_H

#include <limits.h>
#include <stddef.h>

/* Where POSIX shared memory objects live in this process: /dev/shm itself
   when it is a writable directory, else the redirect directory.  Decided on
   first use (settings.c) and kept for the life of the process (and its
   forks).  Everything below the directory takes it as an
   argument. */
struct shm_target {
    int redirect;    /* 0: /dev/shm is usable and nothing is rewritten */
    int debug;       /* SHM_REDIRECT_DEBUG=1 */
    int reclaim;     /* unless SHM_REDIRECT_RECLAIM=0 (reclaim.c) */
    int reclaim_after; /* SHM_REDIRECT_RECLAIM_AFTER: a dead group's grace, seconds */
    const char *dir; /* no trailing slash */
    size_t len;
};

/* The longest redirect directory accepted: "<dir>/sem.<name>" must always
   fit in PATH_MAX for every name glibc accepts. */
#define SHM_DIR_MAX (PATH_MAX - NAME_MAX - 16)

#endif

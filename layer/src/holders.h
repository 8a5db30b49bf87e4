#ifndef SHMR_HOLDERS_H
#define SHMR_HOLDERS_H

#include "liveness.h"

#include <sys/stat.h>
#include <sys/types.h>

/* What any live process maps or holds open, from one look at every
   /proc/<pid>/maps and /proc/<pid>/fd: nothing in that set is ever
   reclaimed, whatever its tags say.  Made only when a reclaim has
   candidates. */
struct holders {
    dev_t dev;
    ino_t *inos; /* of files on DEV, sorted */
    size_t n, cap;
    int blind;  /* /proc untrusted or unreadable: everything is kept */
    int unseen; /* a process could not be inspected (holders.c) */
};

/* Fills H for the file system DEV.  Returns 0, or -1 (H->blind set) when
   /proc cannot answer. */
int holders_look(struct holders *h, dev_t dev, struct proc_view *view);

/* 1 when the file INO (mode MODE) may be in use: held, or unseen. */
int holders_hold(const struct holders *h, ino_t ino, mode_t mode);

void holders_free(struct holders *h);

#endif

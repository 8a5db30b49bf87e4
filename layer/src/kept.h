#ifndef SHMR_KEPT_H
#define SHMR_KEPT_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>

/* A descriptor the library keeps across calls.  Programs close descriptors
   they did not open (daemons, closefrom, subprocess's close_fds) and reuse
   the numbers for files of their own, or dup2 over them: a kept number is
   used only while it still names the file it was opened on (device and
   inode), and one that no longer does is forgotten, never closed, written,
   locked or unlinked through. */
struct kept {
    atomic_int fd;
    _Atomic uint64_t dev, ino;
};
#define KEPT_INIT { -1, 0, 0 }

/* Keeps FD, open on the file ST describes (the previous one was dropped). */
void kept_set(struct kept *k, int fd, const struct stat *st);

/* K's descriptor while it still names its file (its stat in ST unless
   NULL), else -1.  errno is kept. */
int kept_fd(struct kept *k, struct stat *st);

/* A descriptor was kept, and its number is no longer ours. */
int kept_lost(struct kept *k);

/* Stops keeping K's descriptor, closing it only while it is still ours. */
void kept_drop(struct kept *k);

#endif

#ifndef SHMR_REGISTRY_H
#define SHMR_REGISTRY_H

#include "target.h"

#include <sys/stat.h>

/* "<dir>.reclaim", beside the redirect directory (so that listing the
   virtual /dev/shm shows only objects): one record per process group
   (record.h), "g.<pgid>" while the group may live, "d.<due>.<pgid>.<inode>"
   once a reclaim found it dead.  Every entry is reached with openat on the
   registry's descriptor and O_NOFOLLOW: a planted symlink is never
   followed. */

#define REGISTRY_SUFFIX ".reclaim"

/* The registry, made when missing (mode 01777, like the directory), opened
   without following symlinks, when it is a directory nobody but this user
   (or root) can tamper with, its stat in ST; else -1, said once on
   stderr. */
int registry_open(const struct shm_target *t, struct stat *st);

#endif

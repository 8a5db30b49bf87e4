#ifndef SHMR_RECORD_H
#define SHMR_RECORD_H

#include "target.h"

/* What a process group made in the redirect directory, so that the reclaim
   looks at a dead group's own objects, never at the whole directory.  One
   file per group in the registry (registry.h), "g.<pgid>": an entry
   "<inode> <generation> <name>\0" per object or top-level path-call file or
   directory the group made, appended as it makes them.  Every process of
   the group that uses the library holds LOCK_SH on it for its life
   (inherited by fork; close-on-exec, and taken again by name by an exec'd
   program at its first use): the group is dead once LOCK_EX|LOCK_NB on it
   succeeds.  Its size is bounded: past a threshold, entries whose name no
   longer names their file are dropped. */

/* At a process's first use: takes its group's record, making it when
   missing.  1: made (a new group, which reclaims); 0: taken; -1 with
   errno. */
int record_join(const struct shm_target *t);

/* The registry, open, once record_join succeeded; else -1. */
int record_registry(void);

/* Adds FD's file, named LEAF in the redirect directory, to the group's
   record (nothing before record_join).  errno is kept. */
void record_add(int fd, const char *leaf);

struct record_entry {
    unsigned long long ino, gen;
    const char *name;
};

/* Calls FN for each entry of the record open on FD.  -1 when it cannot be
   read. */
int record_each(int fd, void (*fn)(void *ctx, const struct record_entry *e), void *ctx);

/* FD's inode generation (FS_IOC_GETVERSION), 0 where the file system has
   none: with the inode number it tells a file from a later one that
   reuses the number. */
unsigned long long record_generation(int fd);

#endif

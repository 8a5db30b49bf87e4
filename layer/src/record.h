#ifndef SHMR_RECORD_H
#define SHMR_RECORD_H

#include "target.h"

#include <sys/stat.h>

/* What a process group made in the redirect directory, so that the reclaim
   looks at a dead group's own objects, never at the whole directory.  The
   registry, "<dir>.reclaim" (beside the directory, so that listing the
   virtual /dev/shm shows only objects), holds a directory per group:
   "g.<pgid>" while the group may live, "d.<due>.<pgid>.<inode>" once a
   reclaim found it dead.  Every process of the group that uses the library
   holds LOCK_SH on it for its life (inherited by fork; close-on-exec, and
   taken again by an exec'd program at its first use), so the group is dead
   once LOCK_EX|LOCK_NB on it succeeds.  In it, each process that makes
   something keeps a file of its own, named by its pid and mapped: an entry
   "<inode> <generation> <name>\0" (the numbers zero-padded) per object or
   top-level path-call file or directory.  One writer per file needs no
   lock, and a store no system call.  When full, a file keeps only the last
   entry of each name, while the name still names its file, and doubles
   only when more than half survives.  Everything in the registry is
   reached with openat and O_NOFOLLOW: a planted symlink is never
   followed. */

/* At a process's first use: takes its group's record, making it when
   missing.  1: made (a new group, which reclaims); 0: taken; -1 with
   errno. */
int record_join(const struct shm_target *t);

/* A description of the registry of the caller's own (a listing moves its
   offset, a lock is its own), its stat in ST unless NULL, once record_join
   opened the registry; else -1. */
int record_registry(struct stat *st);

/* Adds FD's file (its stat ST, or NULL), named LEAF in the redirect
   directory, to the group's record (nothing before record_join).  errno
   is kept. */
void record_add(int fd, const struct stat *st, const char *leaf);

/* After LEAF was unlinked by name: this process's entry of it goes, when
   it is the last one stored (a semaphore unlinked right after its
   creation, as Python's are, leaves nothing). */
void record_unlinked(const char *leaf);

struct record_entry {
    unsigned long long ino, gen;
    const char *name;
};

/* Calls FN for each entry of the record file open on FD.  -1 when it
   cannot be read. */
int record_each(int fd, void (*fn)(void *ctx, const struct record_entry *e), void *ctx);

/* FD's inode generation (FS_IOC_GETVERSION), 0 where the file system has
   none: with the inode number it tells a file from a later one that
   reuses the number. */
unsigned long long record_generation(int fd);

#endif

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
   lock, and a store no system call.  When full, a file keeps of each name
   only the last entry of the file it names, and doubles only when more
   than half survives.  Everything in the registry is reached with openat
   and O_NOFOLLOW: a planted symlink is never followed. */

/* At a process's first use: takes its group's record, making it when
   missing.  1: made (a new group, which reclaims); 0: taken; -1 with
   errno. */
int record_join(const struct shm_target *t);

/* A description of the registry of the caller's own (a listing moves its
   offset, a lock is its own), its stat in ST unless NULL, once record_join
   opened the registry; else -1. */
int record_registry(struct stat *st);

/* Before a creation by NAME, in the redirect directory, that may make
   a file or directory: an entry without its file (pending), so that a
   creator killed inside the creation, which leaves the name behind, leaves
   it recorded.  The reclaim takes a pending entry's file only while it is
   empty (a creation killed before it wrote anything): one not empty is
   another's, opened with O_CREAT. */
void record_pending(const char *name);

/* Adds FD's file (its stat ST, or NULL), NAME in the redirect directory,
   to the group's record (nothing before record_join), over NAME's pending
   entry when that was stored last.  errno is kept. */
void record_add(int fd, const struct stat *st, const char *name);

/* NAME's entry stored last goes, when it is PENDING or not as asked:
   after an unlink by name, its file's (a semaphore unlinked right after
   its creation, as Python's are, leaves nothing); after a creation that
   made nothing, its pending entry. */
void record_forget(const char *name, int pending);

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

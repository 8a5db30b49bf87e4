#ifndef SHMR_OWNER_H
#define SHMR_OWNER_H

#include "target.h"

#include <sys/types.h>

/* Who may still use an object of the redirect directory: its owners, the
   process groups that created, opened or re-sized it (an owner is a
   "generation": Lambda starts each runtime as a group of its own and kills
   it as a group).  Each owner is one extended attribute of the file,
   OWNER_PREFIX "<pid namespace>.<process group>" = "<boot_id as 32 hex
   digits>", set with XATTR_CREATE: groups joining at once never overwrite
   each other, and joining again costs one failing call.  The reclaim
   (reclaim.c) reads the names alone unless the namespace is another's. */

#define OWNER_PREFIX "user.shm_redirect.owner."
/* The single owner of libraries before several owners: "<boot>:<ns>:<pgid>". */
#define OWNER_LEGACY "user.shm_redirect.owner"
/* Set when more groups joined than the file system holds attributes for:
   such an object is never reclaimed. */
#define OWNER_PINNED "user.shm_redirect.pinned"

/* Where a process group number means something: this boot of this machine
   (kernel boot_id) and this PID namespace (inode of /proc/self/ns/pid). */
struct owner_env {
    unsigned long long boot_hi, boot_lo, ns;
};

/* This process's PID namespace, or 0 when /proc cannot say.  Cached, and
   looked up again in a forked child (a parent may have unshared it). */
unsigned long long owner_ns(void);

/* This process's environment; -1 when /proc cannot say. */
int owner_env(struct owner_env *env);

/* 32 hex digits of a boot_id to ENV's halves; -1 when malformed. */
int owner_boot_parse(const char *hex, size_t len, struct owner_env *env);

/* Makes this process's current group an owner of FD, an object of the
   redirect directory it created or re-sized.  Does nothing unless T
   redirects with the reclaim on; a file system without user extended
   attributes leaves it untagged (never reclaimed).  errno is kept. */
void owner_join(const struct shm_target *t, int fd);

/* At an open by name of an existing object: joins only an object that
   already has owners (an untagged one stays untagged).  Returns 1 when it
   added this group, and the caller must then check that the name still
   names FD's file (owner_still_named): a reclaim may have moved it aside
   between the open and the join.  errno is kept. */
int owner_adopt(const struct shm_target *t, int fd);

/* After owner_adopt returned 1: 1 when AT (relative to DIRFD) still names
   FD's file, 0 when the object was reclaimed meanwhile (the caller opens
   again, as if it had come after the reclaim).  Waits briefly while a
   reclaim decides whether to put a moved object back. */
int owner_still_named(int dirfd, const char *at, int fd);

#endif

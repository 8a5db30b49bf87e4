#ifndef SHMR_REGISTRY_H
#define SHMR_REGISTRY_H

#include "target.h"

#include <sys/types.h>

/* "<dir>.reclaim", beside the redirect directory (not in it: listing the
   virtual /dev/shm shows only objects).  Its entries, each an empty file
   made with O_EXCL:
     <ns>.<pgid>        a claim: the group's first process reclaims, later
                        ones skip it;
     o.<ns>.<pgid>      the group owns objects: only such a group's death
                        makes a reclaim scan the directory;
     x.<ns>.<pid>.<ino> an object a reclaimer moved aside to remove it;
     said.<what>        a warning given once for the directory. */

#define REGISTRY_SUFFIX ".reclaim"

/* Creates the entry LEAF (making the registry when missing).  1: created;
   0: it was there; -1 with errno: it cannot be made. */
int registry_add(const struct shm_target *t, const char *leaf);

/* Registers this process's group PGID of namespace NS as an owner, once per
   process and group.  errno is kept. */
void registry_owner(const struct shm_target *t, unsigned long long ns, pid_t pgid);

/* The registry, opened without following symlinks, when it is a directory
   nobody but this user (or root) can tamper with; else -1, said on stderr. */
int registry_open(const struct shm_target *t);

/* WHAT, B and C on stderr, once for the directory (the entry said.KEY
   remembers it); every time when the registry cannot remember. */
void registry_say(const struct shm_target *t, const char *key, const char *what, const char *b, const char *c);

/* "<a>.<b>" or "<prefix><a>.<b>" into BUF (>= 48 bytes); returns BUF. */
char *registry_leaf(char *buf, const char *prefix, unsigned long long a, unsigned long long b);

#endif

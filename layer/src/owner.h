#ifndef SHMR_OWNER_H
#define SHMR_OWNER_H

#include "shm_dir.h"

#include <sys/types.h>

/* Who may still use an object of the redirect directory: the process group
   of the process that created it (a "generation": Lambda starts each
   runtime as a group of its own and kills it as a group).  The creator tags
   the file with an extended attribute: a semaphore at creation, a shared
   memory object when it is first sized; see reclaim.c. */

#define OWNER_XATTR "user.shm_redirect.owner"

/* Where a process group number means something: this boot of this machine
   (kernel boot_id) and this PID namespace (inode of /proc/self/ns/pid). */
struct owner_env {
    unsigned long long boot_hi, boot_lo, ns;
};

struct owner {
    struct owner_env env;
    pid_t pgid;
};

/* This process's PID namespace, or 0 when /proc cannot say.  Cached, and
   looked up again in a forked child (a parent may have unshared it). */
unsigned long long owner_ns(void);

/* This process's environment; -1 when /proc cannot say. */
int owner_env(struct owner_env *env);

static inline int owner_same_env(const struct owner_env *a, const struct owner_env *b)
{
    return a->boot_hi == b->boot_hi && a->boot_lo == b->boot_lo && a->ns == b->ns;
}

/* Tags FD, a file of the redirect directory, with this process's current
   process group; with FIRST_ONLY a tag already there is kept.  Does nothing
   unless T redirects and reclaiming is on; a file system without user
   extended attributes leaves the file untagged (never reclaimed), said once
   under SHM_REDIRECT_DEBUG.  errno is kept. */
void owner_tag(const struct shm_target *t, int fd, int first_only);

/* FD's tag; -1 when it has none (or not one of ours). */
int owner_read(int fd, struct owner *o);

#endif

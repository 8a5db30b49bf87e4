#ifndef SHMR_RECLAIM_H
#define SHMR_RECLAIM_H

#include "target.h"

/* Removing what dead process groups made and nobody uses any more (see
   reclaim.c); on unless SHM_REDIRECT_RECLAIM=0.  Each keeps errno. */

/* A process's first use of the redirect directory (open as DIRFD): joins
   its group's record, and reclaims when the group is new. */
void reclaim_on_first_use(const struct shm_target *t, int dirfd);

/* At each creation: reclaims once a dead group's grace has run out. */
void reclaim_if_due(const struct shm_target *t);

/* After ENOSPC or EDQUOT: reclaims at once, without grace.  1 when it
   removed something (worth trying again). */
int reclaim_for_space(const struct shm_target *t);

#endif

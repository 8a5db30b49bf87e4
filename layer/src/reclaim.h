#ifndef SHMR_RECLAIM_H
#define SHMR_RECLAIM_H

#include "target.h"

/* Reclaiming the objects of dead process groups from the redirect
   directory (see reclaim.c), on unless SHM_REDIRECT_RECLAIM=0.

   The hook at a process's first successful shm_dir_ensure of the redirect
   directory, open as DIRFD: the first process of its group to get there
   removes the objects nothing can use any more.  Does nothing unless T
   redirects with the reclaim on; keeps errno. */
void reclaim_on_first_use(const struct shm_target *t, int dirfd);

#endif

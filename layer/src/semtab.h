#ifndef SHMR_SEMTAB_H
#define SHMR_SEMTAB_H

#include <semaphore.h>

/* The process's open named semaphores, keyed by the file's device and inode,
   so every sem_open of one semaphore returns one address and only the last
   sem_close unmaps it.  Thread-safe, and usable in a child after fork even
   if another thread of the parent held the table's lock at that moment. */

/* Registers the semaphore open on FD.  MAPPED is the caller's own mapping
   of it, or SEM_FAILED to map it here if it is not known yet.  Returns the
   semaphore's address (unmapping MAPPED if another one already exists), or
   SEM_FAILED with errno set. */
sem_t *semtab_add(int fd, sem_t *mapped);

/* Drops one reference; returns -1 if SEM is not an open semaphore. */
int semtab_release(sem_t *sem);

#endif

#ifndef SHMR_SHM_GROW_H
#define SHMR_SHM_GROW_H

/* Remembers that FD is a shared memory object shm_open created or opened in
   the redirect directory, so that ftruncate allocates its blocks when it
   grows (see shm_grow.c).  ST is FD's. */
#include <sys/stat.h>
void shm_grow_track(int fd, const struct stat *st);

#endif

#ifndef SHMR_HOLD_H
#define SHMR_HOLD_H

#include <sys/stat.h>

/* "In use" is the kernel's: every descriptor the library returns for a file
   of the redirect directory holds flock(LOCK_SH) on its open file
   description, which an mmap keeps alive after close, across fork, setsid
   and exec, whoever the process is, until its last user is gone (the
   kernel drops it at death, zombie or not).  The reclaim removes a name
   only while it holds LOCK_EX on that very file (reclaim.c). */

/* Takes the shared lock on FD, just opened by AT (relative to DIRFD; an
   absolute path with AT_FDCWD, followed like the open followed it), and
   fills ST.  1: held, and AT still names FD's file; 0: a reclaim removed
   it between the open and the lock, and the caller opens again (as if it
   came after the reclaim); -1 with errno.  Not a regular file: 1. */
int hold_named(int fd, int dirfd, const char *at, int follow, struct stat *st);

/* The shared lock on FD, a file not yet named (a semaphore's draft). */
void hold_fd(int fd);

#endif

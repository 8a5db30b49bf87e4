#ifndef SHMR_IN_USE_H
#define SHMR_IN_USE_H

#include <sys/stat.h>

/* "In use" is the kernel's count of open file descriptions: a file that any
   process has open, or mapped (a mapping keeps its description alive after
   close), whoever the process is, dumpable or not, in any PID namespace,
   until its last user is gone, zombie or not.  A reclaimer asks it with a
   write lease, which the kernel grants only while nobody else has the file
   open and which makes every later open wait until the reclaimer lets go.
   Openers take no lock: one fstat tells them whether a reclaim unlinked
   their file while their open waited, and then they open again, as if
   they came after it.

   The kernel revokes a lease whose holder does not let go within
   fs.lease-break-time (45 s): a reclaimer stopped that long (SIGSTOP, a
   debugger) would then unlink a file an opener holds.  So the reclaimer
   also holds flock(LOCK_EX) from its lease to its unlink, and checks that
   the lease is still its own right before unlinking; an open that took
   over half a second takes flock(LOCK_SH) once before its check, which
   waits for such a reclaimer to finish. */

/* Read just before an open; given to in_use_opened. */
long long in_use_clock(void);

/* FD was just opened by AT (relative to DIRFD; an absolute path with
   AT_FDCWD, followed like the open followed it), the open having started
   at STARTED; fills ST.  1: AT names FD's file, and no reclaim can take it
   while it is open; 0: a reclaim unlinked it while the open waited, and
   the caller closes FD and opens again; -1 with errno. */
int in_use_opened(int fd, int dirfd, const char *at, int follow, long long started, struct stat *st);

/* The reclaimer's, on FD (its own description, opened read-only and
   O_NONBLOCK) of a regular file: 1 when no other description of the file
   exists, and none can be used until FD is closed; 0 otherwise, or where
   leases are off (fs.leases-enable, fs.lease-break-time 0) or not this
   user's to take (another user's file): then nothing is removed. */
int in_use_claim(int fd);

/* Right before the unlink: the claim on FD still holds (no open waits on
   it, and the kernel has not revoked it). */
int in_use_still_claimed(int fd);

#endif

#ifndef SHMR_GATE_H
#define SHMR_GATE_H

/* The reclaim unlinks by name, and the kernel has no "unlink this name if
   it still names this file": between its check and its unlinkat, a name
   unlinked and made again (or renamed over) would be the new file's.  So
   every unlink, rmdir and rename by name in the redirect directory passes
   a gate, flock(LOCK_SH) on the registry, which the reclaim closes
   (LOCK_EX) around each check-and-unlink.  Makers need no gate: a name
   that exists cannot be made again without an unlink or a rename. */

/* Around an unlink, rmdir or rename in the redirect directory (nested
   calls and threads share one LOCK_SH per process).  errno is kept. */
void gate_enter(void);
void gate_leave(void);

/* The reclaim's side: LOCK_EX on a description of its own (FD, of the
   registry), waiting a little for unlinks in flight; 1 when closed. */
int gate_close(int fd);
void gate_open(int fd);

#endif

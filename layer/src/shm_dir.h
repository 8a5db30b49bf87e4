#ifndef SHMR_SHM_DIR_H
#define SHMR_SHM_DIR_H

#include "settings.h"

#include <sys/stat.h>

/* Makes the redirect directory ready for a call that needs it: on first
   use, and again whenever it was removed (rm -rf of it or of /tmp's
   content) or the program closed or reused its descriptor's number (one
   fstat per call checks), creates it (mode 01777) when missing, opens it and checks that
   no other user can tamper with it.  Returns 0 when it is usable (or
   nothing is redirected), errno untouched; otherwise errno says why and
   nothing is remembered except a definite refusal:
   SHM_DIR_MISSING    it cannot be created (errno from mkdir: ENOENT for a
                      missing parent, EROFS, ENOSPC, ...);
   SHM_DIR_UNSAFE     ELOOP (a symlink), ENOTDIR or EACCES (another owner,
                      or writable by others without the sticky bit): warned
                      about once on stderr and refused from then on;
   SHM_DIR_FAILED     anything else (EMFILE, ENFILE, ENOMEM, ...): this
                      call fails, the next one tries again. */
#define SHM_DIR_MISSING (-1)
#define SHM_DIR_UNSAFE (-2)
#define SHM_DIR_FAILED (-3)
int shm_dir_ensure(const struct shm_target *t);

/* For an open that creates nothing: shm_dir_ensure without the fstat
   that checks the descriptor, a third of such an open's cost.  A number
   the program closed or reused, or a directory removed, shows up as the
   open's own failure (EBADF, ENOTDIR, ENOENT), after which the caller
   asks shm_dir_stale.  Only a directory of the program's own given the
   number, and holding a file of the very name opened, would answer
   instead. */
int shm_dir_known(const struct shm_target *t);

/* After a call relative to the directory's descriptor failed with ERR: 1
   when the directory was removed or the number is no longer ours, and it
   is usable again (the caller tries again); else 0, with errno ERR, or
   shm_dir_ensure's when the directory can no longer be used. */
int shm_dir_stale(const struct shm_target *t, int err);

/* The redirect directory's descriptor once shm_dir_ensure returned 0 while
   redirecting (close-on-exec; kept for the life of the process and its
   forks, replaced when the directory is removed or the number closed): the
   directory that every object is created, opened and unlinked relative to.
   -1 before. */
int shm_dir_fd(void);

/* shm_dir_fd while the number still names that directory, else -1: for
   the reclaim and the record, which act on what they find there. */
int shm_dir_ours(void);

/* Why the directory ST is not to be trusted (another user's, or writable
   by others without the sticky bit), or NULL: also the registry's rule. */
const char *shm_dir_untrusted(const struct stat *st);

/* PATH (the directory, or the registry), made with mode 01777 when missing
   (*MADE 1; -1 when mkdir failed, with its errno), opened without following
   a symlink, its stat in ST: the descriptor when trusted.  Else -1 with
   errno, and *WHY the reason for a definite refusal (ELOOP, ENOTDIR,
   EACCES), or NULL for a failure that may pass. */
int shm_dir_open(const char *path, struct stat *st, const char **why, int *made);

#endif

#ifndef SHMR_VIRTUAL_ROOT_H
#define SHMR_VIRTUAL_ROOT_H

#include <sys/types.h>

/* chmod and chown of the virtual /dev/shm itself.  Its mode and owner are
   those of a shared /dev/shm (sticky, writable by all) whatever a program
   asks: tar -x, cp -a or a stray chmod on /dev/shm must not take the
   directory away from the other processes of the function.  The call
   succeeds when the caller could change the real directory (its owner, or
   root; chown as the kernel allows it) and changes nothing; otherwise it
   fails with EPERM, as on a /dev/shm the caller does not own. */
int virtual_root_chmod(void);
int virtual_root_chown(uid_t uid, gid_t gid);

#endif

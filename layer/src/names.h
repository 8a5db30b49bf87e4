#ifndef SHMR_NAMES_H
#define SHMR_NAMES_H

#include "shm_dir.h"

/* glibc (>= 2.34) name rules for sem_open/shm_open and their unlinks:
   leading slashes are skipped, the rest must be non-empty, contain no '/',
   and "/dev/shm/" + ("sem." if SEM) + name must fit glibc's fixed buffer.
   On success writes "<dir>/" + ("sem." if SEM) + name into BUF and returns
   0; returns -1 for a name glibc rejects (the caller picks the errno). */
int object_path(const struct shm_target *t, const char *name, int sem, char buf[PATH_MAX]);

/* Where the object at PATH (from object_path) is reached once shm_dir_ensure
   succeeded: relative to the redirect directory's descriptor (*DIRFD) when
   redirecting, else by PATH itself (AT_FDCWD). */
const char *object_at(const struct shm_target *t, const char *path, int *dirfd);

/* sem_unlink and shm_unlink: a name glibc rejects is ENOENT, and EPERM from
   unlink(2) becomes EACCES, as glibc reports them.  OP names the call in
   debug output. */
int object_unlink(const char *op, const char *name, int sem);

#endif

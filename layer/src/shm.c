/* shm_open and shm_unlink with glibc's semantics, in the redirect directory
   when /dev/shm is missing. */

#include "debug.h"
#include "export.h"
#include "names.h"
#include "owner.h"
#include "shm_grow.h"
#include "sys.h"

#include <errno.h>
#include <sys/mman.h>

SHMR_EXPORT int shm_open(const char *name, int oflag, mode_t mode)
{
    const struct shm_target *t = shm_target();
    char path[PATH_MAX];
    if (object_path(t, name, 0, path) != 0) {
        errno = EINVAL;
        return -1;
    }
    if (t->redirect) {
        if (shm_dir_ensure(t) != 0)
            return -1;
        debug_op(t, "shm_open", name, path);
    }
    int dirfd;
    const char *at = object_at(t, path, &dirfd);
    for (;;) {
        int fd = sys_openat(dirfd, at, oflag | O_NOFOLLOW | O_CLOEXEC, mode);
        /* glibc folds "names a directory" into the invalid-name error. */
        if (fd < 0 && errno == EISDIR)
            errno = EINVAL;
        if (fd < 0 || !t->redirect)
            return fd;
        shm_grow_track(fd);
        /* A new object is made the group's own when first sized
           (shm_grow.c), not here: an empty object holds no space worth
           reclaiming, and a tag at every creation would be the one system
           call that makes shm_open dearer than glibc's on the same file
           system.  An existing one with owners becomes this group's too;
           if a reclaim took it meanwhile, the open happens again, after
           it. */
        if (!owner_adopt(t, fd) || owner_still_named(dirfd, at, fd))
            return fd;
        close(fd);
    }
}

SHMR_EXPORT int shm_unlink(const char *name)
{
    return object_unlink("shm_unlink", name, 0);
}

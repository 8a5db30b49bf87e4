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

/* open(2), noting whether this call created the file: only a creator tags
   an object.  With O_CREAT alone an exclusive create comes first; if the
   name exists, the caller's own flags decide, so the result is exactly
   open's (a file that second open happens to create stays untagged, so it
   is never reclaimed). */
static int open_noting_creation(int dirfd, const char *path, int flags, mode_t mode, int *created)
{
    *created = 0;
    if ((flags & O_CREAT) && !(flags & O_EXCL)) {
        int fd = sys_openat(dirfd, path, flags | O_EXCL, mode);
        if (fd >= 0 || errno != EEXIST) {
            *created = fd >= 0;
            return fd;
        }
    }
    int fd = sys_openat(dirfd, path, flags, mode);
    *created = fd >= 0 && (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
    return fd;
}

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
        debug_op("shm_open", name, path);
    }
    int dirfd;
    const char *at = object_at(t, path, &dirfd);
    int created = 0;
    int fd = t->redirect ? open_noting_creation(dirfd, at, oflag | O_NOFOLLOW | O_CLOEXEC, mode, &created)
                         : sys_openat(dirfd, at, oflag | O_NOFOLLOW | O_CLOEXEC, mode);
    /* glibc folds "names a directory" into the invalid-name error. */
    if (fd < 0 && errno == EISDIR)
        errno = EINVAL;
    if (fd >= 0 && t->redirect) {
        if (created)
            owner_tag(t, fd);
        shm_grow_track(fd);
    }
    return fd;
}

SHMR_EXPORT int shm_unlink(const char *name)
{
    return object_unlink("shm_unlink", name, 0);
}

/* shm_open and shm_unlink with glibc's semantics, in the redirect directory
   when /dev/shm is missing. */

#include "debug.h"
#include "export.h"
#include "names.h"
#include "in_use.h"
#include "reclaim.h"
#include "record.h"
#include "shm_grow.h"
#include "sys.h"

#include <errno.h>

SHMR_EXPORT int shm_open(const char *name, int oflag, mode_t mode)
{
    const struct shm_target *t = shm_target();
    char path[PATH_MAX];
    if (object_path(t, name, 0, path) != 0) {
        errno = EINVAL;
        return -1;
    }
    if (t->redirect) {
        if ((oflag & O_CREAT ? shm_dir_ensure(t) : shm_dir_known(t)) != 0)
            return -1;
        debug_op(t, "shm_open", name, path);
    }
    int dirfd;
    const char *at = object_at(t, path, &dirfd);
    int pending = t->redirect && (oflag & O_CREAT);
    if (pending) {
        reclaim_if_due(t);
        record_pending(at);
    }
    for (int made_room = 0, reopened = 0;;) {
        long long started = in_use_clock();
        int fd = sys_openat(dirfd, at, oflag | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0 && !reopened++ && shm_dir_stale(t, errno)) {
            at = object_at(t, path, &dirfd); /* the directory was removed, or the number lost */
            continue;
        }
        /* glibc folds "names a directory" into the invalid-name error. */
        if (fd < 0 && errno == EISDIR)
            errno = EINVAL;
        if (fd < 0 && t->redirect && (errno == ENOSPC || errno == EDQUOT) && !made_room++ && reclaim_for_space(t))
            continue;
        struct stat st;
        int held = fd >= 0 && t->redirect ? in_use_opened(fd, dirfd, at, 0, started, &st) : 1;
        if (held == 0) { /* reclaimed while the open waited: open again, after it */
            close(fd);
            continue;
        }
        if (held < 0) {
            int err = errno;
            close(fd);
            errno = err;
            fd = -1;
        } else if (fd >= 0 && t->redirect) {
            shm_grow_track(fd, &st);
        }
        /* Empty: made now, or re-created with O_TRUNC.  Recorded for the
           reclaim as this group's; else the pending entry goes. */
        if (pending && fd >= 0 && st.st_size == 0)
            record_add(fd, &st, at);
        else if (pending)
            record_forget(at, 1);
        return fd;
    }
}

SHMR_EXPORT int shm_unlink(const char *name)
{
    return object_unlink("shm_unlink", name, 0);
}

#include "names.h"

#include "debug.h"
#include "gate.h"
#include "record.h"
#include "sys.h"

#include <errno.h>
#include <string.h>

/* glibc's buffer: sizeof "/dev/shm/" + 4 for "sem." + NAME_MAX. */
#define GLIBC_NAME_BUF (sizeof "/dev/shm/" + 4 + NAME_MAX)

int object_path(const struct shm_target *t, const char *name, int sem, char buf[PATH_MAX])
{
    if (!name)
        return -1;
    while (*name == '/')
        name++;
    size_t n = strlen(name);
    size_t prefix = sem ? 4 : 0;
    if (n == 0 || memchr(name, '/', n) || sizeof "/dev/shm/" - 1 + prefix + n + 1 > GLIBC_NAME_BUF)
        return -1;
    /* SHM_DIR_MAX keeps this within PATH_MAX. */
    char *p = buf;
    memcpy(p, t->dir, t->len);
    p += t->len;
    *p++ = '/';
    memcpy(p, "sem.", prefix);
    p += prefix;
    memcpy(p, name, n + 1);
    return 0;
}

const char *object_at(const struct shm_target *t, const char *path, int *dirfd)
{
    if (!t->redirect) {
        *dirfd = AT_FDCWD;
        return path;
    }
    *dirfd = shm_dir_fd();
    return path + t->len + 1;
}

int object_unlink(const char *op, const char *name, int sem)
{
    const struct shm_target *t = shm_target();
    char path[PATH_MAX];
    if (object_path(t, name, sem, path) != 0) {
        errno = ENOENT;
        return -1;
    }
    if (t->redirect) {
        int ready = shm_dir_ensure(t);
        /* A directory that cannot be made holds nothing to unlink. */
        if (ready == SHM_DIR_MISSING)
            errno = ENOENT;
        if (ready != 0)
            return -1;
        debug_op(t, op, name, path);
    }
    int dirfd;
    const char *at = object_at(t, path, &dirfd);
    if (t->redirect)
        gate_enter();
    int rc = sys_unlinkat(dirfd, at);
    if (t->redirect) {
        gate_leave();
        if (rc == 0)
            record_forget(at, 0);
    }
    if (rc < 0 && errno == EPERM)
        errno = EACCES;
    return rc;
}

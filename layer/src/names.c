#include "names.h"

#include "debug.h"
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

int object_unlink(const char *op, const char *name, int sem)
{
    const struct shm_target *t = shm_target();
    char path[PATH_MAX];
    if (object_path(t, name, sem, path) != 0) {
        errno = ENOENT;
        return -1;
    }
    if (t->redirect)
        debug_op(op, name, path);
    int rc = sys_unlink(path);
    if (rc < 0 && errno == EPERM)
        errno = EACCES;
    return rc;
}

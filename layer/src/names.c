#include "names.h"

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

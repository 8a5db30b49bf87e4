#include "shm_path.h"

#include "debug.h"
#include "shm_dir.h"

#include <errno.h>
#include <string.h>

/* Where REST (what follows "/dev/shm") climbs above /dev/shm with "..":
   what follows that "..", or NULL when it stays inside.  The virtual
   /dev/shm's parent is /dev, as the real one's: such a path is resolved
   there, not next to the redirect directory. */
static const char *escape(const char *rest)
{
    long depth = 0;
    while (*rest) {
        while (*rest == '/')
            rest++;
        size_t n = strcspn(rest, "/");
        if (n == 2 && rest[0] == '.' && rest[1] == '.') {
            if (--depth < 0)
                return rest + 2;
        } else if (n > 0 && !(n == 1 && rest[0] == '.')) {
            depth++;
        }
        rest += n;
    }
    return NULL;
}

const char *shm_path_slow(const char *op, const char *path, char buf[PATH_MAX])
{
    const struct shm_target *t = shm_target();
    if (!t->redirect)
        return path;
    const char *above = escape(path + 8);
    if (above) {
        /* "/dev" and what follows: "/dev/shm/.." is /dev, and
           "/dev/shm/../shm/x" names the virtual /dev/shm again. */
        char up[PATH_MAX];
        size_t n = strlen(above);
        memcpy(up, "/dev", 4);
        memcpy(up + 4, above, n + 1);
        if (!shm_prefix(up)) {
            memcpy(buf, up, n + 5);
            debug_op(t, op, path, buf);
            return buf;
        }
        /* Redirecting, the answer is BUF or NULL, never UP. */
        return shm_path_slow(op, up, buf);
    }
    size_t rest = strlen(path + 8);
    if (t->len + rest >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    int saved = errno;
    int ready = shm_dir_ensure(t);
    if (ready != 0 && ready != SHM_DIR_MISSING)
        return NULL;
    /* A directory that could not be made shows up as the call's own error. */
    errno = saved;
    memcpy(buf, t->dir, t->len);
    memcpy(buf + t->len, path + 8, rest + 1);
    debug_op(t, op, path, buf);
    return buf;
}

int shm_is_root(const char *original, const char *rewritten)
{
    const struct shm_target *t = shm_target();
    if (original == rewritten || !t->redirect || strncmp(rewritten, t->dir, t->len) != 0)
        return 0;
    rewritten += t->len;
    while (*rewritten == '/')
        rewritten++;
    return *rewritten == '\0';
}

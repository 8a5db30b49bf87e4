#include "path_track.h"

#include "in_use.h"
#include "record.h"
#include "settings.h"
#include "shm_dir.h"
#include "sys.h"

#include <errno.h>
#include <string.h>

/* The top-level entry of P below the redirect directory into LEAF: 2
   when P names that entry itself, 1 when something below it, else 0. */
static int top_entry(const char *p, char leaf[NAME_MAX + 1])
{
    const struct shm_target *t = shm_target();
    if (!t->redirect || strncmp(p, t->dir, t->len) != 0 || p[t->len] != '/')
        return 0;
    p += t->len;
    for (;;) {
        while (*p == '/')
            p++;
        size_t n = strcspn(p, "/");
        if (n == 0 || n > NAME_MAX)
            return 0;
        if (!(n == 1 && p[0] == '.')) {
            memcpy(leaf, p, n);
            leaf[n] = '\0';
            if (n == 2 && p[0] == '.' && p[1] == '.')
                return 0;
            return p[n + strspn(p + n, "/")] ? 1 : 2;
        }
        p += n;
    }
}

void path_making(const char *p)
{
    char leaf[NAME_MAX + 1];
    if (top_entry(p, leaf) == 2)
        record_pending(leaf);
}

void path_made(const char *p, int made)
{
    char leaf[NAME_MAX + 1];
    int top = top_entry(p, leaf);
    if (!top)
        return;
    int saved = errno, dirfd = shm_dir_fd(), flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
    int fd = made ? sys_openat(dirfd, leaf, flags, 0) : -1;
    if (fd < 0 && made && errno == EACCES) /* unreadable (mode 0200): O_PATH still stats it */
        fd = sys_openat(dirfd, leaf, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
    struct stat st;
    if (fd >= 0 && sys_fstat(fd, &st) == 0)
        record_add(fd, &st, leaf);
    else if (top == 2)
        record_forget(leaf, 1);
    if (fd >= 0)
        close(fd);
    errno = saved;
}

int path_opened(const char *p, int fd, int flags, long long started)
{
    char leaf[NAME_MAX + 1];
    if (!top_entry(p, leaf) || (flags & O_TMPFILE) == O_TMPFILE) /* unnamed until linked */
        return 1;
    int saved = errno;
    struct stat st;
    int held = fd < 0 ? -1 : in_use_opened(fd, AT_FDCWD, p, !(flags & O_NOFOLLOW), started, &st);
    if ((flags & O_CREAT) && held != 0)
        path_made(p, held == 1);
    errno = saved;
    return held != 0;
}

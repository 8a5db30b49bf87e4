#include "registry.h"

#include "debug.h"
#include "num.h"
#include "sys.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

/* "<dir>.reclaim" (and "/<leaf>") into BUF; SHM_DIR_MAX leaves room. */
static char *registry_path(const struct shm_target *t, const char *leaf, char buf[PATH_MAX])
{
    memcpy(buf, t->dir, t->len);
    memcpy(buf + t->len, REGISTRY_SUFFIX, sizeof REGISTRY_SUFFIX);
    if (leaf) {
        size_t at = t->len + sizeof REGISTRY_SUFFIX - 1;
        size_t n = strnlen(leaf, NAME_MAX);
        buf[at] = '/';
        memcpy(buf + at + 1, leaf, n);
        buf[at + 1 + n] = '\0';
    }
    return buf;
}

char *registry_leaf(char *buf, const char *prefix, unsigned long long a, unsigned long long b)
{
    size_t n = strlen(prefix);
    memcpy(buf, prefix, n);
    char *p = num_put(buf + n, a);
    *p++ = '.';
    *num_put(p, b) = '\0';
    return buf;
}

int registry_add(const struct shm_target *t, const char *leaf)
{
    char path[PATH_MAX];
    registry_path(t, leaf, path);
    int fd = sys_openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ENOENT) {
        char dir[PATH_MAX];
        if (sys_mkdir(registry_path(t, NULL, dir), 01777) == 0) {
            /* mkdir applied the umask; shared like the directory. */
            int d = sys_openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
            if (d >= 0) {
                sys_fchmod(d, 01777);
                close(d);
            }
        }
        fd = sys_openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    }
    if (fd < 0)
        return errno == EEXIST ? 0 : -1;
    close(fd);
    return 1;
}

/* The group this process last registered as an owner, and in which
   process: a forked child of the same group needs nothing more. */
static atomic_int owner_pgid;

void registry_owner(const struct shm_target *t, unsigned long long ns, pid_t pgid)
{
    if (atomic_load_explicit(&owner_pgid, memory_order_relaxed) == pgid)
        return;
    int saved = errno;
    char leaf[48];
    if (registry_add(t, registry_leaf(leaf, "o.", ns, (unsigned long long)pgid)) >= 0)
        atomic_store_explicit(&owner_pgid, pgid, memory_order_relaxed);
    errno = saved;
}

int registry_open(const struct shm_target *t)
{
    char path[PATH_MAX];
    registry_path(t, NULL, path);
    int fd = sys_openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    struct stat st;
    /* Like the redirect directory itself. */
    if (fd >= 0 && sys_fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_uid == geteuid() || st.st_uid == 0)
        && (!(st.st_mode & (S_IWGRP | S_IWOTH)) || (st.st_mode & S_ISVTX)))
        return fd;
    if (fd >= 0)
        close(fd);
    warn_line("reclaim: ", path,
              " is not a directory of this user's (remove it, or set SHM_REDIRECT_DIR to a directory of yours): "
              "nothing is reclaimed, and the objects of killed runtimes will fill the disk");
    return -1;
}

void registry_say(const struct shm_target *t, const char *key, const char *what, const char *b, const char *c)
{
    char leaf[NAME_MAX + 1] = "said.";
    size_t n = strnlen(key, NAME_MAX - 5);
    memcpy(leaf + 5, key, n);
    leaf[5 + n] = '\0';
    if (registry_add(t, leaf) != 0)
        warn_line(what, b, c);
}

#include "registry.h"

#include "debug.h"
#include "sys.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

static atomic_int warned;

int registry_open(const struct shm_target *t, struct stat *st)
{
    char path[PATH_MAX];
    memcpy(path, t->dir, t->len);
    memcpy(path + t->len, REGISTRY_SUFFIX, sizeof REGISTRY_SUFFIX);
    int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int fd = sys_openat(AT_FDCWD, path, flags, 0);
    if (fd < 0 && errno == ENOENT) {
        int made = sys_mkdir(path, 01777) == 0;
        if (made || errno == EEXIST) /* made by another process meanwhile */
            fd = sys_openat(AT_FDCWD, path, flags, 0);
        if (fd >= 0 && made)
            sys_fchmod(fd, 01777); /* mkdir applied the umask */
    }
    if (fd >= 0 && sys_fstat(fd, st) == 0 && (st->st_uid == geteuid() || st->st_uid == 0)
        && (!(st->st_mode & (S_IWGRP | S_IWOTH)) || (st->st_mode & S_ISVTX)))
        return fd;
    if (fd >= 0)
        close(fd);
    else if (errno != ELOOP && errno != ENOTDIR)
        return -1; /* a full disk, no memory, ...: tried again next time */
    if (!atomic_exchange(&warned, 1))
        warn_line("reclaim: ", path,
                  " is not a directory of this user's (remove it, or set SHM_REDIRECT_DIR to a directory of yours): "
                  "nothing is reclaimed, and the objects of killed runtimes will fill the disk");
    return -1;
}

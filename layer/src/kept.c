#include "kept.h"

#include "sys.h"

#include <errno.h>

void kept_set(struct kept *k, int fd, const struct stat *st)
{
    /* Identity first: a reader that sees the new number with the old
       identity finds it not ours and takes its slow path. */
    atomic_store_explicit(&k->dev, (uint64_t)st->st_dev, memory_order_release);
    atomic_store_explicit(&k->ino, (uint64_t)st->st_ino, memory_order_release);
    atomic_store_explicit(&k->fd, fd, memory_order_release);
}

static int names_kept(const struct kept *k, int fd, struct stat *st)
{
    return fd >= 0 && sys_fstat(fd, st) == 0
        && (uint64_t)st->st_ino == atomic_load_explicit(&k->ino, memory_order_acquire)
        && (uint64_t)st->st_dev == atomic_load_explicit(&k->dev, memory_order_acquire);
}

int kept_fd(struct kept *k, struct stat *st)
{
    struct stat own;
    int saved = errno;
    int fd = atomic_load_explicit(&k->fd, memory_order_acquire);
    int ours = names_kept(k, fd, st ? st : &own);
    errno = saved;
    return ours ? fd : -1;
}

int kept_lost(struct kept *k)
{
    return atomic_load_explicit(&k->fd, memory_order_acquire) >= 0 && kept_fd(k, NULL) < 0;
}

void kept_drop(struct kept *k)
{
    int saved = errno;
    int fd = atomic_exchange(&k->fd, -1);
    struct stat st;
    if (names_kept(k, fd, &st))
        close(fd);
    errno = saved;
}

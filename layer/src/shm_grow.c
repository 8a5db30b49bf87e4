/* ftruncate and ftruncate64: growing a shared memory object in the redirect
   directory allocates its blocks.

   Python's SharedMemory (like most users of shm_open) sizes a new object
   with ftruncate and then maps it.  On tmpfs that is all there is.  On a
   disk file system (Lambda's /tmp is ext4) ftruncate leaves a sparse file,
   and every first store to a page then runs the file system's page_mkwrite
   (block reservation, journal) inside the page fault: the first write of
   a segment runs at a fraction of tmpfs speed, and a full disk shows up as
   SIGBUS at some later store.  fallocate instead allocates the grown range
   at once (and sets the size), so the first write runs faster than on tmpfs
   and a full disk fails the ftruncate with ENOSPC.  A grow that fails is
   rolled back: size, blocks and free space stay as they were.  A full
   disk first makes the reclaim remove what dead groups left (reclaim.h),
   then the grow is tried once more.

   Only descriptors returned by shm_open while redirecting are concerned.
   They are recorded by number with their file's device and inode; close is
   not interposed, so a number may since name another file, and an entry is
   trusted only when fstat still finds that file behind it. */

#include "export.h"
#include "reclaim.h"
#include "real.h"
#include "shm_dir.h"
#include "shm_grow.h"
#include "sys.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>

/* Descriptors at or above this bound are left alone (sparse as before). */
#define TRACKED_FDS 1024

/* ino 0 is never a file's: an empty slot.  The two words are written
   separately; a torn read can only match the descriptor's real file, so
   it does no harm. */
static struct {
    _Atomic uint64_t dev, ino;
} tracked[TRACKED_FDS];

void shm_grow_track(int fd, const struct stat *st)
{
    if (fd < 0 || fd >= TRACKED_FDS || !S_ISREG(st->st_mode))
        return;
    atomic_store_explicit(&tracked[fd].dev, (uint64_t)st->st_dev, memory_order_relaxed);
    atomic_store_explicit(&tracked[fd].ino, (uint64_t)st->st_ino, memory_order_release);
}

static _Atomic(void *) ftruncate_next;

static int real_ftruncate(int fd, off_t len)
{
    int (*next)(int, off_t) = real_next(&ftruncate_next, "ftruncate");
    if (!next)
        return (int)syscall(SYS_ftruncate, fd, len);
    return next(fd, len);
}

/* Everything but the common case: a tracked descriptor, one at or above
   the bound, or the first call. */
static __attribute__((noinline, cold)) int ftruncate_slow(int fd, off_t len)
{
    if ((unsigned)fd >= TRACKED_FDS)
        return real_ftruncate(fd, len);
    struct stat st;
    uint64_t ino = atomic_load_explicit(&tracked[fd].ino, memory_order_acquire);
    if (ino == 0)
        return real_ftruncate(fd, len);
    if (sys_fstat(fd, &st) != 0 || (uint64_t)st.st_ino != ino
        || (uint64_t)st.st_dev != atomic_load_explicit(&tracked[fd].dev, memory_order_relaxed)) {
        /* The number was closed and reused: forget it. */
        atomic_compare_exchange_strong(&tracked[fd].ino, &ino, 0);
        return real_ftruncate(fd, len);
    }
    if (len <= st.st_size)
        return real_ftruncate(fd, len);
    /* Only the new range: what lies below the old size is the object's
       business, and a rollback must not have to guess which of it was
       allocated before. */
    if (syscall(SYS_fallocate, fd, 0, st.st_size, len - st.st_size) == 0)
        return 0;
    if ((errno == ENOSPC || errno == EDQUOT) && reclaim_for_space(shm_target())
        && syscall(SYS_fallocate, fd, 0, st.st_size, len - st.st_size) == 0)
        return 0;
    /* A full disk is the answer; anything else (a file system without
       fallocate, a descriptor not open for writing, a size over the limit)
       is left to ftruncate, for its own errno. */
    if (errno != ENOSPC && errno != EDQUOT)
        return real_ftruncate(fd, len);
    /* ext4 keeps what it did allocate, and may have moved the size up with
       it: truncating back to the old size frees every block past it, so a
       failed grow costs nothing, as on tmpfs. */
    int err = errno;
    real_ftruncate(fd, st.st_size);
    errno = err;
    return -1;
}

/* The common case is one bound check, one load of the descriptor's slot,
   one of the cached next definition and a tail call. */
SHMR_EXPORT int ftruncate(int fd, off_t len)
{
    int (*next)(int, off_t) = real_cached(&ftruncate_next);
    if (__builtin_expect(next && (unsigned)fd < TRACKED_FDS
                             && atomic_load_explicit(&tracked[fd].ino, memory_order_relaxed) == 0,
                         1))
        return next(fd, len);
    return ftruncate_slow(fd, len);
}

/* The same function under its large-file name (off_t is 64 bits on both
   targets). */
SHMR_EXPORT int ftruncate64(int fd, off_t len) __attribute__((alias("ftruncate")));

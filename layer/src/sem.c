/* sem_open, sem_close and sem_unlink with glibc's semantics and file format,
   working in the redirect directory when /dev/shm is missing. */

#include "debug.h"
#include "export.h"
#include "names.h"
#include "in_use.h"
#include "reclaim.h"
#include "record.h"
#include "semtab.h"
#include "sys.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/* glibc's struct new_sem on 64-bit targets (nptl/internaltypes.h): value in
   the low half of a 64-bit word whose high half counts waiters, then the
   futex "private" flag.  sem_open always makes process-shared semaphores,
   which glibc marks with FUTEX_PRIVATE_FLAG (128) in that field. */
struct glibc_sem {
    uint64_t data;
    int private_flag;
    int pad;
};

#define GLIBC_FUTEX_SHARED 128
#define TEMP_TRIES 50

_Static_assert(sizeof(sem_t) == 32, "sem_t must be glibc's 32 bytes");
_Static_assert(sizeof(struct glibc_sem) <= sizeof(sem_t), "semaphore layout");

static atomic_ulong temp_counter;

/* Six filename characters that differ between processes and between calls. */
static void temp_suffix(char out[6])
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t x = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec
        ^ ((uint64_t)atomic_fetch_add(&temp_counter, 1) * 0x9e3779b97f4a7c15u);
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 29;
    for (int i = 0; i < 6; i++) {
        out[i] = alphabet[x % (sizeof alphabet - 1)];
        x /= sizeof alphabet - 1;
    }
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = ENOSPC;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void close_keep_errno(int fd)
{
    int saved = errno;
    close(fd);
    errno = saved;
}

/* Creates "sem.XXXXXX" in the object directory (relative to DIRFD, or
   "<dir>/sem.XXXXXX" by path) with the caller's mode (so the umask applies
   exactly as for the final file) holding INIT. */
static int create_temp(const struct shm_target *t, int dirfd, char tmp[PATH_MAX], mode_t mode, const sem_t *init)
{
    size_t at = 0;
    if (dirfd == AT_FDCWD) {
        memcpy(tmp, t->dir, t->len);
        tmp[t->len] = '/';
        at = t->len + 1;
    }
    memcpy(tmp + at, "sem.", 4);
    char *suffix = tmp + at + 4;
    suffix[6] = '\0';
    for (int tries = 0; tries < TEMP_TRIES; tries++) {
        temp_suffix(suffix);
        int fd = sys_openat(dirfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0) {
            if (errno == EEXIST)
                continue;
            return -1;
        }
        if (write_all(fd, init, sizeof *init) != 0) {
            close_keep_errno(fd);
            int saved = errno;
            sys_unlinkat(dirfd, tmp);
            errno = saved;
            return -1;
        }
        return fd;
    }
    errno = EAGAIN;
    return -1;
}

/* Set once O_TMPFILE cannot be used here (an old kernel or a file system
   without it, or no /proc to link the file through); the directory never
   changes during the process's life, so neither does the answer. */
static atomic_int no_tmpfile;

/* A new semaphore's file before it is published under its name: unnamed
   (O_TMPFILE, TMP empty) or under a temporary name, in the object
   directory (DIRFD, or AT_FDCWD when names are full paths). */
struct draft {
    int dirfd;
    int fd;
    char tmp[PATH_MAX];
};

/* An unnamed file costs one name operation (the final link) where a
   temporary name costs three (create, link, unlink): on a journalling file
   system such as ext4, Lambda's /tmp, each of them is a journal update. */
static int draft_create(const struct shm_target *t, struct draft *d, mode_t mode, const sem_t *init)
{
    if (!atomic_load_explicit(&no_tmpfile, memory_order_relaxed)) {
        d->tmp[0] = '\0';
        /* The caller's mode, so the umask applies exactly as with a name. */
        d->fd = sys_openat(d->dirfd, d->dirfd == AT_FDCWD ? t->dir : ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
        if (d->fd >= 0) {
            if (write_all(d->fd, init, sizeof *init) != 0) {
                close_keep_errno(d->fd);
                return -1;
            }
            return 0;
        }
        /* Kernels before 3.11 see O_DIRECTORY|O_RDWR: EISDIR. */
        if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
            return -1;
        atomic_store_explicit(&no_tmpfile, 1, memory_order_relaxed);
    }
    d->fd = create_temp(t, d->dirfd, d->tmp, mode, init);
    return d->fd < 0 ? -1 : 0;
}

/* Gives the draft the name AT (in its directory), atomically; EEXIST if it
   is taken.  An unnamed file is linked through /proc (linkat's
   AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH). */
static int draft_publish(const struct draft *d, const char *at)
{
    if (d->tmp[0])
        return sys_linkat(d->dirfd, d->tmp, d->dirfd, at, 0);
    char proc[32] = "/proc/self/fd/";
    char digits[12];
    int n = 0;
    for (unsigned v = (unsigned)d->fd; n == 0 || v > 0; v /= 10)
        digits[n++] = (char)('0' + v % 10);
    char *p = proc + 14;
    while (n > 0)
        *p++ = digits[--n];
    *p = '\0';
    return sys_linkat(AT_FDCWD, proc, d->dirfd, at, AT_SYMLINK_FOLLOW);
}

static void draft_discard(const struct draft *d)
{
    int saved = errno;
    if (d->tmp[0])
        sys_unlinkat(d->dirfd, d->tmp);
    close(d->fd);
    errno = saved;
}

static sem_t *open_existing(int fd)
{
    sem_t *sem = semtab_add(fd, SEM_FAILED);
    close_keep_errno(fd);
    return sem;
}

SHMR_EXPORT sem_t *sem_open(const char *name, int oflag, ...)
{
    const struct shm_target *t = shm_target();
    char path[PATH_MAX];
    if (object_path(t, name, 1, path) != 0) {
        errno = EINVAL;
        return SEM_FAILED;
    }
    mode_t mode = 0;
    unsigned value = 0;
    if (oflag & O_CREAT) {
        va_list ap;
        va_start(ap, oflag);
        mode = va_arg(ap, mode_t);
        value = va_arg(ap, unsigned);
        va_end(ap);
    }
    if (t->redirect) {
        if ((oflag & O_CREAT ? shm_dir_ensure(t) : shm_dir_known(t)) != 0)
            return SEM_FAILED;
        debug_op(t, "sem_open", name, path);
    }
    int dirfd;
    const char *at = object_at(t, path, &dirfd);

    int creating = (oflag & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
    for (int reopened = 0;;) {
        if (!creating) {
            /* Like glibc: the caller's other flags pass through. */
            int flags = (oflag & ~(O_CREAT | O_ACCMODE)) | O_NOFOLLOW | O_RDWR | O_CLOEXEC;
            long long started = in_use_clock();
            int fd = sys_openat(dirfd, at, flags, 0);
            if (fd < 0 && !reopened++ && shm_dir_stale(t, errno)) {
                at = object_at(t, path, &dirfd); /* the directory was removed, or the number lost */
                continue;
            }
            if (fd >= 0 && t->redirect) {
                struct stat st;
                int held = in_use_opened(fd, dirfd, at, 0, started, &st);
                if (held < 0) {
                    close_keep_errno(fd);
                    return SEM_FAILED;
                }
                if (held == 0) { /* reclaimed meanwhile: open again, after it */
                    close(fd);
                    continue;
                }
            }
            if (fd >= 0)
                return open_existing(fd);
            if (!(oflag & O_CREAT) || errno != ENOENT)
                return SEM_FAILED;
        }

        if (value > SEM_VALUE_MAX) {
            errno = EINVAL;
            return SEM_FAILED;
        }
        union {
            sem_t sem;
            struct glibc_sem fields;
        } init;
        memset(&init, 0, sizeof init);
        init.fields.data = value;
        init.fields.private_flag = GLIBC_FUTEX_SHARED;
        struct draft d;
        d.dirfd = dirfd;
        if (t->redirect)
            reclaim_if_due(t);
        if (draft_create(t, &d, mode, &init.sem) != 0) {
            if (!t->redirect || (errno != ENOSPC && errno != EDQUOT) || !reclaim_for_space(t)
                || draft_create(t, &d, mode, &init.sem) != 0)
                return SEM_FAILED;
        }
        /* Recorded as this group's before it has a name: a creator killed
           at any point leaves nothing the reclaim cannot find. */
        if (t->redirect)
            record_add(d.fd, NULL, at);
        /* Map before publishing, so nobody can see the name without the
           content, and a full disk fails here, not as SIGBUS later. */
        void *m = mmap(NULL, sizeof(sem_t), PROT_READ | PROT_WRITE, MAP_SHARED, d.fd, 0);
        sem_t *result = SEM_FAILED;
        int retry = 0, again = 0;
        if (m != MAP_FAILED) {
            if (draft_publish(&d, at) == 0) {
                result = semtab_add(d.fd, m);
            } else {
                int saved = errno;
                munmap(m, sizeof(sem_t));
                /* Without /proc the unnamed file cannot be linked: start
                   over with a temporary name. */
                again = saved == ENOENT && !d.tmp[0] && sys_access("/proc/self/fd", F_OK) != 0;
                if (again)
                    atomic_store_explicit(&no_tmpfile, 1, memory_order_relaxed);
                errno = saved;
                retry = errno == EEXIST && !(oflag & O_EXCL);
            }
        }
        draft_discard(&d);
        if (again)
            continue;
        if (!retry)
            return result;
        /* Someone else created it first: use theirs. */
        creating = 0;
    }
}

SHMR_EXPORT int sem_close(sem_t *sem)
{
    if (semtab_release(sem) != 0) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

SHMR_EXPORT int sem_unlink(const char *name)
{
    return object_unlink("sem_unlink", name, 1);
}

#include "record.h"

#include "kept.h"
#include "num.h"
#include "pidlock.h"
#include "registry.h"
#include "settings.h"
#include "shm_dir.h"
#include "sys.h"

#include <errno.h>
#include <linux/fs.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>

#define COMPACT_MIN (64 * 1024)

static struct kept reg = KEPT_INIT;
static struct kept anchor = KEPT_INIT; /* LOCK_SH held: the group lives while any holder does */
static struct kept append = KEPT_INIT; /* this process's own description (locks below are per description) */
static atomic_int append_pid;
static atomic_int join_lock; /* joins of this process's threads */
static char leaf[24];
static atomic_int lock; /* appends and compaction of this process's threads */
static size_t compact_at = COMPACT_MIN;
static char last[NAME_MAX + 48]; /* this process's last entry: the same again is not repeated */
static int last_pid;

unsigned long long record_generation(int fd)
{
    unsigned int gen = 0;
    if (syscall(SYS_ioctl, fd, FS_IOC_GETVERSION, &gen) != 0)
        gen = 0;
    return gen;
}

/* The group's lock on its record FD, NAME in REGFD; fills ST.  1: held,
   and NAME still names it (a reclaimer retires a record only under
   LOCK_EX); 0: retired meanwhile; -1 with errno. */
static int anchor_lock(int fd, int regfd, const char *name, struct stat *st)
{
    if (sys_flock(fd, LOCK_SH) != 0)
        return -1;
    struct stat named;
    if (sys_fstat(fd, st) != 0)
        return -1;
    return sys_fstatat(regfd, name, &named, AT_SYMLINK_NOFOLLOW) == 0 && named.st_ino == st->st_ino
        && named.st_dev == st->st_dev;
}

static int join(const struct shm_target *t)
{
    long pgid = syscall(SYS_getpgid, 0);
    if (pgid <= 0)
        return -1;
    int regfd = registry_open(t);
    struct stat st;
    if (regfd >= 0 && sys_fstat(regfd, &st) != 0) {
        close(regfd);
        regfd = -1;
    }
    if (regfd < 0)
        return -1;
    /* Kept even when no record can be made (a full disk): the reclaim
       needs it. */
    kept_drop(&reg);
    kept_set(&reg, regfd, &st);
    char name[sizeof leaf] = "g.";
    *num_put(name + 2, (unsigned long long)pgid) = '\0';
    for (int tries = 0; tries < 64; tries++) {
        int made = 1;
        int fd = sys_openat(regfd, name, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno == EEXIST) {
            made = 0;
            fd = sys_openat(regfd, name, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0);
            if (fd < 0 && errno == ENOENT)
                continue; /* retired meanwhile */
        }
        if (fd < 0)
            break;
        int held = anchor_lock(fd, regfd, name, &st);
        if (held == 1 && S_ISREG(st.st_mode)) {
            /* A process whose directory was made again joins again. */
            if (atomic_load(&append.fd) == atomic_load(&anchor.fd))
                atomic_store(&append.fd, -1); /* one descriptor: closed once */
            kept_drop(&append);
            kept_drop(&anchor);
            memcpy(leaf, name, sizeof leaf);
            atomic_store(&append_pid, (int)syscall(SYS_getpid));
            kept_set(&append, fd, &st);
            kept_set(&anchor, fd, &st);
            return made;
        }
        close(fd);
        if (held < 0 || !S_ISREG(st.st_mode)) {
            errno = held < 0 ? errno : EINVAL;
            break;
        }
    }
    return -1;
}

int record_join(const struct shm_target *t)
{
    pidlock_take(&join_lock);
    int made = join(t);
    pidlock_drop(&join_lock);
    return made;
}

/* A program that closed the registry's or the record's number (closing
   the record dropped the group's lock with it) makes this process join
   again, with descriptors of its own. */
static void join_if_lost(void)
{
    if (!kept_lost(&reg) && !kept_lost(&anchor))
        return;
    int saved = errno;
    pidlock_take(&join_lock);
    if (kept_lost(&reg) || kept_lost(&anchor))
        join(shm_target());
    pidlock_drop(&join_lock);
    errno = saved;
}

int record_registry(void)
{
    join_if_lost();
    return kept_fd(&reg, NULL);
}

/* A byte-range lock of this description on the record's first byte:
   appenders share it, the compaction excludes them. */
static int range_lock(int fd, short type)
{
    struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
    int rc;
    while ((rc = (int)syscall(SYS_fcntl, fd, type == F_UNLCK ? F_OFD_SETLK : F_OFD_SETLKW, &fl)) != 0
           && errno == EINTR)
        ;
    return rc;
}

/* This process's own description of the record: a forked child's appends
   must not share the locks of its parent's. */
static int own_append_fd(void)
{
    int fd = kept_fd(&append, NULL);
    int self = (int)syscall(SYS_getpid);
    if (fd >= 0 && atomic_load(&append_pid) == self)
        return fd;
    join_if_lost();
    fd = kept_fd(&append, NULL);
    if (fd >= 0 && atomic_load(&append_pid) == self)
        return fd;
    /* Forked, or the program closed or reused our number: a description
       of our own, checked to be the record we hold; the old number is
       forgotten (a parent's description, or no longer ours). */
    int mine = sys_openat(kept_fd(&reg, NULL), leaf, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0);
    struct stat a, b;
    if (mine >= 0 && (sys_fstat(mine, &a) != 0 || kept_fd(&anchor, &b) < 0 || a.st_ino != b.st_ino
                      || a.st_dev != b.st_dev)) {
        close(mine);
        mine = -1;
    }
    if (mine < 0)
        return -1;
    kept_set(&append, mine, &a);
    atomic_store(&append_pid, self);
    return mine;
}

struct compaction {
    int dirfd;
    char *out;
    size_t len;
};

static void keep_named(void *ctx, const struct record_entry *e)
{
    struct compaction *c = ctx;
    struct stat st;
    if (sys_fstatat(c->dirfd, e->name, &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_ino != e->ino)
        return;
    if (e->gen) { /* a number reused by a later file (ext4 reuses them at once) */
        int fd = sys_openat(c->dirfd, e->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
        /* EWOULDBLOCK: a reclaimer holds it, and decides. */
        int same = fd >= 0 ? record_generation(fd) == e->gen : errno == EWOULDBLOCK;
        if (fd >= 0)
            close(fd);
        if (!same)
            return;
    }
    char *p = num_put(c->out + c->len, e->ino);
    *p++ = ' ';
    p = num_put(p, e->gen);
    *p++ = ' ';
    size_t n = strlen(e->name) + 1;
    memcpy(p, e->name, n);
    c->len = (size_t)(p + n - c->out);
}

/* Drops the entries whose name no longer names their file.  The survivors
   are written over the start of the file in one call, never past what they
   replace, then the file is cut: a crash in between leaves duplicates. */
static void compact(int fd)
{
    struct stat st;
    if (range_lock(fd, F_WRLCK) != 0)
        return;
    int out = sys_openat(kept_fd(&reg, NULL), leaf, O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0);
    struct compaction c = { shm_dir_ours(), NULL, 0 };
    /* Without our directory every entry would look stale and be dropped. */
    if (out >= 0 && c.dirfd >= 0 && sys_fstat(out, &st) == 0 && (c.out = malloc((size_t)st.st_size + 64)) != NULL
        && record_each(fd, keep_named, &c) == 0 && syscall(SYS_pwrite64, out, c.out, c.len, 0) == (long)c.len) {
        syscall(SYS_ftruncate, out, (off_t)c.len);
        compact_at = c.len * 2 > COMPACT_MIN ? c.len * 2 : COMPACT_MIN;
    }
    free(c.out);
    if (out >= 0)
        close(out);
    range_lock(fd, F_UNLCK);
}

void record_add(int fd, const char *name)
{
    if (atomic_load_explicit(&anchor.fd, memory_order_acquire) < 0)
        return;
    int saved = errno;
    struct stat st;
    char entry[NAME_MAX + 48];
    size_t n = strnlen(name, NAME_MAX);
    if (sys_fstat(fd, &st) == 0) {
        char *p = num_put(entry, (unsigned long long)st.st_ino);
        *p++ = ' ';
        p = num_put(p, record_generation(fd));
        *p++ = ' ';
        memcpy(p, name, n);
        p[n] = '\0';
        n = (size_t)(p + n + 1 - entry);
        pidlock_take(&lock);
        int self = (int)syscall(SYS_getpid);
        int rec = last_pid == self && memcmp(last, entry, n) == 0 ? -1 : own_append_fd();
        if (rec >= 0) {
            memcpy(last, entry, n);
            last_pid = self;
            int locked = range_lock(rec, F_RDLCK) == 0;
            long written = syscall(SYS_write, rec, entry, n);
            off_t end = written > 0 ? (off_t)syscall(SYS_lseek, rec, 0, SEEK_CUR) : 0;
            if (locked)
                range_lock(rec, F_UNLCK);
            if (locked && end > (off_t)compact_at)
                compact(rec);
        }
        pidlock_drop(&lock);
    }
    errno = saved;
}

int record_each(int fd, void (*fn)(void *ctx, const struct record_entry *e), void *ctx)
{
    struct stat st;
    if (sys_fstat(fd, &st) != 0)
        return -1;
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf)
        return -1;
    long n = syscall(SYS_pread64, fd, buf, (size_t)st.st_size, 0);
    if (n < 0) {
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    /* An entry cut by a crash, or a fragment a compaction left, parses as
       nothing and is skipped. */
    for (char *s = buf; s < buf + n; s += strlen(s) + 1) {
        struct record_entry e;
        const char *p = num_get(s, &e.ino);
        if (!p || *p != ' ' || !(p = num_get(p + 1, &e.gen)) || *p != ' ' || !p[1])
            continue;
        e.name = p + 1;
        if (!strchr(e.name, '/') && strcmp(e.name, ".") != 0 && strcmp(e.name, "..") != 0)
            fn(ctx, &e);
    }
    free(buf);
    return 0;
}

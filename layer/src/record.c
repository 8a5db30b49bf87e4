#include "record.h"

#include "debug.h"
#include "kept.h"
#include "num.h"
#include "pidlock.h"
#include "shm_dir.h"
#include "sys.h"

#include <errno.h>
#include <linux/fs.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#define MAP_MIN 4096
#define HEAD 32 /* "<inode, 20 digits> <generation, 10> " */

static struct kept reg = KEPT_INIT;
static struct kept group = KEPT_INIT; /* the group's directory, this process's LOCK_SH on it */
static atomic_int joins;              /* successful joins: a new one needs a file of its own */
static atomic_int join_lock;          /* joins of this process's threads */
static atomic_int wanted;             /* a join was tried: one that failed is tried again */

/* This process's file of entries, mapped, so that an entry is a store:
   all under lock. */
static atomic_int lock;
static int own_pid, own_join;
static unsigned long long own_ino;
static char *map;
static size_t map_len, end, last_at, last_len; /* the entry stored last */

unsigned long long record_generation(int fd)
{
    unsigned int gen = 0;
    return syscall(SYS_ioctl, fd, FS_IOC_GETVERSION, &gen) == 0 ? gen : 0;
}

/* The registry (shm_dir_open: made when missing, never through a
   symlink, nobody else's to tamper with), its stat in ST; else -1, said
   once on stderr when it is refused. */
static int registry_open(const struct shm_target *t, struct stat *st)
{
    static atomic_int warned;
    char path[PATH_MAX];
    const char *why;
    int made;
    memcpy(path, t->dir, t->len);
    memcpy(path + t->len, ".reclaim", sizeof ".reclaim");
    int fd = shm_dir_open(path, st, &why, &made);
    if (why && !atomic_exchange(&warned, 1))
        warn_line("reclaim: ", path,
                  " is not a directory of this user's (remove it, or set SHM_REDIRECT_DIR to a directory of yours): "
                  "nothing is reclaimed, and the objects of killed runtimes will fill the disk");
    return fd; /* else a full disk, no memory, ...: tried again next time */
}

static int join(const struct shm_target *t)
{
    long pgid = syscall(SYS_getpgid, 0);
    struct stat st;
    int regfd = pgid > 0 ? registry_open(t, &st) : -1;
    if (regfd < 0)
        return -1;
    /* Kept even when no record can be made (a full disk): the reclaim
       needs it. */
    kept_drop(&reg);
    kept_set(&reg, regfd, &st);
    char name[24] = "g.";
    *num_put(name + 2, (unsigned long long)pgid) = '\0';
    for (int tries = 0; tries < 64; tries++) {
        int made = sys_mkdirat(regfd, name, 0755) == 0;
        if (!made && errno != EEXIST)
            return -1;
        int fd = sys_openat(regfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
        if (fd < 0 && errno == ENOENT)
            continue; /* retired meanwhile */
        /* 1: locked, and NAME still names it (a reclaimer retires a group
           only under LOCK_EX); 0: retired meanwhile. */
        int held = fd < 0 || sys_flock(fd, LOCK_SH) != 0 || sys_fstat(fd, &st) != 0
            ? -1
            : sys_names(regfd, name, AT_SYMLINK_NOFOLLOW, &st);
        if (held == 1) {
            kept_drop(&group);
            kept_set(&group, fd, &st);
            atomic_fetch_add(&joins, 1);
            return made;
        }
        if (fd >= 0)
            close(fd);
        if (held < 0)
            return -1;
    }
    return -1;
}

int record_join(const struct shm_target *t)
{
    pidlock_take(&join_lock);
    atomic_store(&wanted, 1);
    int made = join(t);
    pidlock_drop(&join_lock);
    return made;
}

/* The group's descriptor: missing after a join that failed (a full disk),
   or lost when the program closed its number (dropping the group's lock
   with it). */
static int group_gone(void)
{
    return (atomic_load(&wanted) && atomic_load_explicit(&group.fd, memory_order_acquire) < 0) || kept_lost(&group);
}

/* Joins again, with descriptors of its own, a process whose group's or
   registry's descriptor is gone. */
static void join_if_lost(void)
{
    int saved = errno;
    pidlock_take(&join_lock);
    if (group_gone() || kept_lost(&reg))
        join(shm_target());
    pidlock_drop(&join_lock);
    errno = saved;
}

int record_registry(struct stat *st)
{
    join_if_lost();
    int fd = kept_fd(&reg, st);
    return fd >= 0 ? sys_openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0) : -1;
}

/* This process's file in its group's directory (made when missing),
   mapped at LEN bytes or more.  A forked child, or a process that joined
   again, maps a file of its own. */
static int own_file(int self, size_t len)
{
    if (group_gone())
        join_if_lost();
    int mine = map && own_pid == self && own_join == atomic_load(&joins);
    if (mine && len <= map_len)
        return 0;
    char name[24];
    *num_put(name, (unsigned long long)self) = '\0';
    int dir = kept_fd(&group, NULL);
    int fd = dir >= 0 ? sys_openat(dir, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644) : -1;
    struct stat st;
    void *m = MAP_FAILED;
    if (fd >= 0 && sys_fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (!mine || st.st_ino == own_ino)) {
        len = (size_t)st.st_size > len ? (size_t)st.st_size : len;
        /* Blocks first, so that a store never meets a full disk (SIGBUS);
           glibc writes them where fallocate is not supported. */
        if (len == (size_t)st.st_size || posix_fallocate(fd, st.st_size, (off_t)len - st.st_size) == 0)
            m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    }
    if (fd >= 0)
        close(fd);
    if (m == MAP_FAILED)
        return -1;
    if (map)
        munmap(map, map_len); /* ours, smaller; or a parent's, or an earlier group's */
    map = m;
    map_len = len;
    own_ino = (unsigned long long)st.st_ino;
    if (mine)
        return 0;
    own_pid = self;
    own_join = atomic_load(&joins);
    /* A dead process's of the same pid: its entries stay, ours follow (a
       last one torn at the very end is cut, so that every entry ends). */
    for (end = map_len; end > 0 && map[end - 1] == '\0'; end--)
        ;
    if (end == map_len)
        map[end - 1] = '\0';
    else if (end > 0)
        end++;
    last_len = 0;
    return 0;
}

/* A pending entry (record.h) has '-' after its inode's digits: one byte,
   stored last when the entry is written over with its file's numbers, so
   that a process killed meanwhile leaves it pending, never torn. */
#define MARK 20

static int is_pending(const char *s)
{
    return s[MARK] == '-';
}

/* The entry at S, up to its NUL, into E (a pending one with inode 0): 0
   when S is none (an entry cut by a crash, or a fragment a compaction
   left). */
static int parse(const char *s, struct record_entry *e)
{
    const char *p = num_get(s, &e->ino);
    if (!p || p != s + MARK || (*p != ' ' && *p != '-') || !(p = num_get(p + 1, &e->gen)) || *p != ' ' || !p[1])
        return 0;
    if (is_pending(s))
        e->ino = 0;
    e->name = p + 1;
    return !strchr(e->name, '/') && strcmp(e->name, ".") != 0 && strcmp(e->name, "..") != 0;
}

/* Where the last entry kept of S's name, pending or not as S, is in the
   table TAB of SIZE (a power of two), or the empty slot for it. */
static char **slot(char **tab, size_t size, const char *s)
{
    unsigned long long h = 14695981039346656037ULL ^ (unsigned long long)is_pending(s);
    for (const char *c = s + HEAD; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    for (h &= size - 1; tab[h] && (is_pending(tab[h]) != is_pending(s) || strcmp(tab[h] + HEAD, s + HEAD) != 0);
         h = (h + 1) & (size - 1))
        ;
    return &tab[h];
}

/* Keeps, of each name, the last entry of its file (an earlier file, or a
   draft that lost the race for the name, has another inode; an inode
   number reused for the name again is the last one made), and the last
   pending one while the name exists.  The survivors are stored over the
   start, then the rest is cleared: a crash in between leaves older
   entries, judged again, or pieces of them, which parse as none. */
static void compact(void)
{
    char *out = malloc(end + 1), **last_of = NULL;
    size_t size = 64, len = 0;
    while (size < end / 8) /* an entry has at least 34 bytes */
        size <<= 1;
    int dirfd = shm_dir_ours(); /* without it every entry would look stale */
    struct record_entry e;
    struct stat st;
    if (out && dirfd >= 0 && (last_of = calloc(size, sizeof *last_of))) {
        for (char *s = map; s < map + end; s += strlen(s) + 1)
            if (parse(s, &e) && sys_fstatat(dirfd, e.name, &st, AT_SYMLINK_NOFOLLOW) == 0
                && (!e.ino || st.st_ino == e.ino))
                *slot(last_of, size, s) = s;
        for (char *s = map; s < map + end; s += strlen(s) + 1)
            if (parse(s, &e) && *slot(last_of, size, s) == s)
                len = (size_t)(stpcpy(out + len, s) - out) + 1;
        memcpy(map, out, len);
        memset(map + len, 0, end - len);
        end = len;
        last_len = 0;
    }
    free(out);
    free(last_of);
}

/* The entry stored last, in this process's file, is NAME's. */
static int last_is(const char *name, int self)
{
    return map && own_pid == self && own_join == atomic_load(&joins) && last_len
           && strcmp(map + last_at + HEAD, name) == 0;
}

/* Stores the entry of INO (0: pending), GEN and NAME, unless it is the
   one stored last (a folder's, for its files one after another); a file's
   entry over its creation's pending one when that was stored last. */
static void store(unsigned long long ino, unsigned long long gen, const char *name)
{
    char entry[HEAD + NAME_MAX + 1];
    size_t n = strnlen(name, NAME_MAX);
    /* Fixed widths: a pending entry and its file's have the same length. */
    char *p = num_put_width(entry, ino, 20);
    *p++ = ino ? ' ' : '-';
    p = num_put_width(p, gen, 10);
    *p++ = ' ';
    memcpy(p, name, n);
    p[n] = '\0';
    n += HEAD + 1;
    int self = pidlock_take(&lock);
    if (ino && last_is(name, self) && is_pending(map + last_at)) {
        /* In the file the pending entry went to, whatever became of the
           group's descriptor since. */
        memcpy(map + last_at, entry, MARK);
        memcpy(map + last_at + MARK + 1, entry + MARK + 1, HEAD - MARK - 1);
        atomic_signal_fence(memory_order_seq_cst); /* the mark after the numbers */
        map[last_at + MARK] = ' ';
    } else if (own_file(self, MAP_MIN) == 0 && (!last_is(name, self) || memcmp(map + last_at, entry, HEAD) != 0)) {
        if (end + n > map_len) {
            compact();
            /* More than half survives: room for as many again. */
            if (end + n > map_len / 2)
                own_file(self, 2 * map_len);
        }
        if (end + n <= map_len) {
            last_at = end;
            last_len = n;
            memcpy(map + end, entry, n);
            end += n;
        }
    }
    pidlock_drop(&lock);
}

/* Nothing before record_join, nor after a join that was never tried. */
static int recording(void)
{
    return atomic_load(&wanted); /* set before any join */
}

void record_pending(const char *name)
{
    if (!recording())
        return;
    int saved = errno;
    store(0, 0, name);
    errno = saved;
}

void record_add(int fd, const struct stat *st, const char *name)
{
    if (!recording())
        return;
    int saved = errno;
    struct stat own_st;
    if (st || sys_fstat(fd, &own_st) == 0)
        store((unsigned long long)(st ? st : &own_st)->st_ino, record_generation(fd), name);
    errno = saved;
}

void record_forget(const char *name, int pending)
{
    if (!recording())
        return;
    int self = pidlock_take(&lock);
    if (last_is(name, self) && is_pending(map + last_at) == pending) {
        memset(map + last_at, 0, last_len);
        end = last_at; /* the entry stored last is the last one */
        last_len = 0;
    }
    pidlock_drop(&lock);
}

int record_each(int fd, void (*fn)(void *ctx, const struct record_entry *e), void *ctx)
{
    struct stat st;
    char *buf = sys_fstat(fd, &st) == 0 ? malloc((size_t)st.st_size + 1) : NULL;
    long n = buf ? syscall(SYS_pread64, fd, buf, (size_t)st.st_size, 0) : -1;
    if (n >= 0)
        buf[n] = '\0';
    struct record_entry e;
    for (char *s = buf; n > 0 && s < buf + n; s += strlen(s) + 1)
        if (parse(s, &e))
            fn(ctx, &e);
    free(buf);
    return n < 0 ? -1 : 0;
}

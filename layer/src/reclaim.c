/* Objects in the redirect directory outlive every process, as in /dev/shm;
   but /dev/shm empties at reboot, while Lambda keeps /tmp when it kills a
   runtime (timeout, crash) and starts a new one.  The rule (docs/library.md):
   an object is removed only while nobody has it open or mapped (in_use.h:
   the reclaimer holds a lease on the very file it unlinks), only when the
   group that made it is dead (record.h), and only once that group has been
   seen dead for SHM_REDIRECT_RECLAIM_AFTER seconds, or at once when the
   file system is short of space.  A reclaimer killed at any point holds
   nothing: its locks and leases die with it, and whatever it had not
   removed is still recorded for the next one. */

#include "reclaim.h"

#include "debug.h"
#include "dirscan.h"
#include "gate.h"
#include "in_use.h"
#include "num.h"
#include "record.h"
#include "shm_dir.h"
#include "sys.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/file.h>
#include <sys/statfs.h>
#include <time.h>

#define TREE_DEPTH 16

static atomic_llong next_due; /* the earliest due of a retired record seen, or 0 */

struct pass {
    const struct shm_target *t;
    int dirfd, regfd, groupfd;
    long long now;
    int short_of_space, removed, kept;
    long long next;
};

/* What became of an object the reclaim looked at. */
enum fate { KEPT, GONE /* no longer that file */, REMOVED };

/* Unlinks NAME in DIRFD if it still names the file ST, with the gate
   closed (gate.h): no unlink or rename by name can slip in between.  A
   directory the kernel finds not empty is KEPT, or GONE when PENDING. */
static enum fate unlink_if(struct pass *p, int dirfd, const char *name, const struct stat *st, int pending)
{
    if (!gate_close(p->regfd))
        return KEPT;
    errno = 0;
    int done = sys_names(dirfd, name, AT_SYMLINK_NOFOLLOW, st)
        && syscall(SYS_unlinkat, dirfd, name, S_ISDIR(st->st_mode) ? AT_REMOVEDIR : 0) == 0;
    int full = errno == ENOTEMPTY || errno == EEXIST;
    gate_open(p->regfd);
    return done ? REMOVED : pending && full ? GONE : KEPT;
}

static int remove_tree(struct pass *p, int dfd, int depth);

/* The regular file or directory ST, NAME in DIRFD (GEN, unless 0).  A file
   goes when nobody else has it open, all under the gate: no other
   reclaimer opens it meanwhile (its open would break our lease).  A
   directory goes once everything in it went.  A PENDING entry's (record.h)
   goes only while empty: else it is not the dead group's (a directory:
   its rmdir says so). */
static enum fate remove_held(struct pass *p, int dirfd, const char *name, const struct stat *st,
                             unsigned long long gen, int depth, int pending)
{
    int dir = S_ISDIR(st->st_mode);
    if (!dir && !gate_close(p->regfd))
        return KEPT;
    int flags = O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | (dir ? O_DIRECTORY : 0);
    int fd = sys_openat(dirfd, name, O_RDONLY | flags, 0);
    if (fd < 0 && errno == EACCES && !dir) /* mode 0200: its owner's lease needs any open */
        fd = sys_openat(dirfd, name, O_WRONLY | flags, 0);
    enum fate f = fd >= 0 || errno == ENOENT ? GONE : KEPT;
    struct stat held;
    if (fd >= 0 && sys_fstat(fd, &held) == 0 && held.st_ino == st->st_ino && (!gen || record_generation(fd) == gen)) {
        if (dir)
            f = pending || (depth < TREE_DEPTH && remove_tree(p, fd, depth + 1))
                ? unlink_if(p, dirfd, name, &held, pending)
                : KEPT;
        else if (pending && held.st_size != 0)
            f = GONE;
        else
            f = in_use_claim(fd) && sys_names(dirfd, name, AT_SYMLINK_NOFOLLOW, &held) && in_use_still_claimed(fd)
                    && sys_unlinkat(dirfd, name) == 0
                ? REMOVED
                : KEPT;
    }
    if (!dir)
        gate_open(p->regfd);
    if (fd >= 0)
        close(fd); /* lets go of the lease: openers that waited find no link */
    return f;
}

/* NAME in DIRFD, when it is the file INO (GEN, unless 0) and unused: 1
   removed, or no longer that file; 0 kept. */
static int remove_one(struct pass *p, int dirfd, const char *name, unsigned long long ino, unsigned long long gen,
                      int depth)
{
    struct stat st;
    if (sys_fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT;
    if (ino && st.st_ino != ino)
        return 1;
    enum fate f = KEPT;
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
        f = remove_held(p, dirfd, name, &st, gen, depth, depth == 0 && !ino);
    else if (depth > 0)
        f = unlink_if(p, dirfd, name, &st, 0); /* in a dead group's tree: a link, a FIFO */
    if (f == REMOVED) {
        p->removed++;
        if (depth == 0 && p->t->debug)
            warn_line("reclaim: removed ", name, ": its process group is dead and nobody has it open or mapped");
    }
    return f != KEPT;
}

struct tree {
    struct pass *p;
    int dfd, depth, kept;
};

static int tree_entry(void *ctx, const char *name, unsigned char type)
{
    struct tree *tr = ctx;
    (void)type;
    if (!remove_one(tr->p, tr->dfd, name, 0, 0, tr->depth))
        tr->kept++;
    return 0;
}

/* Everything unused below the directory DFD: 1 when it is empty now. */
static int remove_tree(struct pass *p, int dfd, int depth)
{
    struct tree tr = { p, dfd, depth, 0 };
    return dirscan(dfd, tree_entry, &tr) == 0 && tr.kept == 0;
}

static void entry_of_dead(void *ctx, const struct record_entry *e)
{
    struct pass *p = ctx;
    if (!remove_one(p, p->dirfd, e->name, e->ino, e->gen, 0))
        p->kept++;
}

/* A file of entries in the dead group's directory: its objects, then
   itself once nothing of it is left. */
static int record_file(void *ctx, const char *name, unsigned char type)
{
    struct pass *p = ctx;
    (void)type;
    int kept = p->kept;
    int fd = sys_openat(p->groupfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
    if (fd < 0 || record_each(fd, entry_of_dead, p) != 0)
        p->kept++;
    else if (p->kept == kept)
        sys_unlinkat(p->groupfd, name);
    if (fd >= 0)
        close(fd);
    return 0;
}

static int registry_entry(void *ctx, const char *name, unsigned char type)
{
    struct pass *p = ctx;
    (void)type;
    unsigned long long due = 0;
    int live = name[0] == 'g' && name[1] == '.';
    if (!live && !(name[0] == 'd' && name[1] == '.' && num_get(name + 2, &due)))
        return 0;
    int grace = (long long)due > p->now && (long long)due <= p->now + p->t->reclaim_after;
    if (!live && grace && !p->short_of_space) {
        if (!p->next || (long long)due < p->next)
            p->next = (long long)due;
        return 0;
    }
    int fd = sys_openat(p->regfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
    struct stat st;
    char retired[NAME_MAX + 1] = "d.";
    if (fd < 0)
        return 0;
    if (sys_fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && syscall(SYS_flock, fd, LOCK_EX | LOCK_NB) == 0
        && sys_names(p->regfd, name, AT_SYMLINK_NOFOLLOW, &st)) {
        int now = !live || p->t->reclaim_after == 0 || p->short_of_space;
        if (live) {
            /* Dead: renamed so that no process of a new group of that
               number joins it, with the time its grace runs out.  Only a
               reclaimer holding LOCK_EX renames or unlinks a record. */
            long long at = p->now + p->t->reclaim_after;
            char *q = num_put(retired + 2, (unsigned long long)at);
            q = mempcpy(q, name + 1, strnlen(name + 1, 24)); /* ".<pgid>" */
            *q++ = '.';
            *num_put(q, (unsigned long long)st.st_ino) = '\0';
            if (syscall(SYS_renameat, p->regfd, name, p->regfd, retired) == 0) {
                name = retired;
                if (!now && (!p->next || at < p->next))
                    p->next = at;
            } else if (!p->short_of_space) {
                now = 0; /* judged again next time */
            } /* on a full disk (no room for the new name): at once, under the old */
        }
        if (now) { /* its objects, then itself once nothing of it is left */
            p->kept = 0;
            p->groupfd = fd;
            if (dirscan(fd, record_file, p) == 0 && p->kept == 0 && sys_names(p->regfd, name, AT_SYMLINK_NOFOLLOW, &st))
                syscall(SYS_unlinkat, p->regfd, name, AT_REMOVEDIR);
        }
    }
    close(fd);
    return 0;
}

/* Less than an eighth of the file system free. */
static int short_of_space(int dirfd)
{
    struct statfs fs;
    return syscall(SYS_fstatfs, dirfd, &fs) == 0 && fs.f_bavail < fs.f_blocks / 8;
}

/* 1 when it removed something.  Nothing before record_join opened the
   registry: never without the redirect and the reclaim.  errno is kept. */
static int pass(const struct shm_target *t, int dirfd, int force, const char *why)
{
    int saved = errno;
    struct pass p = { t, dirfd, dirfd >= 0 ? record_registry(NULL) : -1, -1, time(NULL), 0, 0, 0, 0 };
    if (p.regfd >= 0) {
        p.short_of_space = force || short_of_space(dirfd);
        if (t->debug)
            warn_line("reclaim: checking ", t->dir, p.short_of_space ? ": short of space" : why);
        dirscan(p.regfd, registry_entry, &p);
        close(p.regfd);
        atomic_store(&next_due, p.next);
    }
    errno = saved;
    return p.removed > 0;
}

void reclaim_on_first_use(const struct shm_target *t, int dirfd)
{
    if (!t->redirect || !t->reclaim)
        return;
    int saved = errno;
    int made = record_join(t);
    /* No record on a full disk: the reclaim is what makes room. */
    if (made == 1 || (made < 0 && (errno == ENOSPC || errno == EDQUOT)))
        pass(t, dirfd, made < 0, ": the first use of a new process group");
    errno = saved;
}

void reclaim_if_due(const struct shm_target *t)
{
    long long due = atomic_load_explicit(&next_due, memory_order_relaxed);
    if (!due || !t->reclaim || time(NULL) < due)
        return;
    atomic_store(&next_due, 0);
    pass(t, shm_dir_ours(), 0, ": a dead group's grace has run out");
}

int reclaim_for_space(const struct shm_target *t)
{
    return pass(t, shm_dir_ours(), 1, "");
}

/* Objects in the redirect directory outlive every process, as in /dev/shm;
   but /dev/shm empties at reboot, while Lambda keeps /tmp when it kills a
   runtime (timeout, crash) and starts a new one.  Here objects whose
   creator's process group has no live process left are removed.

   - Every object sem_open/shm_open creates is tagged (owner.c) with the
     creator's process group, in an extended attribute set before the name
     is published (sem_open) or right after the exclusive create (shm_open).
   - Lambda and the Runtime Interface Emulator start each runtime as a
     process group of its own and kill it as a group; fork, spawn and
     forkserver workers and exec'd programs stay in it.  So while any process
     of the runtime lives, even one that never used shared memory, its
     objects stay, including those a finished worker handed on by name.
   - Once per process group, the first of its processes to use the redirect
     directory claims "<dir>.reclaim/<pid namespace>.<pgid>" (O_EXCL): every
     later process of the group pays three system calls and moves on.  The
     claimer scans the directory and removes each tagged object of this boot
     and PID namespace whose group is dead (liveness.c), holding it open and
     checking right before the unlink that the name still names that file and
     the group is still dead.  Then it forgets the claims of dead groups.
   - No step leaves anything half-done: each unlink is atomic, and a claimer
     killed midway leaves dead objects that the next group's claimer finds.

   Untagged objects (made otherwise, or on a file system without user
   extended attributes) are never removed.  docs/library.md has the rest. */

#include "reclaim.h"

#include "debug.h"
#include "dirscan.h"
#include "liveness.h"
#include "num.h"
#include "owner.h"
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define REGISTRY_SUFFIX ".reclaim"
#define VERDICTS 32

static atomic_int enabled; /* 0 not read yet, 1 on, -1 off */

int reclaim_enabled(void)
{
    int s = atomic_load_explicit(&enabled, memory_order_relaxed);
    if (s == 0) {
        const char *v = getenv("SHM_REDIRECT_RECLAIM");
        s = v && v[0] == '0' && v[1] == '\0' ? -1 : 1;
        atomic_store_explicit(&enabled, s, memory_order_relaxed);
    }
    return s > 0;
}

struct reclaimer {
    const struct shm_target *t;
    struct owner_env env;
    pid_t self;
    int dirfd;
    struct proc_view view;
    int verdicts;
    struct {
        pid_t pgid;
        enum group_state state;
    } verdict[VERDICTS];
};

static enum group_state judge(struct reclaimer *r, pid_t pgid)
{
    if (pgid == r->self)
        return GROUP_ALIVE;
    for (int i = 0; i < r->verdicts; i++)
        if (r->verdict[i].pgid == pgid)
            return r->verdict[i].state;
    enum group_state s = group_state(pgid, &r->view);
    if (r->verdicts < VERDICTS) {
        r->verdict[r->verdicts].pgid = pgid;
        r->verdict[r->verdicts].state = s;
        r->verdicts++;
    }
    return s;
}

/* Right before an unlink: the group is still dead.  A gone group whose
   number has come back into use (the PID counter wrapped around) is alive
   again; a group of zombies keeps its number until they are reaped. */
static int still_dead(pid_t pgid, enum group_state verdict)
{
    if (syscall(SYS_kill, -pgid, 0) == 0)
        return verdict == GROUP_ZOMBIES;
    return errno == ESRCH;
}

static void say(const struct shm_target *t, const char *what, const char *name, pid_t pgid, const char *why)
{
    if (!t->debug)
        return;
    char line[PATH_MAX + 64];
    size_t n = strlen(what);
    memcpy(line, what, n);
    char *p = line + n;
    memcpy(p, t->dir, t->len);
    p += t->len;
    if (name) {
        *p++ = '/';
        n = strnlen(name, NAME_MAX);
        memcpy(p, name, n);
        p += n;
    }
    memcpy(p, ": process group ", 16);
    p = num_put(p + 16, (unsigned long long)pgid);
    *p = '\0';
    warn_line("reclaim: ", line, why);
}

static int reclaim_object(void *ctx, const char *name, unsigned char type)
{
    struct reclaimer *r = ctx;
    struct stat held, named;
    /* Only regular files get opened: opening a device or a FIFO could act. */
    if (type != DT_REG
        && (type != DT_UNKNOWN || sys_fstatat(r->dirfd, name, &named, AT_SYMLINK_NOFOLLOW) != 0
            || !S_ISREG(named.st_mode)))
        return 0;
    /* Held open from the tag to the unlink, so its inode number cannot be
       given to another file meanwhile. */
    int fd = sys_openat(r->dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct owner o;
    enum group_state s;
    if (owner_read(fd, &o) == 0 && owner_same_env(&o.env, &r->env) && (s = judge(r, o.pgid)) != GROUP_ALIVE
        && sys_fstat(fd, &held) == 0 && S_ISREG(held.st_mode) && still_dead(o.pgid, s)
        && sys_fstatat(r->dirfd, name, &named, AT_SYMLINK_NOFOLLOW) == 0 && named.st_dev == held.st_dev
        && named.st_ino == held.st_ino && syscall(SYS_unlinkat, r->dirfd, name, 0) == 0)
        say(r->t, "removed ", name, o.pgid,
            s == GROUP_GONE ? " has no process left" : " has only zombie processes left");
    close(fd);
    return 0;
}

/* A claim "<ns>.<pgid>" of a dead group of this namespace is dropped. */
static int forget_claim(void *ctx, const char *name, unsigned char type)
{
    struct reclaimer *r = ctx;
    unsigned long long ns, pgid;
    const char *p = num_get(name, &ns);
    (void)type;
    if (!p || *p != '.' || !(p = num_get(p + 1, &pgid)) || *p || ns != r->env.ns || pgid == 0
        || pgid > 0x7fffffff)
        return 0;
    enum group_state s = judge(r, (pid_t)pgid);
    if (s != GROUP_ALIVE && still_dead((pid_t)pgid, s))
        syscall(SYS_unlinkat, r->dirfd, name, 0);
    return 0;
}

/* Like the redirect directory itself: a directory (opened without
   following symlinks) that no other user can tamper with. */
static int registry_trusted(int fd)
{
    struct stat st;
    return sys_fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_uid == geteuid() || st.st_uid == 0)
        && (!(st.st_mode & (S_IWGRP | S_IWOTH)) || (st.st_mode & S_ISVTX));
}

/* Claims PATH ("<registry>/<ns>.<pgid>", the registry's name ending at
   REGISTRY_LEN) for this group.  Returns the registry's descriptor when
   this process is the group's first, else -1. */
static int claim(const struct shm_target *t, char *path, size_t registry_len)
{
    int fd = sys_openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    int made = 0;
    if (fd < 0 && errno == ENOENT) {
        path[registry_len] = '\0';
        made = sys_mkdir(path, 01777) == 0;
        path[registry_len] = '/';
        fd = sys_openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    }
    if (fd < 0) {
        if (errno != EEXIST && t->debug)
            warn_line("reclaim: cannot claim ", path, ": nothing is reclaimed");
        return -1;
    }
    close(fd);
    path[registry_len] = '\0';
    int reg = sys_openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (reg >= 0 && made) /* mkdir applied the umask; shared like the directory */
        sys_fchmod(reg, 01777);
    if (reg >= 0 && !registry_trusted(reg)) {
        close(reg);
        reg = -1;
    }
    if (reg < 0 && t->debug)
        warn_line("reclaim: ", path, " is not a directory of this user's: nothing is reclaimed");
    return reg;
}

void reclaim_on_first_use(const struct shm_target *t)
{
    if (!t->redirect || !reclaim_enabled())
        return;
    int saved = errno;
    long pgid = syscall(SYS_getpgid, 0);
    unsigned long long ns = pgid > 0 ? owner_ns() : 0;
    if (ns == 0)
        goto out;
    /* SHM_DIR_MAX leaves room for the suffix and the claim's name. */
    char path[PATH_MAX];
    memcpy(path, t->dir, t->len);
    memcpy(path + t->len, REGISTRY_SUFFIX, sizeof REGISTRY_SUFFIX - 1);
    size_t registry_len = t->len + sizeof REGISTRY_SUFFIX - 1;
    char *p = path + registry_len;
    *p++ = '/';
    p = num_put(p, ns);
    *p++ = '.';
    *num_put(p, (unsigned long long)pgid) = '\0';
    int reg = claim(t, path, registry_len);
    if (reg < 0)
        goto out;
    struct reclaimer r = { .t = t, .self = (pid_t)pgid };
    if (owner_env(&r.env) == 0) {
        /* A description of its own (the scan moves its offset), of the
           directory already checked, never of whatever its path names now. */
        r.dirfd = sys_openat(shm_dir_fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
        if (r.dirfd >= 0) {
            say(t, "checking ", NULL, (pid_t)pgid, " starts");
            dirscan(r.dirfd, reclaim_object, &r);
            close(r.dirfd);
            /* Claims last: a claimer killed before this point leaves them for
               the next one. */
            r.dirfd = reg;
            dirscan(reg, forget_claim, &r);
        }
    }
    close(reg);
out:
    errno = saved;
}

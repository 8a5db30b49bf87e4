/* Objects in the redirect directory outlive every process, as in /dev/shm;
   but /dev/shm empties at reboot, while Lambda keeps /tmp when it kills a
   runtime (timeout, crash) and starts a new one.  Here an object is
   removed once every process group that owns it is dead and no live
   process maps it or holds it open.  docs/library.md states the rule.

   - Owners (owner.c): the group that creates a semaphore, sizes a shared
     memory object, re-sizes it, or opens by name an object that has
     owners.  Lambda and the Runtime Interface Emulator start each runtime
     as a process group of its own and kill it as a group; fork, spawn and
     forkserver workers and exec'd programs stay in it.
   - Once per process group, the first of its processes to use the redirect
     directory claims "<ns>.<pgid>" in the registry (registry.h): every
     later process of the group pays three system calls and moves on.  The
     claimer judges the groups the registry lists as owners (liveness.c);
     only when one of them is dead does it list the directory, reading each
     name's tags without opening it.  Candidates (all owners dead) go
     through one look at what live processes map or hold open (holders.c);
     each one left is moved into the registry, checked there (same inode,
     owners still dead) and unlinked, or put back under its name if that is
     still free.  Then the registry forgets the dead groups.
   - Every doubt answers "alive", which only delays a reclaim.  A claimer
     killed midway leaves dead objects that the next group's claimer finds,
     and its dead groups still registered. */

#include "reclaim.h"

#include "debug.h"
#include "dirscan.h"
#include "holders.h"
#include "liveness.h"
#include "num.h"
#include "owner.h"
#include "registry.h"
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

#define VERDICTS 1024 /* a power of two */

struct candidate {
    size_t name; /* offset into names */
    ino_t ino;
    mode_t mode;
};

struct reclaimer {
    const struct shm_target *t;
    struct owner_env env;
    pid_t self;
    int dirfd, regfd;
    struct proc_view view;
    struct {
        pid_t pgid; /* 0: empty */
        enum group_state state;
    } verdict[VERDICTS];
    int dead_owners; /* registered owner groups found dead */
    int keep_owners; /* something of a dead group stays: keep them registered */
    int stop;        /* removal impossible here (said once) */
    unsigned long long said_ns; /* the last foreign namespace said */
    char *names;
    size_t names_len, names_cap;
    struct candidate *cand;
    size_t ncand, cand_cap;
};

static enum group_state judge(struct reclaimer *r, pid_t pgid)
{
    if (pgid == r->self)
        return GROUP_ALIVE;
    unsigned slot = ((unsigned)pgid * 2654435761u) & (VERDICTS - 1);
    for (unsigned i = 0; i < VERDICTS; i++, slot = (slot + 1) & (VERDICTS - 1)) {
        if (r->verdict[slot].pgid == pgid)
            return r->verdict[slot].state;
        if (r->verdict[slot].pgid == 0) {
            r->verdict[slot].pgid = pgid;
            return r->verdict[slot].state = group_state(pgid, &r->view);
        }
    }
    return group_state(pgid, &r->view); /* full: judged again, never wrong */
}

/* Right before an unlink: the group is still dead.  A gone group whose
   number has come back into use (the PID counter wrapped around) is alive
   again; a group of zombies keeps its number until they are reaped. */
static int still_dead(pid_t pgid, enum group_state verdict)
{
    if (pgid <= 1)
        return 0;
    if (syscall(SYS_kill, -pgid, 0) == 0)
        return verdict == GROUP_ZOMBIES;
    return errno == ESRCH;
}

static void say(const struct shm_target *t, const char *what, const char *name, const char *why)
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
    *p = '\0';
    warn_line("reclaim: ", line, why);
}

/* Said once for the directory: objects and claims of another PID namespace
   (sharing the directory, e.g. containers sharing /tmp) cannot be judged
   from this one. */
static void foreign(struct reclaimer *r, unsigned long long ns)
{
    if (r->said_ns == ns)
        return;
    r->said_ns = ns;
    char leaf[32] = "ns.", text[200] = " holds objects or claims of PID namespace ";
    *num_put(leaf + 3, ns) = '\0';
    static const char rest[] = ", whose processes cannot be seen from here: they are never reclaimed from here";
    char *p = num_put(text + strlen(text), ns);
    memcpy(p, rest, sizeof rest);
    registry_say(r->t, leaf, "reclaim: ", r->t->dir, text);
}

/* "<dir>/<NAME>" (or "<dir>.reclaim/<NAME>"): the xattr calls take only
   paths (the l* ones do not follow NAME).  Both directories were checked
   to be this user's, so nobody else can swap them under these paths; a
   path through /proc/self/fd would cost ten times as much per name. */
static char *in_dir(char buf[PATH_MAX], const struct shm_target *t, int registry, const char *name)
{
    memcpy(buf, t->dir, t->len);
    char *p = buf + t->len;
    if (registry) {
        memcpy(p, REGISTRY_SUFFIX, sizeof REGISTRY_SUFFIX - 1);
        p += sizeof REGISTRY_SUFFIX - 1;
    }
    *p++ = '/';
    size_t n = strnlen(name, NAME_MAX);
    memcpy(p, name, n);
    p[n] = '\0';
    return buf;
}

enum verdict { KEEP, DEAD };

/* Whether every owner of the file at PATH is dead.  RECHECK: right before
   the unlink, each dead group is checked once more. */
static enum verdict owners_dead(struct reclaimer *r, const char *path, int recheck)
{
    char names[4096];
    long n = syscall(SYS_llistxattr, path, names, sizeof names);
    if (n <= 0)
        return KEEP; /* untagged, unreadable, or more than fits */
    int owners = 0;
    for (long i = 0; i < n; i += (long)strlen(names + i) + 1) {
        const char *s = names + i;
        unsigned long long ns, pgid;
        const char *p = NULL;
        char value[96];
        struct owner_env at;
        if (strcmp(s, OWNER_PINNED) == 0)
            return KEEP;
        if (strcmp(s, OWNER_LEGACY) == 0) {
            /* "<boot>:<ns>:<pgid>" */
            long v = syscall(SYS_lgetxattr, path, s, value, sizeof value - 1);
            if (v < 34)
                return KEEP;
            value[v] = '\0';
            if (value[32] != ':' || owner_boot_parse(value, 32, &at) != 0 || !(p = num_get(value + 33, &ns))
                || *p != ':' || !(p = num_get(p + 1, &pgid)) || *p)
                return KEEP;
        } else if (strncmp(s, OWNER_PREFIX, sizeof OWNER_PREFIX - 1) == 0) {
            if (!(p = num_get(s + sizeof OWNER_PREFIX - 1, &ns)) || *p != '.' || !(p = num_get(p + 1, &pgid)) || *p)
                return KEEP;
            at = r->env;
            if (ns != r->env.ns) {
                /* Another namespace's group is judged only when it is of
                   another boot: then it is gone. */
                long v = syscall(SYS_lgetxattr, path, s, value, sizeof value);
                if (v <= 0 || owner_boot_parse(value, (size_t)v, &at) != 0)
                    return KEEP;
            }
        } else {
            continue;
        }
        owners++;
        if (pgid > 0x7fffffff)
            return KEEP;
        if (at.boot_hi != r->env.boot_hi || at.boot_lo != r->env.boot_lo)
            continue; /* that boot's processes all ended with it */
        if (ns != r->env.ns) {
            foreign(r, ns);
            return KEEP;
        }
        enum group_state g = judge(r, (pid_t)pgid);
        if (g == GROUP_ALIVE || (recheck && !still_dead((pid_t)pgid, g)))
            return KEEP;
    }
    return owners ? DEAD : KEEP;
}

static int push(struct reclaimer *r, const char *name)
{
    size_t n = strlen(name) + 1;
    if (r->names_len + n > r->names_cap) {
        size_t cap = r->names_cap ? r->names_cap * 2 : 4096;
        while (cap < r->names_len + n)
            cap *= 2;
        char *grown = realloc(r->names, cap);
        if (!grown)
            return -1;
        r->names = grown;
        r->names_cap = cap;
    }
    if (r->ncand == r->cand_cap) {
        size_t cap = r->cand_cap ? r->cand_cap * 2 : 64;
        struct candidate *grown = realloc(r->cand, cap * sizeof *grown);
        if (!grown)
            return -1;
        r->cand = grown;
        r->cand_cap = cap;
    }
    r->cand[r->ncand++].name = r->names_len;
    memcpy(r->names + r->names_len, name, n);
    r->names_len += n;
    return 0;
}

/* One directory entry: a candidate when it is a regular file whose owners
   are all dead.  Nothing is opened: opening a device or a FIFO could act. */
static int consider(void *ctx, const char *name, unsigned char type)
{
    struct reclaimer *r = ctx;
    if (type != DT_REG && type != DT_UNKNOWN)
        return 0;
    char path[PATH_MAX];
    if (owners_dead(r, in_dir(path, r->t, 0, name), 0) == DEAD && push(r, name) != 0)
        return 1;
    return 0;
}

/* NAME moved into the registry as MOVED goes back under its name, unless
   that was taken meanwhile (then it stays there: only a live object could
   have been moved by mistake, and a new one now has its name). */
static void put_back(struct reclaimer *r, const char *moved, const char *name)
{
    r->keep_owners = 1;
    if (syscall(SYS_renameat2, r->regfd, moved, r->dirfd, name, RENAME_NOREPLACE) == 0)
        return;
    /* Kernels before 3.15 and some file systems lack RENAME_NOREPLACE; a
       hard link never replaces either. */
    if ((errno == ENOSYS || errno == EINVAL) && syscall(SYS_linkat, r->regfd, moved, r->dirfd, name, 0) == 0)
        sys_unlinkat(r->regfd, moved);
}

static int rename_plain(int from_dir, const char *from, int to_dir, const char *to)
{
#ifdef SYS_renameat
    return (int)syscall(SYS_renameat, from_dir, from, to_dir, to);
#else
    return (int)syscall(SYS_renameat2, from_dir, from, to_dir, to, 0);
#endif
}

static void remove_candidate(struct reclaimer *r, const struct candidate *c)
{
    const char *name = r->names + c->name;
    struct stat st;
    if (sys_fstatat(r->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_ino != c->ino)
        return; /* gone, or made again since it was judged */
    /* Out of reach of every open by name: from here, a name made again is
       a new file, never this one. */
    char moved[64], path[PATH_MAX];
    registry_leaf(moved, "x.", r->env.ns, (unsigned long long)syscall(SYS_getpid));
    size_t m = strlen(moved);
    moved[m++] = '.';
    *num_put(moved + m, (unsigned long long)c->ino) = '\0';
    if (rename_plain(r->dirfd, name, r->regfd, moved) != 0) {
        if (errno == EXDEV) {
            r->stop = 1;
            registry_say(r->t, "exdev", "reclaim: ", r->t->dir,
                         " is a mount point apart from its registry " REGISTRY_SUFFIX
                         " (set SHM_REDIRECT_DIR to a directory inside a file system): nothing is reclaimed");
        }
        return;
    }
    /* What was moved is the file judged, still unused by name: an opener
       that made itself an owner before the move is seen here; one after it
       sees the name gone (owner_still_named) and opens again. */
    if (sys_fstatat(r->regfd, moved, &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_ino != c->ino
        || owners_dead(r, in_dir(path, r->t, 1, moved), 1) != DEAD) {
        put_back(r, moved, name);
        return;
    }
    if (sys_unlinkat(r->regfd, moved) == 0)
        say(r->t, "removed ", name, ": no owner group has a process left but zombies, and no process holds it");
}

/* A registry entry: "o.<ns>.<pgid>" and "<ns>.<pgid>" of dead groups are
   counted (ACT 0) or dropped (ACT 1); "x.<ns>.<pid>.<ino>" left by a dead
   reclaimer is removed when its owners are dead. */
struct entry_pass {
    struct reclaimer *r;
    int act;
};

static int registry_entry(void *ctx, const char *name, unsigned char type)
{
    struct entry_pass *e = ctx;
    struct reclaimer *r = e->r;
    (void)type;
    int owner = name[0] == 'o' && name[1] == '.';
    int moved = name[0] == 'x' && name[1] == '.';
    unsigned long long ns, id;
    const char *p = num_get(name + (owner || moved ? 2 : 0), &ns);
    if (!p || *p != '.' || !(p = num_get(p + 1, &id)) || (*p && !moved) || id == 0 || id > 0x7fffffff)
        return 0;
    if (ns != r->env.ns) {
        if (e->act == 0)
            foreign(r, ns);
        return 0;
    }
    if (moved) {
        char path[PATH_MAX];
        if (e->act == 1 && syscall(SYS_kill, (pid_t)id, 0) != 0 && errno == ESRCH
            && owners_dead(r, in_dir(path, r->t, 1, name), 1) == DEAD)
            sys_unlinkat(r->regfd, name);
        return 0;
    }
    enum group_state g = judge(r, (pid_t)id);
    if (g == GROUP_ALIVE)
        return 0;
    if (e->act == 0)
        r->dead_owners += owner;
    else if ((!owner || !r->keep_owners) && still_dead((pid_t)id, g))
        sys_unlinkat(r->regfd, name);
    return 0;
}

static void reclaim(struct reclaimer *r)
{
    struct entry_pass e = { r, 0 };
    say(r->t, "checking ", NULL, ": the first use of a new process group");
    if (dirscan(r->regfd, registry_entry, &e) != 0)
        return;
    if (r->dead_owners > 0) {
        say(r->t, "listing ", NULL, ": a group that owned objects is dead");
        struct stat dir;
        if (dirscan(r->dirfd, consider, r) != 0 || sys_fstat(r->dirfd, &dir) != 0)
            return; /* no decision on half a listing */
        if (r->ncand > 0) {
            struct holders h = { 0 };
            holders_look(&h, dir.st_dev, &r->view);
            if (h.blind && r->t->debug)
                say(r->t, "cannot see what every process holds: keeping ", NULL, "");
            for (size_t i = 0; i < r->ncand && !r->stop; i++) {
                struct candidate *c = &r->cand[i];
                struct stat st;
                if (sys_fstatat(r->dirfd, r->names + c->name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
                    continue;
                c->ino = st.st_ino;
                c->mode = st.st_mode;
                if (holders_hold(&h, c->ino, c->mode))
                    r->keep_owners = 1; /* checked again once its holder is gone */
                else
                    remove_candidate(r, c);
            }
            holders_free(&h);
        }
        if (r->stop)
            r->keep_owners = 1;
    }
    /* Registry last: a claimer killed before this point leaves the dead
       groups registered for the next one. */
    e.act = 1;
    if (syscall(SYS_lseek, r->regfd, 0, SEEK_SET) == 0)
        dirscan(r->regfd, registry_entry, &e);
}

void reclaim_on_first_use(const struct shm_target *t, int dirfd)
{
    if (!t->redirect || !t->reclaim)
        return;
    int saved = errno;
    long pgid = syscall(SYS_getpgid, 0);
    unsigned long long ns = pgid > 0 ? owner_ns() : 0;
    if (ns == 0)
        goto out;
    char leaf[48];
    int claimed = registry_add(t, registry_leaf(leaf, "", ns, (unsigned long long)pgid));
    if (claimed < 0 && pgid == syscall(SYS_getpid)) /* said by group leaders, not by every worker */
        warn_line("reclaim: cannot claim in ", t->dir,
                  REGISTRY_SUFFIX ": nothing is reclaimed, and the objects of killed runtimes will fill the disk");
    if (claimed != 1)
        goto out;
    struct reclaimer *r = calloc(1, sizeof *r);
    if (!r)
        goto out;
    r->t = t;
    r->self = (pid_t)pgid;
    r->regfd = registry_open(t);
    /* A description of its own (a scan moves its offset), of the directory
       already checked, never of whatever its path names now. */
    r->dirfd = r->regfd >= 0 ? sys_openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0) : -1;
    if (r->dirfd >= 0 && owner_env(&r->env) == 0)
        reclaim(r);
    if (r->dirfd >= 0)
        close(r->dirfd);
    if (r->regfd >= 0)
        close(r->regfd);
    proc_view_free(&r->view);
    free(r->names);
    free(r->cand);
    free(r);
out:
    errno = saved;
}

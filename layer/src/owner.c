#include "owner.h"

#include "num.h"
#include "registry.h"
#include "sys.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/xattr.h>
#include <time.h>

static atomic_ullong boot_hi, boot_lo; /* both 0 until read */
static atomic_ullong ns_cached;
static atomic_int ns_pid; /* the process that looked ns_cached up */
static atomic_int no_xattr;

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int owner_boot_parse(const char *hex, size_t len, struct owner_env *env)
{
    unsigned long long v[2] = { 0, 0 };
    int digits = 0;
    for (size_t i = 0; i < len && digits < 33; i++) {
        if (hex[i] == '-')
            continue;
        int h = hex_value(hex[i]);
        if (h < 0)
            return -1;
        if (digits < 32)
            v[digits / 16] = v[digits / 16] << 4 | (unsigned)h;
        digits++;
    }
    if (digits != 32 || (v[0] == 0 && v[1] == 0))
        return -1;
    env->boot_hi = v[0];
    env->boot_lo = v[1];
    return 0;
}

/* The kernel's boot_id, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\n": it tells
   one boot of one machine from another where a directory outlives a boot. */
static int read_boot(struct owner_env *env)
{
    char buf[64];
    int fd = sys_openat(AT_FDCWD, "/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    return n < 36 ? -1 : owner_boot_parse(buf, 36, env);
}

unsigned long long owner_ns(void)
{
    int pid = (int)syscall(SYS_getpid);
    if (atomic_load_explicit(&ns_pid, memory_order_acquire) == pid)
        return atomic_load_explicit(&ns_cached, memory_order_relaxed);
    struct stat st;
    unsigned long long ns = sys_fstatat(AT_FDCWD, "/proc/self/ns/pid", &st, 0) == 0 ? st.st_ino : 0;
    atomic_store_explicit(&ns_cached, ns, memory_order_relaxed);
    atomic_store_explicit(&ns_pid, pid, memory_order_release);
    return ns;
}

int owner_env(struct owner_env *env)
{
    env->boot_hi = atomic_load_explicit(&boot_hi, memory_order_relaxed);
    env->boot_lo = atomic_load_explicit(&boot_lo, memory_order_relaxed);
    if (env->boot_hi == 0 && env->boot_lo == 0) {
        if (read_boot(env) != 0)
            return -1;
        atomic_store_explicit(&boot_hi, env->boot_hi, memory_order_relaxed);
        atomic_store_explicit(&boot_lo, env->boot_lo, memory_order_relaxed);
    }
    env->ns = owner_ns();
    return env->ns ? 0 : -1;
}

static char *put_hex64(char *p, unsigned long long v)
{
    static const char hex[] = "0123456789abcdef";
    for (int shift = 60; shift >= 0; shift -= 4)
        *p++ = hex[(v >> shift) & 15];
    return p;
}

/* OWNER_PREFIX "<ns>.<pgid>" into NAME (>= 80 bytes). */
static void owner_name(char *name, unsigned long long ns, pid_t pgid)
{
    memcpy(name, OWNER_PREFIX, sizeof OWNER_PREFIX - 1);
    char *p = num_put(name + sizeof OWNER_PREFIX - 1, ns);
    *p++ = '.';
    *num_put(p, (unsigned long long)pgid) = '\0';
}

/* Owners of this namespace whose group has no process left (another boot's
   are gone too) make room for a new one. */
static void drop_gone(int fd, const struct owner_env *env)
{
    char names[4096];
    long n = syscall(SYS_flistxattr, fd, names, sizeof names);
    for (long i = 0; i < n; i += (long)strlen(names + i) + 1) {
        const char *s = names + i;
        unsigned long long ns, pgid;
        const char *p;
        if (strncmp(s, OWNER_PREFIX, sizeof OWNER_PREFIX - 1) != 0
            || !(p = num_get(s + sizeof OWNER_PREFIX - 1, &ns)) || *p != '.' || !(p = num_get(p + 1, &pgid)) || *p)
            continue;
        char boot[40];
        struct owner_env other;
        long b = syscall(SYS_fgetxattr, fd, s, boot, sizeof boot);
        int other_boot = b > 0 && owner_boot_parse(boot, (size_t)b, &other) == 0
            && (other.boot_hi != env->boot_hi || other.boot_lo != env->boot_lo);
        if (other_boot
            || (ns == env->ns && pgid > 1 && pgid <= 0x7fffffff && syscall(SYS_kill, -(pid_t)pgid, 0) != 0
                && errno == ESRCH))
            syscall(SYS_fremovexattr, fd, s);
    }
}

/* This process's owner tag as it is now.  The group now, not at start-up: a
   process may setsid() or setpgid() at any time, and from then on it uses
   objects as its new group.  -1 for pgid 0, a leader outside this PID
   namespace whose number cannot be judged here: such a process makes nothing
   its own (what it maps or holds open is kept all the same). */
struct owner_self {
    struct owner_env env;
    pid_t pgid;
    char name[80];
};

static int self_now(struct owner_self *me)
{
    long pgid = syscall(SYS_getpgid, 0);
    if (pgid <= 0 || owner_env(&me->env) != 0)
        return -1;
    me->pgid = (pid_t)pgid;
    owner_name(me->name, me->env.ns, me->pgid);
    return 0;
}

static int tagging(const struct shm_target *t)
{
    return t->redirect && t->reclaim && !atomic_load_explicit(&no_xattr, memory_order_relaxed);
}

/* Adds ME's group as an owner of FD: 1 when added, 0 when it was one already
   or nothing can be recorded. */
static int join(const struct shm_target *t, int fd, const struct owner_self *me)
{
    /* Registered even when the tag is there: the number may be an earlier
       group's, and a tag whose group the registry does not know would never
       make a reclaim look at it. */
    registry_owner(t, me->env.ns, me->pgid);
    char boot[32];
    put_hex64(put_hex64(boot, me->env.boot_hi), me->env.boot_lo);
    for (int tries = 0; tries < 2; tries++) {
        if (syscall(SYS_fsetxattr, fd, me->name, boot, sizeof boot, XATTR_CREATE) == 0)
            return 1;
        if (errno == EEXIST)
            return 0;
        if (errno == EOPNOTSUPP) {
            int expected = 0;
            if (atomic_compare_exchange_strong(&no_xattr, &expected, 1))
                registry_say(t, "no-xattr", "reclaim: ", t->dir,
                             " has no user extended attributes: objects are not tagged, nothing is reclaimed, and "
                             "the objects of killed runtimes stay until removed by hand");
            return 0;
        }
        if (errno != ENOSPC && errno != E2BIG)
            return 0;
        if (tries == 0)
            drop_gone(fd, &me->env);
    }
    /* Full of live owners: kept for good rather than risk it. */
    syscall(SYS_fsetxattr, fd, OWNER_PINNED, "1", 1, 0);
    return 0;
}

void owner_join(const struct shm_target *t, int fd)
{
    int saved = errno;
    struct owner_self me;
    if (tagging(t) && self_now(&me) == 0)
        join(t, fd, &me);
    errno = saved;
}

int owner_adopt(const struct shm_target *t, int fd)
{
    if (!tagging(t))
        return 0;
    int saved = errno;
    char names[4096];
    long n = syscall(SYS_flistxattr, fd, names, sizeof names);
    /* ERANGE: more than fits is surely owned. */
    int owned = n < 0 && errno == ERANGE, added = 0;
    for (long i = 0; i < n && !owned; i += (long)strlen(names + i) + 1)
        owned = strncmp(names + i, OWNER_LEGACY, sizeof OWNER_LEGACY - 1) == 0;
    struct owner_self me;
    if (owned && self_now(&me) == 0) {
        /* Already an owner (the usual case of a group opening its own objects
           again): no failing fsetxattr, which would take the inode's lock. */
        int mine = 0;
        for (long i = 0; i < n && !mine; i += (long)strlen(names + i) + 1)
            mine = strcmp(names + i, me.name) == 0;
        if (mine)
            registry_owner(t, me.env.ns, me.pgid);
        else
            added = join(t, fd, &me);
    }
    errno = saved;
    return added;
}

int owner_still_named(int dirfd, const char *at, int fd)
{
    int saved = errno;
    struct stat held, named;
    int result = 1;
    /* A reclaim that moved the object aside either puts it back (it saw this
       owner) or unlinks it (it looked before): a few system calls, unless the
       reclaimer was killed in between. */
    for (int i = 0; i < 200; i++) {
        if (sys_fstat(fd, &held) != 0)
            break;
        if (held.st_nlink == 0) {
            result = 0;
            break;
        }
        if (sys_fstatat(dirfd, at, &named, AT_SYMLINK_NOFOLLOW) == 0 && named.st_dev == held.st_dev
            && named.st_ino == held.st_ino)
            break;
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
        result = i < 199;
    }
    errno = saved;
    return result;
}

#include "owner.h"

#include "debug.h"
#include "num.h"
#include "reclaim.h"
#include "sys.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/xattr.h>

/* "<boot_id as 32 hex digits>:<pid namespace>:<process group>" */
#define TAG_MAX (32 + 1 + 20 + 1 + 20 + 1)

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

/* The kernel's boot_id, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\n", as 128
   bits; it tells one boot of one machine from another where a directory
   outlives a boot or is shared between machines. */
static int read_boot(unsigned long long *hi, unsigned long long *lo)
{
    char buf[64];
    int fd = sys_openat(AT_FDCWD, "/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n < 36)
        return -1;
    unsigned long long v[2] = { 0, 0 };
    int digits = 0;
    for (int i = 0; i < 36; i++) {
        if (buf[i] == '-')
            continue;
        int h = hex_value(buf[i]);
        if (h < 0)
            return -1;
        v[digits / 16] = v[digits / 16] << 4 | (unsigned)h;
        digits++;
    }
    if (digits != 32 || (v[0] == 0 && v[1] == 0))
        return -1;
    *hi = v[0];
    *lo = v[1];
    return 0;
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
        if (read_boot(&env->boot_hi, &env->boot_lo) != 0)
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

void owner_tag(const struct shm_target *t, int fd, int first_only)
{
    if (!t->redirect || !reclaim_enabled() || atomic_load_explicit(&no_xattr, memory_order_relaxed))
        return;
    int saved = errno;
    struct owner_env env;
    /* The group now, not at start-up: a process may setsid() or setpgid()
       at any time, and its objects then belong to its new group. */
    long pgid = syscall(SYS_getpgid, 0);
    /* 0: the group leader lies outside this PID namespace, so the number
       cannot be checked from here. */
    if (pgid > 0 && owner_env(&env) == 0) {
        char tag[TAG_MAX];
        char *p = put_hex64(tag, env.boot_hi);
        p = put_hex64(p, env.boot_lo);
        *p++ = ':';
        p = num_put(p, env.ns);
        *p++ = ':';
        p = num_put(p, (unsigned long long)pgid);
        if (syscall(SYS_fsetxattr, fd, OWNER_XATTR, tag, (size_t)(p - tag), first_only ? XATTR_CREATE : 0) != 0 && errno == EOPNOTSUPP) {
            int expected = 0;
            if (atomic_compare_exchange_strong(&no_xattr, &expected, 1) && t->debug)
                warn_line("reclaim: ", t->dir,
                          " has no user extended attributes: objects are not tagged and never reclaimed");
        }
    }
    errno = saved;
}

int owner_read(int fd, struct owner *o)
{
    char tag[TAG_MAX];
    long n = syscall(SYS_fgetxattr, fd, OWNER_XATTR, tag, sizeof tag - 1);
    if (n < 32 + 4)
        return -1;
    tag[n] = '\0';
    unsigned long long v[2] = { 0, 0 };
    for (int i = 0; i < 32; i++) {
        int h = hex_value(tag[i]);
        if (h < 0)
            return -1;
        v[i / 16] = v[i / 16] << 4 | (unsigned)h;
    }
    unsigned long long ns, pgid;
    const char *p = tag + 32;
    if (*p++ != ':' || !(p = num_get(p, &ns)) || *p++ != ':' || !(p = num_get(p, &pgid)) || *p != '\0')
        return -1;
    if (pgid == 0 || pgid > 0x7fffffff)
        return -1;
    o->env.boot_hi = v[0];
    o->env.boot_lo = v[1];
    o->env.ns = ns;
    o->pgid = (pid_t)pgid;
    return 0;
}

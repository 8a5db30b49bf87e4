/* A process keeps a shared memory object by mapping it (a closed
   descriptor's mapping stays) or by holding a descriptor without mapping
   it anew (a named semaphore opened again by its holder).  /proc shows
   both: the maps lines name device and inode, and each fd link stats to
   its file.  Threads share both tables unless one unshared its files,
   which these libraries' users do not do.  A process this one may not
   inspect (another user's, one with capabilities this one lacks, one made
   non-dumpable) hides what it holds: objects open to others (any group or
   other permission bit) are then kept; a private one it can only hold by
   having opened it by name, which made its group an owner (owner.c), or by
   inheriting it from a process that did. */

#include "holders.h"

#include "dirscan.h"
#include "num.h"
#include "sys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct pass {
    struct holders *h;
    unsigned long major, minor;
};

static int add(struct holders *h, ino_t ino)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 256;
        ino_t *grown = realloc(h->inos, cap * sizeof *grown);
        if (!grown)
            return -1;
        h->inos = grown;
        h->cap = cap;
    }
    h->inos[h->n++] = ino;
    return 0;
}

static const char *hex_get(const char *p, unsigned long *v)
{
    *v = 0;
    const char *start = p;
    for (;; p++) {
        unsigned d;
        if (*p >= '0' && *p <= '9')
            d = (unsigned)(*p - '0');
        else if (*p >= 'a' && *p <= 'f')
            d = (unsigned)(*p - 'a' + 10);
        else
            break;
        *v = *v << 4 | d;
    }
    return p == start ? NULL : p;
}

/* One maps line: "start-end perms offset MAJ:MIN inode path". */
static int maps_line(struct pass *s, const char *line)
{
    const char *p = line;
    for (int field = 0; field < 3 && p; field++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    unsigned long maj, min;
    unsigned long long ino;
    if (!p || !(p = hex_get(p, &maj)) || *p != ':' || !(p = hex_get(p + 1, &min)) || *p != ' '
        || !(p = num_get(p + 1, &ino)))
        return 0;
    /* Only the directory's device: small inode numbers of other file
       systems (shmem, devtmpfs) are in every process's maps.  btrfs and
       overlayfs show another device in maps than stat does: there only the
       descriptors and the owners speak (docs/library.md). */
    if (ino != 0 && maj == s->major && min == s->minor)
        return add(s->h, (ino_t)ino);
    return 0;
}

/* Reads /proc/<pid>/maps line by line.  -1 with errno when it cannot. */
static int read_maps(struct pass *s, const char *pid)
{
    char path[48] = "/proc/";
    size_t n = strlen(pid);
    memcpy(path + 6, pid, n);
    memcpy(path + 6 + n, "/maps", 6);
    int fd = sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    char buf[8192 + 1];
    size_t have = 0;
    int rc = 0;
    for (;;) {
        ssize_t got = read(fd, buf + have, sizeof buf - 1 - have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = -1;
            break;
        }
        have += (size_t)got;
        buf[have] = '\0';
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n'))) {
            *nl = '\0';
            if (maps_line(s, line) != 0) {
                errno = ENOMEM;
                rc = -1;
                break;
            }
            line = nl + 1;
        }
        if (rc != 0 || got == 0)
            break;
        have = (size_t)(buf + have - line);
        if (have == sizeof buf - 1) /* a line longer than the buffer: only its path is lost */
            have = 0;
        memmove(buf, line, have);
    }
    close(fd);
    return rc;
}

struct fds {
    struct pass *s;
    char path[48];
    size_t len;
};

static int one_fd(void *ctx, const char *name, unsigned char type)
{
    struct fds *f = ctx;
    struct stat st;
    size_t n = strnlen(name, 12);
    (void)type;
    memcpy(f->path + f->len, name, n);
    f->path[f->len + n] = '\0';
    if (sys_fstatat(AT_FDCWD, f->path, &st, 0) == 0 && S_ISREG(st.st_mode) && st.st_dev == f->s->h->dev)
        return add(f->s->h, st.st_ino) != 0;
    return 0;
}

static int read_fds(struct pass *s, const char *pid)
{
    struct fds f = { s, "/proc/", 6 };
    size_t n = strlen(pid);
    memcpy(f.path + 6, pid, n);
    memcpy(f.path + 6 + n, "/fd", 4);
    int fd = sys_openat(AT_FDCWD, f.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    f.len = 6 + n + 3;
    f.path[f.len++] = '/';
    int rc = dirscan(fd, one_fd, &f);
    close(fd);
    if (rc != 0 && errno == 0)
        errno = ENOMEM;
    return rc == 0 ? 0 : -1;
}

static int one_process(void *ctx, const char *pid, unsigned char type)
{
    struct pass *s = ctx;
    (void)type;
    if (pid[0] < '1' || pid[0] > '9' || strlen(pid) > 20)
        return 0;
    if (read_maps(s, pid) == 0 && read_fds(s, pid) == 0)
        return 0;
    if (errno == ENOENT || errno == ESRCH) /* gone meanwhile */
        return 0;
    if (errno != EACCES && errno != EPERM)
        return 1;
    s->h->unseen = 1;
    return 0;
}

static int by_ino(const void *a, const void *b)
{
    ino_t x = *(const ino_t *)a, y = *(const ino_t *)b;
    return (x > y) - (x < y);
}

int holders_look(struct holders *h, dev_t dev, struct proc_view *view)
{
    h->dev = dev;
    struct pass s = { h, 0, 0 };
    /* The kernel's encoding of a dev_t (as glibc's makedev): maps shows the
       parts in hex. */
    unsigned long long d = (unsigned long long)dev;
    s.major = (unsigned long)(((d >> 8) & 0xfff) | ((d >> 32) & ~0xfffULL));
    s.minor = (unsigned long)((d & 0xff) | ((d >> 12) & ~0xffULL));
    int fd = proc_trusted(view) ? sys_openat(AT_FDCWD, "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0) : -1;
    if (fd < 0) {
        h->blind = 1;
        return -1;
    }
    int rc = dirscan(fd, one_process, &s);
    close(fd);
    if (rc != 0) {
        h->blind = 1;
        return -1;
    }
    qsort(h->inos, h->n, sizeof *h->inos, by_ino);
    return 0;
}

int holders_hold(const struct holders *h, ino_t ino, mode_t mode)
{
    if (h->blind || (h->unseen && (mode & 077)))
        return 1;
    return bsearch(&ino, h->inos, h->n, sizeof ino, by_ino) != NULL;
}

void holders_free(struct holders *h)
{
    free(h->inos);
}

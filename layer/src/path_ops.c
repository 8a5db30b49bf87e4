/* Calls that change or probe directory entries by path. */

#include "path_calls.h"
#include "path_track.h"
#include "gate.h"
#include "virtual_root.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Unlinks, removals and renames in the redirect directory pass the
   reclaim's gate (gate.h). */
static int gated(const char *original, const char *p)
{
    if (p == original || !shm_prefix(original))
        return 0;
    gate_enter();
    return 1;
}

PATH_CALL_WITH(int, -1, unlink, (const char *path), (p), (errno = ENOSYS, -1), int g = gated(path, p);,
               if (g) gate_leave();)
PATH_CALL(int, -1, access, (const char *path, int mode), (p, mode))
PATH_CALL(int, -1, faccessat, (int dirfd, const char *path, int mode, int flags),
          (dirfd, p, mode, flags))
PATH_CALL_MAKING(int, -1, mkdir, (const char *path, mode_t mode), (p, mode))
PATH_CALL_MAKING(int, -1, mkdirat, (int dirfd, const char *path, mode_t mode), (dirfd, p, mode))

/* Python's shutil.copy chmods its destination; os.chown, os.truncate,
   os.utime and coreutils' chmod/truncate/touch -d/realpath/readlink -f
   reach these. */
PATH_CALL_ROOT(int, -1, chmod, (const char *path, mode_t mode), (p, mode), virtual_root_chmod())
PATH_CALL_ROOT(int, -1, fchmodat, (int dirfd, const char *path, mode_t mode, int flags), (dirfd, p, mode, flags),
               virtual_root_chmod())
PATH_CALL_ROOT(int, -1, chown, (const char *path, uid_t uid, gid_t gid), (p, uid, gid), virtual_root_chown(uid, gid))
PATH_CALL_ROOT(int, -1, lchown, (const char *path, uid_t uid, gid_t gid), (p, uid, gid),
               virtual_root_chown(uid, gid))
PATH_CALL_ROOT(int, -1, fchownat, (int dirfd, const char *path, uid_t uid, gid_t gid, int flags),
               (dirfd, p, uid, gid, flags), virtual_root_chown(uid, gid))
PATH_CALL(int, -1, truncate, (const char *path, off_t len), (p, len))
PATH_CALL(int, -1, truncate64, (const char *path, off64_t len), (p, len))
PATH_CALL(int, -1, utimensat, (int dirfd, const char *path, const struct timespec times[2], int flags),
          (dirfd, p, times, flags))
PATH_CALL(ssize_t, -1, readlink, (const char *path, char *buf, size_t len), (p, buf, len))
PATH_CALL(ssize_t, -1, readlinkat, (int dirfd, const char *path, char *buf, size_t len), (dirfd, p, buf, len))
/* ls -l asks for ACLs and SELinux labels; cp -a and shutil.copy2 copy
   extended attributes. */
PATH_CALL(ssize_t, -1, getxattr, (const char *path, const char *key, void *val, size_t len), (p, key, val, len))
PATH_CALL(ssize_t, -1, lgetxattr, (const char *path, const char *key, void *val, size_t len), (p, key, val, len))
PATH_CALL(ssize_t, -1, listxattr, (const char *path, char *list, size_t len), (p, list, len))
PATH_CALL(ssize_t, -1, llistxattr, (const char *path, char *list, size_t len), (p, list, len))
PATH_CALL(int, -1, setxattr, (const char *path, const char *key, const void *val, size_t len, int flags),
          (p, key, val, len, flags))
PATH_CALL(int, -1, lsetxattr, (const char *path, const char *key, const void *val, size_t len, int flags),
          (p, key, val, len, flags))
/* A shell's "cd /dev/shm" or os.chdir: relative names then work as-is. */
PATH_CALL(int, -1, chdir, (const char *path), (p))

/* The virtual /dev/shm stands for a mount point: like the real one it
   cannot be removed or renamed, however it is spelled ("/dev/shm/",
   "/dev/shm//", "/dev/shm/../shm"), which also keeps the redirect
   directory in place for every other process. */
/* PATH rewritten into BUF for OP; NULL with errno set when the rewrite
   fails or (when ROOT_BUSY) PATH is the virtual /dev/shm itself. */
static const char *rewrite_busy(const char *op, const char *path, char buf[PATH_MAX], int root_busy)
{
    const char *p = shm_path(op, path, buf);
    if (p && root_busy && shm_is_root(path, p)) {
        errno = EBUSY;
        return NULL;
    }
    return p;
}

static int enosys(void)
{
    errno = ENOSYS;
    return -1;
}

static _Atomic(void *) rmdir_next, unlinkat_next, rename_next, renameat_next, renameat2_next;

static __attribute__((noinline, cold)) int rmdir_rewrite(const char *path)
{
    char buf[PATH_MAX];
    const char *p = rewrite_busy("rmdir", path, buf, 1);
    __typeof__(rmdir) *next = real_next(&rmdir_next, "rmdir");
    if (!p)
        return -1;
    int g = gated(path, p);
    int r = next ? next(p) : enosys();
    if (g)
        gate_leave();
    return r;
}

SHMR_EXPORT int rmdir(const char *path)
{
    __typeof__(rmdir) *next = next_untouched(&rmdir_next, path);
    return next ? next(path) : rmdir_rewrite(path);
}

static __attribute__((noinline, cold)) int unlinkat_rewrite(int dirfd, const char *path, int flags)
{
    char buf[PATH_MAX];
    const char *p = rewrite_busy("unlinkat", path, buf, flags & AT_REMOVEDIR);
    __typeof__(unlinkat) *next = real_next(&unlinkat_next, "unlinkat");
    if (!p)
        return -1;
    int g = gated(path, p);
    int r = next ? next(dirfd, p, flags) : enosys();
    if (g)
        gate_leave();
    return r;
}

SHMR_EXPORT int unlinkat(int dirfd, const char *path, int flags)
{
    __typeof__(unlinkat) *next = next_untouched(&unlinkat_next, path);
    return next ? next(dirfd, path, flags) : unlinkat_rewrite(dirfd, path, flags);
}

/* Like next_untouched, for calls taking two paths. */
static inline void *next_untouched2(_Atomic(void *) *slot, const char *from, const char *to)
{
    return shm_prefix(to) ? NULL : next_untouched(slot, from);
}

/* After a rename to T (TO rewritten) that passed the gate when G: the
   file that now has the name is recorded by it (path_track.h). */
static int renamed(int r, int g, const char *to, const char *t)
{
    if (g)
        gate_leave();
    if (r == 0 && t != to)
        path_made(t, 1);
    return r;
}

static __attribute__((noinline, cold)) int rename_rewrite(const char *from, const char *to)
{
    char fbuf[PATH_MAX], tbuf[PATH_MAX];
    const char *f = rewrite_busy("rename", from, fbuf, 1);
    const char *t = f ? rewrite_busy("rename", to, tbuf, 1) : NULL;
    __typeof__(rename) *next = real_next(&rename_next, "rename");
    if (!t)
        return -1;
    int g = gated(to, t) || gated(from, f);
    int r = next ? next(f, t) : enosys();
    return renamed(r, g, to, t);
}

SHMR_EXPORT int rename(const char *from, const char *to)
{
    __typeof__(rename) *next = next_untouched2(&rename_next, from, to);
    return next ? next(from, to) : rename_rewrite(from, to);
}

static __attribute__((noinline, cold)) int renameat_rewrite(int fromfd, const char *from, int tofd, const char *to)
{
    char fbuf[PATH_MAX], tbuf[PATH_MAX];
    const char *f = rewrite_busy("renameat", from, fbuf, 1);
    const char *t = f ? rewrite_busy("renameat", to, tbuf, 1) : NULL;
    __typeof__(renameat) *next = real_next(&renameat_next, "renameat");
    if (!t)
        return -1;
    int g = gated(to, t) || gated(from, f);
    int r = next ? next(fromfd, f, tofd, t) : enosys();
    return renamed(r, g, to, t);
}

SHMR_EXPORT int renameat(int fromfd, const char *from, int tofd, const char *to)
{
    __typeof__(renameat) *next = next_untouched2(&renameat_next, from, to);
    return next ? next(fromfd, from, tofd, to) : renameat_rewrite(fromfd, from, tofd, to);
}

/* coreutils' mv uses renameat2 (glibc >= 2.28); before that only the
   system call exists. */
static __attribute__((noinline, cold)) int renameat2_rewrite(int fromfd, const char *from, int tofd, const char *to,
                                                             unsigned int flags)
{
    char fbuf[PATH_MAX], tbuf[PATH_MAX];
    const char *f = rewrite_busy("renameat2", from, fbuf, 1);
    const char *t = f ? rewrite_busy("renameat2", to, tbuf, 1) : NULL;
    __typeof__(renameat2) *next = real_next(&renameat2_next, "renameat2");
    if (!t)
        return -1;
    int g = gated(to, t) || gated(from, f);
    int r = next ? next(fromfd, f, tofd, t, flags) : (int)syscall(SYS_renameat2, fromfd, f, tofd, t, flags);
    return renamed(r, g, to, t);
}

SHMR_EXPORT int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned int flags)
{
    __typeof__(renameat2) *next = next_untouched2(&renameat2_next, from, to);
    return next ? next(fromfd, from, tofd, to, flags) : renameat2_rewrite(fromfd, from, tofd, to, flags);
}

static _Atomic(void *) realpath_next, realpath_chk_next;

/* realpath resolves inside glibc, past the interposed calls, and would name
   the redirect directory: its answer is mapped back to the /dev/shm
   spelling a real /dev/shm gives. */
static __attribute__((noinline, cold)) char *realpath_rewrite(const char *path, char *resolved)
{
    char buf[PATH_MAX], out[PATH_MAX];
    const char *p = shm_path("realpath", path, buf);
    __typeof__(realpath) *next = real_next(&realpath_next, "realpath");
    if (p && !next)
        errno = ENOSYS;
    if (!p || !next)
        return NULL;
    if (p == path)
        return next(p, resolved);
    if (!next(p, out))
        return NULL;
    int saved = errno;
    size_t n = next(shm_target()->dir, buf) ? strlen(buf) : 0;
    errno = saved;
    if (n && strncmp(out, buf, n) == 0 && (out[n] == '\0' || out[n] == '/')) {
        size_t rest = strlen(out + n);
        if (8 + rest >= PATH_MAX) {
            errno = ENAMETOOLONG;
            return NULL;
        }
        memmove(out + 8, out + n, rest + 1);
        memcpy(out, "/dev/shm", 8);
    }
    return resolved ? strcpy(resolved, out) : strdup(out);
}

SHMR_EXPORT char *realpath(const char *path, char *resolved)
{
    __typeof__(realpath) *next = next_untouched(&realpath_next, path);
    return next ? next(path, resolved) : realpath_rewrite(path, resolved);
}

/* _FORTIFY_SOURCE's realpath.  glibc's own checks the buffer size (and
   aborts when it is too small); a /dev/shm path with a buffer that passes
   that check goes the way of realpath. */
char *__realpath_chk(const char *path, char *resolved, size_t len);
SHMR_EXPORT char *__realpath_chk(const char *path, char *resolved, size_t len)
{
    if (shm_prefix(path) && len >= PATH_MAX)
        return realpath_rewrite(path, resolved);
    __typeof__(__realpath_chk) *next = real_next(&realpath_chk_next, "__realpath_chk");
    if (!next) {
        errno = ENOSYS;
        return NULL;
    }
    return next(path, resolved, len);
}

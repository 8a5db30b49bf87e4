/* Every path interposer: /dev/shm paths reach the object directory (the
   redirect directory, or the real /dev/shm when it exists); other paths,
   including "/dev/shmx" and relative ones, are untouched. */
#include "common.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <sys/xattr.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>

int __open_2(const char *, int);
int __open64_2(const char *, int);
int __openat_2(int, const char *, int);
int __openat64_2(int, const char *, int);
char *__realpath_chk(const char *, char *, size_t);

static char vpath[PATH_MAX], real[PATH_MAX], vpath2[PATH_MAX], real2[PATH_MAX];

static ino_t raw_ino(const char *path)
{
    struct stat st;
    return raw_stat(path, &st) == 0 ? st.st_ino : 0;
}

/* FD refers to the object file. */
static int same_file(int fd)
{
    struct stat st;
    int ok = fd >= 0 && fstat(fd, &st) == 0 && st.st_ino == raw_ino(real);
    if (fd >= 0)
        close(fd);
    return ok;
}

/* PATH (through the library) is the object directory itself. */
static int same_file_path(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && st.st_ino == raw_ino(object_dir());
}

static void fresh(void)
{
    raw_unlink(real);
    raw_unlink(real2);
}

int main(void)
{
    char name[64];
    uniq(name, sizeof name, "path");
    snprintf(vpath, sizeof vpath, "/dev/shm/%s", name);
    object_file(real, sizeof real, "", name);
    snprintf(vpath2, sizeof vpath2, "/dev/shm/%s.2", name);
    object_file(real2, sizeof real2, "", name);
    strcat(real2, ".2");
    const char *dir = object_dir();
    printf("# /dev/shm is %s\n", redirected() ? dir : "real");

    struct stat st;
    check(stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && st.st_ino == raw_ino(dir),
          "stat(\"/dev/shm\") is the directory %s", dir);
    if (redirected())
        check((st.st_mode & 07777) == 01777, "redirect directory has mode 01777 (got %o)", (unsigned)(st.st_mode & 07777));

    fresh();
    check(same_file(open(vpath, O_CREAT | O_RDWR | O_EXCL, 0600)), "open O_CREAT");
    check(same_file(open64(vpath, O_RDONLY)), "open64");
    check(same_file(openat(AT_FDCWD, vpath, O_RDONLY)), "openat");
    check(same_file(openat64(AT_FDCWD, vpath, O_RDONLY)), "openat64");
    check(same_file(__open_2(vpath, O_RDONLY)), "__open_2");
    check(same_file(__open64_2(vpath, O_RDONLY)), "__open64_2");
    check(same_file(__openat_2(AT_FDCWD, vpath, O_RDONLY)), "__openat_2");
    check(same_file(__openat64_2(AT_FDCWD, vpath, O_RDONLY)), "__openat64_2");
    fresh();
    check(same_file(creat(vpath, 0600)), "creat");
    fresh();
    check(same_file(creat64(vpath, 0600)), "creat64");
    FILE *f = fopen(vpath, "w");
    check(f && fputs("data", f) >= 0 && fclose(f) == 0 && raw_ino(real), "fopen");
    f = fopen64(vpath, "r");
    char buf[8] = { 0 };
    check(f && fgets(buf, sizeof buf, f) && strcmp(buf, "data") == 0, "fopen64 reads it back");
    if (f)
        fclose(f);

    ino_t ino = raw_ino(real);
    struct stat64 st64;
    check(stat(vpath, &st) == 0 && st.st_ino == ino, "stat");
    check(lstat(vpath, &st) == 0 && st.st_ino == ino, "lstat");
    check(fstatat(AT_FDCWD, vpath, &st, 0) == 0 && st.st_ino == ino, "fstatat");
    check(stat64(vpath, &st64) == 0 && st64.st_ino == ino, "stat64");
    check(lstat64(vpath, &st64) == 0 && st64.st_ino == ino, "lstat64");
    check(fstatat64(AT_FDCWD, vpath, &st64, 0) == 0 && st64.st_ino == ino, "fstatat64");
    struct statx sx;
    check(statx(AT_FDCWD, vpath, 0, STATX_INO, &sx) == 0 && sx.stx_ino == ino, "statx");

    /* Binaries built against glibc < 2.33 call these; find them the way
       the dynamic linker binds such a binary: the preloaded definition. */
#if defined(__x86_64__)
    const int ver = 1;
#else
    const int ver = 0;
#endif
    static const char *const xnames[] = { "__xstat", "__lxstat", "__xstat64", "__lxstat64" };
    for (int i = 0; i < 4; i++) {
        int (*fn)(int, const char *, struct stat *) = (int (*)(int, const char *, struct stat *))dlsym(RTLD_DEFAULT, xnames[i]);
        memset(&st, 0, sizeof st);
        check(fn && fn(ver, vpath, &st) == 0 && st.st_ino == ino, "%s", xnames[i]);
    }
    static const char *const atnames[] = { "__fxstatat", "__fxstatat64" };
    for (int i = 0; i < 2; i++) {
        int (*fn)(int, int, const char *, struct stat *, int) =
            (int (*)(int, int, const char *, struct stat *, int))dlsym(RTLD_DEFAULT, atnames[i]);
        memset(&st, 0, sizeof st);
        check(fn && fn(ver, AT_FDCWD, vpath, &st, 0) == 0 && st.st_ino == ino, "%s", atnames[i]);
    }

    struct statfs rawfs, fs;
    struct statfs64 fs64;
    struct statvfs vfs;
    struct statvfs64 vfs64;
    syscall(SYS_statfs, dir, &rawfs);
    check(statfs("/dev/shm", &fs) == 0 && fs.f_type == rawfs.f_type && fs.f_blocks == rawfs.f_blocks, "statfs");
    check(statfs64("/dev/shm", &fs64) == 0 && fs64.f_type == rawfs.f_type, "statfs64");
    check(statvfs("/dev/shm", &vfs) == 0 && vfs.f_blocks == rawfs.f_blocks, "statvfs (multiprocessing.heap)");
    check(statvfs64("/dev/shm", &vfs64) == 0 && vfs64.f_blocks == rawfs.f_blocks, "statvfs64");

    check(access(vpath, R_OK | W_OK) == 0, "access");
    check(faccessat(AT_FDCWD, vpath, R_OK, 0) == 0, "faccessat");
    DIR *d = opendir("/dev/shm");
    int seen = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        seen |= strcmp(e->d_name, name) == 0;
    if (d)
        closedir(d);
    check(seen, "opendir(\"/dev/shm\") lists the file");

    check(rename(vpath, vpath2) == 0 && !raw_exists(real) && raw_exists(real2), "rename");
    check(renameat(AT_FDCWD, vpath2, AT_FDCWD, vpath) == 0 && raw_exists(real) && !raw_exists(real2), "renameat");
    check(unlink(vpath) == 0 && !raw_exists(real), "unlink");
    CHECK_ERR(unlink(vpath), -1, ENOENT, "unlink again -> ENOENT");
    close(creat(vpath, 0600));
    check(unlinkat(AT_FDCWD, vpath, 0) == 0 && !raw_exists(real), "unlinkat");
    check(mkdir(vpath, 0700) == 0 && raw_exists(real), "mkdir");
    check(rmdir(vpath) == 0 && !raw_exists(real), "rmdir");
    check(mkdirat(AT_FDCWD, vpath, 0700) == 0 && raw_exists(real), "mkdirat");
    check(unlinkat(AT_FDCWD, vpath, AT_REMOVEDIR) == 0 && !raw_exists(real), "unlinkat AT_REMOVEDIR");
    CHECK_ERR(mkdir("/dev/shm", 0777), -1, EEXIST, "mkdir(\"/dev/shm\") -> EEXIST");

    /* Metadata changes and lookups that Python's os/shutil (shutil.copy
       chmods its destination, os.utime, os.truncate) and coreutils
       (mv uses renameat2, realpath, cd) make by path. */
    close(creat(vpath, 0600));
    check(chmod(vpath, 0640) == 0 && raw_stat(real, &st) == 0 && (st.st_mode & 07777) == 0640, "chmod");
    check(fchmodat(AT_FDCWD, vpath, 0604, 0) == 0 && raw_stat(real, &st) == 0 && (st.st_mode & 07777) == 0604, "fchmodat");
    check(chown(vpath, getuid(), (gid_t)-1) == 0 && lchown(vpath, (uid_t)-1, getgid()) == 0
              && fchownat(AT_FDCWD, vpath, getuid(), getgid(), AT_SYMLINK_NOFOLLOW) == 0,
          "chown, lchown, fchownat");
    check(truncate(vpath, 10) == 0 && raw_stat(real, &st) == 0 && st.st_size == 10, "truncate");
    check(truncate64(vpath, 20) == 0 && raw_stat(real, &st) == 0 && st.st_size == 20, "truncate64");
    struct timespec times[2] = { { 1000, 0 }, { 2000, 0 } };
    check(utimensat(AT_FDCWD, vpath, times, 0) == 0 && raw_stat(real, &st) == 0 && st.st_mtim.tv_sec == 2000,
          "utimensat");
    check(renameat2(AT_FDCWD, vpath, AT_FDCWD, vpath2, RENAME_NOREPLACE) == 0 && raw_exists(real2) && !raw_exists(real),
          "renameat2");
    check(rename(vpath2, vpath) == 0, "rename back");
    char link[PATH_MAX], vlink[PATH_MAX], got[PATH_MAX] = { 0 };
    snprintf(link, sizeof link, "%s/%s.lnk", dir, name);
    snprintf(vlink, sizeof vlink, "/dev/shm/%s.lnk", name);
    syscall(SYS_symlinkat, name, AT_FDCWD, link);
    check(readlink(vlink, got, sizeof got - 1) == (ssize_t)strlen(name) && strcmp(got, name) == 0, "readlink");
    memset(got, 0, sizeof got);
    check(readlinkat(AT_FDCWD, vlink, got, sizeof got - 1) == (ssize_t)strlen(name) && strcmp(got, name) == 0,
          "readlinkat");
    /* realpath resolves inside glibc; its answer keeps the /dev/shm spelling
       a real /dev/shm gives. */
    char resolved[PATH_MAX];
    check(realpath(vpath, resolved) == resolved && strcmp(resolved, vpath) == 0, "realpath(\"%s\")", vpath);
    check(realpath(vlink, resolved) == resolved && strcmp(resolved, vpath) == 0, "realpath follows a link inside");
    char *dup = realpath("/dev/shm//./", NULL);
    check(dup && strcmp(dup, "/dev/shm") == 0, "realpath(\"/dev/shm//./\", NULL) -> \"/dev/shm\" (%s)", dup);
    free(dup);
    memset(resolved, 0, sizeof resolved);
    check(__realpath_chk(vpath, resolved, sizeof resolved) == resolved && strcmp(resolved, vpath) == 0,
          "__realpath_chk");
    CHECK_ERR(realpath("/dev/shm/shmr-missing/x", resolved), NULL, ENOENT, "realpath of a missing file -> ENOENT");
    raw_unlink(link);
    /* The answers depend on the file system; what matters is that the file is found. */
    char xbuf[256];
    errno = 0;
    check((getxattr(vpath, "user.shmr", xbuf, sizeof xbuf) >= 0 || errno != ENOENT)
              && (lgetxattr(vpath, "user.shmr", xbuf, sizeof xbuf) >= 0 || errno != ENOENT)
              && (setxattr(vpath, "user.shmr", "1", 1, 0) == 0 || errno != ENOENT)
              && (lsetxattr(vpath, "user.shmr", "1", 1, 0) == 0 || errno != ENOENT),
          "getxattr, lgetxattr, setxattr, lsetxattr find the file");
    check(listxattr(vpath, xbuf, sizeof xbuf) >= 0 && llistxattr(vpath, xbuf, sizeof xbuf) >= 0,
          "listxattr, llistxattr");
    char cwd[PATH_MAX];
    check(chdir("/dev/shm") == 0 && getcwd(cwd, sizeof cwd) && strcmp(cwd, dir) == 0 && raw_exists(name),
          "chdir(\"/dev/shm\") enters %s, where relative names work", dir);
    check(chdir("/tmp") == 0, "chdir /tmp");
    fresh();

    if (redirected()) {
        CHECK_ERR(rmdir("/dev/shm"), -1, EBUSY, "rmdir(\"/dev/shm\") -> EBUSY, the redirect directory stays");
        CHECK_ERR(rename("/dev/shm", "/tmp/elsewhere"), -1, EBUSY, "rename(\"/dev/shm\", ...) -> EBUSY");
        CHECK_ERR(rmdir("/dev/shm/"), -1, EBUSY, "rmdir(\"/dev/shm/\") -> EBUSY too");
        CHECK_ERR(rmdir("/dev/shm//"), -1, EBUSY, "rmdir(\"/dev/shm//\") -> EBUSY");
        CHECK_ERR(unlinkat(AT_FDCWD, "/dev/shm", AT_REMOVEDIR), -1, EBUSY, "unlinkat(\"/dev/shm\", AT_REMOVEDIR) -> EBUSY");
        CHECK_ERR(unlinkat(AT_FDCWD, "/dev/shm/", AT_REMOVEDIR), -1, EBUSY, "unlinkat(\"/dev/shm/\", AT_REMOVEDIR) -> EBUSY");
        CHECK_ERR(rename("/dev/shm/", "/tmp/elsewhere"), -1, EBUSY, "rename(\"/dev/shm/\", ...) -> EBUSY");
        CHECK_ERR(renameat(AT_FDCWD, "/tmp/elsewhere", AT_FDCWD, "/dev/shm/"), -1, EBUSY, "renameat(..., \"/dev/shm/\") -> EBUSY");
        CHECK_ERR(renameat2(AT_FDCWD, "/dev/shm", AT_FDCWD, "/tmp/elsewhere", 0), -1, EBUSY, "renameat2(\"/dev/shm\", ...) -> EBUSY");
        check(raw_exists(dir), "redirect directory still exists");
        /* ".." out of /dev/shm leads into /dev, never next to the redirect
           directory: such a path is left alone (ENOENT, as without the library). */
        char beside[PATH_MAX];
        snprintf(beside, sizeof beside, "%s", dir);
        strcpy(strrchr(beside, '/') + 1, "shmr-escape");
        /* ".." of the virtual /dev/shm is /dev, as of a real one. */
        errno = 0;
        int escaped = open("/dev/shm/../shmr-escape", O_CREAT | O_WRONLY, 0600);
        int want = raw_exists("/dev/shmr-escape") ? 0 : (int)syscall(SYS_openat, AT_FDCWD, "/dev/shmr-escape",
                                                                       O_CREAT | O_WRONLY, 0600);
        check(escaped == -1 && want == -1, "open(\"/dev/shm/../x\", O_CREAT) is /dev/x: fails as there");
        if (escaped >= 0)
            close(escaped);
        check(!raw_exists(beside), "... and creates nothing beside the redirect directory (%s)", beside);
        raw_unlink(beside);
        CHECK_ERR(stat("/dev/shm/a/../../etc", &st), -1, ENOENT, "\"/dev/shm/a/../../etc\" is not rewritten");
        check(mkdir("/dev/shm/shmr-sub", 0700) == 0 && same_file_path("/dev/shm/shmr-sub/./../shmr-sub/.."),
              "\"..\" that stays inside is still rewritten");
        rmdir("/dev/shm/shmr-sub");
        /* "/dev/shmx" is another name: if it were rewritten it would find this. */
        char decoy[PATH_MAX];
        snprintf(decoy, sizeof decoy, "%sx", dir);
        close((int)syscall(SYS_openat, AT_FDCWD, decoy, O_CREAT | O_WRONLY, 0600));
        CHECK_ERR(stat("/dev/shmx", &st), -1, ENOENT, "\"/dev/shmx\" is not rewritten");
        raw_unlink(decoy);
        check(chdir("/dev") == 0, "chdir /dev");
        CHECK_ERR(stat("shm", &st), -1, ENOENT, "relative \"shm\" is not rewritten");
        check(chdir("/tmp") == 0, "chdir /tmp");
    } else {
        CHECK_ERR(stat("/dev/shmx", &st), -1, ENOENT, "\"/dev/shmx\" is not rewritten");
        check(chdir("/dev") == 0 && stat("shm", &st) == 0 && st.st_ino == raw_ino("/dev/shm"),
              "relative \"shm\" from /dev is the real /dev/shm");
        check(chdir("/tmp") == 0, "chdir /tmp");
    }
    check(stat("/etc/hostname", &st) == 0 && st.st_ino == raw_ino("/etc/hostname"), "unrelated paths pass through");

    char longp[PATH_MAX + 16];
    memcpy(longp, "/dev/shm/", 9);
    memset(longp + 9, 'x', PATH_MAX - 9);
    longp[PATH_MAX] = '\0';
    CHECK_ERR(open(longp, O_RDONLY), -1, ENAMETOOLONG, "a /dev/shm path of PATH_MAX bytes -> ENAMETOOLONG");
    return finish();
}

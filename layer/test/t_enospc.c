/* A full /tmp (the sandbox's small ext4 image): sem_open and ftruncate of
   a shared memory object report ENOSPC up front instead of handing out
   memory that faults later; and what a killed group left, within its grace,
   is reclaimed at once to make room, even when the registry has no room
   left for a new group's record. */
#include "common.h"

#include <dirent.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/statfs.h>

static unsigned long long free_blocks(void)
{
    struct statfs fs = { 0 };
    fsync(1);
    syscall(SYS_sync);
    statfs("/tmp", &fs);
    return (unsigned long long)fs.f_bfree;
}

/* A grow past the free space fails and leaves the object and the disk as
   they were: no partial allocation stays behind. */
static void rollback(void)
{
    char name[64];
    uniq(name, sizeof name, "rollback");
    int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    check(fd >= 0 && ftruncate(fd, 1 << 20) == 0, "an existing 1 MiB object");
    struct stat before = { 0 }, after = { 0 };
    syscall(SYS_fstat, fd, &before);
    unsigned long long free_before = free_blocks();
    struct statfs fs = { 0 };
    statfs("/tmp", &fs);
    off_t past = before.st_size + (off_t)(fs.f_bfree * fs.f_bsize) + (1 << 20);
    CHECK_ERR(ftruncate(fd, past), -1, ENOSPC, "growing it past the free space -> ENOSPC");
    syscall(SYS_fstat, fd, &after);
    unsigned long long free_after = free_blocks();
    check(after.st_size == before.st_size, "its size is as before (%lld, was %lld)", (long long)after.st_size,
          (long long)before.st_size);
    check(after.st_blocks == before.st_blocks, "its allocated blocks are as before (%lld, was %lld)",
          (long long)after.st_blocks, (long long)before.st_blocks);
    check(free_after == free_before, "the file system's free blocks are as before (%llu, was %llu)", free_after,
          free_before);
    char half[64];
    uniq(half, sizeof half, "rollback-half");
    int fd2 = shm_open(half, O_CREAT | O_EXCL | O_RDWR, 0600);
    off_t size = (off_t)(fs.f_bavail * fs.f_bsize / 2);
    check(fd2 >= 0 && ftruncate(fd2, size) == 0, "then an object of half the free space (%lld KiB) fits",
          (long long)size / 1024);
    struct stat st = { 0 };
    syscall(SYS_fstat, fd2, &st);
    check(st.st_blocks * 512 >= size, "... with its blocks reserved (%lld KiB)", (long long)st.st_blocks / 2);
    close(fd2);
    shm_unlink(half);
    close(fd);
    shm_unlink(name);
}

/* A killed group's 3 MiB segment, within the default grace: a grow that
   needs its space reclaims it, and succeeds. */
static void reclaimed_for_space(void)
{
    char dead[64], mine[64];
    uniq(dead, sizeof dead, "dead");
    uniq(mine, sizeof mine, "mine");
    char *args[] = { "make-dead", dead, NULL };
    check(wait_status(spawn_helper(args, NULL, 1, -1)) == 0, "a group made a 3 MiB segment and exited");
    int fd = shm_open(mine, O_CREAT | O_EXCL | O_RDWR, 0600);
    struct statfs fs = { 0 };
    statfs("/tmp", &fs);
    off_t need = (off_t)(fs.f_bavail * fs.f_bsize) + (2 << 20);
    char path[PATH_MAX];
    object_file(path, sizeof path, "", dead);
    check(fd >= 0 && raw_exists(path), "its segment is there, within its grace (%lld KiB free)",
          (long long)fs.f_bavail * fs.f_bsize / 1024);
    check(ftruncate(fd, need) == 0, "a grow past the free space (%lld KiB) reclaims it and succeeds",
          (long long)need / 1024);
    check(!raw_exists(path), "the dead group's segment is gone");
    close(fd);
    shm_unlink(mine);
}

/* Writes PATH until no block is left for this user. */
static void fill_disk(const char *path)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    static char block[65536];
    size_t chunk = sizeof block;
    while (chunk > 0) {
        if (write(fd, block, chunk) < 0) {
            if (errno != ENOSPC)
                break;
            chunk /= 2;
        }
    }
    fsync(fd);
    close(fd);
}

/* The registry REG holds a record of the group PGID, live ("g.<pgid>") or
   retired ("d.<due>.<pgid>.<inode>"). */
static int recorded(const char *reg, pid_t pgid)
{
    char live[32], retired[32];
    snprintf(live, sizeof live, "g.%d", (int)pgid);
    snprintf(retired, sizeof retired, ".%d.", (int)pgid);
    DIR *d = opendir(reg);
    struct dirent *e;
    int found = 0;
    while (d && (e = readdir(d)) != NULL) {
        const char *after_due = strncmp(e->d_name, "d.", 2) == 0 ? strchr(e->d_name + 2, '.') : NULL;
        found |= strcmp(e->d_name, live) == 0 || (after_due && strncmp(after_due, retired, strlen(retired)) == 0);
    }
    if (d)
        closedir(d);
    return found;
}

/* The disk full and the registry's directory with no room for another
   entry: a new group cannot record itself, and its first use still
   reclaims (the second design stopped reclaiming for good here). */
static void full_registry(void)
{
    char dead[64], path[PATH_MAX], reg[PATH_MAX], entry[PATH_MAX + 32];
    uniq(dead, sizeof dead, "regdead");
    char *make[] = { "make-dead", dead, NULL };
    pid_t maker = spawn_helper(make, NULL, 1, -1);
    check(wait_status(maker) == 0, "a group made a 3 MiB segment and exited");
    object_file(path, sizeof path, "", dead);
    snprintf(reg, sizeof reg, "%s.reclaim", object_dir());
    fill_disk("/tmp/fill-registry");
    int planted = 0;
    for (;; planted++) {
        snprintf(entry, sizeof entry, "%s/x.%d", reg, planted);
        int fd = (int)syscall(SYS_openat, AT_FDCWD, entry, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0)
            break;
        close(fd);
    }
    check(errno == ENOSPC, "the disk is full, and so is the registry's directory (%d entries planted, then %s)",
          planted, strerror(errno));
    char late[64], late_path[PATH_MAX];
    uniq(late, sizeof late, "late");
    object_file(late_path, sizeof late_path, "", late);
    char *first[] = { "first-use-late", late, NULL };
    int to_user = -1, from_user = -1;
    pid_t user = spawn_piped(first, NULL, &to_user, &from_user);
    char line[64] = "";
    ssize_t got = read(from_user, line, sizeof line - 1);
    check(got > 0 && strncmp(line, "ready", 5) == 0, "a new group's first use on the full disk");
    snprintf(entry, sizeof entry, "%s/g.%d", reg, (int)user);
    check(!raw_exists(entry), "... could not record itself in the registry");
    check(!raw_exists(path), "... and reclaimed the dead group's segment all the same, within its grace");
    check(!recorded(reg, maker), "... and the dead group's record with it");
    struct statfs fs = { 0 };
    statfs("/tmp", &fs);
    check(fs.f_bavail > 0, "the disk has room again for this user (%llu blocks)", (unsigned long long)fs.f_bavail);
    for (int i = 0; i < planted; i++) {
        snprintf(entry, sizeof entry, "%s/x.%d", reg, i);
        raw_unlink(entry);
    }
    raw_unlink("/tmp/fill-registry");
    /* With room again, that process makes an object and exits: it joins
       its group then, so the object goes with the group. */
    int made = write(to_user, "", 1) == 1 && wait_status(user) == 0 && raw_exists(late_path);
    close(to_user);
    close(from_user);
    const char *const now[] = { "SHM_REDIRECT_RECLAIM_AFTER=0", NULL };
    char *next[] = { "first-use", NULL };
    check(made && wait_status(spawn_helper(next, now, 1, -1)) == 0 && !raw_exists(late_path),
          "a process whose first use found no room records what it makes once there is room: the next group "
          "takes it");
    raw_unlink(late_path);
}

int main(int argc, char **argv)
{
    if (argc > 3 && strcmp(argv[1], "--helper") == 0 && strcmp(argv[2], "make-dead") == 0) {
        setpgid(0, 0);
        int fd = shm_open(argv[3], O_CREAT | O_EXCL | O_RDWR, 0600);
        return fd >= 0 && ftruncate(fd, 3 << 20) == 0 ? 0 : 1;
    }
    if (argc > 3 && strcmp(argv[1], "--helper") == 0 && strcmp(argv[2], "first-use-late") == 0) {
        /* A first use, then, at a byte on stdin, an object. */
        setpgid(0, 0);
        if (shm_open("shmr-test-none", O_RDONLY, 0) >= 0 || errno != ENOENT)
            return 1;
        printf("ready\n");
        fflush(stdout);
        char go;
        return read(0, &go, 1) == 1 && shm_open(argv[3], O_CREAT | O_EXCL | O_RDWR, 0600) >= 0 ? 0 : 1;
    }
    if (argc > 2 && strcmp(argv[1], "--helper") == 0 && strcmp(argv[2], "first-use") == 0) {
        setpgid(0, 0);
        return shm_open("shmr-test-none", O_RDONLY, 0) < 0 && errno == ENOENT ? 0 : 1;
    }
    struct statfs fs = { 0 };
    int small = statfs("/tmp", &fs) == 0 && (unsigned long long)fs.f_blocks * fs.f_bsize < 64ull << 20;
    check(small,
          "/tmp is a small file system (%llu KiB)", (unsigned long long)fs.f_blocks * fs.f_bsize / 1024);
    check(redirected(), "no /dev/shm: objects go to %s", object_dir());
    char name[64], name2[64];
    uniq(name, sizeof name, "full");
    uniq(name2, sizeof name2, "full2");
    rollback();
    reclaimed_for_space();
    full_registry();
    sem_t *before = sem_open(name, O_CREAT, 0600, 1);
    check(before != SEM_FAILED, "a semaphore created before the disk fills up");

    fill_disk("/tmp/fill");
    CHECK_ERR(sem_open(name2, O_CREAT | O_EXCL, 0600, 0), SEM_FAILED, ENOSPC, "sem_open on a full disk -> ENOSPC");
    char file[PATH_MAX];
    object_file(file, sizeof file, "sem.", name2);
    check(!raw_exists(file), "no half-made semaphore is left behind");
    check(sem_post(before) == 0 && sem_wait(before) == 0, "the existing semaphore still works");
    sem_t *again = sem_open(name, O_CREAT, 0600, 1);
    check(again == before, "opening an existing semaphore needs no space");

    /* Shared memory: growing fails up front, not as SIGBUS on a later store. */
    char shm[64];
    uniq(shm, sizeof shm, "fullshm");
    int fd = shm_open(shm, O_CREAT | O_EXCL | O_RDWR, 0600);
    check(fd >= 0, "shm_open on a full disk");
    CHECK_ERR(ftruncate(fd, 1 << 20), -1, ENOSPC, "ftruncate to 1 MiB on a full disk -> ENOSPC");
    close(fd);
    shm_unlink(shm);

    unlink("/tmp/fill");
    sem_t *after = sem_open(name2, O_CREAT | O_EXCL, 0600, 0);
    check(after != SEM_FAILED, "with space again, sem_open succeeds");
    sem_unlink(name);
    sem_unlink(name2);
    return finish();
}

/* ftruncate on shm_open descriptors: growing allocates the blocks when the
   object lives in the redirect directory (no sparse file on disk); size,
   content and errors are ftruncate's everywhere. */
#include "common.h"

#include <sys/mman.h>

#define MIB (1 << 20)

static struct stat fst(int fd)
{
    struct stat st = { 0 };
    syscall(SYS_fstat, fd, &st);
    return st;
}

int main(void)
{
    int redirect = redirected();
    char name[64];
    uniq(name, sizeof name, "grow");
    int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    check(fd >= 0, "shm_open");
    check(ftruncate(fd, MIB) == 0 && fst(fd).st_size == MIB, "ftruncate grows to 1 MiB");
    if (redirect)
        check(fst(fd).st_blocks * 512 >= MIB, "its blocks are allocated (%lld KiB)",
              (long long)fst(fd).st_blocks / 2);
    else
        skip("blocks allocated", "the host's /dev/shm is used as it is");

    char *m = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    check(m != MAP_FAILED, "mmap");
    memset(m, 'x', MIB);
    munmap(m, MIB);
    check(ftruncate64(fd, 2 * MIB) == 0 && fst(fd).st_size == 2 * MIB, "ftruncate64 grows to 2 MiB");
    m = mmap(NULL, 2 * MIB, PROT_READ, MAP_SHARED, fd, 0);
    check(m != MAP_FAILED && m[0] == 'x' && m[MIB - 1] == 'x' && m[MIB] == 0 && m[2 * MIB - 1] == 0,
          "growing keeps the content and adds zeros");
    munmap(m, 2 * MIB);
    check(ftruncate(fd, 4096) == 0 && fst(fd).st_size == 4096, "ftruncate shrinks to 4 KiB");
    check(ftruncate(fd, 4096) == 0 && fst(fd).st_size == 4096, "same size");
    CHECK_ERR(ftruncate(fd, -1), -1, EINVAL, "negative length -> EINVAL");
    int fdnum = fd;
    close(fd);

    /* The number reused by another file: ftruncate leaves it sparse. */
    char plain[PATH_MAX];
    snprintf(plain, sizeof plain, "/tmp/shmr-test-%d-plain", (int)getpid());
    fd = (int)syscall(SYS_openat, AT_FDCWD, plain, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    check(fd == fdnum, "the descriptor number is reused (%d)", fd);
    check(ftruncate(fd, MIB) == 0 && fst(fd).st_size == MIB && fst(fd).st_blocks == 0,
          "another file on that number stays sparse");
    close(fd);
    raw_unlink(plain);

    /* ftruncate's own errno for a descriptor not open for writing. */
    fd = shm_open(name, O_RDONLY, 0);
    CHECK_ERR(ftruncate(fd, MIB), -1, EINVAL, "read-only descriptor -> EINVAL");
    close(fd);
    CHECK_ERR(ftruncate(-1, MIB), -1, EBADF, "bad descriptor -> EBADF");
    CHECK_ERR(ftruncate(100000, MIB), -1, EBADF, "descriptor beyond the table -> EBADF");
    check(shm_unlink(name) == 0, "shm_unlink");
    return finish();
}

/* A full /tmp (the sandbox's small ext4 image): sem_open and ftruncate of
   a shared memory object report ENOSPC up front instead of handing out
   memory that faults later. */
#include "common.h"

#include <semaphore.h>
#include <sys/mman.h>
#include <sys/statfs.h>

int main(void)
{
    struct statfs fs = { 0 };
    check(statfs("/tmp", &fs) == 0 && (unsigned long long)fs.f_blocks * fs.f_bsize < 64ull << 20,
          "/tmp is a small file system (%llu KiB)", (unsigned long long)fs.f_blocks * fs.f_bsize / 1024);
    check(redirected(), "no /dev/shm: objects go to %s", object_dir());
    char name[64], name2[64];
    uniq(name, sizeof name, "full");
    uniq(name2, sizeof name2, "full2");
    sem_t *before = sem_open(name, O_CREAT, 0600, 1);
    check(before != SEM_FAILED, "a semaphore created before the disk fills up");

    int fd = open("/tmp/fill", O_CREAT | O_WRONLY | O_TRUNC, 0600);
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
    fd = shm_open(shm, O_CREAT | O_EXCL | O_RDWR, 0600);
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

/* shm_open/shm_unlink: flags, mode, layout, close-on-exec, errors. */
#include "common.h"

#include <sys/mman.h>

int main(void)
{
    char name[64], file[PATH_MAX];
    uniq(name, sizeof name, "shm");
    object_file(file, sizeof file, "", name);
    shm_unlink(name);

    mode_t old = umask(022);
    int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0666);
    umask(old);
    struct stat st;
    check(fd >= 0 && raw_stat(file, &st) == 0, "shm_open O_CREAT|O_EXCL creates %s", file);
    check((st.st_mode & 07777) == 0644, "mode 0666 & ~umask 022 = 0644 (got %o)", (unsigned)(st.st_mode & 07777));
    check(fcntl(fd, F_GETFD) == FD_CLOEXEC, "descriptor is close-on-exec");
    check(ftruncate(fd, 4096) == 0, "ftruncate to one page");
    char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    check(m != MAP_FAILED, "mmap MAP_SHARED");
    strcpy(m, "hello");
    close(fd);

    CHECK_ERR(shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600), -1, EEXIST, "O_CREAT|O_EXCL again -> EEXIST");
    fd = shm_open(name, O_RDONLY, 0);
    char buf[8] = { 0 };
    check(fd >= 0 && pread(fd, buf, 5, 0) == 5 && strcmp(buf, "hello") == 0, "O_RDONLY reopen reads the data");
    CHECK_ERR(write(fd, "x", 1), -1, EBADF, "O_RDONLY descriptor refuses writes");
    close(fd);
    pid_t pid = fork();
    if (pid == 0) {
        int cfd = shm_open(name, O_RDWR, 0);
        char *cm = cfd >= 0 ? mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0) : MAP_FAILED;
        if (cm == MAP_FAILED || strcmp(cm, "hello") != 0)
            _exit(1);
        strcpy(cm, "world");
        _exit(0);
    }
    check(wait_status(pid) == 0 && strcmp(m, "world") == 0, "a child process sees and changes the shared data");
    fd = shm_open(name, O_RDWR | O_TRUNC, 0);
    check(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0, "O_TRUNC truncates");
    close(fd);
    munmap(m, 4096);

    check(shm_unlink(name) == 0 && !raw_exists(file), "shm_unlink removes the file");
    CHECK_ERR(shm_unlink(name), -1, ENOENT, "shm_unlink again -> ENOENT");
    CHECK_ERR(shm_open(name, O_RDWR, 0), -1, ENOENT, "shm_open without O_CREAT of a missing name -> ENOENT");

    check(syscall(SYS_mkdirat, AT_FDCWD, file, 0700) == 0, "make a directory at %s", file);
    CHECK_ERR(shm_open(name, O_RDWR, 0), -1, EINVAL, "shm_open of a directory -> EINVAL (glibc maps EISDIR)");
    syscall(SYS_unlinkat, AT_FDCWD, file, AT_REMOVEDIR);
    check(syscall(SYS_symlinkat, "/etc/hostname", AT_FDCWD, file) == 0, "plant a symlink at %s", file);
    CHECK_ERR(shm_open(name, O_RDONLY, 0), -1, ELOOP, "shm_open through a symlink -> ELOOP (O_NOFOLLOW)");
    raw_unlink(file);
    return finish();
}

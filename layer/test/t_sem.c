/* sem_open/sem_close/sem_unlink semantics: creation, errors, file layout and
   content, mode and umask, one address per semaphore with a reference
   count, fork, threads, descriptor hygiene. */
#include "common.h"

#include <dirent.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <sys/mman.h>

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static int value_of(sem_t *s)
{
    int v = -1;
    sem_getvalue(s, &v);
    return v;
}

static char thread_name[80];
static void *open_close_loop(void *arg)
{
    (void)arg;
    for (int i = 0; i < 300; i++) {
        sem_t *s = sem_open(thread_name, 0);
        if (s == SEM_FAILED)
            return (void *)1;
        sem_post(s);
        if (sem_close(s) != 0)
            return (void *)1;
    }
    return NULL;
}

int main(void)
{
    char name[64], file[PATH_MAX];
    uniq(name, sizeof name, "sem");
    object_file(file, sizeof file, "sem.", name);
    sem_unlink(name);

    mode_t old = umask(027);
    int fds = count_fds();
    sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0666, 3);
    umask(old);
    check(s != SEM_FAILED, "sem_open O_CREAT|O_EXCL creates %s", file);
    check(count_fds() == fds, "sem_open leaves no file descriptor open");
    struct stat st;
    check(raw_stat(file, &st) == 0 && (st.st_mode & 07777) == 0640,
          "file mode is 0666 & ~umask 027 = 0640 (got %o)", (unsigned)(st.st_mode & 07777));
    check(st.st_size == sizeof(sem_t), "file holds exactly one sem_t (%ld bytes)", (long)st.st_size);
    int fd = (int)syscall(SYS_openat, AT_FDCWD, file, O_RDONLY);
    unsigned char raw[32] = { 0 };
    check(fd >= 0 && read(fd, raw, sizeof raw) == 32, "file content readable");
    close(fd);
    uint64_t data;
    int priv;
    memcpy(&data, raw, 8);
    memcpy(&priv, raw + 8, 4);
    check(data == 3 && priv == 128, "content is glibc's: value 3, private=FUTEX_SHARED(128) (got %llu, %d)",
          (unsigned long long)data, priv);
    check(value_of(s) == 3, "sem_getvalue sees the initial value 3");

    CHECK_ERR(sem_open(name, O_CREAT | O_EXCL, 0600, 0), SEM_FAILED, EEXIST, "O_CREAT|O_EXCL on an existing name -> EEXIST");
    sem_t *s2 = sem_open(name, O_CREAT, 0600, 9);
    check(s2 == s, "O_CREAT on an existing name opens it at the same address");
    check(value_of(s) == 3, "... without re-initialising it");
    sem_t *s3 = sem_open(name, 0);
    check(s3 == s, "plain sem_open returns the same address");
    sem_t *s4 = sem_open(name, O_RDONLY);
    check(s4 == s, "O_RDONLY is ignored like in glibc (opened read-write, same address)");
    check(sem_close(s) == 0 && sem_close(s) == 0 && sem_close(s) == 0, "three sem_close calls succeed");
    check(sem_post(s) == 0 && value_of(s) == 4, "semaphore still mapped while one reference remains");
    check(sem_close(s) == 0, "last sem_close succeeds");
    CHECK_ERR(sem_close(s), -1, EINVAL, "sem_close of a closed semaphore -> EINVAL");
    sem_t bogus;
    CHECK_ERR(sem_close(&bogus), -1, EINVAL, "sem_close of an unknown pointer -> EINVAL");
    sem_t *volatile null_sem = NULL;
    CHECK_ERR(sem_close(null_sem), -1, EINVAL, "sem_close(NULL) -> EINVAL");

    s = sem_open(name, 0);
    check(s != SEM_FAILED && value_of(s) == 4, "reopened semaphore kept its value (4)");
    check(sem_unlink(name) == 0 && !raw_exists(file), "sem_unlink removes the file");
    check(sem_post(s) == 0 && value_of(s) == 5, "an unlinked semaphore stays usable while open");
    CHECK_ERR(sem_unlink(name), -1, ENOENT, "sem_unlink of a missing name -> ENOENT");
    CHECK_ERR(sem_open(name, 0), SEM_FAILED, ENOENT, "sem_open without O_CREAT of a missing name -> ENOENT");
    sem_t *fresh = sem_open(name, O_CREAT, 0600, 0);
    check(fresh != SEM_FAILED && fresh != s && value_of(fresh) == 0,
          "re-creating an unlinked name gives a new semaphore");
    sem_close(s);
    sem_close(fresh);
    sem_unlink(name);

    CHECK_ERR(sem_open(name, O_CREAT, 0600, (unsigned)SEM_VALUE_MAX + 1u), SEM_FAILED, EINVAL,
              "value SEM_VALUE_MAX+1 -> EINVAL");
    check(!raw_exists(file), "... and nothing is created");
    s = sem_open(name, O_CREAT | O_EXCL, 0600, (unsigned)SEM_VALUE_MAX);
    check(s != SEM_FAILED && value_of(s) == SEM_VALUE_MAX, "value SEM_VALUE_MAX is accepted");
    sem_close(s);
    sem_unlink(name);

    /* O_NOFOLLOW: a symlink planted under the semaphore's name is refused. */
    check(syscall(SYS_symlinkat, "/etc/hostname", AT_FDCWD, file) == 0, "plant a symlink at %s", file);
    CHECK_ERR(sem_open(name, 0), SEM_FAILED, ELOOP, "sem_open through a symlink -> ELOOP");
    raw_unlink(file);

    /* A file too short to hold a semaphore would fault on first use. */
    fd = (int)syscall(SYS_openat, AT_FDCWD, file, O_CREAT | O_WRONLY, 0600);
    close(fd);
    CHECK_ERR(sem_open(name, 0), SEM_FAILED, EINVAL, "sem_open of an empty file -> EINVAL (no SIGBUS later)");
    raw_unlink(file);

    /* fork: the child shares the semaphore and the open-semaphore table. */
    s = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
    pid_t pid = fork();
    if (pid == 0) {
        sem_t *again = sem_open(name, 0);
        int ok = again == s && sem_post(s) == 0 && sem_close(again) == 0 && sem_close(s) == 0
            && sem_close(s) == -1;
        _exit(ok ? 0 : 1);
    }
    check(wait_status(pid) == 0, "forked child reopens at the same address, posts, closes with refcounts");
    check(value_of(s) == 1, "parent sees the child's post");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 5;
    pid = fork();
    if (pid == 0) {
        usleep(100000);
        _exit(sem_post(s) == 0 ? 0 : 1);
    }
    check(sem_wait(s) == 0 && sem_timedwait(s, &ts) == 0, "parent blocks until a child posts (futex wake across processes)");
    check(wait_status(pid) == 0, "posting child exits 0");

    /* threads: concurrent opens and closes keep the reference count exact. */
    snprintf(thread_name, sizeof thread_name, "%s", name);
    pthread_t th[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&th[i], NULL, open_close_loop, NULL);
    int bad = 0;
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(th[i], &r);
        bad += r != NULL;
    }
    check(bad == 0, "8 threads x 300 sem_open/sem_post/sem_close succeed");
    check(value_of(s) == 2400, "no post lost across threads (value %d)", value_of(s));
    check(sem_close(s) == 0, "the original reference is still there");
    CHECK_ERR(sem_close(s), -1, EINVAL, "and it was the last one");
    sem_unlink(name);
    return finish();
}

/* On a host with /dev/shm, processes with and without the library share
   semaphores and shared memory: same files, same content format. */
#include "common.h"

#include <semaphore.h>
#include <sys/mman.h>
#include <time.h>

static int timed_wait(sem_t *s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10;
    return sem_timedwait(s, &ts);
}

/* Runs in a child, with or without the library. */
static int helper(char **argv)
{
    const char *what = argv[2], *name = argv[3];
    if (strcmp(what, "post") == 0) {
        sem_t *s = sem_open(name, 0);
        return s != SEM_FAILED && sem_post(s) == 0 ? 0 : 1;
    }
    if (strcmp(what, "create-and-wait") == 0) {
        sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
        if (s == SEM_FAILED)
            return 2;
        (void)!write(1, "c", 1); /* tell the parent it exists */
        return timed_wait(s) == 0 ? 0 : 3;
    }
    if (strcmp(what, "read-shm") == 0) {
        int fd = shm_open(name, O_RDONLY, 0);
        char *m = fd >= 0 ? mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
        return m != MAP_FAILED && strcmp(m, "from the library") == 0 ? 0 : 4;
    }
    return 9;
}

int main(int argc, char **argv)
{
    if (argc > 3 && strcmp(argv[1], "--helper") == 0)
        return helper(argv);
    if (redirected()) {
        skip("interoperation with glibc's own sem_open/shm_open", "no /dev/shm here, glibc's cannot work");
        return finish();
    }
    check(getenv("LD_PRELOAD") != NULL, "the library is preloaded in this process");
    char name[64];
    uniq(name, sizeof name, "interop");
    sem_unlink(name);

    sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
    char *post[] = { "post", name, NULL };
    pid_t pid = spawn_helper(post, NULL, 0, -1);
    check(wait_status(pid) == 0, "a process without the library opens and posts our semaphore");
    check(s != SEM_FAILED && timed_wait(s) == 0, "we see its post");
    sem_close(s);
    sem_unlink(name);

    int pipefd[2];
    if (pipe(pipefd) != 0)
        return 1;
    char *create[] = { "create-and-wait", name, NULL };
    pid_t creator;
    {
        fflush(stdout);
        int saved = dup(1);
        dup2(pipefd[1], 1);
        creator = spawn_helper(create, NULL, 0, -1);
        dup2(saved, 1);
        close(saved);
    }
    close(pipefd[1]);
    char c = 0;
    check(read(pipefd[0], &c, 1) == 1 && c == 'c', "a process without the library created a semaphore");
    s = sem_open(name, 0);
    check(s != SEM_FAILED && sem_post(s) == 0, "we open glibc's semaphore and post it");
    check(wait_status(creator) == 0, "the glibc process was woken by our post");
    sem_close(s);
    sem_unlink(name);

    int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    check(fd >= 0 && ftruncate(fd, 4096) == 0, "shm_open + ftruncate with the library");
    char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m != MAP_FAILED)
        strcpy(m, "from the library");
    char *readshm[] = { "read-shm", name, NULL };
    check(wait_status(spawn_helper(readshm, NULL, 0, -1)) == 0, "a process without the library reads that shared memory");
    shm_unlink(name);
    return finish();
}

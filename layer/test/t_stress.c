/* Many processes race sem_open(O_CREAT) on one name: exactly one of them
   initialises it, every one gets the same semaphore, no post is lost. */
#include "common.h"

#include <dirent.h>
#include <semaphore.h>

#define PROCS 16
#define ROUNDS 5
#define POSTS 50

/* sem.XXXXXX files in the object directory. */
static int temp_files(void)
{
    DIR *d = opendir(object_dir());
    if (!d) /* not created yet: no files */
        return errno == ENOENT ? 0 : -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strncmp(e->d_name, "sem.", 4) == 0 && strlen(e->d_name) == 10;
    closedir(d);
    return n;
}

int main(void)
{
    int before = temp_files();
    char name[64];
    uniq(name, sizeof name, "race");
    for (int round = 0; round < ROUNDS; round++) {
        sem_unlink(name);
        int gate[2];
        if (pipe(gate) != 0)
            return 1;
        pid_t pids[PROCS];
        for (int i = 0; i < PROCS; i++) {
            pids[i] = fork();
            if (pids[i] == 0) {
                close(gate[1]);
                char c;
                (void)!read(gate[0], &c, 1); /* released together when the parent closes the pipe */
                sem_t *s = sem_open(name, O_CREAT, 0600, 7);
                if (s == SEM_FAILED)
                    _exit(2);
                for (int p = 0; p < POSTS; p++)
                    if (sem_post(s) != 0)
                        _exit(3);
                _exit(sem_close(s) == 0 ? 0 : 4);
            }
        }
        close(gate[0]);
        close(gate[1]);
        int failures = 0;
        for (int i = 0; i < PROCS; i++)
            failures += wait_status(pids[i]) != 0;
        sem_t *s = sem_open(name, 0);
        int v = -1;
        if (s != SEM_FAILED)
            sem_getvalue(s, &v);
        check(failures == 0 && v == 7 + PROCS * POSTS,
              "round %d: %d racing O_CREAT openers, value %d == 7 + %d posts", round + 1, PROCS, v,
              PROCS * POSTS);
        if (s != SEM_FAILED)
            sem_close(s);
    }
    sem_unlink(name);
    /* Only a directory this test alone uses can be judged: the host's /dev/shm also holds other programs'
       temporary files, made and removed while this runs. */
    if (redirected())
        check(temp_files() == before, "no temporary sem.XXXXXX files left in %s", object_dir());
    else
        skip("no temporary sem.XXXXXX files left", "the host's /dev/shm is shared with other programs");
    return finish();
}

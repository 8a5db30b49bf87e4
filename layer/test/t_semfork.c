/* Fork while other threads grow and shrink the open-semaphore table: every
   child finds a usable table (no crash, no deadlock), its opens and posts
   land on the right semaphores, and no post is lost. */
#include "common.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>

#define THREADS 2
#define PER_THREAD 300
#define NAMES (THREADS * PER_THREAD)
#define FORKS 40
#define CHILD_OPENS 20

static char names[NAMES][64];
static atomic_int stop, worker_errors;

/* Holds all of its PER_THREAD semaphores open at once, then closes them,
   over and over: the table keeps growing and shrinking under the forks. */
static void *churn(void *arg)
{
    int first = (int)(long)arg * PER_THREAD;
    sem_t *held[PER_THREAD];
    while (!atomic_load(&stop)) {
        for (int i = 0; i < PER_THREAD; i++) {
            held[i] = sem_open(names[first + i], 0);
            if (held[i] == SEM_FAILED)
                atomic_fetch_add(&worker_errors, 1);
        }
        for (int i = 0; i < PER_THREAD; i++)
            if (held[i] != SEM_FAILED && sem_close(held[i]) != 0)
                atomic_fetch_add(&worker_errors, 1);
    }
    return NULL;
}

static int child_name(int fork_no, int j)
{
    return (fork_no * 7 + j * 31) % NAMES;
}

/* In the child: each chosen semaphore opens twice at one address, takes a
   post and closes twice; exits 0 when all of that worked. */
static void child(int fork_no)
{
    alarm(10); /* a deadlocked table lock ends as SIGALRM */
    for (int j = 0; j < CHILD_OPENS; j++) {
        const char *name = names[child_name(fork_no, j)];
        sem_t *s = sem_open(name, 0);
        sem_t *again = sem_open(name, 0);
        if (s == SEM_FAILED || again != s || sem_post(s) != 0 || sem_close(again) != 0 || sem_close(s) != 0)
            _exit(1);
    }
    _exit(0);
}

int main(void)
{
    alarm(120);
    for (int k = 0; k < NAMES; k++) {
        char tag[16];
        snprintf(tag, sizeof tag, "fork%d", k);
        uniq(names[k], sizeof names[k], tag);
        sem_t *s = sem_open(names[k], O_CREAT | O_EXCL, 0600, 0);
        if (s == SEM_FAILED || sem_close(s) != 0) {
            check(0, "create %s", names[k]);
            return finish();
        }
    }

    pthread_t th[THREADS];
    for (long t = 0; t < THREADS; t++)
        pthread_create(&th[t], NULL, churn, (void *)t);
    int posts[NAMES] = { 0 };
    int failed_children = 0;
    for (int f = 0; f < FORKS; f++) {
        usleep(2000);
        pid_t pid = fork();
        if (pid == 0)
            child(f);
        int status = wait_status(pid);
        if (status != 0) {
            printf("# child %d: status %d\n", f, status);
            failed_children++;
        }
        for (int j = 0; j < CHILD_OPENS; j++)
            posts[child_name(f, j)]++;
    }
    atomic_store(&stop, 1);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);

    check(failed_children == 0, "%d children forked amid %d threads' sem_open/sem_close all work (%d failed)",
          FORKS, THREADS, failed_children);
    check(atomic_load(&worker_errors) == 0, "the threads' own opens and closes never fail");
    int wrong = 0;
    for (int k = 0; k < NAMES; k++) {
        sem_t *s = sem_open(names[k], 0);
        int v = -1;
        if (s == SEM_FAILED || sem_getvalue(s, &v) != 0 || v != posts[k])
            wrong++;
        if (s != SEM_FAILED)
            sem_close(s);
        sem_unlink(names[k]);
    }
    check(wrong == 0, "every semaphore holds exactly the children's posts (%d differ)", wrong);
    return finish();
}

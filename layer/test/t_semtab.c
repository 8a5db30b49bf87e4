/* The table of open semaphores at scale: thousands open at once, each
   sem_open of one name returns one address, only the last sem_close
   unmaps it, a forked child sees the same table, and closes in any order
   leave every other entry findable. */
#include "common.h"

#include <semaphore.h>

enum { N = 5000 };

static sem_t *sems[N];
static char names[N][64];

int main(void)
{
    int opened = 0, same = 0, distinct = 1;
    for (int i = 0; i < N; i++) {
        char tag[16];
        snprintf(tag, sizeof tag, "tab%d", i);
        uniq(names[i], sizeof names[i], tag);
        sems[i] = sem_open(names[i], O_CREAT | O_EXCL, 0600, (unsigned)(i % 7));
        opened += sems[i] != SEM_FAILED;
    }
    check(opened == N, "%d semaphores open at once (%d opened)", N, opened);
    for (int i = 0; i < N; i++)
        same += sem_open(names[i], 0) == sems[i];
    check(same == N, "opening each again returns its address (%d of %d)", same, N);
    for (int i = 1; i < N && distinct; i++)
        distinct = sems[i] != sems[i - 1];
    check(distinct, "addresses are distinct");

    pid_t pid = fork();
    if (pid == 0) {
        int ok = 1;
        for (int i = 0; i < N; i += 97) {
            int v = -1;
            ok = ok && sem_open(names[i], 0) == sems[i] && sem_getvalue(sems[i], &v) == 0 && v == i % 7;
            ok = ok && sem_close(sems[i]) == 0;
        }
        _exit(ok ? 0 : 1);
    }
    check(wait_status(pid) == 0, "a forked child finds every entry with its value");

    /* Close the second reference of every odd entry, then the first, in a
       stride that visits the table out of order. */
    int closed = 0;
    for (int k = 0, i = 0; k < N; k++, i = (i + 2999) % N)
        closed += sem_close(sems[i]) == 0;
    check(closed == N, "the first sem_close of each keeps it mapped (%d)", closed);
    int alive = 0;
    for (int i = 0; i < N; i++) {
        int v = -1;
        alive += sem_getvalue(sems[i], &v) == 0 && v == i % 7;
    }
    check(alive == N, "every semaphore still holds its value (%d)", alive);
    closed = 0;
    for (int k = 0, i = 0; k < N; k++, i = (i + 1237) % N)
        closed += sem_close(sems[i]) == 0;
    check(closed == N, "the last sem_close of each succeeds (%d)", closed);
    int refused = 0;
    for (int i = 0; i < N; i += 211) {
        errno = 0;
        refused += sem_close(sems[i]) == -1 && errno == EINVAL;
    }
    check(refused == (N + 210) / 211, "closing again -> EINVAL (%d)", refused);
    sem_t *again = sem_open(names[0], 0);
    check(again != SEM_FAILED, "and a closed one can be opened again");
    if (again != SEM_FAILED)
        sem_close(again);
    for (int i = 0; i < N; i++)
        sem_unlink(names[i]);
    return finish();
}

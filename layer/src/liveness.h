#ifndef SHMR_LIVENESS_H
#define SHMR_LIVENESS_H

#include <sys/types.h>

/* Whether a process group of this PID namespace may still use its objects.
   Every doubt answers "alive": a wrong "alive" only delays a reclaim, a
   wrong "dead" would remove an object in use. */

enum group_state {
    GROUP_ALIVE,
    GROUP_GONE,   /* no process has the number as its group (kill: ESRCH) */
    GROUP_ZOMBIES /* only unreaped zombies are left in it */
};

/* What /proc says, worked out once per reclaim; zero-initialised. */
struct proc_view {
    int checked;
    int trusted; /* /proc is this PID namespace's and hides no process */
    int looked;  /* 0 not yet, 1 done, -1 failed (every doubt: alive) */
    pid_t *groups; /* groups with a running member, sorted */
    size_t running, cap;
};

/* Group 1 (this namespace's init's) and 0 (a leader outside it) are alive. */
enum group_state group_state(pid_t pgid, struct proc_view *view);

/* /proc numbers processes as this process sees them and lists them all. */
int proc_trusted(struct proc_view *view);

void proc_view_free(struct proc_view *view);

#endif

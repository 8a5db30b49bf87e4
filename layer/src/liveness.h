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

/* What /proc can be trusted for, worked out once per reclaim. */
struct proc_view {
    int checked;
    int trusted; /* /proc is this PID namespace's and hides no process */
};

enum group_state group_state(pid_t pgid, struct proc_view *view);

#endif

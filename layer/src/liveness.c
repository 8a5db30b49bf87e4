/* A group is dead when kill(-pgid, 0) finds no process in it.  That alone
   would keep a killed runtime's group "alive" for ever where nothing reaps
   its orphans: Lambda's init and the Runtime Interface Emulator run as PID 1
   and wait only for the runtime itself, so the runtime's killed workers stay
   zombies, and a zombie still counts as a member of its group.  A group whose
   members are all zombies is dead too: a zombie runs no code, has released
   its mappings and files, and keeps the number from being reused.  Telling
   zombies apart needs /proc, which is trusted only when it shows this PID
   namespace and hides nothing (no hidepid); it is read once per reclaim, at
   the first group that needs it, not once per group. */

#include "liveness.h"

#include "dirscan.h"
#include "num.h"
#include "sys.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

struct proc_entry {
    char state;
    pid_t pgrp;
    unsigned long long threads;
};

/* The field FIELD (counted as in proc(5), >= 3) of a /proc/<pid>/stat line
   whose text after the command's closing parenthesis is AFTER. */
static const char *stat_field(const char *after, int field)
{
    const char *p = after;
    for (int i = 3; i < field && p; i++) {
        if (*p != ' ')
            return NULL;
        p = strchr(p + 1, ' ');
    }
    return p && *p == ' ' ? p + 1 : NULL;
}

/* State, group and thread count of process PID from /proc/<pid>/stat:
   "pid (comm) S ppid pgrp ...", where comm may hold any character.
   Returns -1 with errno from open (ENOENT: the process is gone). */
static int proc_stat(const char *pid, struct proc_entry *e)
{
    char path[40] = "/proc/";
    size_t n = strlen(pid);
    if (n > 20) {
        errno = EINVAL;
        return -1;
    }
    memcpy(path + 6, pid, n);
    memcpy(path + 6 + n, "/stat", 6);
    int fd = sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    char buf[1024];
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[len > 0 ? len : 0] = '\0';
    const char *after = strrchr(buf, ')');
    const char *state = after ? stat_field(after + 1, 3) : NULL;
    const char *pgrp = after ? stat_field(after + 1, 5) : NULL;
    const char *threads = after ? stat_field(after + 1, 20) : NULL;
    unsigned long long group;
    if (!state || !pgrp || !threads || !num_get(pgrp, &group) || !num_get(threads, &e->threads)) {
        errno = EIO;
        return -1;
    }
    e->state = *state;
    e->pgrp = (pid_t)group;
    return 0;
}

/* A process that has exited for good.  A thread-group leader that called
   pthread_exit also shows as a zombie while its other threads run: those
   count in its thread number. */
static int is_zombie(const struct proc_entry *e)
{
    return (e->state == 'Z' || e->state == 'X' || e->state == 'x') && e->threads <= 1;
}

/* Any hidepid= other than 0/off in the mount table: some process may be
   missing from a /proc listing.  Read in overlapping chunks. */
static int hidepid_anywhere(void)
{
    int fd = sys_openat(AT_FDCWD, "/proc/self/mountinfo", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return 1;
    static const char key[] = "hidepid=";
    enum { KEEP = sizeof key + 3 };
    char buf[4096 + 1];
    size_t have = 0;
    int found = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            found = 1;
            break;
        }
        have += (size_t)n;
        buf[have] = '\0';
        for (char *p = buf; (p = strstr(p, key)); p++) {
            const char *v = p + sizeof key - 1;
            if (!(v[0] == '0' && (v[1] == ',' || v[1] == ' ' || v[1] == '\n'))
                && !(v[0] == 'o' && v[1] == 'f' && v[2] == 'f'))
                found = 1;
        }
        if (found || n == 0)
            break;
        if (have > KEEP) {
            memmove(buf, buf + have - KEEP, KEEP);
            have = KEEP;
        }
    }
    close(fd);
    return found;
}

/* /proc numbers processes as this process sees them, and lists them all. */
int proc_trusted(struct proc_view *view)
{
    if (view->checked)
        return view->trusted;
    view->checked = 1;
    char self[24], want[24];
    long n = syscall(SYS_readlinkat, AT_FDCWD, "/proc/self", self, sizeof self - 1);
    *num_put(want, (unsigned long long)syscall(SYS_getpid)) = '\0';
    view->trusted = n > 0 && (self[n] = '\0', strcmp(self, want) == 0) && !hidepid_anywhere();
    return view->trusted;
}

/* One /proc entry: notes the group of a process that still runs.  Stops
   the scan (1) at a process whose state cannot be read. */
static int note_process(void *ctx, const char *name, unsigned char type)
{
    struct proc_view *view = ctx;
    (void)type;
    if (name[0] < '1' || name[0] > '9')
        return 0;
    struct proc_entry e;
    if (proc_stat(name, &e) != 0)
        return errno != ENOENT && errno != ESRCH; /* gone meanwhile */
    if (is_zombie(&e))
        return 0;
    if (view->running == view->cap) {
        size_t cap = view->cap ? view->cap * 2 : 256;
        pid_t *grown = realloc(view->groups, cap * sizeof *grown);
        if (!grown)
            return 1;
        view->groups = grown;
        view->cap = cap;
    }
    view->groups[view->running++] = e.pgrp;
    return 0;
}

static int by_pid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

/* The one look at /proc's process states, made when the first group that
   kill() finds has no running leader: which groups have a running member. */
static int look(struct proc_view *view)
{
    if (view->looked)
        return view->looked > 0;
    view->looked = -1;
    if (!proc_trusted(view))
        return 0;
    int fd = sys_openat(AT_FDCWD, "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int rc = dirscan(fd, note_process, view);
    close(fd);
    if (rc != 0)
        return 0;
    qsort(view->groups, view->running, sizeof *view->groups, by_pid);
    view->looked = 1;
    return 1;
}

enum group_state group_state(pid_t pgid, struct proc_view *view)
{
    /* 0: a leader outside this namespace.  1: this namespace's init leads
       it, and lives as long as the namespace (kill(-1, ...) would mean
       "every process", not "group 1"). */
    if (pgid <= 1)
        return GROUP_ALIVE;
    if (syscall(SYS_kill, -pgid, 0) != 0)
        return errno == ESRCH ? GROUP_GONE : GROUP_ALIVE;
    char leader[24];
    *num_put(leader, (unsigned long long)pgid) = '\0';
    struct proc_entry e;
    /* The usual live case costs one read: the leader itself still runs. */
    if (proc_stat(leader, &e) == 0 && e.pgrp == pgid && !is_zombie(&e))
        return GROUP_ALIVE;
    if (!look(view) || bsearch(&pgid, view->groups, view->running, sizeof pgid, by_pid))
        return GROUP_ALIVE;
    return GROUP_ZOMBIES;
}

void proc_view_free(struct proc_view *view)
{
    free(view->groups);
}

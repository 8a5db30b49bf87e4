#include "gate.h"

#include "kept.h"
#include "pidlock.h"
#include "record.h"
#include "sys.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <time.h>

static atomic_int lock;
static struct kept gate = KEPT_INIT; /* a description of the registry of this process's own */
static int pid, users;               /* under lock */

void gate_enter(void)
{
    int saved = errno;
    int self = pidlock_take(&lock);
    if (pid != self) { /* a forked child: its parent's description is not its own */
        kept_drop(&gate);
        pid = self;
        users = 0;
    }
    int fd = kept_fd(&gate, NULL);
    int fresh = fd < 0;
    if (fresh) {
        /* Never opened, or the program closed or reused our number: that
           number is forgotten, and threads inside the gate lost their
           LOCK_SH with it, so the new description takes it for them. */
        kept_drop(&gate);
        struct stat st;
        fd = record_registry(&st);
        if (fd >= 0)
            kept_set(&gate, fd, &st);
    }
    if ((users++ == 0 || fresh) && fd >= 0)
        sys_flock(fd, LOCK_SH);
    pidlock_drop(&lock);
    errno = saved;
}

void gate_leave(void)
{
    int saved = errno;
    pidlock_take(&lock);
    if (--users == 0) {
        int fd = kept_fd(&gate, NULL);
        if (fd >= 0)
            syscall(SYS_flock, fd, LOCK_UN);
    }
    pidlock_drop(&lock);
    errno = saved;
}

int gate_close(int gate)
{
    for (int i = 0; i < 100; i++) {
        if (syscall(SYS_flock, gate, LOCK_EX | LOCK_NB) == 0)
            return 1;
        struct timespec ms = { 0, 500000 };
        nanosleep(&ms, NULL);
    }
    return 0; /* an unlink stopped midway (or this process's own): not now */
}

void gate_open(int gate)
{
    syscall(SYS_flock, gate, LOCK_UN);
}

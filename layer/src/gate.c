#include "gate.h"

#include "pidlock.h"
#include "record.h"
#include "sys.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <time.h>

static atomic_int lock;
static int fd = -1, pid, users; /* under lock */

void gate_enter(void)
{
    int saved = errno;
    int self = (int)syscall(SYS_getpid);
    pidlock_take(&lock);
    if (pid != self) { /* a forked child: its parent's description is not its own */
        if (fd >= 0)
            close(fd);
        int reg = record_registry();
        fd = reg >= 0 ? sys_openat(reg, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0) : -1;
        pid = self;
        users = 0;
    }
    if (users++ == 0 && fd >= 0)
        while (syscall(SYS_flock, fd, LOCK_SH) != 0 && errno == EINTR)
            ;
    pidlock_drop(&lock);
    errno = saved;
}

void gate_leave(void)
{
    int saved = errno;
    pidlock_take(&lock);
    if (--users == 0 && fd >= 0)
        syscall(SYS_flock, fd, LOCK_UN);
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

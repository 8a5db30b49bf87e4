#include "gate.h"

#include "record.h"
#include "sys.h"

#include <errno.h>
#include <sys/file.h>
#include <time.h>

int gate_enter(void)
{
    int saved = errno;
    int reg = record_registry();
    int fd = reg >= 0 ? sys_openat(reg, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0) : -1;
    if (fd >= 0)
        while (syscall(SYS_flock, fd, LOCK_SH) != 0 && errno == EINTR)
            ;
    errno = saved;
    return fd;
}

void gate_leave(int fd)
{
    int saved = errno;
    if (fd >= 0)
        close(fd);
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

#include "semtab.h"

#include "sys.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>

struct entry {
    dev_t dev;
    ino_t ino;
    unsigned long refs;
    sem_t *sem;
};

static struct entry *entries;
static size_t count, capacity;

/* The lock word holds the pid of the process whose thread owns it.  After a
   fork the child's copy may name the parent: no thread of the child holds
   it then, so the child takes it over.  Every update below leaves the table
   consistent between stores, so a takeover never sees a broken table.
   This avoids pthread_atfork and the pthread symbols that moved between
   libpthread and libc in glibc 2.34. */
static atomic_int lock_owner;

static void lock(int self)
{
    for (;;) {
        int seen = 0;
        if (atomic_compare_exchange_weak_explicit(&lock_owner, &seen, self, memory_order_acquire,
                                                  memory_order_relaxed))
            return;
        if (seen != 0 && seen != self
            && atomic_compare_exchange_strong_explicit(&lock_owner, &seen, self, memory_order_acquire,
                                                       memory_order_relaxed))
            return;
        sched_yield();
    }
}

static void unlock(void)
{
    atomic_store_explicit(&lock_owner, 0, memory_order_release);
}

static struct entry *find_file(dev_t dev, ino_t ino)
{
    for (size_t i = 0; i < count; i++)
        if (entries[i].dev == dev && entries[i].ino == ino)
            return &entries[i];
    return NULL;
}

static int reserve(void)
{
    if (count < capacity)
        return 0;
    size_t want = capacity ? capacity * 2 : 16;
    struct entry *grown = realloc(entries, want * sizeof *grown);
    if (!grown)
        return -1;
    entries = grown;
    capacity = want;
    return 0;
}

sem_t *semtab_add(int fd, sem_t *mapped)
{
    sem_t *result = SEM_FAILED;
    struct stat st;
    if (sys_fstat(fd, &st) != 0)
        goto out;
    /* A file shorter than a semaphore would fault on first use. */
    if (mapped == SEM_FAILED && (!S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(sem_t))) {
        errno = EINVAL;
        goto out;
    }

    lock((int)getpid());
    struct entry *e = find_file(st.st_dev, st.st_ino);
    if (e) {
        e->refs++;
        result = e->sem;
    } else if (reserve() == 0) {
        if (mapped == SEM_FAILED) {
            void *m = mmap(NULL, sizeof(sem_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            mapped = m == MAP_FAILED ? SEM_FAILED : m;
        }
        if (mapped != SEM_FAILED) {
            entries[count] = (struct entry){ st.st_dev, st.st_ino, 1, mapped };
            count++;
            result = mapped;
        }
    }
    unlock();

out:
    if (mapped != SEM_FAILED && mapped != result) {
        int saved = errno;
        munmap(mapped, sizeof(sem_t));
        errno = saved;
    }
    return result;
}

int semtab_release(sem_t *sem)
{
    int rc = -1;
    lock((int)getpid());
    for (size_t i = 0; i < count; i++) {
        if (entries[i].sem != sem)
            continue;
        rc = 0;
        if (--entries[i].refs == 0) {
            entries[i] = entries[count - 1];
            count--;
            if (munmap(sem, sizeof(sem_t)) != 0)
                rc = -1;
        }
        break;
    }
    unlock();
    return rc;
}

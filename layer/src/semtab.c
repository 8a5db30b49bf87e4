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
    sem_t *_Atomic sem; /* NULL: a free slot; stored last when filling it */
};

/* The table is a list of fixed-size chunks that never move or shrink: a
   child forked in the middle of an update (even while a chunk is being
   added) inherits only pointers that are still valid. */
#define CHUNK_ENTRIES 64

struct chunk {
    struct entry entries[CHUNK_ENTRIES];
    struct chunk *_Atomic next;
};

static struct chunk first;

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

/* The entry of the file DEV/INO, else a free slot for it (adding a chunk
   when all are taken); NULL when out of memory. */
static struct entry *slot_for(dev_t dev, ino_t ino)
{
    struct entry *free_slot = NULL;
    struct chunk *last = &first;
    for (struct chunk *c = &first; c; c = c->next) {
        for (size_t i = 0; i < CHUNK_ENTRIES; i++) {
            struct entry *e = &c->entries[i];
            if (!e->sem) {
                if (!free_slot)
                    free_slot = e;
            } else if (e->dev == dev && e->ino == ino) {
                return e;
            }
        }
        last = c;
    }
    if (free_slot)
        return free_slot;
    struct chunk *grown = calloc(1, sizeof *grown);
    if (!grown)
        return NULL;
    atomic_store_explicit(&last->next, grown, memory_order_release);
    return &grown->entries[0];
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
    struct entry *e = slot_for(st.st_dev, st.st_ino);
    if (e && e->sem) {
        e->refs++;
        result = e->sem;
    } else if (e) {
        if (mapped == SEM_FAILED) {
            void *m = mmap(NULL, sizeof(sem_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            mapped = m == MAP_FAILED ? SEM_FAILED : m;
        }
        if (mapped != SEM_FAILED) {
            e->dev = st.st_dev;
            e->ino = st.st_ino;
            e->refs = 1;
            atomic_store_explicit(&e->sem, mapped, memory_order_release);
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
    if (!sem) /* would match a free slot */
        return -1;
    int found = 0, unmap = 0;
    lock((int)getpid());
    for (struct chunk *c = &first; c && !found; c = c->next) {
        for (size_t i = 0; i < CHUNK_ENTRIES; i++) {
            struct entry *e = &c->entries[i];
            if (e->sem != sem)
                continue;
            found = 1;
            /* Free the slot before unmapping: a child forked in between
               must not find the address in its table. */
            if (--e->refs == 0) {
                atomic_store_explicit(&e->sem, NULL, memory_order_release);
                unmap = 1;
            }
            break;
        }
    }
    unlock();
    if (!found || (unmap && munmap(sem, sizeof(sem_t)) != 0))
        return -1;
    return 0;
}
